"""RAFT reference flow (Teed & Deng, ECCV 2020) through torchvision, replacing FlowNet2.

The original vid2vid takes its reference flow (paper §3.2) from FlowNet2, a compiled CUDA
extension; torchvision's RAFT needs nothing compiled. Weights:

- ``weights="default"``: torchvision's recommended weights (``Raft_Large_Weights.C_T_SKHT_V2``,
  file ``raft_large_C_T_SKHT_V2-ff5fadd5.pth``; ``Raft_Small_Weights.C_T_V2``, file
  ``raft_small_C_T_V2-01064c6d.pth``), read from ``$VID2VID_RAFT_LARGE_WEIGHTS`` /
  ``$VID2VID_RAFT_SMALL_WEIGHTS`` when set, else from torch's hub cache
  (``torch.hub.get_dir()/checkpoints/``), else downloaded into that cache.
- ``weights="/path/to/file.pth"``: a local state dict (loaded with ``weights_only=True``).
- ``weights=None``: random initialisation, for tests only (the flow is meaningless).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor

from vid2vid.flow.estimator import FlowEstimator, pad_to_multiple

__all__ = ["RAFTFlow", "RAFT_WEIGHT_URLS", "RAFT_WEIGHTS_ENV"]

#: torchvision's default weights per variant (the ``DEFAULT`` member of its weights enums).
RAFT_WEIGHT_URLS: dict[str, str] = {
    "large": "https://download.pytorch.org/models/raft_large_C_T_SKHT_V2-ff5fadd5.pth",
    "small": "https://download.pytorch.org/models/raft_small_C_T_V2-01064c6d.pth",
}
#: Environment variables naming a local weights file for ``weights="default"``.
RAFT_WEIGHTS_ENV: dict[str, str] = {
    "large": "VID2VID_RAFT_LARGE_WEIGHTS",
    "small": "VID2VID_RAFT_SMALL_WEIGHTS",
}

# RAFT works at 1/8 resolution and its 4-level correlation pyramid needs feature maps of at
# least 16 × 16, i.e. inputs of at least 128 × 128 (torchvision checks both).
_MULTIPLE = 8
_MIN_SIZE = 128


def _offline_help(variant: str, reason: str) -> str:
    url = RAFT_WEIGHT_URLS[variant]
    filename = url.rsplit("/", 1)[1]
    cache = Path(torch.hub.get_dir()) / "checkpoints" / filename
    return (
        f"could not get the default RAFT-{variant} weights ({reason}). Download {url} on a machine "
        f"with internet access, then either pass weights='/path/to/{filename}' (CLI: --weights), "
        f"set {RAFT_WEIGHTS_ENV[variant]}=/path/to/{filename}, or copy the file to {cache}"
    )


def _resolve_default_weights(variant: str) -> Path:
    """Path of the default weights file: env var, then hub cache, then a download into the cache."""
    env_path = os.environ.get(RAFT_WEIGHTS_ENV[variant])
    if env_path:
        path = Path(env_path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{RAFT_WEIGHTS_ENV[variant]}={env_path} is not a file")
        return path
    url = RAFT_WEIGHT_URLS[variant]
    cache = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[1]
    if cache.is_file():
        return cache
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        # Writes to a temporary file and moves it into place once complete.
        torch.hub.download_url_to_file(url, str(cache), progress=True)
    except Exception as err:  # network errors come in many types (URLError, OSError, ...)
        raise RuntimeError(_offline_help(variant, f"download failed: {err}")) from err
    return cache


class RAFTFlow(FlowEstimator):
    """Backward flow with torchvision's RAFT.

    Args:
        variant: ``"large"`` (5.3M parameters, better) or ``"small"`` (1M, faster).
        weights: ``"default"``, a path to a state dict, or ``None`` (random init, tests only).
        device: where the network runs (default: CUDA when available, else CPU). Inputs are
            moved there and results moved back to the input's device.
        num_flow_updates: RAFT's recurrent refinement iterations (torchvision's default 12).

    Any frame size works: frames are replicate-padded on the bottom/right to a multiple of 8
    (and at least 128 × 128, RAFT's minimum) and the flow is cropped back.
    """

    def __init__(
        self,
        variant: str = "large",
        weights: str | Path | None = "default",
        device: str | torch.device | None = None,
        num_flow_updates: int = 12,
    ) -> None:
        from torchvision.models.optical_flow import raft_large, raft_small

        if variant not in RAFT_WEIGHT_URLS:
            raise ValueError(f"RAFT variant must be 'large' or 'small', got {variant!r}")
        if num_flow_updates < 1:
            raise ValueError(f"num_flow_updates must be >= 1, got {num_flow_updates}")
        self.variant = variant
        self.name = f"raft_{variant}"
        self.num_flow_updates = num_flow_updates
        self.device = torch.device(device) if device is not None else _default_device()
        model = (raft_large if variant == "large" else raft_small)(weights=None, progress=False)
        if weights is not None:
            path = _resolve_default_weights(variant) if str(weights) == "default" else Path(weights)
            if not path.is_file():
                raise FileNotFoundError(f"RAFT weights file {path} does not exist")
            state = torch.load(path, map_location="cpu", weights_only=True)
            try:
                model.load_state_dict(state)
            except RuntimeError as err:
                raise ValueError(
                    f"{path} is not a torchvision RAFT-{variant} state dict "
                    f"(expected e.g. {RAFT_WEIGHT_URLS[variant].rsplit('/', 1)[1]}): {err}"
                ) from err
        self.weights = None if weights is None else str(weights)
        self.model = model.eval().requires_grad_(False).to(self.device)

    def _estimate(self, frame: Tensor, prev_frame: Tensor) -> Tensor:
        # torchvision's OpticalFlow preset maps images to [-1, 1]: our frames already are.
        pair = torch.cat([frame, prev_frame], dim=0).to(self.device)
        padded, (height, width) = pad_to_multiple(pair, _MULTIPLE, _MIN_SIZE)
        image1, image2 = padded.chunk(2, dim=0)
        # RAFT(image1, image2) is the flow from image1 to image2 on image1's grid:
        # image1(x) ≈ image2(x + flow(x)). With (frame, prev_frame) that is our backward flow.
        flow = self.model(image1.contiguous(), image2.contiguous(), num_flow_updates=self.num_flow_updates)[
            -1
        ]
        return flow[:, :, :height, :width]

    def __repr__(self) -> str:
        return (
            f"RAFTFlow(variant={self.variant!r}, weights={self.weights!r}, device={str(self.device)!r}, "
            f"num_flow_updates={self.num_flow_updates})"
        )


def _default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
