"""Fréchet Inception Distance (FID, Heusel et al. 2017) on video frames.

Features: the 2048-d pool features of torchvision's ImageNet Inception-v3
(``inception_v3_google-0cc3c7bd.pth``), frames resized bilinearly to 299 × 299 and fed in
``[-1, 1]`` (the range those Google weights expect). This is *not* the TensorFlow Inception graph
of the reference FID code, so absolute numbers are not comparable with papers' FID; compare runs
measured with the same network and the same number of frames (FID is biased by sample size).
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vid2vid.metrics._inputs import check_frames
from vid2vid.metrics.frechet import FrechetMetric
from vid2vid.metrics.weights import WeightsSpec, load_into, read_state_dict, resolve_weights

__all__ = ["InceptionFeatures", "FrechetInceptionDistance", "INCEPTION_WEIGHTS"]

INCEPTION_WEIGHTS = WeightsSpec(
    "Inception-v3 (ImageNet, torchvision) for FID",
    "inception_v3_google-0cc3c7bd.pth",
    "VID2VID_FID_INCEPTION_WEIGHTS",
    url="https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth",
)


class InceptionFeatures(nn.Module):
    """Frames ``(N, 3, H, W)`` in ``[-1, 1]`` → Inception-v3 pool features ``(N, 2048)`` float32.

    Args:
        weights: ``"default"`` (local file / cache, see :data:`INCEPTION_WEIGHTS`), a path to a
            torchvision ``inception_v3`` state dict (``.pth`` or ``.safetensors``), or ``None``
            (random weights, tests only).
        size: side of the square the frames are resized to (299).
        download: try to download the default weights into the hub cache when no local file is found.
    """

    def __init__(
        self, weights: str | os.PathLike[str] | None = "default", size: int = 299, download: bool = True
    ) -> None:
        super().__init__()
        from torchvision.models import inception_v3

        model = inception_v3(
            weights=None, aux_logits=True, init_weights=weights is None, transform_input=False
        )
        if weights is not None:
            path = resolve_weights(
                INCEPTION_WEIGHTS, None if str(weights) == "default" else weights, download
            )
            load_into(model, read_state_dict(path), str(path))
        model.fc = nn.Identity()
        model.AuxLogits = None
        model.aux_logits = False
        self.model = model
        self.size = size
        self.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> InceptionFeatures:
        """Always stays in eval mode (frozen metric network)."""
        return super().train(False)

    def forward(self, frames: Tensor) -> Tensor:
        """``(N, 3, H, W)`` in ``[-1, 1]`` → ``(N, 2048)`` float32."""
        frames = check_frames(frames, "frames")
        param = next(self.parameters())
        x = frames.to(param.device, param.dtype)
        x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        with torch.no_grad():
            return self.model(x).float()


class FrechetInceptionDistance(FrechetMetric):
    """FID between real and generated frames, accumulated with :meth:`update`.

    Args:
        features: the feature network ``(N, 3, H, W) → (N, D)`` (default :class:`InceptionFeatures`).
        batch_size: frames per forward pass.
    """

    def __init__(self, features: nn.Module | None = None, batch_size: int = 32) -> None:
        super().__init__()
        self.net = features if features is not None else InceptionFeatures()
        self.batch_size = batch_size

    def _features(self, frames: Tensor) -> Tensor:
        frames = check_frames(frames, "frames")
        with torch.no_grad():
            return torch.cat([self.net(chunk) for chunk in frames.split(self.batch_size)])

    def update(self, frames: Tensor, real: bool) -> None:
        """Add frames ``(N, 3, H, W)`` in ``[-1, 1]`` to the real or the generated set."""
        super().update(frames, real)
