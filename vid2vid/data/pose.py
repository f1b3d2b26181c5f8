"""Pose-to-body inputs from OpenPose keypoints and DensePose (vid2vid paper §4, "pose → body").

Mirrors what the original's ``data/keypoint2img.py`` and ``data/pose_dataset.py`` feed the
generator, rewritten:

- OpenPose JSON: ``people[]`` with ``pose_keypoints_2d`` (BODY_25, 25 × (x, y, confidence)),
  ``face_keypoints_2d`` (70 × 3), ``hand_left_keypoints_2d`` / ``hand_right_keypoints_2d`` (21 × 3).
  Missing or empty face/hand lists count as "not detected".
- Kept points: body points with confidence > 0.01 (each alone); hand points of fingers whose
  every point (wrist included) has confidence > 0.01; face points of facial polylines whose
  every point has confidence > 0.1. A limb is drawn only when both of its ends are kept.
- Rendering (RGB, uint8, black background): body limbs in the original's per-limb colours,
  6 px wide with discs of radius ~6 px on their ends; finger bones 2 px wide in one colour per
  finger with small end discs; face polylines (eyebrows, nose, eyes, outer mouth; not the jaw)
  2 px wide in white. A limb painted over existing colour averages with it (the original's rule).
- DensePose IUV images as read in RGB from the PNG DensePose writes (OpenCV, BGR order): channel
  0 = V, 1 = U (both 0-255), channel 2 = part index I in 0-24.
- Channels of :func:`pose_input_maps`, all float32 in ``[-1, 1]`` (the original normalises both):
  without DensePose 3 = the OpenPose rendering (``x / 127.5 - 1``); with DensePose 6 = the IUV
  image first (V, U as ``x / 127.5 - 1``, I as ``I / 12 - 1``) then the OpenPose rendering —
  the original's ``--input_nc 6``.

Deliberate differences: the original stamps each limb pixel by pixel, which leaves half-intensity
pixels at stroke ends and wraps colours around (uint8 sums) where two people overlap; we draw each
limb as a whole and apply the averaging rule per limb and per person. The original's random
augmentations (dropping limbs, jittering points) belong to training and are not applied here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vid2vid.data.face import draw_curve, square_stamp

__all__ = [
    "OpenPosePerson",
    "BODY_LIMBS",
    "BODY_LIMB_COLORS",
    "HAND_FINGERS",
    "HAND_FINGER_COLORS",
    "FACE_POLYLINES",
    "BODY_THRESHOLD",
    "HAND_THRESHOLD",
    "FACE_THRESHOLD",
    "read_openpose",
    "render_openpose",
    "densepose_input",
    "pose_input_maps",
]

BODY_THRESHOLD = 0.01
HAND_THRESHOLD = 0.01
FACE_THRESHOLD = 0.1

# BODY_25 limbs (pairs of keypoint indices) and their RGB colours, in drawing order.
# The first four are the head (ears/eyes/nose), left out with ``basic_point_only``.
BODY_LIMBS: tuple[tuple[int, int], ...] = (
    (17, 15), (15, 0), (0, 16), (16, 18),                          # head
    (0, 1), (1, 8),                                                # neck, trunk
    (1, 2), (2, 3), (3, 4),                                        # right arm
    (1, 5), (5, 6), (6, 7),                                        # left arm
    (8, 9), (9, 10), (10, 11), (11, 24), (11, 22), (22, 23),       # right leg, foot
    (8, 12), (12, 13), (13, 14), (14, 21), (14, 19), (19, 20),     # left leg, foot
)  # fmt: skip
BODY_LIMB_COLORS: tuple[tuple[int, int, int], ...] = (
    (153, 0, 153), (153, 0, 102), (102, 0, 153), (51, 0, 153),
    (153, 0, 51), (153, 0, 0),
    (153, 51, 0), (153, 102, 0), (153, 153, 0),
    (102, 153, 0), (51, 153, 0), (0, 153, 0),
    (0, 153, 51), (0, 153, 102), (0, 153, 153), (0, 153, 153), (0, 153, 153), (0, 153, 153),
    (0, 102, 153), (0, 51, 153), (0, 0, 153), (0, 0, 153), (0, 0, 153), (0, 0, 153),
)  # fmt: skip
_N_HEAD_LIMBS = 4
# Hand: five fingers from the wrist (0), one colour each.
HAND_FINGERS: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4),
    (0, 5, 6, 7, 8),
    (0, 9, 10, 11, 12),
    (0, 13, 14, 15, 16),
    (0, 17, 18, 19, 20),
)
HAND_FINGER_COLORS: tuple[tuple[int, int, int], ...] = (
    (204, 0, 0), (163, 204, 0), (0, 204, 82), (0, 82, 204), (163, 0, 204),
)  # fmt: skip
# OpenPose face (70 points: the 68 of dlib + 2 pupils): polylines drawn (not the jaw).
FACE_POLYLINES: tuple[tuple[int, ...], ...] = (
    tuple(range(17, 22)),  # eyebrow
    tuple(range(22, 27)),  # eyebrow
    tuple(range(27, 31)),  # nose bridge
    tuple(range(31, 36)),  # nostrils
    (36, 37, 38, 39), (39, 40, 41, 36),  # eye
    (42, 43, 44, 45), (45, 46, 47, 42),  # eye
    tuple(range(48, 55)), (54, 55, 56, 57, 58, 59, 48),  # outer mouth
)  # fmt: skip
_FACE_COLOR = (255, 255, 255)
_N_POINTS = {"pose_keypoints_2d": 25, "face_keypoints_2d": 70, "hand_left_keypoints_2d": 21,
             "hand_right_keypoints_2d": 21}  # fmt: skip


@dataclass
class OpenPosePerson:
    """One person's keypoints, each row ``(x, y, confidence)`` float32 (all zeros = not detected)."""

    body: np.ndarray  # (25, 3) BODY_25
    face: np.ndarray  # (70, 3)
    hand_left: np.ndarray  # (21, 3)
    hand_right: np.ndarray  # (21, 3)


