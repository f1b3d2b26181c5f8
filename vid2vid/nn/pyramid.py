"""Average-pool pyramids for coarse-to-fine generators and multi-scale discriminators.

The original downsamples with a 3×3 average pool, stride 2, padding 1, not counting the
padding (pix2pixHD §3.2, vid2vid §3.3).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ["downsample2x", "build_pyramid"]


def downsample2x(x: Tensor) -> Tensor:
    """Halve the last two dimensions of ``x``: ``(..., C, H, W)`` → ``(..., C, ⌈H/2⌉, ⌈W/2⌉)``."""
    if x.dim() < 3:
        raise ValueError(f"expected at least (C, H, W), got shape {tuple(x.shape)}")
    lead = x.shape[:-3]
    flat = x.reshape(-1, *x.shape[-3:])
    out = F.avg_pool2d(flat, kernel_size=3, stride=2, padding=1, count_include_pad=False)
    return out.reshape(*lead, *out.shape[-3:])


def build_pyramid(x: Tensor, n_levels: int) -> list[Tensor]:
    """``[x, down(x), down(down(x)), ...]`` with ``n_levels`` entries, finest first.

    Args:
        x: ``(..., C, H, W)`` float, e.g. a frame ``(B, C, H, W)`` or a clip ``(B, T, C, H, W)``.
        n_levels: number of levels (>= 1).
    """
    if n_levels < 1:
        raise ValueError(f"n_levels must be >= 1, got {n_levels}")
    levels = [x]
    for _ in range(n_levels - 1):
        levels.append(downsample2x(levels[-1]))
    return levels
