"""Drawing primitives of the original's face and pose inputs, reproduced pixel for pixel.

The original vid2vid draws its edge-to-face and pose-to-body conditioning with three small
routines (``data/keypoint2img.py`` and ``skimage.feature.canny``); the converted face and pose
models were trained on exactly those pixels, so we reproduce them rather than approximate:

- :func:`interp_points`: a least-squares curve through 2 (line) or 3 (parabola) points, fitted
  along the axis with the larger step (``scipy.optimize.curve_fit`` as the original), dropped when
  the parabola is too bent (``|a| > 1``), sampled at ``int(x_last - x_first)`` evenly spaced
  positions (numpy < 1.18 ``linspace`` semantics: the sample count is truncated), truncated to int.
- :func:`draw_edge`: stamps a sampled curve with a ``2 bw × 2 bw`` footprint (offsets
  ``-bw … bw-1``), clipped to the canvas, plus optional end-point discs. Colour rule per shifted
  copy of the curve (one footprint offset at a time): if every pixel it covers is black they all
  get the colour, otherwise every covered pixel becomes the per-channel truncated mean of its old
  value and the colour (so black pixels among them get ``colour // 2``).
- :func:`canny`: the Canny detector of scikit-image 0.26 with its defaults (Gaussian σ = 1 with
  zero padding renormalised by the padded weight, Sobel gradients, bilinear non-maximum
  suppression, hysteresis at 0.1 / 0.2 of the intensity range with 8-connectivity), written on
  ``scipy.ndimage`` so that the same floating-point operations run in the same order.

All functions work on numpy arrays; coordinates are ``(x, y)`` pixels.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

__all__ = ["interp_points", "draw_edge", "canny", "to_gray"]


def _quadratic(x: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    return a * x**2 + b * x + c


def _linear(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return a * x + b


def interp_points(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """Sample the original's fitted curve through 2 or 3 points (``interpPoints``).

    Args:
        x, y: the points' coordinates, 2 or 3 each (float).

    Returns:
        ``(xs, ys)`` int64 pixel positions along the curve (possibly empty when the points are
        less than one pixel apart), or ``(None, None)`` when the original draws nothing (a
        parabola with ``|a| > 1`` or a fit that does not converge).
    """
    from scipy.optimize import curve_fit

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or not 2 <= len(x) <= 3:
        raise ValueError(f"interp_points needs 2 or 3 points as two 1-D arrays, got {x.shape} and {y.shape}")
    if np.abs(np.diff(x)).max() < np.abs(np.diff(y)).max():
        ys, xs = interp_points(y, x)
        if ys is None:
            return None, None
        return xs, ys
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if len(x) < 3:
                popt, _ = curve_fit(_linear, x, y)
            else:
                popt, _ = curve_fit(_quadratic, x, y)
        except (RuntimeError, ValueError):
            return None, None
    if len(x) >= 3 and abs(popt[0]) > 1:
        return None, None
    if x[0] > x[-1]:
        x, y = x[::-1], y[::-1]
    count = int(x[-1] - x[0])  # numpy < 1.18: a float sample count is truncated
    curve_x = np.linspace(x[0], x[-1], count)
    curve_y = _linear(curve_x, *popt) if len(x) < 3 else _quadratic(curve_x, *popt)
    return curve_x.astype(np.int64), curve_y.astype(np.int64)


def _set_color(canvas: np.ndarray, yy: np.ndarray, xx: np.ndarray, color: Sequence[int]) -> None:
    if canvas.ndim == 2:
        canvas[yy, xx] = color[0]
        return
    if (canvas[yy, xx] == 0).all():
        canvas[yy, xx] = np.asarray(color[:3], dtype=canvas.dtype)
    else:
        mixed = (canvas[yy, xx].astype(np.float64) + np.asarray(color[:3], dtype=np.float64)) / 2
        canvas[yy, xx] = mixed.astype(np.uint8)


def draw_edge(
    canvas: np.ndarray,
    x: np.ndarray | None,
    y: np.ndarray | None,
    bw: int = 1,
    color: Sequence[int] = (255, 255, 255),
    draw_end_points: bool = False,
) -> None:
    """Stamp a sampled curve into ``canvas`` in place (the original's ``drawEdge``).

    Args:
        canvas: ``(H, W)`` uint8 (gets ``color[0]``) or ``(H, W, 3)`` uint8 RGB.
        x, y: int pixel positions from :func:`interp_points` (``None`` or empty: nothing drawn).
        bw: half width: the footprint covers offsets ``-bw … bw-1`` in x and y.
        color: RGB colour.
        draw_end_points: also stamp discs (offsets ``i, j ∈ [-2bw, 2bw)``, ``i² + j² < 4bw²``)
            on the first and last positions.
    """
    if x is None or y is None or np.asarray(x).size == 0:
        return
    x = np.asarray(x)
    y = np.asarray(y)
    height, width = canvas.shape[:2]
    for i in range(-bw, bw):
        for j in range(-bw, bw):
            yy = np.clip(y + i, 0, height - 1)
            xx = np.clip(x + j, 0, width - 1)
            _set_color(canvas, yy, xx, color)
    if draw_end_points:
        ends_y = np.array([y[0], y[-1]])
        ends_x = np.array([x[0], x[-1]])
        for i in range(-2 * bw, 2 * bw):
            for j in range(-2 * bw, 2 * bw):
                if i * i + j * j < 4 * bw * bw:
                    yy = np.clip(ends_y + i, 0, height - 1)
                    xx = np.clip(ends_x + j, 0, width - 1)
                    _set_color(canvas, yy, xx, color)


def to_gray(frame: np.ndarray) -> np.ndarray:
    """RGB ``(H, W, 3)`` uint8 → ``(H, W)`` uint8 luma exactly as PIL's ``convert('L')`` (ITU-R 601-2)."""
    from PIL import Image

    if frame.ndim != 3 or frame.shape[-1] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"frame must be (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}")
    return np.asarray(Image.fromarray(np.ascontiguousarray(frame)).convert("L"))


