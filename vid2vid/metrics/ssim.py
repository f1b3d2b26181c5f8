"""Structural similarity (SSIM, Wang et al. 2004) between frames.

The standard settings: an 11 × 11 Gaussian window of σ = 1.5, ``K1 = 0.01``, ``K2 = 0.03``, on
frames mapped to ``[0, 1]``, each channel separately, averaged over the valid (unpadded) window
positions and the channels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from vid2vid.metrics._inputs import check_pair

__all__ = ["ssim", "gaussian_window"]


def gaussian_window(size: int = 11, sigma: float = 1.5, dtype: torch.dtype = torch.float64) -> Tensor:
    """Normalised 2-D Gaussian ``(size, size)`` summing to 1."""
    x = torch.arange(size, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def ssim(
    pred: Tensor,
    target: Tensor,
    window_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> Tensor:
    """Mean SSIM of each frame.

    Args:
        pred: ``(N, C, H, W)`` float frames in ``value_range``; ``H, W >= window_size``.
        target: same shape.
        window_size, sigma: the Gaussian window.
        k1, k2: stabilisers, ``C1 = (k1 L)²``, ``C2 = (k2 L)²`` with ``L = 1`` after mapping to ``[0, 1]``.
        value_range: the frames' range, mapped to ``[0, 1]`` before the computation.

    Returns:
        ``(N,)`` float32 in ``[-1, 1]`` (1: identical).
    """
    pred, target = check_pair(pred, target, channels=None)
    h, w = pred.shape[-2:]
    if h < window_size or w < window_size:
        raise ValueError(f"SSIM needs frames of at least {window_size}x{window_size}, got {h}x{w}")
    lo, hi = value_range
    if hi <= lo:
        raise ValueError(f"value_range must be (low, high) with high > low, got {value_range}")
    x = (pred.double() - lo) / (hi - lo)
    y = (target.double() - lo) / (hi - lo)
    n, c = x.shape[:2]
    g = gaussian_window(window_size, sigma)[window_size // 2]
    g = (g / g.sum()).to(x.device)  # the 2-D window is the outer product of this 1-D one
    gy, gx = g.view(1, 1, -1, 1).expand(c, 1, -1, -1), g.view(1, 1, 1, -1).expand(c, 1, -1, -1)

    def blur(z: Tensor) -> Tensor:  # separable valid convolution
        return F.conv2d(F.conv2d(z, gy, groups=c), gx, groups=c)

    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x**2
    syy = blur(y * y) - mu_y**2
    sxy = blur(x * y) - mu_x * mu_y
    c1, c2 = k1**2, k2**2
    s = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2))
    return s.reshape(n, -1).mean(dim=1).float()
