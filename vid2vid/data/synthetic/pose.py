"""Procedural walking and dancing figures with BODY_25 keypoints, DensePose and exact flow.

Each clip shows one identity (skin tone, shirt, trousers, shoes, hair, body proportions, all drawn
from the clip's seed) in front of a static wall and floor. The body is an articulated 2-D
skeleton in the BODY_25 layout; every body part (torso, head, upper/lower arms and legs, hands,
feet) is a textured, cylinder-shaded capsule moved rigidly with its bone, drawn back to front.
Motions: ``walk`` (legs and arms swing in opposition, the body bobs and drifts sideways) and
``dance`` (arms raise and wave, hips sway, knees bend).

Written per frame, as OpenPose and DensePose would: OpenPose JSON (``pose_keypoints_2d`` = the 25
joints with confidences in [0.6, 0.95], joints outside the frame at confidence 0; face and hands not
detected) and a DensePose IUV image (part index I with the DensePose part ids, U along the bone
and V across it, 0-255). Flow is exact for every rigid part and the wall
(:mod:`vid2vid.data.synthetic.common`).
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

__all__ = ["POSE_MOTIONS", "render_pose_clip", "make_synthetic_pose_dataset"]

POSE_MOTIONS: tuple[str, ...] = ("walk", "dance")
_SKIN = np.array(
    [[0.96, 0.80, 0.69], [0.89, 0.69, 0.55], [0.76, 0.56, 0.42], [0.55, 0.38, 0.27], [0.40, 0.27, 0.19]]
)

# (name, parent joint, child joint, DensePose part id, material, radius at parent, radius at child)
# radii in units of the body height; drawing order back to front.
_PARTS: tuple[tuple[str, int, int, int, str, float, float], ...] = (
    ("l_thigh", 12, 13, 8, "pants", 0.048, 0.036),
    ("l_shin", 13, 14, 12, "pants", 0.034, 0.026),
    ("l_foot", 21, 19, 6, "shoe", 0.022, 0.018),
    ("r_thigh", 9, 10, 7, "pants", 0.048, 0.036),
    ("r_shin", 10, 11, 11, "pants", 0.034, 0.026),
    ("r_foot", 24, 22, 5, "shoe", 0.022, 0.018),
    ("torso", 8, 1, 2, "shirt", 0.085, 0.105),
    ("l_upper_arm", 5, 6, 15, "shirt", 0.030, 0.025),
    ("l_forearm", 6, 7, 19, "skin", 0.023, 0.019),
    ("l_hand", 7, -7, 4, "skin", 0.022, 0.018),
    ("r_upper_arm", 2, 3, 16, "shirt", 0.030, 0.025),
    ("r_forearm", 3, 4, 20, "skin", 0.023, 0.019),
    ("r_hand", 4, -4, 3, "skin", 0.022, 0.018),
    ("head", 1, 0, 23, "head", 0.060, 0.070),
)


def _direction(angle: np.ndarray | float) -> np.ndarray:
    """Unit vector of an angle measured from straight down, positive towards +x."""
    return np.stack([np.sin(angle), np.cos(angle)], axis=-1)


class _Figure:
    """One identity, its skeleton and its motion."""

    def __init__(self, n_frames: int, width: int, height: int, motion: str, rng: np.random.Generator) -> None:
        self.n_frames, self.width, self.height, self.motion = n_frames, width, height, motion
        self.body = height * rng.uniform(0.72, 0.82)  # body height in pixels
        self.skin = _SKIN[rng.integers(len(_SKIN))]
        self.shirt = rng.uniform(0.1, 0.95, 3)
        self.pants = rng.uniform(0.05, 0.6, 3)
        self.shoe = rng.uniform(0.0, 0.3, 3)
        self.hair = rng.uniform(0.02, 0.45, 3)
        self.stripes = rng.uniform(0.02, 0.05)
        self.wall = rng.uniform(0.4, 0.85, 3)
        self.floor = rng.uniform(0.25, 0.6, 3)
        self.noise = rng.random((64, 64))
        self.limb_scale = rng.uniform(0.92, 1.08)
        self.shoulder = rng.uniform(0.085, 0.105)
        self.joints = self._animate(rng)  # (T, 25, 2) pixels

    def _animate(self, rng: np.random.Generator) -> np.ndarray:
        T, h = self.n_frames, self.body
        t = np.arange(T, dtype=np.float64)
        ls = self.limb_scale
        upper_arm, forearm, thigh, shin = 0.165 * ls * h, 0.15 * ls * h, 0.235 * h, 0.235 * h
        phase0 = rng.uniform(0, 2 * np.pi)
        if self.motion == "walk":
            period = rng.uniform(14, 22)
            phi = 2 * np.pi * t / period + phase0
            swing = rng.uniform(0.35, 0.5)
            hip_r, hip_l = swing * np.sin(phi), -swing * np.sin(phi)
            knee_r = hip_r - 0.6 * np.clip(np.sin(phi + 1.2), 0, None)
            knee_l = hip_l - 0.6 * np.clip(np.sin(phi + np.pi + 1.2), 0, None)
            arm_r, arm_l = -0.8 * hip_r, -0.8 * hip_l
            elbow_r, elbow_l = arm_r + 0.25 + 0.15 * np.sin(phi), arm_l + 0.25 - 0.15 * np.sin(phi)
            tilt = 0.04 * np.sin(2 * phi)
            speed = rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 0.6) * h / 100.0
            root_x = self.width / 2 + speed * (t - (T - 1) / 2)
            root_y = self.height * 0.52 - 0.012 * h * np.abs(np.cos(phi))
        else:
            period = rng.uniform(16, 26)
            phi = 2 * np.pi * t / period + phase0
            raise_r = 0.9 + 1.1 * (0.5 + 0.5 * np.sin(phi))
            raise_l = 0.9 + 1.1 * (0.5 + 0.5 * np.sin(phi + rng.uniform(0.5, np.pi)))
            arm_r, arm_l = raise_r, -raise_l
            elbow_r = arm_r + 0.6 * np.sin(2 * phi)
            elbow_l = arm_l - 0.6 * np.sin(2 * phi + 0.7)
            sway = 0.06 * h * np.sin(phi)
            bend = 0.25 * (0.5 + 0.5 * np.sin(2 * phi))
            hip_r, hip_l = 0.12 + 0.1 * np.sin(phi), -0.12 + 0.1 * np.sin(phi)
            knee_r, knee_l = hip_r - bend, hip_l + bend
            tilt = 0.12 * np.sin(phi)
            root_x = self.width / 2 + sway
            root_y = self.height * 0.52 + 0.03 * h * bend
        joints = np.zeros((T, 25, 2))
        hip = np.stack([root_x, root_y], -1)
        up = -_direction(tilt)  # from the hips towards the neck
        side = np.stack([np.cos(tilt), -np.sin(tilt)], -1)  # towards the figure's left (image right)
        joints[:, 8] = hip
        joints[:, 1] = hip + 0.30 * h * up
        joints[:, 0] = joints[:, 1] + 0.11 * h * up
        for idx, s in ((15, -1), (16, 1)):
            joints[:, idx] = joints[:, 1] + 0.135 * h * up + s * 0.028 * h * side
        for idx, s in ((17, -1), (18, 1)):
            joints[:, idx] = joints[:, 1] + 0.12 * h * up + s * 0.055 * h * side
        joints[:, 2] = joints[:, 1] - self.shoulder * h * side + 0.015 * h * -up
        joints[:, 5] = joints[:, 1] + self.shoulder * h * side + 0.015 * h * -up
        joints[:, 9] = hip - 0.055 * h * side
        joints[:, 12] = hip + 0.055 * h * side
        # arms: angles from straight down; the right arm (image left) opens towards -x
        joints[:, 3] = joints[:, 2] + upper_arm * _direction(-np.abs(arm_r) * np.sign(arm_r + 1e-9) - 0.15)
        joints[:, 4] = joints[:, 3] + forearm * _direction(-np.abs(elbow_r) * np.sign(elbow_r + 1e-9) - 0.1)
        joints[:, 6] = joints[:, 5] + upper_arm * _direction(np.abs(arm_l) * -np.sign(arm_l - 1e-9) + 0.15)
        joints[:, 7] = joints[:, 6] + forearm * _direction(np.abs(elbow_l) * -np.sign(elbow_l - 1e-9) + 0.1)
        joints[:, 10] = joints[:, 9] + thigh * _direction(hip_r - 0.04)
        joints[:, 11] = joints[:, 10] + shin * _direction(knee_r - 0.04)
        joints[:, 13] = joints[:, 12] + thigh * _direction(hip_l + 0.04)
        joints[:, 14] = joints[:, 13] + shin * _direction(knee_l + 0.04)
        facing = 1.0 if self.motion == "dance" else np.sign(root_x[-1] - root_x[0] + 1e-9)
        for ankle, heel, big, small, s in ((11, 24, 22, 23, -1), (14, 21, 19, 20, 1)):
            toe_dir = np.array([facing if self.motion == "walk" else s, 0.0])
            joints[:, heel] = joints[:, ankle] + np.array([-toe_dir[0] * 0.02 * h, 0.03 * h])
            joints[:, big] = joints[:, ankle] + np.array([toe_dir[0] * 0.075 * h, 0.035 * h])
            joints[:, small] = joints[:, ankle] + np.array([toe_dir[0] * 0.06 * h, 0.04 * h])
        return joints

    # ------------------------------------------------------------------ layers
    def _endpoints(self, parent: int, child: int) -> tuple[np.ndarray, np.ndarray]:
        a = self.joints[:, parent]
        if child >= 0:
            return a, self.joints[:, child]
        elbow = self.joints[:, {7: 6, 4: 3}[-child]]  # hands continue the forearm
        d = a - elbow
        d = d / np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), 1e-9)
        return a, a + 0.06 * self.body * d

    def layers(self) -> tuple[list[AffineLayer], dict[int, int], dict[int, float]]:
        """Layers, region → DensePose part id, region → bone length (pixels)."""
        layers, part_ids, lengths = [], {}, {}
        for region, (name, parent, child, part, material, r0, r1) in enumerate(_PARTS, start=1):
            a, b = self._endpoints(parent, child)
            d = b - a
            length = float(np.linalg.norm(d, axis=-1).mean())
            angles = np.arctan2(d[:, 1], d[:, 0])
            matrices = np.stack([affine(angles[i], 1.0, 1.0, a[i, 0], a[i, 1]) for i in range(self.n_frames)])
            rad0, rad1 = r0 * self.body, r1 * self.body
            if name == "head":
                # the head: an ellipse around the face, above the neck, with hair on top
                shade = self._head_shade(length, rad1)
                bounds = (-0.2 * length, -1.6 * rad1, 2.2 * length + rad1, 1.6 * rad1)
            else:
                shade = self._capsule_shade(length, rad0, rad1, material, name == "torso")
                bounds = (-rad0 - 2, -max(rad0, rad1) - 2, length + rad1 + 2, max(rad0, rad1) + 2)
            layers.append(AffineLayer(region, matrices, shade, bounds))
            part_ids[region] = part
            lengths[region] = length
        return layers, part_ids, lengths

    def _material(self, material: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        grain = value_noise(u, v, self.noise, 4.0)[..., None]
        if material == "shirt":
            band = 0.5 + 0.5 * np.sin(2 * np.pi * u / (self.stripes * self.body))
            return self.shirt * (0.8 + 0.25 * band[..., None]) * (0.93 + 0.1 * grain)
        if material == "pants":
            seam = np.exp(-((v / 1.2) ** 2))[..., None]
            return self.pants * (0.9 + 0.15 * grain) * (1 - 0.25 * seam)
        if material == "shoe":
            return np.broadcast_to(self.shoe + 0.05 * grain, (*np.broadcast(u, v).shape, 3))
        return self.skin * (0.95 + 0.08 * grain)

    def _capsule_shade(self, length: float, r0: float, r1: float, material: str, boxy: bool):  # type: ignore[no-untyped-def]
        def shade(u: np.ndarray, v: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            s = np.clip(u / max(length, 1e-6), 0.0, 1.0)
            radius = r0 + (r1 - r0) * s
            if boxy:  # torso: a rounded box from the hips to the neck
                sd = np.maximum(np.abs(v) - radius, np.maximum(-u - 0.3 * r0, u - length - 0.15 * r1))
            else:
                closest = np.clip(u, 0.0, length)
                sd = np.hypot(u - closest, v) - radius
            across = np.clip(np.abs(v) / np.maximum(radius, 1e-6), 0, 1)
            light = (0.62 + 0.38 * np.sqrt(1 - across**2)) * (
                1 + 0.12 * np.clip(v / np.maximum(radius, 1e-6), -1, 1)
            )
            color = self._material(material, u, v) * light[..., None]
            return sd, np.clip(color, 0, 1), np.zeros(sd.shape, bool)

        return shade

    def _head_shade(self, length: float, radius: float):  # type: ignore[no-untyped-def]
        def shade(u: np.ndarray, v: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            cu = length + 0.25 * radius
            ru, rv = 1.25 * radius, radius
            r = np.sqrt(((u - cu) / ru) ** 2 + (v / rv) ** 2)
            sd = (r - 1.0) * rv
            neck = np.maximum(np.abs(v) - 0.45 * radius, np.maximum(-u, u - cu))
            sd = np.minimum(sd, neck)
            light = 0.7 + 0.3 * np.sqrt(np.clip(1 - r**2, 0, 1))
            color = self.skin * light[..., None]
            hair = (u > cu + 0.35 * ru) | ((u > cu - 0.1 * ru) & (np.abs(v) > 0.8 * rv))
            color = np.where(hair[..., None], self.hair * (0.8 + 0.3 * np.sin(u * 2.0)[..., None]), color)
            for side in (-1, 1):  # eyes and mouth (the face looks at the camera)
                d = np.hypot(u - (cu + 0.1 * ru), v - side * 0.38 * rv)
                color = np.where((d < 0.13 * rv)[..., None], np.array([0.08, 0.06, 0.05]), color)
            mouth = (np.abs(u - (cu - 0.45 * ru)) < 0.06 * ru) & (np.abs(v) < 0.3 * rv)
            color = np.where(mouth[..., None], np.array([0.55, 0.2, 0.2]), color)
            return sd, np.clip(color, 0, 1), np.zeros(sd.shape, bool)

        return shade

    def backdrop(self) -> Backdrop:
        horizon = self.height * 0.62

        def color(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            grain = value_noise(x, y, self.noise, 5.0)[..., None]
            wall = self.wall * (0.85 + 0.15 * np.cos(2 * np.pi * x / (0.25 * self.width)))[..., None]
            floor = (
                self.floor * (0.8 + 0.35 * np.clip((y - horizon) / (self.height - horizon), 0, 1))[..., None]
            )
            boards = (np.mod(x + 0.3 * (y - horizon), 0.18 * self.width) < 1.5)[..., None]
            floor = floor * (1 - 0.25 * boards)
            out = np.where((y < horizon)[..., None], wall, floor) * (0.92 + 0.12 * grain)
            return np.broadcast_to(out, (y.shape[0], x.shape[1], 3))

        return Backdrop(color)


def _openpose_json(joints: np.ndarray, confidence: np.ndarray, size: tuple[int, int]) -> dict:
    height, width = size
    inside = (
        (joints[:, 0] >= 0) & (joints[:, 0] <= width - 1) & (joints[:, 1] >= 0) & (joints[:, 1] <= height - 1)
    )
    body = np.concatenate(
        [np.where(inside[:, None], joints, 0.0), np.where(inside, confidence, 0.0)[:, None]], 1
    )
    return {
        "version": 1.3,
        "people": [
            {
                "person_id": [-1],
                "pose_keypoints_2d": [round(float(v), 3) for v in body.reshape(-1)],
                "face_keypoints_2d": [0.0] * 210,
                "hand_left_keypoints_2d": [0.0] * 63,
                "hand_right_keypoints_2d": [0.0] * 63,
            }
        ],
    }


def _iuv(
    layers: list[AffineLayer],
    region: np.ndarray,
    t: int,
    part_ids: dict[int, int],
    lengths: dict[int, float],
    body: float,
) -> np.ndarray:
    """DensePose-style IUV ``(H, W, 3)`` uint8 in RGB order as read back: V, U, part index I."""
    height, width = region.shape
    out = np.zeros((height, width, 3), np.uint8)
    ys, xs = np.nonzero(region)
    if len(ys) == 0:
        return out
    for layer in layers:
        mask = region[ys, xs] == layer.region
        if not mask.any():
            continue
        m = layer.matrices[t]
        inv = np.linalg.inv(m[:, :2])
        p = np.stack([xs[mask] - m[0, 2], ys[mask] - m[1, 2]])
        u, v = inv @ p
        length = max(lengths[layer.region], 1e-6)
        u_norm = np.clip(u / (1.3 * length), 0, 1)
        v_norm = np.clip(0.5 + v / (0.3 * body), 0, 1)
        out[ys[mask], xs[mask], 0] = np.round(v_norm * 255).astype(np.uint8)
        out[ys[mask], xs[mask], 1] = np.round(u_norm * 255).astype(np.uint8)
        out[ys[mask], xs[mask], 2] = part_ids[layer.region]
    return out


def render_pose_clip(
    n_frames: int, width: int, height: int, seed: int, motion: str | None = None
) -> dict[str, np.ndarray | list]:
    """Render one synthetic walking or dancing figure, deterministically from ``seed``.

    Args:
        n_frames, width, height: clip length and frame size.
        seed: random seed.
        motion: ``"walk"``, ``"dance"`` or ``None`` (drawn from the seed).

    Returns:
        ``frames`` ``(T, H, W, 3)`` uint8; ``joints`` ``(T, 25, 2)`` float64 BODY_25 pixels;
        ``joint_confidence`` ``(T, 25)``; ``openpose`` list of T OpenPose JSON dicts; ``densepose``
        ``(T, H, W, 3)`` uint8 IUV (RGB order as read: V, U, I); ``flow`` ``(T, 2, H, W)`` float32
        exact backward flow; ``confidence`` ``(T, 1, H, W)`` in {0, 1}; ``regions`` ``(T, H, W)``
        int64 (0 backdrop, then one id per body part); ``motion`` str.
    """
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    if width < 32 or height < 32:
        raise ValueError(f"synthetic pose frames must be at least 32x32, got {width}x{height}")
    rng = np.random.default_rng(seed)
    if motion is None:
        motion = POSE_MOTIONS[int(rng.integers(len(POSE_MOTIONS)))]
    if motion not in POSE_MOTIONS:
        raise ValueError(f"motion must be one of {POSE_MOTIONS}, got {motion!r}")
    figure = _Figure(n_frames, width, height, motion, rng)
    layers, part_ids, lengths = figure.layers()
    backdrop = figure.backdrop()
    size = (height, width)
    conf_joints = rng.uniform(0.6, 0.95, (n_frames, 25))
    frames = np.empty((n_frames, height, width, 3), np.uint8)
    densepose = np.empty((n_frames, height, width, 3), np.uint8)
    flow = np.zeros((n_frames, 2, height, width), np.float32)
    confidence = np.zeros((n_frames, 1, height, width), np.float32)
    regions = np.empty((n_frames, height, width), np.int64)
    prev = None
    for t in range(n_frames):
        rgb, region, unreliable = render_frame(backdrop, layers, size, t)
        frames[t] = np.round(rgb * 255).astype(np.uint8)
        regions[t] = region
        densepose[t] = _iuv(layers, region, t, part_ids, lengths, figure.body)
        if prev is not None:
            flow[t], confidence[t] = backward_flow(layers, t, region, unreliable, *prev)
        prev = (region, unreliable)
    openpose = [_openpose_json(figure.joints[t], conf_joints[t], size) for t in range(n_frames)]
    return {
        "frames": frames,
        "joints": figure.joints,
        "joint_confidence": conf_joints,
        "openpose": openpose,
        "densepose": densepose,
        "flow": flow,
        "confidence": confidence,
        "regions": regions,
        "motion": motion,
    }


def make_synthetic_pose_dataset(
    out: str | os.PathLike,
    n_clips: int,
    n_frames: int,
    size: tuple[int, int],
    seed: int,
    phase: str = "train",
    progress: bool = False,
) -> Path:
    """Write synthetic walking / dancing figures in the original pose layout, with exact flow.

    Writes ``out/{phase}_openpose/clip_%04d/%05d_keypoints.json``, ``{phase}_densepose/clip_%04d/%05d.png``
    (IUV), ``{phase}_img/clip_%04d/%05d.png``, ``{phase}_flow/clip_%04d.safetensors`` and
    ``out/synthetic_pose_{phase}.json``. Clips alternate between walking (even) and dancing (odd).
    Read it with :class:`vid2vid.data.PoseDataset`.

    Args:
        out: dataset root (created if needed).
        n_clips, n_frames: number of clips and frames per clip.
        size: ``(W, H)`` of the frames (the original keeps the central half of the columns: use
            frames at least twice as wide as the person, e.g. 256x128).
        seed: random seed (clip ``i`` uses seed ``[seed, i]``).
        phase: folder prefix.
        progress: show a tqdm bar over clips.
    """
    from vid2vid.data.flow_cache import flow_cache_path, save_flow_cache
    from vid2vid.data.io import write_frames
    from vid2vid.data.synthetic.face import _check_args
    from vid2vid.data.synthetic.street import SYNTHETIC_ESTIMATOR, synthetic_clip_seed

    width, height, out = _check_args(n_clips, size, phase, out)
    clips = range(n_clips)
    if progress:
        from tqdm import tqdm

        clips = tqdm(clips, desc=f"synthetic poses {phase}", unit="clip")
    motions = []
    for i in clips:
        name = f"clip_{i:04d}"
        clip = render_pose_clip(
            n_frames, width, height, seed=synthetic_clip_seed(seed, i), motion=POSE_MOTIONS[i % 2]
        )
        motions.append(clip["motion"])
        write_frames(clip["frames"], out / f"{phase}_img" / name)
        write_frames(clip["densepose"], out / f"{phase}_densepose" / name)
        folder = out / f"{phase}_openpose" / name
        folder.mkdir(parents=True, exist_ok=True)
        for t, data in enumerate(clip["openpose"]):
            atomic_write_text(folder / f"{t:05d}_keypoints.json", json.dumps(data) + "\n")
        save_flow_cache(
            flow_cache_path(out, phase, name),
            clip["flow"],
            clip["confidence"],
            estimator=SYNTHETIC_ESTIMATOR,
            extra_metadata={"seed": str(seed), "clip_index": str(i), "kind": "pose"},
        )
    info = {
        "generator": "vid2vid.data.synthetic.pose",
        "kind": "pose",
        "phase": phase,
        "n_clips": n_clips,
        "n_frames": n_frames,
        "size": [width, height],
        "seed": seed,
        "motions": motions,
        "layout": {
            "openpose": f"{phase}_openpose",
            "densepose": f"{phase}_densepose",
            "frames": f"{phase}_img",
            "flow": f"{phase}_flow",
        },
    }
    atomic_write_text(out / f"synthetic_pose_{phase}.json", json.dumps(info, indent=2) + "\n")
    return out
