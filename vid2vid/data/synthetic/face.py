"""Procedural talking, turning faces with 68 landmarks and exact flow (a stand-in for FaceForensics).

Each clip shows one identity (skin tone, hair, eye and lip colours, face proportions, shirt,
wallpaper, all drawn from the clip's seed) in front of a static wall. The head is a textured,
shaded surface moved by one affine map per frame (drifting, nodding, rolling, and "turning" as a
horizontal squash about the face's axis); the mouth opens and closes (talking). The 68 landmarks
(dlib / iBUG layout) are the template's points under the same map, with the lips following the
mouth opening, rounded to integers as dlib's detector writes them.

Flow is exact for the rigid head, neck and wall (:mod:`vid2vid.data.synthetic.common`); the mouth
region deforms while talking and is marked invalid (confidence 0) there, as are silhouette edges.

:func:`make_synthetic_face_dataset` writes the original face layout: ``{phase}_keypoints/<clip>/``
(``%05d.txt``, 68 ``x,y`` lines), ``{phase}_img/<clip>/`` (RGB PNGs) and ``{phase}_flow/<clip>.safetensors``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from vid2vid.atomic import atomic_write_text
from vid2vid.data.synthetic.common import (
    AffineLayer,
    Backdrop,
    affine,
    backward_flow,
    render_frame,
    value_noise,
)

__all__ = ["face_template", "render_face_clip", "make_synthetic_face_dataset"]

_SKIN = np.array(
    [[0.96, 0.80, 0.69], [0.89, 0.69, 0.55], [0.76, 0.56, 0.42], [0.55, 0.38, 0.27], [0.40, 0.27, 0.19]]
)
_HAIR = np.array(
    [[0.10, 0.07, 0.05], [0.35, 0.22, 0.10], [0.75, 0.60, 0.30], [0.45, 0.12, 0.05], [0.55, 0.55, 0.55]]
)


def face_template(
    open_mouth: float = 0.0, eye_y: float = -0.3, mouth_y: float = 0.62, width: float = 1.0
) -> np.ndarray:
    """68 landmarks in face units (jaw from u = -1 to 1, v down), dlib order; ``(68, 2)`` float64.

    Args:
        open_mouth: mouth opening in face units (0 closed, ~0.25 wide open).
        eye_y, mouth_y: heights of the eyes and the mouth.
        width: relative mouth / eye width.
    """
    pts = np.zeros((68, 2))
    theta = np.linspace(np.pi, 0.0, 17)
    pts[0:17] = np.stack([np.cos(theta), -0.15 + 1.35 * np.sin(theta)], 1)
    arch = np.array([0.0, 0.06, 0.08, 0.06, 0.0])
    pts[17:22] = np.stack([np.linspace(-0.78, -0.16, 5), eye_y - 0.22 - arch], 1)
    pts[22:27] = np.stack([np.linspace(0.16, 0.78, 5), eye_y - 0.22 - arch[::-1]], 1)
    pts[27:31] = np.stack([np.zeros(4), np.linspace(eye_y - 0.05, mouth_y - 0.42, 4)], 1)
    pts[31:36] = np.stack(
        [np.linspace(-0.2, 0.2, 5), mouth_y - 0.36 + np.array([0.0, 0.03, 0.04, 0.03, 0.0])], 1
    )
    for base, cx in ((36, -0.42), (42, 0.42)):
        hw, hh = 0.17 * width, 0.07
        pts[base : base + 6] = [
            (cx - hw, eye_y), (cx - hw / 3, eye_y - hh), (cx + hw / 3, eye_y - hh),
            (cx + hw, eye_y), (cx + hw / 3, eye_y + hh), (cx - hw / 3, eye_y + hh),
        ]  # fmt: skip
    mw = 0.4 * width
    upper = mouth_y - 0.09 - open_mouth / 2
    lower = mouth_y + 0.11 + open_mouth / 2
    outer_u = np.array([-1.0, -0.65, -0.28, 0.0, 0.28, 0.65, 1.0, 0.65, 0.28, 0.0, -0.28, -0.65]) * mw
    outer_v = np.array([mouth_y, upper + 0.03, upper, upper + 0.02, upper, upper + 0.03, mouth_y,
                        lower - 0.03, lower, lower, lower, lower - 0.03])  # fmt: skip
    pts[48:60] = np.stack([outer_u, outer_v], 1)
    iw = 0.27 * width
    gap = open_mouth / 2
    inner_u = np.array([-1.0, -0.4, 0.0, 0.4, 1.0, 0.4, 0.0, -0.4]) * iw
    inner_v = mouth_y + np.array(
        [0.0, -gap - 0.01, -gap - 0.015, -gap - 0.01, 0.0, gap + 0.01, gap + 0.015, gap + 0.01]
    )
    pts[60:68] = np.stack([inner_u, inner_v], 1)
    return pts


def _ellipse_sd(u: np.ndarray, v: np.ndarray, cu: float, cv: float, a: float, b: float) -> np.ndarray:
    """Approximate signed distance (face units) to an ellipse."""
    r = np.sqrt(((u - cu) / a) ** 2 + ((v - cv) / b) ** 2)
    return (r - 1.0) * min(a, b)


def _segment_distance(u: np.ndarray, v: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Distance (face units) to a polyline."""
    best = np.full(np.broadcast(u, v).shape, np.inf)
    for (ua, va), (ub, vb) in zip(points[:-1], points[1:], strict=True):
        du, dv = ub - ua, vb - va
        length2 = max(du * du + dv * dv, 1e-12)
        s = np.clip(((u - ua) * du + (v - va) * dv) / length2, 0.0, 1.0)
        best = np.minimum(best, np.hypot(u - ua - s * du, v - va - s * dv))
    return best


