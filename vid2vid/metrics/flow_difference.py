"""tOF: temporal optical-flow difference (Chu et al., TecoGAN, 2020).

``tOF(t) = mean_p ‖OF(x_t, x_{t-1})(p) - OF(y_t, y_{t-1})(p)‖₂``: the motion estimated in the output
should be the motion of the ground truth (per-pixel end-point error between the two backward
flows, in pixels). The estimator is any :class:`~vid2vid.flow.FlowEstimator` (OpenCV DIS needs no
weights). 0 for the ground truth itself.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from vid2vid.metrics._inputs import check_pair

__all__ = ["temporal_flow_difference"]


def temporal_flow_difference(
    pred: Tensor,
    target: Tensor,
    estimator: Callable[[Tensor, Tensor], Tensor],
    target_flow: Tensor | None = None,
) -> Tensor:
    """tOF of frames ``1 .. T-1``.

    Args:
        pred, target: ``(T, 3, H, W)`` float in ``[-1, 1]``.
        estimator: ``estimator(frames, prev_frames) -> (N, 2, H, W)`` backward flow in pixels.
        target_flow: the ground truth's flow estimated with the same ``estimator`` ``(T-1, 2, H, W)``,
            if already computed (it is then not recomputed).

    Returns:
        ``(T-1,)`` float32 pixels, ``>= 0``.
    """
    pred, target = check_pair(pred, target)
    if pred.shape[0] < 2:
        raise ValueError(f"tOF needs at least 2 frames, got {pred.shape[0]}")
    fp = estimator(pred[1:], pred[:-1]).double()
    ft = (estimator(target[1:], target[:-1]) if target_flow is None else target_flow).to(fp.device).double()
    if ft.shape != fp.shape:
        raise ValueError(f"target_flow must be {tuple(fp.shape)}, got {tuple(ft.shape)}")
    return (fp - ft).pow(2).sum(dim=1).sqrt().flatten(1).mean(dim=1).float()
