"""Flicker: temporal change of the output relative to the temporal change of the ground truth.

Two per-frame numbers for ``t = 1 .. T-1``, frames mapped to ``[0, 1]``:

* :func:`flicker`: ``mean_c |Δμ_c(x, t) - Δμ_c(y, t)|`` where ``Δμ_c(x, t)`` is the change of the
  frame's mean intensity in channel ``c`` from ``t-1`` to ``t``: global brightness/colour flicker
  that the ground truth does not have (0 for the ground truth; a copy whose brightness alternates by
  ``±a`` scores ``2a``);
* :func:`temporal_change_ratio`: ``mean |x_t - x_{t-1}| / mean |y_t - y_{t-1}|``: how much the
  output changes from frame to frame compared with the ground truth (1: as much; above 1: extra
  change such as flicker or popping; below 1: a video that changes less than it should, e.g. frozen).
"""

from __future__ import annotations

from torch import Tensor

from vid2vid.metrics._inputs import check_pair

__all__ = ["flicker", "temporal_change_ratio"]


def flicker(pred: Tensor, target: Tensor) -> Tensor:
    """Mean-intensity flicker relative to the ground truth.

    Args:
        pred: ``(T, 3, H, W)`` float in ``[-1, 1]``, the video judged.
        target: ``(T, 3, H, W)`` the ground truth.

    Returns:
        ``(T-1,)`` float32 in ``[0, 1]``.
    """
    pred, target = check_pair(pred, target)
    if pred.shape[0] < 2:
        raise ValueError(f"flicker needs at least 2 frames, got {pred.shape[0]}")
    mp = ((pred.double() + 1) / 2).mean(dim=(2, 3))
    mt = ((target.double() + 1) / 2).mean(dim=(2, 3))
    return ((mp[1:] - mp[:-1]) - (mt[1:] - mt[:-1])).abs().mean(dim=1).float()


def temporal_change_ratio(pred: Tensor, target: Tensor, eps: float = 1e-8) -> Tensor:
    """Frame-to-frame change of ``pred`` over that of ``target``.

    Args:
        pred, target: ``(T, 3, H, W)`` float in ``[-1, 1]``.
        eps: floor of the ground truth's change (a static ground truth gives huge ratios).

    Returns:
        ``(T-1,)`` float32, ``>= 0``.
    """
    pred, target = check_pair(pred, target)
    if pred.shape[0] < 2:
        raise ValueError(f"temporal_change_ratio needs at least 2 frames, got {pred.shape[0]}")
    dp = (pred[1:].double() - pred[:-1].double()).abs().flatten(1).mean(dim=1)
    dt = (target[1:].double() - target[:-1].double()).abs().flatten(1).mean(dim=1)
    return (dp / dt.clamp(min=eps)).float()