def _keypoint_array(person: dict[str, Any], key: str, where: str) -> np.ndarray:
    n = _N_POINTS[key]
    values = person.get(key)
    if values is None or (isinstance(values, list) and len(values) == 0):
        if key == "pose_keypoints_2d":
            raise ValueError(f"{where}: person without 'pose_keypoints_2d'")
        return np.zeros((n, 3), np.float32)
    try:
        array = np.asarray(values, dtype=np.float32).reshape(-1)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: '{key}' must be a list of numbers: {err}") from err
    if array.size != n * 3:
        hint = ""
        if key == "pose_keypoints_2d" and array.size == 18 * 3:
            hint = " (that is the COCO-18 model; run OpenPose with --model_pose BODY_25)"
        raise ValueError(f"{where}: '{key}' must hold {n} x 3 = {n * 3} values, got {array.size}{hint}")
    if not np.isfinite(array).all():
        raise ValueError(f"{where}: '{key}' holds NaN or infinite values")
    return array.reshape(n, 3)


def read_openpose(source: dict[str, Any] | str | os.PathLike) -> list[OpenPosePerson]:
    """Read an OpenPose JSON frame (a parsed dict or a file path) into its people."""
    if isinstance(source, dict):
        data, where = source, "OpenPose JSON"
    else:
        path = Path(source)
        where = f"OpenPose file {path}"
        if not path.is_file():
            raise FileNotFoundError(f"{where} does not exist")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{where} is not valid JSON: {err}") from err
    if not isinstance(data, dict) or not isinstance(data.get("people"), list):
        raise ValueError(f"{where}: expected an object with a 'people' list (OpenPose --write_json output)")
    people = []
    for i, person in enumerate(data["people"]):
        if not isinstance(person, dict):
            raise ValueError(f"{where}: people[{i}] must be an object")
        at = f"{where}, people[{i}]"
        people.append(
            OpenPosePerson(
                body=_keypoint_array(person, "pose_keypoints_2d", at),
                face=_keypoint_array(person, "face_keypoints_2d", at),
                hand_left=_keypoint_array(person, "hand_left_keypoints_2d", at),
                hand_right=_keypoint_array(person, "hand_right_keypoints_2d", at),
            )
        )
    return people


def _kept_points(
    points: np.ndarray, groups: tuple[tuple[int, ...], ...] | None, threshold: float
) -> np.ndarray:
    """Boolean mask of kept points: alone (``groups`` None) or whole groups above ``threshold``."""
    valid = points[:, 2] > threshold
    if groups is None:
        return valid
    kept = np.zeros(len(points), bool)
    for group in groups:
        if valid[list(group)].all():
            kept[list(group)] = True
    return kept


def _disc_stamp(mask: np.ndarray, half: int) -> np.ndarray:
    """The original's end-point disc: offsets ``i, j ∈ [-2h, 2h-1]`` with ``i² + j² < 4h²``."""
    import cv2

    a = 2 * half - 1
    k = np.arange(4 * half)
    offsets = a - k
    kernel = ((offsets[:, None] ** 2 + offsets[None, :] ** 2) < 4 * half * half).astype(np.uint8)
    return cv2.dilate(mask, kernel, anchor=(a, a))