def _polygon_inside(u: np.ndarray, v: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd inside test of a closed polygon."""
    inside = np.zeros(np.broadcast(u, v).shape, bool)
    n = len(polygon)
    for i in range(n):
        (ua, va), (ub, vb) = polygon[i], polygon[(i + 1) % n]
        crosses = (va > v) != (vb > v)
        with np.errstate(divide="ignore", invalid="ignore"):
            u_cross = ua + (v - va) * (ub - ua) / (vb - va)
        inside ^= crosses & (u < u_cross)
    return inside


class _Face:
    """One identity and its motion."""

    def __init__(self, n_frames: int, width: int, height: int, rng: np.random.Generator) -> None:
        self.n_frames = n_frames
        side = min(width, height)
        self.radius = side * rng.uniform(0.13, 0.16)  # half the jaw width, in pixels
        self.skin = _SKIN[rng.integers(len(_SKIN))] * rng.uniform(0.92, 1.05)
        self.hair = _HAIR[rng.integers(len(_HAIR))]
        self.iris = rng.uniform(0.05, 0.5, 3)
        self.lips = np.array([0.72, 0.30, 0.32]) * rng.uniform(0.8, 1.1)
        self.shirt = rng.uniform(0.1, 0.9, 3)
        self.wall = rng.uniform(0.35, 0.85, 3)
        self.wall2 = np.clip(self.wall * rng.uniform(0.6, 0.9), 0, 1)
        self.stripe = rng.uniform(0.04, 0.09) * side
        self.noise = rng.random((64, 64))
        self.eye_y = rng.uniform(-0.34, -0.26)
        self.mouth_y = rng.uniform(0.56, 0.66)
        self.feature_width = rng.uniform(0.9, 1.1)
        self.hairline = rng.uniform(-1.05, -0.85)
        t = np.arange(n_frames, dtype=np.float64)
        cx = width / 2 + rng.uniform(-0.08, 0.08) * width
        cy = height * rng.uniform(0.40, 0.46)
        drift = rng.uniform(0.05, 0.09) * side
        f = rng.uniform(0.12, 0.25, 4)
        ph = rng.uniform(0, 2 * np.pi, 5)
        self.center_x = cx + drift * np.sin(f[0] * t + ph[0])
        self.center_y = cy + 0.5 * drift * np.sin(f[1] * t + ph[1])
        self.roll = rng.uniform(0.08, 0.18) * np.sin(f[2] * t + ph[2])
        self.yaw = rng.uniform(0.3, 0.6) * np.sin(f[3] * t + ph[3])  # "turning": horizontal squash
        talk = rng.uniform(0.35, 0.7)
        self.open = np.clip(0.2 * np.sin(talk * t + ph[4]) * (0.6 + 0.4 * np.sin(0.13 * t)), 0.0, None)
        scale_x = self.radius * np.cos(self.yaw) ** 0.5
        self.head = np.stack(
            [
                affine(self.roll[i], scale_x[i], self.radius, self.center_x[i], self.center_y[i])
                for i in range(n_frames)
            ]
        )
        # the neck and shoulders follow the head's translation only (no roll, no squash)
        self.body = np.stack(
            [
                affine(0.0, self.radius, self.radius, self.center_x[i], self.center_y[i])
                for i in range(n_frames)
            ]
        )

    def landmarks(self, t: int) -> np.ndarray:
        """``(68, 2)`` pixel landmarks of frame ``t`` (float)."""
        template = face_template(self.open[t], self.eye_y, self.mouth_y, self.feature_width)
        homogeneous = np.concatenate([template, np.ones((68, 1))], axis=1)
        return homogeneous @ self.head[t].T

    def wall_color(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        stripes = 0.5 + 0.5 * np.cos(2 * np.pi * x / self.stripe)
        grain = value_noise(x, y, self.noise, 6.0)[..., None]
        light = (1.0 - 0.25 * (y / max(1.0, y.max())))[..., None] if y.size else 1.0
        base = self.wall * (1 - 0.35 * stripes[..., None]) + self.wall2 * 0.35 * stripes[..., None]
        return np.broadcast_to(base * (0.9 + 0.2 * grain) * light, (y.shape[0], x.shape[1], 3))

    def body_shade(self, u: np.ndarray, v: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        neck_sd = np.maximum(np.abs(u) - 0.42, np.maximum(0.9 - v, v - 2.2))
        shoulders = _ellipse_sd(u, v, 0.0, 3.2, 2.6, 1.55)
        sd = np.minimum(neck_sd, shoulders) * self.radius
        on_shirt = np.clip(0.5 - shoulders * self.radius, 0, 1)[..., None]  # anti-aliased collar line
        neck = self.skin * (0.72 + 0.18 * np.cos(np.clip(u / 0.42, -1, 1) * np.pi / 2))[..., None]
        neck = neck * (1 - 0.35 * np.clip((1.5 - v) / 0.6, 0, 1))[..., None]  # shadow under the chin
        weave = value_noise(u * 40, v * 40, self.noise, 3.0)[..., None]
        shirt = self.shirt * (0.8 + 0.2 * weave) * (1 - 0.2 * np.clip(np.abs(u) / 2.6, 0, 1))[..., None]
        color = shirt * on_shirt + neck * (1 - on_shirt)
        return sd, color, np.zeros(sd.shape, bool)

    def head_shade(self, u: np.ndarray, v: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        radius = self.radius
        lm = face_template(self.open[t], self.eye_y, self.mouth_y, self.feature_width)
        head = _ellipse_sd(u, v, 0.0, -0.12, 1.08, 1.42)
        sd = head * radius
        # skin: soft light from the upper left, darker towards the silhouette, fine pores
        r = np.clip(np.sqrt((u / 1.08) ** 2 + ((v + 0.12) / 1.42) ** 2), 0, 1)
        light = 0.82 + 0.22 * np.clip(-0.5 * u - 0.4 * v, -1, 1) - 0.28 * r**6
        pores = value_noise(u * 30, v * 30, self.noise, 4.0)
        color = self.skin * (light * (0.95 + 0.08 * pores))[..., None]
        # hair above the hairline (wavy), shiny strands
        hairline = self.hairline + 0.08 * np.cos(3 * u)
        hair_sd = np.minimum(v - hairline, np.maximum(0.92 - np.abs(u), v + 0.2)) * radius
        hair_alpha = np.clip(0.5 - hair_sd, 0, 1)[..., None]  # anti-aliased hairline
        strands = 0.75 + 0.35 * (0.5 + 0.5 * np.sin(18 * u + 4 * v))
        hair = self.hair * strands[..., None]
        color = hair * hair_alpha + color * (1 - hair_alpha)
        # nose: shading along the bridge and two nostrils
        bridge = _segment_distance(u, v, lm[27:31])
        color = color * (1 - 0.18 * np.exp(-((bridge / 0.05) ** 2)))[..., None]
        for k in (32, 34):
            d = np.hypot(u - lm[k, 0], v - lm[k, 1] - 0.02)
            color = color * (1 - 0.5 * np.exp(-((d / 0.04) ** 2)))[..., None]
        # eyebrows
        for brow in (lm[17:22], lm[22:27]):
            d = _segment_distance(u, v, brow)
            a = np.clip((0.05 - d) / 0.02 + 0.5, 0, 1)[..., None]
            color = color * (1 - a) + self.hair * 0.8 * a
        # eyes: sclera, iris, pupil
        for base in (36, 42):
            eye = lm[base : base + 6]
            inside = _polygon_inside(u, v, eye)
            centre = eye.mean(0)
            d = np.hypot(u - centre[0], v - centre[1])
            iris = np.where((d < 0.065)[..., None], self.iris, np.array([0.93, 0.93, 0.9]))
            iris = np.where((d < 0.028)[..., None], np.array([0.03, 0.03, 0.03]), iris)
            color = np.where(inside[..., None], iris, color)
            rim = _segment_distance(u, v, np.vstack([eye, eye[:1]]))
            a = np.clip((0.018 - rim) / 0.012 + 0.5, 0, 1)[..., None]
            color = color * (1 - a) + 0.15 * a
        # mouth: lips, then the dark inside with teeth
        outer = _polygon_inside(u, v, lm[48:60])
        inner = _polygon_inside(u, v, lm[60:68])
        lips = self.lips * (0.85 + 0.2 * np.clip(-(v - self.mouth_y) * 4, -1, 1))[..., None]
        color = np.where(outer[..., None], lips, color)
        teeth = (v < self.mouth_y - 0.01) & inner
        mouth_in = np.where(teeth[..., None], np.array([0.9, 0.88, 0.8]), np.array([0.25, 0.05, 0.08]))
        color = np.where(inner[..., None], mouth_in, color)
        # the mouth deforms while talking: its surroundings are not rigid
        deforming = _ellipse_sd(u, v, 0.0, self.mouth_y, 0.62 * self.feature_width, 0.42) < 0
        return sd, np.clip(color, 0, 1), deforming


def render_face_clip(n_frames: int, width: int, height: int, seed: int) -> dict[str, np.ndarray]:
    """Render one synthetic talking face, deterministically from ``seed``.

    Returns:
        ``frames`` ``(T, H, W, 3)`` uint8 RGB; ``landmarks`` ``(T, 68, 2)`` int64 (dlib order,
        rounded pixels); ``flow`` ``(T, 2, H, W)`` float32 exact backward flow (``flow[0] = 0``);
        ``confidence`` ``(T, 1, H, W)`` float32 in {0, 1} (0 on silhouettes, in the moving mouth
        region, where the source is occluded or outside the frame, and for frame 0); ``regions``
        ``(T, H, W)`` int64 (0 wall, 1 neck and shoulders, 2 head).
    """
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    if width < 32 or height < 32:
        raise ValueError(f"synthetic face frames must be at least 32x32, got {width}x{height}")
    face = _Face(n_frames, width, height, np.random.default_rng(seed))
    backdrop = Backdrop(face.wall_color)
    layers = [
        AffineLayer(1, face.body, face.body_shade, (-2.7, 0.8, 2.7, 4.8)),
        AffineLayer(2, face.head, face.head_shade, (-1.15, -1.6, 1.15, 1.35)),
    ]
    size = (height, width)
    frames = np.empty((n_frames, height, width, 3), np.uint8)
    flow = np.zeros((n_frames, 2, height, width), np.float32)
    confidence = np.zeros((n_frames, 1, height, width), np.float32)
    regions = np.empty((n_frames, height, width), np.int64)
    prev = None
    for t in range(n_frames):
        rgb, region, unreliable = render_frame(backdrop, layers, size, t)
        frames[t] = np.round(rgb * 255).astype(np.uint8)
        regions[t] = region
        if prev is not None:
            flow[t], confidence[t] = backward_flow(layers, t, region, unreliable, *prev)
        prev = (region, unreliable)
    landmarks = np.stack([np.round(face.landmarks(t)).astype(np.int64) for t in range(n_frames)])
    return {
        "frames": frames,
        "landmarks": landmarks,
        "flow": flow,
        "confidence": confidence,
        "regions": regions,
    }


def make_synthetic_face_dataset(
    out: str | os.PathLike,
    n_clips: int,
    n_frames: int,
    size: tuple[int, int],
    seed: int,
    phase: str = "train",
    progress: bool = False,
) -> Path:
    """Write synthetic talking faces in the original face layout, with their exact flow cache.

    Writes ``out/{phase}_keypoints/clip_%04d/%05d.txt`` (68 ``x,y`` integer lines),
    ``{phase}_img/clip_%04d/%05d.png``, ``{phase}_flow/clip_%04d.safetensors`` and
    ``out/synthetic_face_{phase}.json``. Read it with :class:`vid2vid.data.FaceDataset`.

    Args:
        out: dataset root (created if needed).
        n_clips, n_frames: number of clips and frames per clip.
        size: ``(W, H)`` of the frames.
        seed: random seed (clip ``i`` uses seed ``[seed, i]``).
        phase: folder prefix.
        progress: show a tqdm bar over clips.
    """
    from vid2vid.data.face import write_face_landmarks
    from vid2vid.data.flow_cache import flow_cache_path, save_flow_cache
    from vid2vid.data.io import write_frames
    from vid2vid.data.synthetic.street import SYNTHETIC_ESTIMATOR, synthetic_clip_seed

    width, height, out = _check_args(n_clips, size, phase, out)
    clips = range(n_clips)
    if progress:
        from tqdm import tqdm

        clips = tqdm(clips, desc=f"synthetic faces {phase}", unit="clip")
    for i in clips:
        name = f"clip_{i:04d}"
        clip = render_face_clip(n_frames, width, height, seed=synthetic_clip_seed(seed, i))
        write_frames(clip["frames"], out / f"{phase}_img" / name)
        folder = out / f"{phase}_keypoints" / name
        folder.mkdir(parents=True, exist_ok=True)
        for t, points in enumerate(clip["landmarks"]):
            write_face_landmarks(folder / f"{t:05d}.txt", points)
        save_flow_cache(
            flow_cache_path(out, phase, name),
            clip["flow"],
            clip["confidence"],
            estimator=SYNTHETIC_ESTIMATOR,
            extra_metadata={"seed": str(seed), "clip_index": str(i), "kind": "face"},
        )
    info = {
        "generator": "vid2vid.data.synthetic.face",
        "kind": "face",
        "phase": phase,
        "n_clips": n_clips,
        "n_frames": n_frames,
        "size": [width, height],
        "seed": seed,
        "layout": {"landmarks": f"{phase}_keypoints", "frames": f"{phase}_img", "flow": f"{phase}_flow"},
    }
    atomic_write_text(out / f"synthetic_face_{phase}.json", json.dumps(info, indent=2) + "\n")
    return out


def _check_args(
    n_clips: int, size: tuple[int, int], phase: str, out: str | os.PathLike
) -> tuple[int, int, Path]:
    if n_clips < 1:
        raise ValueError(f"n_clips must be >= 1, got {n_clips}")
    if len(size) != 2:
        raise ValueError(f"size must be (W, H), got {size}")
    if not phase or "/" in phase or "\\" in phase:
        raise ValueError(f"phase must be a plain name like 'train', got {phase!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return int(size[0]), int(size[1]), out