def _smooth(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian of ``image`` with zero padding, divided by the Gaussian of the unit mask (+eps)."""
    from scipy import ndimage

    smoothed = ndimage.gaussian_filter(image, sigma, mode="constant", cval=0.0, truncate=4.0)
    weight = ndimage.gaussian_filter(np.ones_like(image), sigma, mode="constant", cval=0.0, truncate=4.0)
    return smoothed / (weight + np.finfo(np.float64).eps)


def _non_maximum_suppression(
    isobel: np.ndarray, jsobel: np.ndarray, magnitude: np.ndarray, low: float
) -> np.ndarray:
    """Bilinear non-maximum suppression along the gradient, thresholded at ``low``.

    Returns the magnitude where a pixel is a local maximum along its gradient direction and at
    least ``low`` (compared in single precision, as scikit-image's Cython kernel takes it), else 0.
    """
    height, width = magnitude.shape
    padded = np.pad(magnitude, 1)

    def neighbour(dy: int, dx: int) -> np.ndarray:
        return padded[1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width]

    candidate = np.zeros(magnitude.shape, bool)
    candidate[1:-1, 1:-1] = True
    candidate &= magnitude >= float(np.float32(low))
    abs_i, abs_j = np.abs(isobel), np.abs(jsobel)
    down, left = isobel <= 0, jsobel <= 0
    up, right = ~down, ~left
    diagonal = (up & right) | (down & left)
    anti = ((down & right) | (up & left)) & ~diagonal
    # (pixels, weight numerator, denominator, near neighbour, far neighbour) of each sector;
    # the opposite side uses the mirrored neighbours.
    sectors = (
        (diagonal & (abs_i > abs_j), abs_j, abs_i, (1, 0), (1, 1)),
        (diagonal & (abs_i <= abs_j), abs_i, abs_j, (0, 1), (1, 1)),
        (anti & (abs_i < abs_j), abs_i, abs_j, (0, 1), (-1, 1)),
        (anti & (abs_i >= abs_j), abs_j, abs_i, (-1, 0), (-1, 1)),
    )
    out = np.zeros(magnitude.shape, np.float64)
    for pts, num, den, near, far in sectors:
        pts = pts & candidate
        m = magnitude[pts]
        w = num[pts] / den[pts]
        plus = neighbour(*far)[pts] * w + neighbour(*near)[pts] * (1.0 - w) <= m
        minus = neighbour(-far[0], -far[1])[pts] * w + neighbour(-near[0], -near[1])[pts] * (1.0 - w) <= m
        out[pts] = np.where(plus & minus, m, 0.0)
    return out


def canny(gray: np.ndarray, sigma: float = 1.0, low: float = 0.1, high: float = 0.2) -> np.ndarray:
    """Canny edges as ``skimage.feature.canny(gray)`` computes them with its defaults.

    Args:
        gray: ``(H, W)`` uint8 image.
        sigma: Gaussian standard deviation.
        low, high: hysteresis thresholds as fractions of the intensity range (uint8: of 255).

    Returns:
        ``(H, W)`` bool edge map (the one-pixel border is never an edge).
    """
    from scipy import ndimage

    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError(f"canny needs an (H, W) uint8 image, got {gray.shape} {gray.dtype}")
    image = np.multiply(gray, 1.0 / 255.0, dtype=np.float64)  # skimage.img_as_float: x * (1/255)
    smoothed = _smooth(image, sigma)
    jsobel = ndimage.sobel(smoothed, axis=1)
    isobel = ndimage.sobel(smoothed, axis=0)
    magnitude = isobel * isobel
    magnitude += jsobel * jsobel
    np.sqrt(magnitude, out=magnitude)
    maxima = _non_maximum_suppression(isobel, jsobel, magnitude, low)
    low_mask = maxima > 0
    labels, count = ndimage.label(low_mask, np.ones((3, 3), bool))
    if count == 0:
        return low_mask
    high_mask = low_mask & (maxima >= high)
    good = np.zeros(count + 1, bool)
    good[np.unique(labels[high_mask])] = True
    good[0] = False
    return good[labels]