def _paint(canvas: np.ndarray, mask: np.ndarray, color: tuple[int, int, int]) -> None:
    """Paint ``color`` where ``mask``: set on black pixels, average with existing colour elsewhere."""
    where = mask > 0
    empty = where & (canvas == 0).all(axis=-1)
    mixed = where & ~empty
    canvas[empty] = color
    canvas[mixed] = ((canvas[mixed].astype(np.uint16) + np.array(color, np.uint16)) // 2).astype(np.uint8)


def _draw_segment(
    canvas: np.ndarray, xs: np.ndarray, ys: np.ndarray, color: tuple[int, int, int], half: int
) -> None:
    line = np.zeros(canvas.shape[:2], np.uint8)
    draw_curve(line, xs, ys)
    stroke = square_stamp(line, half)
    ends = np.zeros_like(line)
    for x, y in ((xs[0], ys[0]), (xs[-1], ys[-1])):
        xi, yi = int(np.floor(x)), int(np.floor(y))
        if 0 <= yi < ends.shape[0] and 0 <= xi < ends.shape[1]:
            ends[yi, xi] = 1
    _paint(canvas, np.maximum(stroke, _disc_stamp(ends, half)), color)


def render_openpose(
    people: list[OpenPosePerson], size: tuple[int, int], basic_point_only: bool = False
) -> np.ndarray:
    """Colour-coded limb map of all people.

    Args:
        people: from :func:`read_openpose`.
        size: ``(H, W)`` of the canvas; keypoints are pixel coordinates in it.
        basic_point_only: draw only the body without the head limbs, hands and face (original option).

    Returns:
        ``(H, W, 3)`` uint8 RGB, black background.
    """
    height, width = size
    canvas = np.zeros((height, width, 3), np.uint8)
    for person in people:
        body_kept = _kept_points(person.body, None, BODY_THRESHOLD)
        start = _N_HEAD_LIMBS if basic_point_only else 0
        for (a, b), color in zip(BODY_LIMBS[start:], BODY_LIMB_COLORS[start:], strict=True):
            if body_kept[a] and body_kept[b]:
                pts = person.body[[a, b]]
                _draw_segment(canvas, pts[:, 0], pts[:, 1], color, half=3)
        if basic_point_only:
            continue
        for hand in (person.hand_left, person.hand_right):
            kept = _kept_points(hand, HAND_FINGERS, HAND_THRESHOLD)
            for finger, color in zip(HAND_FINGERS, HAND_FINGER_COLORS, strict=True):
                for a, b in zip(finger[:-1], finger[1:], strict=True):
                    if kept[a] and kept[b]:
                        pts = hand[[a, b]]
                        _draw_segment(canvas, pts[:, 0], pts[:, 1], color, half=1)
        face_kept = _kept_points(person.face, FACE_POLYLINES, FACE_THRESHOLD)
        for polyline in FACE_POLYLINES:
            for a, b in zip(polyline[:-1], polyline[1:], strict=True):
                if face_kept[a] and face_kept[b]:
                    pts = person.face[[a, b]]
                    _draw_segment(canvas, pts[:, 0], pts[:, 1], _FACE_COLOR, half=1)
    return canvas


def densepose_input(iuv: np.ndarray) -> np.ndarray:
    """DensePose IUV image → generator channels.

    Args:
        iuv: ``(H, W, 3)`` uint8 read in RGB from DensePose's IUV PNG: V, U in 0-255, part index
            I in 0-24 (0 = background).

    Returns:
        ``(3, H, W)`` float32 in ``[-1, 1]``: V and U as ``x / 127.5 - 1``, I as ``I / 12 - 1``.
    """
    if iuv.ndim != 3 or iuv.shape[-1] != 3 or iuv.dtype != np.uint8:
        raise ValueError(f"DensePose IUV image must be (H, W, 3) uint8, got {iuv.shape} {iuv.dtype}")
    if iuv[..., 2].max() > 24:
        raise ValueError(
            f"DensePose part index (channel 2 in RGB order) must be in 0-24, got max {iuv[..., 2].max()}; "
            "is the image in BGR order or not an IUV image?"
        )
    out = iuv.astype(np.float32).transpose(2, 0, 1)
    out[:2] = out[:2] / 127.5 - 1.0
    out[2] = out[2] / 12.0 - 1.0
    return out


def pose_input_maps(
    openpose_json: dict[str, Any] | str | os.PathLike,
    size: tuple[int, int],
    densepose: np.ndarray | None = None,
    basic_point_only: bool = False,
) -> np.ndarray:
    """The pose-to-body generator input of one frame.

    Args:
        openpose_json: parsed OpenPose JSON or its path; keypoints in pixels of a ``size`` frame.
        size: ``(H, W)``.
        densepose: optional ``(H, W, 3)`` uint8 IUV image (see :func:`densepose_input`).
        basic_point_only: see :func:`render_openpose`.

    Returns:
        ``(C, H, W)`` float32 in ``[-1, 1]``: C = 3 (OpenPose rendering, RGB) or 6 (DensePose
        V, U, I then the OpenPose rendering).
    """
    height, width = size
    if height < 1 or width < 1:
        raise ValueError(f"size must be (H, W) with positive sides, got {size}")
    rendering = render_openpose(read_openpose(openpose_json), (height, width), basic_point_only)
    openpose = rendering.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0
    if densepose is None:
        return np.ascontiguousarray(openpose)
    if densepose.shape[:2] != (height, width):
        raise ValueError(f"DensePose image of shape {densepose.shape} does not match size (H, W) = {size}")
    return np.concatenate([densepose_input(densepose), openpose], axis=0)
