"""Flow visualisation with the Middlebury colour wheel (Baker et al., 2011).

Hue encodes direction, saturation encodes magnitude relative to the largest (or a given)
magnitude; zero flow is white.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["flow_to_color", "color_wheel"]

# Number of hues between the six primary/secondary colours of the wheel, as in Middlebury.
_SEGMENTS = (("RY", 15), ("YG", 6), ("GC", 4), ("CB", 11), ("BM", 13), ("MR", 6))


def color_wheel(device: torch.device | str | None = None) -> Tensor:
    """The 55-entry Middlebury colour wheel: ``(55, 3)`` float in ``[0, 1]`` (RGB)."""
    rows: list[list[float]] = []
    for name, n in _SEGMENTS:
        for i in range(n):
            ramp = i / n
            rows.append(
                {
                    "RY": [1.0, ramp, 0.0],
                    "YG": [1.0 - ramp, 1.0, 0.0],
                    "GC": [0.0, 1.0, ramp],
                    "CB": [0.0, 1.0 - ramp, 1.0],
                    "BM": [ramp, 0.0, 1.0],
                    "MR": [1.0, 0.0, 1.0 - ramp],
                }[name]
            )
    return torch.tensor(rows, dtype=torch.float32, device=device)


def flow_to_color(flow: Tensor, max_magnitude: float | None = None) -> Tensor:
    """Colour-code optical flow.

    Args:
        flow: ``(B, 2, H, W)`` or ``(2, H, W)`` float, pixels (channel 0 = x).
        max_magnitude: magnitude that maps to full saturation; default: the largest magnitude
            in each flow field (per batch element).

    Returns:
        ``(B, 3, H, W)`` or ``(3, H, W)`` float32 RGB in ``[0, 1]``.
    """
    squeeze = flow.dim() == 3
    if squeeze:
        flow = flow.unsqueeze(0)
    if flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"flow must be (B, 2, H, W) or (2, H, W), got shape {tuple(flow.shape)}")
    flow = flow.float()
    u, v = flow[:, 0], flow[:, 1]
    magnitude = torch.sqrt(u * u + v * v)
    if max_magnitude is None:
        scale = magnitude.flatten(1).amax(dim=1).clamp_min(1e-8).view(-1, 1, 1)
    else:
        if max_magnitude <= 0:
            raise ValueError(f"max_magnitude must be positive, got {max_magnitude}")
        scale = torch.full_like(magnitude[:, :1, :1], float(max_magnitude))
    radius = (magnitude / scale).clamp(max=1.0)

    wheel = color_wheel(flow.device)
    n_colors = wheel.shape[0]
    angle = torch.atan2(-v, -u) / math.pi  # in [-1, 1]
    position = (angle + 1.0) / 2.0 * (n_colors - 1)
    index0 = position.floor().long().clamp(0, n_colors - 1)
    index1 = (index0 + 1) % n_colors
    frac = (position - index0.float()).unsqueeze(1)
    col0 = wheel[index0].permute(0, 3, 1, 2)
    col1 = wheel[index1].permute(0, 3, 1, 2)
    color = (1.0 - frac) * col0 + frac * col1
    color = 1.0 - radius.unsqueeze(1) * (1.0 - color)
    return color[0] if squeeze else color
