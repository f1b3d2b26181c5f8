"""Procedural street-scene clips with exact ground-truth flow (a tiny stand-in for Cityscapes, vid2vid §4).

Each clip is a 2-D layered scene seen by a camera that pans sideways and slowly zooms in:

* a sky layer far away (it pans at a fifth of the camera's speed: parallax),
* a static street layer: buildings and trees along the street, poles with signs, sidewalk, road,
* moving things: cars on the road and persons on the sidewalk, each a rigid shape sliding at its
  own speed, drawn back to front (farther = higher up), so they occlude each other and the street.

Labels use the Cityscapes ids (road 7, sidewalk 8, building 11, pole 17, traffic sign 20,
vegetation 21, sky 23, person 24, car 26) with ``label_nc = 35``, so street-scene models and
their foreground classes apply unchanged; instance ids follow Cityscapes' convention
(``class_id * 1000 + k`` for things, the class id for stuff).

Every pixel's colour is a smooth function of its class, its instance and its position *on its
own surface* (textures and shading are attached to the scene or the object and move with it), so
a generator can learn labels → frames and the motion is exactly known: for the surface visible at
pixel ``p`` of frame ``t`` the backward flow is computed analytically from the camera and object
motions, and a pixel is marked valid (confidence 1) when the same surface and class are visible
all around its source position in frame ``t-1`` (not occluded, not outside the frame, not
straddling a hard class edge, where bilinear warping would blend two colours).

Only numpy is needed to render; :func:`make_synthetic_dataset` writes the original data layout
(``{phase}_A``, ``{phase}_B``, ``{phase}_inst``) plus the flow cache (``{phase}_flow``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from vid2vid.atomic import atomic_write_text

__all__ = [
    "SyntheticLabel",
    "SYNTHETIC_LABELS",
    "SYNTHETIC_LABEL_NC",
    "SYNTHETIC_ESTIMATOR",
    "render_synthetic_clip",
    "make_synthetic_dataset",
    "colorize_labels",
    "synthetic_clip_seed",
]


class SyntheticLabel(NamedTuple):
    """One class of the synthetic dataset: Cityscapes id, name and Cityscapes display colour."""

    id: int
    name: str
    color: tuple[int, int, int]


ROAD, SIDEWALK, BUILDING, POLE, SIGN, VEGETATION, SKY, PERSON, CAR = 7, 8, 11, 17, 20, 21, 23, 24, 26

SYNTHETIC_LABELS: tuple[SyntheticLabel, ...] = (
    SyntheticLabel(ROAD, "road", (128, 64, 128)),
    SyntheticLabel(SIDEWALK, "sidewalk", (244, 35, 232)),
    SyntheticLabel(BUILDING, "building", (70, 70, 70)),
    SyntheticLabel(POLE, "pole", (153, 153, 153)),
    SyntheticLabel(SIGN, "traffic sign", (220, 220, 0)),
    SyntheticLabel(VEGETATION, "vegetation", (107, 142, 35)),
    SyntheticLabel(SKY, "sky", (70, 130, 180)),
    SyntheticLabel(PERSON, "person", (220, 20, 60)),
    SyntheticLabel(CAR, "car", (0, 0, 142)),
)
SYNTHETIC_LABEL_NC = 35  # Cityscapes' full id range, so street models (car = 26) apply as-is
SYNTHETIC_ESTIMATOR = "synthetic-ground-truth"

_SKY_PARALLAX = 0.2  # the sky pans at this fraction of the camera's pan
_SKY_SURFACE, _STREET_SURFACE = 0, 1  # surface ids; things get 2, 3, ...


def colorize_labels(labels: np.ndarray) -> np.ndarray:
    """Colour ``(..., H, W)`` Cityscapes ids with the Cityscapes palette → ``(..., H, W, 3)`` uint8."""
    palette = np.zeros((256, 3), dtype=np.uint8)
    for label in SYNTHETIC_LABELS:
        palette[label.id] = label.color
    labels = np.asarray(labels)
    if labels.min(initial=0) < 0 or labels.max(initial=0) > 255:
        raise ValueError("label ids must lie in [0, 255] to be coloured")
    return palette[labels.astype(np.int64)]


# --------------------------------------------------------------------------------------------
# Smooth textures


def _value_noise(x: np.ndarray, y: np.ndarray, table: np.ndarray, cell: float) -> np.ndarray:
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


def _edge_alpha(signed_distance: np.ndarray) -> np.ndarray:
    """Anti-aliased inside-ness of a shape from its signed distance (negative inside), in ``[0, 1]``."""
    return np.clip(0.5 - signed_distance, 0.0, 1.0)


def _soft_band(distance: np.ndarray, half_width: float) -> np.ndarray:
    """Anti-aliased indicator of ``|distance| < half_width`` (one-pixel ramp), in ``[0, 1]``."""
    return np.clip(half_width - np.abs(distance) + 0.5, 0.0, 1.0)


# --------------------------------------------------------------------------------------------
# Scene description


@dataclass(frozen=True)
class _Thing:
    """A rigid moving object; local coords: ``u`` = world x - centre x, ``v`` = height above its base."""

    kind: str  # "car" or "person"
    class_id: int
    instance_id: int
    surface: int
    base_y: float  # world y of the ground contact
    x0: float  # world x of the centre at frame 0
    speed: float  # world pixels per frame
    direction: int  # +1 facing right, -1 facing left
    size: float  # car height / person height in pixels
    length: float  # car length (persons: unused)
    color: tuple[float, float, float]
    color2: tuple[float, float, float]

    def half_extent(self) -> tuple[float, float]:
        """Half width of the local bounding box and its height (``v`` from 0 to height)."""
        if self.kind == "car":
            return self.length / 2 + 1, self.size + 1
        return 0.2 * self.size + 1, self.size + 1


@dataclass(frozen=True)
class _Scene:
    width: int
    height: int
    n_frames: int
    cx: float
    cy: float
    pan: np.ndarray  # (T,) camera pan in world pixels
    scale: np.ndarray  # (T,) zoom factor >= 1
    horizon_sidewalk: float  # world y where the sidewalk starts
    road_top: float
    lane_y: float
    seg_edges: np.ndarray  # (S+1,) x edges of building/tree segments
    seg_top: np.ndarray  # (S,)
    seg_tree: np.ndarray  # (S,) bool
    seg_color: np.ndarray  # (S, 3)
    seg_phase: np.ndarray  # (S,)
    pole_x: np.ndarray  # (P,) sorted
    pole_top: np.ndarray  # (P,)
    pole_sign: np.ndarray  # (P,) bool
    things: tuple[_Thing, ...]
    noise: np.ndarray  # (64, 64) value-noise table
    brightness: float


def _make_scene(n_frames: int, width: int, height: int, rng: np.random.Generator) -> _Scene:
    h = float(height)
    unit = h / 128.0  # speeds and sizes are defined for 128-pixel-high frames
    pan_speed = rng.choice([-1.0, 1.0]) * rng.uniform(0.4, 2.0) * unit
    zoom_rate = rng.uniform(0.0, 0.006)
    t = np.arange(n_frames, dtype=np.float64)
    pan = pan_speed * t
    scale = (1.0 + zoom_rate) ** t
    cx, cy = (width - 1) / 2.0, 0.45 * h

    sidewalk, road_top = 0.62 * h, 0.72 * h
    lo, hi = pan.min() - width, pan.max() + 2 * width
    edges = [lo]
    while edges[-1] < hi:
        edges.append(edges[-1] + rng.uniform(0.3, 0.8) * h)
    seg_edges = np.asarray(edges)
    n_seg = len(edges) - 1
    seg_tree = rng.random(n_seg) < 0.3
    seg_top = np.where(seg_tree, rng.uniform(0.25, 0.42, n_seg), rng.uniform(0.05, 0.38, n_seg)) * h
    facade = np.array([[0.72, 0.66, 0.58], [0.62, 0.62, 0.64], [0.66, 0.52, 0.44], [0.80, 0.76, 0.66]])
    seg_color = facade[rng.integers(0, len(facade), n_seg)] * rng.uniform(0.85, 1.1, (n_seg, 1))
    seg_phase = rng.uniform(0, 2 * np.pi, n_seg)

    pole_x = np.sort(rng.uniform(lo, hi, max(1, int((hi - lo) / (0.55 * width)))))
    pole_top = rng.uniform(0.18, 0.35, len(pole_x)) * h
    pole_sign = rng.random(len(pole_x)) < 0.5

    things: list[_Thing] = []
    mid = (n_frames - 1) / 2.0
    view_mid = pan[int(mid)]
    counts = {"car": int(rng.integers(2, 5)), "person": int(rng.integers(1, 5))}
    for kind, count in counts.items():
        for k in range(count):
            direction = int(rng.choice([-1, 1]))
            if kind == "car":
                size = rng.uniform(0.17, 0.24) * h
                length = size * rng.uniform(2.2, 2.7)
                base_y = rng.uniform(0.80, 0.99) * h
                speed = direction * rng.uniform(0.5, 3.0) * unit
                color = tuple(rng.uniform(0.1, 0.9, 3))
                color2 = (0.22, 0.27, 0.34)
                class_id = CAR
            else:
                size = rng.uniform(0.2, 0.27) * h
                length = 0.0
                base_y = rng.uniform(0.64, 0.715) * h
                speed = direction * rng.uniform(0.2, 1.0) * unit
                color = tuple(rng.uniform(0.15, 0.95, 3))
                color2 = tuple(rng.uniform(0.1, 0.5, 3))
                class_id = PERSON
            x_mid = view_mid + rng.uniform(0.1, 0.9) * width
            things.append(
                _Thing(
                    kind=kind,
                    class_id=class_id,
                    instance_id=class_id * 1000 + k,
                    surface=-1,
                    base_y=base_y,
                    x0=x_mid - speed * mid,
                    speed=speed,
                    direction=direction,
                    size=size,
                    length=length,
                    color=color,  # type: ignore[arg-type]
                    color2=color2,  # type: ignore[arg-type]
                )
            )
    # Back to front: farther things (higher base on screen) first; fixed for the whole clip.
    things.sort(key=lambda th: th.base_y)
    things = [_replace_surface(th, 2 + i) for i, th in enumerate(things)]
    return _Scene(
        width=width,
        height=height,
        n_frames=n_frames,
        cx=cx,
        cy=cy,
        pan=pan,
        scale=scale,
        horizon_sidewalk=sidewalk,
        road_top=road_top,
        lane_y=0.86 * h,
        seg_edges=seg_edges,
        seg_top=seg_top,
        seg_tree=seg_tree,
        seg_color=seg_color,
        seg_phase=seg_phase,
        pole_x=pole_x,
        pole_top=pole_top,
        pole_sign=pole_sign,
        things=tuple(things),
        noise=rng.random((64, 64)),
        brightness=float(rng.uniform(0.85, 1.1)),
    )


def _replace_surface(thing: _Thing, surface: int) -> _Thing:
    from dataclasses import replace

    return replace(thing, surface=surface)


# --------------------------------------------------------------------------------------------
# Rendering of one frame


def _render_sky(scene: _Scene, wx: np.ndarray, wy: np.ndarray) -> np.ndarray:
    """Sky colour ``(H, W, 3)`` at sky-layer coordinates ``wx (1, W)``, ``wy (H, 1)``."""
    h = scene.height
    grad = np.clip(wy / (0.6 * h), 0, 1)[..., None]
    top, horizon = np.array([0.42, 0.60, 0.86]), np.array([0.78, 0.86, 0.95])
    base = top * (1 - grad) + horizon * grad
    clouds = _value_noise(wx + 1000.0, wy * 2.0, scene.noise, 0.3 * h)
    amount = np.clip((clouds - 0.55) * 3.0, 0, 1)[..., None]
    return base * (1 - 0.8 * amount) + 0.97 * 0.8 * amount


def _render_street(
    scene: _Scene, wx: np.ndarray, wy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Street layer at world coords ``wx (1, W)``, ``wy (H, 1)`` → ``(labels, colour, is_sky)``."""
    h = float(scene.height)
    shape = (wy.shape[0], wx.shape[1])
    labels = np.full(shape, ROAD, dtype=np.int64)
    color = np.empty((*shape, 3))

    seg = np.clip(np.searchsorted(scene.seg_edges, wx[0], side="right") - 1, 0, len(scene.seg_top) - 1)
    tree = scene.seg_tree[seg]
    top = scene.seg_top[seg] + tree * 0.03 * h * np.sin(wx[0] * 2 * np.pi / (0.12 * h) + scene.seg_phase[seg])
    above_street = wy < scene.horizon_sidewalk
    facade = above_street & (wy >= top[None, :])
    is_sky = above_street & ~facade
    labels[facade & ~tree[None, :]] = BUILDING
    labels[facade & tree[None, :]] = VEGETATION
    labels[(wy >= scene.horizon_sidewalk) & (wy < scene.road_top) & np.ones(shape, bool)] = SIDEWALK

    # Fine detail never gets smaller than at 96-pixel-high frames: sharper texture would alias.
    tex = max(h, 96.0)
    noise_fine = _value_noise(wx, wy, scene.noise, 0.05 * tex)
    # Buildings: per-segment facade colour, window grid, darker towards the street.
    period_x, period_y = 0.09 * tex, 0.11 * tex
    win_x = _soft_band((np.mod(wx, period_x) - period_x / 2), 0.22 * period_x)
    win_y = _soft_band((np.mod(wy, period_y) - period_y / 2), 0.2 * period_y)
    in_facade = (wy > top[None, :] + 0.05 * h) & (wy < scene.horizon_sidewalk - 0.07 * h)
    windows = (win_x * win_y * in_facade)[..., None]
    shade = (1.0 - 0.25 * np.clip((wy - top[None, :]) / h, 0, 1))[..., None]
    building = scene.seg_color[seg][None, :, :] * shade * (0.92 + 0.16 * noise_fine[..., None])
    building = building * (1 - windows) + np.array([0.25, 0.32, 0.42]) * windows
    veg_noise = _value_noise(wx + 300.0, wy, scene.noise, 0.035 * tex)[..., None]
    vegetation = np.array([0.18, 0.42, 0.14]) * (0.7 + 0.6 * veg_noise) * shade
    # Sidewalk: tiles; road: asphalt noise and dashed lane marking; both brighter nearer.
    near = (0.85 + 0.3 * np.clip((wy - scene.horizon_sidewalk) / (0.4 * h), 0, 1))[..., None]
    tile = 0.12 * tex
    joints = np.maximum(_soft_band(np.mod(wx, tile) - tile / 2, tile / 2 - 0.7), 0.0)
    sidewalk = np.array([0.66, 0.61, 0.60]) * (0.8 + 0.2 * joints[..., None]) * near
    dash = _soft_band(np.mod(wx, 0.5 * h) - 0.25 * h, 0.12 * h) * _soft_band(
        wy - scene.lane_y, max(0.012 * h, 1.0)
    )
    asphalt = np.array([0.30, 0.30, 0.33]) * (0.85 + 0.3 * noise_fine[..., None]) * near
    road = asphalt * (1 - dash[..., None]) + 0.9 * dash[..., None]

    for cls, col in ((BUILDING, building), (VEGETATION, vegetation), (SIDEWALK, sidewalk), (ROAD, road)):
        mask = labels == cls
        color[mask] = np.broadcast_to(col, (*shape, 3))[mask]

    # Poles (on the sidewalk) with a sign on some of them.
    pole_idx = np.clip(np.searchsorted(scene.pole_x, wx[0]), 1, len(scene.pole_x)) - 1
    candidates = np.stack([pole_idx, np.minimum(pole_idx + 1, len(scene.pole_x) - 1)])
    dist = wx[0][None, :] - scene.pole_x[candidates]
    nearest = candidates[np.argmin(np.abs(dist), axis=0), np.arange(wx.shape[1])]
    dx = wx[0] - scene.pole_x[nearest]
    half = max(1.5, 0.012 * h)
    pole_mask = (np.abs(dx)[None, :] < half) & (wy >= scene.pole_top[nearest][None, :])
    pole_mask &= wy < scene.horizon_sidewalk + 0.04 * h
    sign_top = scene.pole_top[nearest][None, :]
    sign_mask = scene.pole_sign[nearest][None, :] & (np.abs(dx)[None, :] < 0.06 * h)
    sign_mask = sign_mask & (wy >= sign_top) & (wy < sign_top + 0.08 * h)
    pole_shade = (0.85 + 0.15 * np.cos(np.clip(dx / half, -1, 1) * np.pi / 2))[None, :, None]
    pole_col = np.broadcast_to(np.array([0.5, 0.5, 0.52]) * pole_shade, (*shape, 3))
    labels[pole_mask] = POLE
    color[pole_mask] = pole_col[pole_mask]
    ring = _soft_band(np.sqrt(dx[None, :] ** 2 + (wy - sign_top - 0.04 * h) ** 2) - 0.025 * h, 0.75)
    sign_col = np.array([0.92, 0.85, 0.2]) * (1 - ring[..., None]) + 0.35 * ring[..., None]
    sign_col = np.broadcast_to(sign_col, (*shape, 3))
    labels[sign_mask] = SIGN
    color[sign_mask] = sign_col[sign_mask]
    is_sky &= ~(pole_mask | sign_mask)
    return labels, color, is_sky


