"""Shared renderer of the procedural face and pose clips: affine layers with exact backward flow.

A scene is a static textured backdrop plus a stack of *layers* drawn back to front. A layer is a
surface with its own 2-D coordinates ``(u, v)`` mapped to the screen by one affine map per frame
(``p = M_t [u, v, 1]``); its shape is a signed distance in ``(u, v)`` (negative inside) and its
colour a function of ``(u, v)`` (texture and shading are painted on the surface, so they move with
it). Because every map is invertible, the backward flow is exact: the surface point seen at pixel
``p`` in frame ``t`` was at ``M_{t-1} M_t^{-1} p`` in frame ``t-1``.

A pixel's ground truth is marked valid (confidence 1) when its source lies inside frame ``t-1``,
the same layer is seen at all four pixels around the source, none of them is on an anti-aliased
silhouette edge, and the surface does not deform there (a layer can flag deforming parts, such as
an opening mouth).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "AffineLayer",
    "Backdrop",
    "value_noise",
    "edge_alpha",
    "affine",
    "render_frame",
    "backward_flow",
]

#: ``shade(u, v, t) -> (signed distance (H, W), rgb (H, W, 3) in [0, 1], deforming (H, W) bool)``
ShadeFn = Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray, np.ndarray]]


def value_noise(x: np.ndarray, y: np.ndarray, table: np.ndarray, cell: float) -> np.ndarray:
    """Smooth periodic value noise in ``[0, 1]`` at (broadcastable) coordinates ``x, y``."""
    n = table.shape[0]
    gx, gy = x / cell, y / cell
    ix, iy = np.floor(gx), np.floor(gy)
    fx, fy = gx - ix, gy - iy
    fx, fy = fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)
    ix0, iy0 = ix.astype(np.int64) % n, iy.astype(np.int64) % n
    ix1, iy1 = (ix0 + 1) % n, (iy0 + 1) % n
    top = table[iy0, ix0] * (1 - fx) + table[iy0, ix1] * fx
    bottom = table[iy1, ix0] * (1 - fx) + table[iy1, ix1] * fx
    return top * (1 - fy) + bottom * fy


def edge_alpha(signed_distance: np.ndarray) -> np.ndarray:
    """Anti-aliased inside-ness from a signed distance in pixels (negative inside), in ``[0, 1]``."""
    return np.clip(0.5 - signed_distance, 0.0, 1.0)


def affine(angle: float, scale_x: float, scale_y: float, tx: float, ty: float) -> np.ndarray:
    """``(2, 3)`` map ``p = R(angle) · diag(scale_x, scale_y) · (u, v) + (tx, ty)``."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c * scale_x, -s * scale_y, tx], [s * scale_x, c * scale_y, ty]], dtype=np.float64)


def _invert(matrix: np.ndarray) -> np.ndarray:
    linear = matrix[:, :2]
    inv = np.linalg.inv(linear)
    return np.concatenate([inv, -(inv @ matrix[:, 2:])], axis=1)


@dataclass
class AffineLayer:
    """A surface drawn with one affine map per frame.

    Attributes:
        region: id of the layer in the region map (> 0; 0 is the backdrop).
        matrices: ``(T, 2, 3)`` surface → screen maps.
        shade: ``(u, v, t) -> (signed distance in pixels, rgb, deforming)``.
        bounds: ``(u0, v0, u1, v1)`` surface box outside which the layer is empty (speeds rendering).
    """

    region: int
    matrices: np.ndarray
    shade: ShadeFn
    bounds: tuple[float, float, float, float]

    def screen_box(self, t: int, size: tuple[int, int]) -> tuple[int, int, int, int] | None:
        """Pixel rows/columns ``(r0, r1, c0, c1)`` covering the layer at frame ``t`` (``None``: off screen)."""
        u0, v0, u1, v1 = self.bounds
        corners = np.array([[u0, v0, 1], [u1, v0, 1], [u0, v1, 1], [u1, v1, 1]], dtype=np.float64)
        pts = corners @ self.matrices[t].T
        c0, c1 = int(np.floor(pts[:, 0].min())) - 1, int(np.ceil(pts[:, 0].max())) + 2
        r0, r1 = int(np.floor(pts[:, 1].min())) - 1, int(np.ceil(pts[:, 1].max())) + 2
        r0, r1, c0, c1 = max(r0, 0), min(r1, size[0]), max(c0, 0), min(c1, size[1])
        if r0 >= r1 or c0 >= c1:
            return None
        return r0, r1, c0, c1


