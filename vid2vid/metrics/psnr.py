"""Peak signal-to-noise ratio between frames (per-frame quality against the ground truth)."""

from __future__ import annotations

import torch
from torch import Tensor

from vid2vid.metrics._inputs import check_pair

__all__ = ["psnr"]


def psnr(pred: Tensor, target: Tensor, data_range: float = 2.0) -> Tensor:
    """PSNR in dB of each frame: ``10 log10(data_range² / MSE)``.

    Args:
        pred: ``(N, C, H, W)`` float frames (default range ``[-1, 1]``).
        target: same shape.
        data_range: max - min of the value range (2 for ``[-1, 1]``, 1 for ``[0, 1]``).

    Returns:
        ``(N,)`` float32 dB; ``inf`` where a frame is identical to its target.
    """
    pred, target = check_pair(pred, target, channels=None)
    if data_range <= 0:
        raise ValueError(f"data_range must be > 0, got {data_range}")
    mse = (pred.double() - target.double()).pow(2).flatten(1).mean(dim=1)
    out = 10.0 * torch.log10(data_range**2 / mse)  # mse == 0 gives +inf
    return out.float()
