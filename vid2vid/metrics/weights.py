"""Finding and reading the feature networks' weights (Inception, I3D, AlexNet/VGG + LPIPS heads).

The metrics' feature networks are pretrained elsewhere and cannot be trained here. Their weights
are looked up, in order, in: an explicit path, an environment variable, and the torch hub cache
(``$TORCH_HOME/hub/checkpoints/``, where torchvision keeps its downloads); only then is a download
tried (when a URL is known). Offline, the error names the file, where to get it and where to put
it. ``.safetensors`` files are read with safetensors; other files (torchvision's ``.pth``) with
``torch.load(weights_only=True)``, which reads tensors only (no pickled code runs).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

__all__ = ["WeightsSpec", "resolve_weights", "read_state_dict", "load_into"]


@dataclass(frozen=True)
class WeightsSpec:
    """Where a feature network's weights come from.

    Attributes:
        what: human name of the weights, e.g. ``"Inception-v3 (ImageNet) for FID"``.
        filename: the file's usual name in the torch hub cache.
        env: environment variable that may name a local copy.
        url: download address (``None``: none is known; the file must be provided).
        source: where to get the file when ``url`` is ``None`` (shown in the error).
    """

    what: str
    filename: str
    env: str
    url: str | None = None
    source: str | None = None

    @property
    def cache_path(self) -> Path:
        """``$TORCH_HOME/hub/checkpoints/<filename>``."""
        return Path(torch.hub.get_dir()) / "checkpoints" / self.filename

    def offline_message(self, reason: str) -> str:
        """The error text: what is missing, where to get it, where to put it."""
        origin = self.url or self.source or "its publisher"
        return (
            f"{self.what}: weights not available ({reason}). Get '{self.filename}' from {origin} on a "
            f"machine with internet access, then copy it to '{self.cache_path}' (the torch hub cache, "
            f"$TORCH_HOME/hub/checkpoints/), or set {self.env}=/path/to/{self.filename}, or pass the "
            "path explicitly (CLI: the matching --*-weights option)."
        )


def resolve_weights(
    spec: WeightsSpec, path: str | os.PathLike[str] | None = None, download: bool = True
) -> Path:
    """Local file of ``spec``'s weights: ``path``, then ``$<env>``, then the hub cache, then a download.

    Raises:
        FileNotFoundError: ``path`` or the environment variable names a missing file.
        RuntimeError: nothing local and no download possible; the message says what to do.
    """
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise FileNotFoundError(f"{spec.what}: weights file '{p}' does not exist")
        return p
    env = os.environ.get(spec.env)
    if env:
        p = Path(env).expanduser()
        if not p.is_file():
            raise FileNotFoundError(f"{spec.env}={env} is not a file ({spec.what}, expected {spec.filename})")
        return p
    cache = spec.cache_path
    if cache.is_file():
        return cache
    if spec.url is None or not download or os.environ.get("HF_HUB_OFFLINE") == "1":
        raise RuntimeError(spec.offline_message(f"no file at {cache} and no {spec.env}"))
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(spec.url, str(cache), progress=True)
    except Exception as err:  # network errors come in many types
        raise RuntimeError(spec.offline_message(f"download failed: {err}")) from err
    return cache


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, Tensor]:
    """Tensors of a ``.safetensors`` file, or of a tensor-only ``.pth``/``.pt`` state dict."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from vid2vid.checkpoint import load_state_dict

        return load_state_dict(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"cannot read '{path}' as a tensor state dict: {err}") from err
    if isinstance(state, Mapping) and "state_dict" in state and isinstance(state["state_dict"], Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping) or not all(isinstance(v, Tensor) for v in state.values()):
        raise ValueError(f"'{path}' does not hold a state dict of tensors")
    return {str(k): v for k, v in state.items()}


def load_into(module: nn.Module, state: Mapping[str, Tensor], source: str) -> nn.Module:
    """Copy ``state`` into ``module`` strictly (errors name missing/unexpected/misshaped tensors)."""
    from vid2vid.checkpoint import load_state_dict_strict

    state = dict(state)
    for key, value in module.state_dict().items():  # files saved before PyTorch 0.4.1 lack these counters
        if key.endswith("num_batches_tracked") and key not in state:
            state[key] = value
    return load_state_dict_strict(module, state, source)
