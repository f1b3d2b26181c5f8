"""Warp error: how well each output frame follows from the previous one along the scene's motion.

``E(t) = Σ_p M_t(p) · mean_c (x_t(p) - warp(x_{t-1}, f_t)(p))² / Σ_p M_t(p)`` with frames mapped
to ``[0, 1]`` (Lai et al., "Learning Blind Video Temporal Consistency", ECCV 2018), where ``f_t``
is the *reference* backward flow of frame ``t`` (the ground truth's motion: exact flow where the
data has it, else an estimator run on the ground-truth frames) and ``M_t`` masks the pixels where
that flow is trustworthy: not occluded (the data's validity mask, or the photometric confidence
of the flow on the ground truth) and with a source inside the previous frame. A video that moves
exactly like the ground truth without changing appearance along the motion scores 0; flicker,
popping textures and wrong motion raise it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from vid2vid.flow.warp import flow_warp
from vid2vid.metrics._inputs import check_frames

__all__ = ["warp_error", "in_frame_mask"]


def in_frame_mask(flow: Tensor) -> Tensor:
    """``(N, 1, H, W)`` 1 where ``pixel + flow`` lies inside the frame, for ``flow`` ``(N, 2, H, W)`` pixels."""
    n, _, h, w = flow.shape
    ys, xs = torch.meshgrid(
        torch.arange(h, device=flow.device, dtype=flow.dtype),
        torch.arange(w, device=flow.device, dtype=flow.dtype),
        indexing="ij",
    )
    x, y = xs + flow[:, 0], ys + flow[:, 1]
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    return inside.unsqueeze(1).to(flow.dtype)


def warp_error(frames: Tensor, flow: Tensor, valid: Tensor | None = None) -> Tensor:
    """Warp error of frames ``1 .. T-1`` of a clip.

    Args:
        frames: ``(T, 3, H, W)`` float in ``[-1, 1]``, the video being judged.
        flow: ``(T, 2, H, W)`` float pixels, reference backward flow (``flow[t]``: frame ``t`` onto
            ``t-1``; ``flow[0]`` is unused).
        valid: optional ``(T, 1, H, W)`` in ``{0, 1}``, pixels where the flow holds.

    Returns:
        ``(T-1,)`` float32, ``>= 0``; ``nan`` for a frame without a single valid pixel.
    """
    frames = check_frames(frames, "frames")
    t, _, h, w = frames.shape
    if t < 2:
        raise ValueError(f"warp error needs at least 2 frames, got {t}")
    if flow.shape != (t, 2, h, w):
        raise ValueError(f"flow must be (T, 2, H, W) = {(t, 2, h, w)}, got {tuple(flow.shape)}")
    x = frames.double()
    f = flow[1:].to(x.device, torch.float64)
    mask = in_frame_mask(f)
    if valid is not None:
        if valid.shape != (t, 1, h, w):
            raise ValueError(f"valid must be (T, 1, H, W) = {(t, 1, h, w)}, got {tuple(valid.shape)}")
        mask = mask * valid[1:].to(x.device, torch.float64)
    warped = flow_warp(x[:-1], f)
    err = ((x[1:] - warped) / 2).pow(2).mean(dim=1, keepdim=True)
    total = mask.sum(dim=(1, 2, 3))
    out = (err * mask).sum(dim=(1, 2, 3)) / total
    return torch.where(total > 0, out, torch.full_like(out, float("nan"))).float()
