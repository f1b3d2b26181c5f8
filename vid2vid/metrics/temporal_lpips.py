"""tLP: temporal LPIPS (Chu et al., TecoGAN, 2020).

``tLP(t) = |LPIPS(x_t, x_{t-1}) - LPIPS(y_t, y_{t-1})|``: the perceptual change between consecutive
output frames should match that of the ground truth. 0 for the ground truth itself.
"""

from __future__ import annotations

from torch import Tensor

from vid2vid.metrics._inputs import check_pair
from vid2vid.metrics.lpips import LPIPS

__all__ = ["temporal_lpips"]


def temporal_lpips(pred: Tensor, target: Tensor, lpips: LPIPS) -> Tensor:
    """tLP of frames ``1 .. T-1``.

    Args:
        pred, target: ``(T, 3, H, W)`` float in ``[-1, 1]``.
        lpips: the LPIPS network.

    Returns:
        ``(T-1,)`` float32, ``>= 0``.
    """
    pred, target = check_pair(pred, target)
    if pred.shape[0] < 2:
        raise ValueError(f"tLP needs at least 2 frames, got {pred.shape[0]}")
    return (lpips(pred[1:], pred[:-1]) - lpips(target[1:], target[:-1])).abs()