@dataclass
class Backdrop:
    """Static background: ``color(x (1, W), y (H, 1)) -> (H, W, 3)`` in ``[0, 1]`` (flow 0)."""

    color: Callable[[np.ndarray, np.ndarray], np.ndarray]


def render_frame(
    backdrop: Backdrop, layers: list[AffineLayer], size: tuple[int, int], t: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render frame ``t``.

    Returns:
        ``rgb`` ``(H, W, 3)`` float in ``[0, 1]``; ``region`` ``(H, W)`` int64 (the front-most layer
        covering at least half the pixel, 0 = backdrop); ``unreliable`` ``(H, W)`` bool (anti-aliased
        silhouette edges and deforming surfaces).
    """
    height, width = size
    xs = np.arange(width, dtype=np.float64)[None, :]
    ys = np.arange(height, dtype=np.float64)[:, None]
    rgb = np.array(backdrop.color(xs, ys), dtype=np.float64)
    region = np.zeros((height, width), np.int64)
    unreliable = np.zeros((height, width), bool)
    for layer in layers:
        box = layer.screen_box(t, size)
        if box is None:
            continue
        r0, r1, c0, c1 = box
        inv = _invert(layer.matrices[t])
        px = np.arange(c0, c1, dtype=np.float64)[None, :]
        py = np.arange(r0, r1, dtype=np.float64)[:, None]
        u = inv[0, 0] * px + inv[0, 1] * py + inv[0, 2]
        v = inv[1, 0] * px + inv[1, 1] * py + inv[1, 2]
        sd, color, deforming = layer.shade(u, v, t)
        alpha = edge_alpha(sd)[..., None]
        if not (alpha > 0).any():
            continue
        window = (slice(r0, r1), slice(c0, c1))
        rgb[window] = rgb[window] * (1 - alpha) + color * alpha
        inside = alpha[..., 0] >= 0.5
        region[window][inside] = layer.region
        a = alpha[..., 0]
        soft = (a > 0) & (a < 1)
        # fully covered pixels show this surface only (reliable unless it deforms there);
        # silhouette edges blend two surfaces: never reliable
        unreliable[window] = np.where(a >= 1, np.broadcast_to(deforming, a.shape), unreliable[window] | soft)
    return np.clip(rgb, 0.0, 1.0), region, unreliable


def backward_flow(
    layers: list[AffineLayer],
    t: int,
    region: np.ndarray,
    unreliable: np.ndarray,
    prev_region: np.ndarray,
    prev_unreliable: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact backward flow ``(2, H, W)`` of frame ``t >= 1`` and its validity ``(1, H, W)`` in {0, 1}."""
    height, width = region.shape
    xs = np.broadcast_to(np.arange(width, dtype=np.float64)[None, :], (height, width))
    ys = np.broadcast_to(np.arange(height, dtype=np.float64)[:, None], (height, width))
    src_x, src_y = xs.copy(), ys.copy()
    for layer in layers:
        mask = region == layer.region
        if not mask.any():
            continue
        step = layer.matrices[t - 1] @ np.vstack([_invert(layer.matrices[t]), [0.0, 0.0, 1.0]])
        px, py = xs[mask], ys[mask]
        src_x[mask] = step[0, 0] * px + step[0, 1] * py + step[0, 2]
        src_y[mask] = step[1, 0] * px + step[1, 1] * py + step[1, 2]
    flow = np.stack([src_x - xs, src_y - ys]).astype(np.float32)
    inside = (src_x >= 0) & (src_x <= width - 1) & (src_y >= 0) & (src_y <= height - 1)
    x0 = np.clip(np.floor(src_x), 0, width - 1).astype(np.int64)
    y0 = np.clip(np.floor(src_y), 0, height - 1).astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, width - 1), np.minimum(y0 + 1, height - 1)
    valid = inside & ~unreliable
    for yy, xx in ((y0, x0), (y0, x1), (y1, x0), (y1, x1)):
        valid &= (prev_region[yy, xx] == region) & ~prev_unreliable[yy, xx]
    return flow, valid[None].astype(np.float32)
