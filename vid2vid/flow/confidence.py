"""Photometric confidence of a reference flow (vid2vid §3.2, the masks of the flow/warp losses).

A pixel is trusted when the previous frame, warped with the flow, reproduces the current
frame there: the squared error summed over RGB channels (frames in ``[-1, 1]``) is below a
threshold (0.02 in the original implementation).
"""

from __future__ import annotations

from torch import Tensor

from vid2vid.flow.warp import flow_warp

__all__ = ["flow_confidence", "DEFAULT_CONFIDENCE_THRESHOLD"]

DEFAULT_CONFIDENCE_THRESHOLD = 0.02


def flow_confidence(
    frame: Tensor, prev_frame: Tensor, flow: Tensor, threshold: float = DEFAULT_CONFIDENCE_THRESHOLD
) -> Tensor:
    """Binary confidence of ``flow`` (the backward flow of ``frame``).

    Args:
        frame: ``(B, 3, H, W)`` float in ``[-1, 1]``, frame ``t``.
        prev_frame: ``(B, 3, H, W)`` float in ``[-1, 1]``, frame ``t-1``.
        flow: ``(B, 2, H, W)`` pixels, so that ``flow_warp(prev_frame, flow) ≈ frame``.
        threshold: squared-error threshold (summed over channels).

    Returns:
        ``(B, 1, H, W)`` in ``{0, 1}``, dtype of ``frame``.
    """
    if frame.shape != prev_frame.shape:
        raise ValueError(f"frame {tuple(frame.shape)} and prev_frame {tuple(prev_frame.shape)} must match")
    error = (frame - flow_warp(prev_frame, flow)).pow(2).sum(dim=1, keepdim=True)
    return (error < threshold).to(frame.dtype)