def _render_thing(thing: _Thing, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shape mask and colour of a thing at local coords ``u (1, w)``, ``v (h, 1)``."""
    shape = (v.shape[0], u.shape[1])
    s = thing.size
    if thing.kind == "car":
        length = thing.length
        uf = u * thing.direction  # +uf = front
        body = (np.abs(uf) / (length / 2)) ** 6 + (np.abs(v - 0.36 * s) / (0.19 * s)) ** 6 <= 1.0
        cabin_half = 0.3 * length - (v - 0.5 * s) / (0.5 * s) * 0.1 * length
        cabin_sd = np.maximum(np.abs(uf + 0.06 * length) - cabin_half, np.maximum(0.5 * s - v, v - s))
        wheel_sd = np.full(shape, np.inf)
        hub = np.zeros(shape)
        for axle in (-0.3 * length, 0.3 * length):
            r = np.sqrt((uf - axle) ** 2 + (v - 0.16 * s) ** 2)
            wheel_sd = np.minimum(wheel_sd, r - 0.16 * s)
            hub = np.maximum(hub, np.clip(1 - r / (0.08 * s), 0, 1))
        mask = body | (cabin_sd <= 0) | (wheel_sd <= 0)
        # Parts blend over a one-pixel ramp (anti-aliased), only the silhouette is hard.
        glass_alpha = _edge_alpha(cabin_sd) * np.clip(v - 0.55 * s + 0.5, 0, 1)
        wheel_alpha = _edge_alpha(wheel_sd)
        body_col = np.array(thing.color) * (0.75 + 0.5 * np.clip(v / s, 0, 1))[..., None]
        glass = np.array(thing.color2) + 0.25 * np.clip((v - 0.5 * s) / (0.5 * s), 0, 1)[..., None]
        tyre = 0.08 + 0.5 * hub[..., None]
        color = body_col * (1 - glass_alpha[..., None]) + glass * glass_alpha[..., None]
        color = color * (1 - wheel_alpha[..., None]) + tyre * wheel_alpha[..., None]
    else:
        head_sd = np.sqrt(u**2 + (v - 0.9 * s) ** 2) - 0.085 * s
        torso_sd = np.maximum(np.abs(u) - 0.13 * s, np.abs(v - 0.645 * s) - 0.175 * s)
        legs_sd = np.maximum(np.abs(np.abs(u) - 0.06 * s) - 0.045 * s, np.abs(v - 0.235 * s) - 0.235 * s)
        mask = (head_sd <= 0) | (torso_sd <= 0) | (legs_sd <= 0)
        shirt = np.array(thing.color) * (0.8 + 0.3 * np.clip((v - 0.47 * s) / (0.35 * s), 0, 1))[..., None]
        pants = np.array(thing.color2)
        torso_alpha, head_alpha = _edge_alpha(torso_sd)[..., None], _edge_alpha(head_sd)[..., None]
        color = pants * (1 - torso_alpha) + shirt * torso_alpha
        color = color * (1 - head_alpha) + np.array([0.86, 0.68, 0.55]) * head_alpha
    color = np.broadcast_to(color, (*shape, 3))
    return np.broadcast_to(mask, shape), color


def _render_frame(scene: _Scene, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Render frame ``t`` → ``(labels, instances, colour float (H, W, 3), surface ids)``."""
    width, height = scene.width, scene.height
    s = scene.scale[t]
    xs = np.arange(width, dtype=np.float64)[None, :]
    ys = np.arange(height, dtype=np.float64)[:, None]
    sx = (xs - scene.cx) / s + scene.cx  # camera-centred world x before panning
    wy = (ys - scene.cy) / s + scene.cy

    labels, color, is_sky = _render_street(scene, sx + scene.pan[t], wy)
    sky_col = _render_sky(scene, sx + _SKY_PARALLAX * scene.pan[t], wy)
    color[is_sky] = sky_col[is_sky]
    labels[is_sky] = SKY
    instances = labels.copy()
    surface = np.where(is_sky, _SKY_SURFACE, _STREET_SURFACE).astype(np.int64)

    for thing in scene.things:
        centre = thing.x0 + thing.speed * t
        half_w, tall = thing.half_extent()
        # Screen bounding box of the thing: p = s * (world - pan - c) + c.
        x_lo = s * (centre - half_w - scene.pan[t] - scene.cx) + scene.cx
        x_hi = s * (centre + half_w - scene.pan[t] - scene.cx) + scene.cx
        y_lo = s * (thing.base_y - tall - scene.cy) + scene.cy
        y_hi = s * (thing.base_y + 1 - scene.cy) + scene.cy
        c0, c1 = max(0, int(np.floor(x_lo))), min(width, int(np.ceil(x_hi)) + 1)
        r0, r1 = max(0, int(np.floor(y_lo))), min(height, int(np.ceil(y_hi)) + 1)
        if c0 >= c1 or r0 >= r1:
            continue
        u = sx[:, c0:c1] + scene.pan[t] - centre
        v = thing.base_y - wy[r0:r1]
        mask, col = _render_thing(thing, u, v)
        if not mask.any():
            continue
        region = (slice(r0, r1), slice(c0, c1))
        labels[region][mask] = thing.class_id
        instances[region][mask] = thing.instance_id
        surface[region][mask] = thing.surface
        color[region][mask] = col[mask]
    color = np.clip(color * scene.brightness, 0.0, 1.0)
    return labels, instances, color, surface


def _surface_offsets(scene: _Scene, t: int) -> np.ndarray:
    """Per-surface world offset ``off(t)`` (x only) with ``local = (p - c) / s + c + off``."""
    offsets = np.empty(2 + len(scene.things))
    offsets[_SKY_SURFACE] = _SKY_PARALLAX * scene.pan[t]
    offsets[_STREET_SURFACE] = scene.pan[t]
    for thing in scene.things:
        offsets[thing.surface] = scene.pan[t] - (thing.x0 + thing.speed * t)
    return offsets


def _backward_flow(
    scene: _Scene, t: int, surface: np.ndarray, region: np.ndarray, prev_region: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Exact backward flow ``(2, H, W)`` of frame ``t >= 1`` and its validity ``(1, H, W)``.

    ``surface`` holds the surface ids of frame ``t``; ``region`` / ``prev_region`` identify
    (surface, class) regions of frames ``t`` and ``t-1``. A pixel is valid when its source lies
    inside frame ``t-1`` and all four pixels around it show the same region: then bilinear
    warping reads the same surface and never straddles an occlusion or a hard class boundary.

    A surface point at pixel ``p`` has local coords ``(p - c) / s_t + c + off(t)``; in frame
    ``t-1`` it was at ``p' = s_{t-1} (local - off(t-1) - c) + c``, so
    ``flow = (s_{t-1}/s_t - 1)(p - c) + s_{t-1} (off(t) - off(t-1))`` (zero offset change in y).
    """
    height, width = surface.shape
    ratio = scene.scale[t - 1] / scene.scale[t]
    doff = _surface_offsets(scene, t) - _surface_offsets(scene, t - 1)
    xs = np.arange(width, dtype=np.float64)[None, :]
    ys = np.arange(height, dtype=np.float64)[:, None]
    flow_x = (ratio - 1.0) * (xs - scene.cx) + scene.scale[t - 1] * doff[surface]
    flow_y = np.broadcast_to((ratio - 1.0) * (ys - scene.cy), (height, width))
    src_x, src_y = xs + flow_x, ys + flow_y
    inside = (src_x >= 0) & (src_x <= width - 1) & (src_y >= 0) & (src_y <= height - 1)
    x0 = np.clip(np.floor(src_x), 0, width - 1).astype(np.int64)
    y0 = np.clip(np.floor(src_y), 0, height - 1).astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, width - 1), np.minimum(y0 + 1, height - 1)
    same = inside
    for yy, xx in ((y0, x0), (y0, x1), (y1, x0), (y1, x1)):
        same &= prev_region[yy, xx] == region
    flow = np.stack([flow_x, flow_y]).astype(np.float32)
    return flow, same[None].astype(np.float32)


def render_synthetic_clip(n_frames: int, width: int, height: int, seed: int) -> dict[str, np.ndarray]:
    """Render one synthetic street clip, deterministically from ``seed``.

    Returns:
        ``labels`` ``(T, H, W)`` int64 Cityscapes ids (< 35); ``instances`` ``(T, H, W)`` int64
        (``class*1000+k`` for cars/persons, class id elsewhere); ``frames`` ``(T, H, W, 3)``
        uint8 RGB; ``flow`` ``(T, 2, H, W)`` float32 exact backward flow in pixels (channel 0 =
        x, ``flow[0] = 0``); ``confidence`` ``(T, 1, H, W)`` float32 in {0, 1}: 1 where the
        surface and class seen at a pixel were visible all around its source in frame ``t-1``
        (not occluded, not outside the frame, not across a hard class edge; 0 for frame 0).
    """
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    if width < 16 or height < 16:
        raise ValueError(f"synthetic frames must be at least 16x16, got {width}x{height}")
    scene = _make_scene(n_frames, width, height, np.random.default_rng(seed))
    labels = np.empty((n_frames, height, width), np.int64)
    instances = np.empty((n_frames, height, width), np.int64)
    frames = np.empty((n_frames, height, width, 3), np.uint8)
    flow = np.zeros((n_frames, 2, height, width), np.float32)
    confidence = np.zeros((n_frames, 1, height, width), np.float32)
    prev_region = None
    for t in range(n_frames):
        lab, inst, col, surface = _render_frame(scene, t)
        labels[t], instances[t] = lab, inst
        frames[t] = np.round(col * 255.0).astype(np.uint8)
        region = surface * 256 + lab  # class ids < 256
        if prev_region is not None:
            flow[t], confidence[t] = _backward_flow(scene, t, surface, region, prev_region)
        prev_region = region
    return {
        "labels": labels,
        "instances": instances,
        "frames": frames,
        "flow": flow,
        "confidence": confidence,
    }


def synthetic_clip_seed(seed: int, index: int) -> int:
    """Independent integer seed of clip ``index`` of a dataset generated with ``seed``."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0])


def make_synthetic_dataset(
    out: str | os.PathLike,
    n_clips: int,
    n_frames: int,
    size: tuple[int, int],
    seed: int,
    phase: str = "train",
    progress: bool = False,
) -> Path:
    """Write a synthetic dataset in the original layout, with its exact flow cache.

    Writes ``out/{phase}_A/clip_%04d/%05d.png`` (uint8 label ids), ``{phase}_B/...`` (RGB),
    ``{phase}_inst/...`` (uint16 instance ids), ``{phase}_flow/clip_%04d.safetensors`` (see
    :mod:`vid2vid.data.flow_cache`) and ``out/synthetic_{phase}.json`` (generator settings and
    the label set). Clip ``i`` is rendered with seed ``[seed, i]`` so clips are independent.

    Args:
        out: dataset root (created if needed).
        n_clips, n_frames: number of clips and frames per clip.
        size: ``(W, H)`` of the frames.
        seed: random seed.
        phase: ``"train"`` or ``"test"`` (any name without path separators).
        progress: show a tqdm bar over clips.

    Returns:
        ``out`` as a ``Path``.
    """
    from vid2vid.data.flow_cache import flow_cache_path, save_flow_cache
    from vid2vid.data.io import write_frames, write_label_frames

    if n_clips < 1:
        raise ValueError(f"n_clips must be >= 1, got {n_clips}")
    if len(size) != 2:
        raise ValueError(f"size must be (W, H), got {size}")
    width, height = int(size[0]), int(size[1])
    if not phase or "/" in phase or "\\" in phase:
        raise ValueError(f"phase must be a plain name like 'train', got {phase!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    clips = range(n_clips)
    if progress:
        from tqdm import tqdm

        clips = tqdm(clips, desc=f"synthetic {phase}", unit="clip")
    for i in clips:
        name = f"clip_{i:04d}"
        clip = render_synthetic_clip(n_frames, width, height, seed=synthetic_clip_seed(seed, i))
        write_label_frames(clip["labels"], out / f"{phase}_A" / name, bit_depth=8)
        write_frames(clip["frames"], out / f"{phase}_B" / name)
        write_label_frames(clip["instances"], out / f"{phase}_inst" / name, bit_depth=16)
        save_flow_cache(
            flow_cache_path(out, phase, name),
            clip["flow"],
            clip["confidence"],
            estimator=SYNTHETIC_ESTIMATOR,
            extra_metadata={"seed": str(seed), "clip_index": str(i)},
        )
    info = {
        "generator": "vid2vid.data.synthetic",
        "phase": phase,
        "n_clips": n_clips,
        "n_frames": n_frames,
        "size": [width, height],
        "seed": seed,
        "label_nc": SYNTHETIC_LABEL_NC,
        "labels": [{"id": lab.id, "name": lab.name, "color": list(lab.color)} for lab in SYNTHETIC_LABELS],
        "instance_convention": "class_id * 1000 + k for car/person, class id for stuff",
    }
    atomic_write_text(out / f"synthetic_{phase}.json", json.dumps(info, indent=2) + "\n")
    return out
