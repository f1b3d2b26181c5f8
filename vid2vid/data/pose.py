"""Pose-to-body inputs from OpenPose keypoints and DensePose (vid2vid paper §4, "pose → body").

Reproduces, pixel for pixel, what the original's ``data/keypoint2img.py`` and
``data/pose_dataset.py`` feed the generator (checked against
``fixtures/nvidia-vid2vid-test/tp_pose_inputs``: inputs exact, frames to 1e-6):

- OpenPose JSON: ``people[]`` with ``pose_keypoints_2d`` (BODY_25, 25 × (x, y, confidence)),
  ``face_keypoints_2d`` (70 × 3), ``hand_left_keypoints_2d`` / ``hand_right_keypoints_2d`` (21 × 3).
  Missing or empty face/hand lists count as "not detected".
- Kept points: body points with confidence > 0.01 (each alone); hand fingers whose every point
  (wrist included) has confidence > 0.01; facial polylines whose every point has confidence
  > 0.1. Dropped points become (0, 0), and a segment is drawn only when no x is exactly 0.
- Rendering at the frame's full size, uint8 RGB on black, per person (people summed in uint8 with
  wrap-around, as the original): body limbs in the original's colours, each the fitted line
  (:func:`vid2vid.data.keypoint_drawing.interp_points`) stamped 6 × 6 with end-point discs;
  finger bones 2 × 2 in one colour per finger; facial polylines (eyebrows, nose, eyes, outer
  mouth; not the jaw) 2 × 2 in white. Colours mix by the original's rule
  (:func:`vid2vid.data.keypoint_drawing.draw_edge`).
- DensePose IUV images as read in RGB from the PNG DensePose writes (OpenCV, BGR order): channel
  0 = V, 1 = U (both 0-255), channel 2 = part index I in 0-24.
- Geometry (:func:`pose_geometry`): the frame is resized (inputs nearest, frames bicubic) and the
  central half of the columns kept (``[w//2 - bs, w//2 + bs)``, ``bs = int(w/4) // 32 * 32``).
- Channels, float32 in ``[-1, 1]`` (the original normalises both): without DensePose 3 = the
  OpenPose rendering (``(x/255 - 0.5) / 0.5``); with DensePose 6 = the IUV image first (V, U as
  the rendering, I as ``I / 12 - 1``) then the OpenPose rendering — the original's ``--input_nc 6``.

Training-time augmentations (:class:`vid2vid.data.pose_dataset.PoseDataset`): random dropping of
limbs, hands, the face and DensePose parts (``random_drop_prob``), ``remove_face_labels``, the
original's random crop and scale; never flips (left and right limbs have their own colours).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vid2vid.data.keypoint_drawing import draw_edge, interp_points

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
    "DENSEPOSE_FACE_PARTS",
    "PoseGeometry",
    "read_openpose",
    "write_openpose",
    "render_openpose",
    "drop_densepose_parts",
    "densepose_input",
    "pose_input_maps",
    "pose_geometry",
    "center_crop_columns",
    "maps_to_tensor",
    "pose_input_uint8",
    "decode_pose_input",
    "build_pose_frame",
]

BODY_THRESHOLD = 0.01
HAND_THRESHOLD = 0.01
FACE_THRESHOLD = 0.1
DENSEPOSE_FACE_PARTS = (23, 24)

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
_WHITE = (255, 255, 255)
_N_POINTS = {"pose_keypoints_2d": 25, "face_keypoints_2d": 70, "hand_left_keypoints_2d": 21,
             "hand_right_keypoints_2d": 21}  # fmt: skip


@dataclass
class OpenPosePerson:
    """One person's keypoints, each row ``(x, y, confidence)`` float64 (all zeros = not detected)."""

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
        return np.zeros((n, 3), np.float64)
    try:
        array = np.asarray(values, dtype=np.float64).reshape(-1)
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


def write_openpose(path: str | os.PathLike, people: list[OpenPosePerson]) -> Path:
    """Write people as an OpenPose ``--write_json`` file (version 1.3 layout), atomically."""
    from vid2vid.atomic import atomic_write_text

    def flat(array: np.ndarray) -> list[float]:
        return [round(float(v), 3) for v in np.asarray(array).reshape(-1)]

    entries = [
        {
            "person_id": [-1],
            "pose_keypoints_2d": flat(p.body),
            "face_keypoints_2d": flat(p.face),
            "hand_left_keypoints_2d": flat(p.hand_left),
            "hand_right_keypoints_2d": flat(p.hand_right),
        }
        for p in people
    ]
    path = Path(path)
    atomic_write_text(path, json.dumps({"version": 1.3, "people": entries}) + "\n")
    return path


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def _valid_points(
    points: np.ndarray, groups: tuple[tuple[int, ...], ...] | None, threshold: float
) -> np.ndarray:
    """``(N, 2)`` coordinates of the kept points, zeros elsewhere (``extract_valid_keypoints``)."""
    out = np.zeros((len(points), 2))
    if groups is None:
        valid = points[:, 2] > threshold
        out[valid] = points[valid, :2]
        return out
    for group in groups:
        idx = list(group)
        if (points[idx, 2] > threshold).all():
            out[idx] = points[idx, :2]
    return out


def _keep(rng: np.random.Generator | None, drop_prob: float) -> bool:
    """The original's ``np.random.rand() > random_drop_prob``."""
    if drop_prob <= 0 or rng is None:
        return True
    return bool(rng.random() > drop_prob)


def _draw_pairs(canvas: np.ndarray, points: np.ndarray, chain: tuple[int, ...], color, bw: int) -> None:
    for a, b in zip(chain[:-1], chain[1:], strict=True):
        xs, ys = points[[a, b], 0], points[[a, b], 1]
        if 0 in xs:
            continue
        curve_x, curve_y = interp_points(xs, ys)
        draw_edge(canvas, curve_x, curve_y, bw=bw, color=color, draw_end_points=True)


def render_openpose(
    people: list[OpenPosePerson],
    size: tuple[int, int],
    basic_point_only: bool = False,
    random_drop_prob: float = 0.0,
    remove_face_labels: bool = False,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Colour-coded keypoint map of all people (the original's ``read_keypoints``).

    Args:
        people: from :func:`read_openpose`; coordinates in pixels of a ``size`` frame.
        size: ``(H, W)`` of the canvas.
        basic_point_only: body limbs only, without the head limbs, hands and face.
        random_drop_prob: training augmentation: each limb, each hand and the face is left out
            with this probability (the original's ``--random_drop_prob``, 0.05 by default in
            training, 0 at test time).
        remove_face_labels: with ``random_drop_prob > 0``, jitter the head joints (σ 5 px) and
            the face (σ 2 px) as the original does.
        rng: random generator of the augmentations (required when ``random_drop_prob > 0``).

    Returns:
        ``(H, W, 3)`` uint8 RGB, black background.
    """
    if random_drop_prob > 0 and rng is None:
        raise ValueError("random_drop_prob > 0 needs a random generator (rng)")
    height, width = size
    total = np.zeros((height, width, 3), np.uint8)
    for person in people:
        body = _valid_points(person.body, None, BODY_THRESHOLD)
        face = _valid_points(person.face, FACE_POLYLINES, FACE_THRESHOLD)
        hands = [
            _valid_points(h, HAND_FINGERS, HAND_THRESHOLD) for h in (person.hand_left, person.hand_right)
        ]
        canvas = np.zeros((height, width, 3), np.uint8)
        if random_drop_prob > 0 and remove_face_labels:
            body[[0, 15, 16, 17, 18]] += 5 * rng.standard_normal((5, 2))  # type: ignore[union-attr]
            face[:, 0] += 2 * rng.standard_normal()  # type: ignore[union-attr]
            face[:, 1] += 2 * rng.standard_normal()  # type: ignore[union-attr]
        start = _N_HEAD_LIMBS if basic_point_only else 0
        for limb, color in zip(BODY_LIMBS[start:], BODY_LIMB_COLORS[start:], strict=True):
            if _keep(rng, random_drop_prob):
                _draw_pairs(canvas, body, limb, color, bw=3)
        if not basic_point_only:
            for hand in hands:
                if _keep(rng, random_drop_prob):
                    for finger, color in zip(HAND_FINGERS, HAND_FINGER_COLORS, strict=True):
                        _draw_pairs(canvas, hand, finger, color, bw=1)
            if _keep(rng, random_drop_prob):
                for polyline in FACE_POLYLINES:
                    _draw_pairs(canvas, face, polyline, _WHITE, bw=1)
        total += canvas  # uint8 wrap-around where people overlap, as the original
    return total


def drop_densepose_parts(
    iuv: np.ndarray,
    random_drop_prob: float = 0.0,
    remove_face_labels: bool = False,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Training augmentation of the original: blank each DensePose part (1-24) with probability
    ``random_drop_prob``; ``remove_face_labels`` blanks the head (parts 23, 24). Returns a copy."""
    out = np.array(iuv, copy=True)
    parts = iuv[..., 2]
    if random_drop_prob > 0:
        if rng is None:
            raise ValueError("random_drop_prob > 0 needs a random generator (rng)")
        for part in range(1, 25):
            if rng.random() < random_drop_prob:
                out[parts == part] = 0
    if remove_face_labels:
        out[np.isin(parts, DENSEPOSE_FACE_PARTS)] = 0
    return out


def _check_iuv(iuv: np.ndarray) -> None:
    if iuv.ndim != 3 or iuv.shape[-1] != 3 or iuv.dtype != np.uint8:
        raise ValueError(f"DensePose IUV image must be (H, W, 3) uint8, got {iuv.shape} {iuv.dtype}")
    if iuv[..., 2].max(initial=0) > 24:
        raise ValueError(
            f"DensePose part index (channel 2 in RGB order) must be in 0-24, got max {iuv[..., 2].max()}; "
            "is the image in BGR order or not an IUV image?"
        )


# --------------------------------------------------------------------------------------------
# Conversion to tensors
# --------------------------------------------------------------------------------------------


def maps_to_tensor(image: np.ndarray, densepose: bool = False) -> torch.Tensor:
    """uint8 ``(H, W, 3)`` → float32 ``(3, H, W)`` in ``[-1, 1]`` with the original's operations.

    ``(x / 255 - 0.5) / 0.5``; for a DensePose IUV image the part index channel then becomes
    ``((x · 0.5 + 0.5) · 255 / 24 - 0.5) / 0.5`` (= ``I / 12 - 1``).
    """
    tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div(255)
    tensor = tensor.sub(0.5).div(0.5)
    if densepose:
        tensor[2] = ((tensor[2] * 0.5 + 0.5) * 255 / 24 - 0.5) / 0.5
    return tensor


def densepose_input(iuv: np.ndarray) -> np.ndarray:
    """DensePose IUV image → generator channels ``(3, H, W)`` float32 in ``[-1, 1]``.

    Args:
        iuv: ``(H, W, 3)`` uint8 read in RGB from DensePose's IUV PNG: V, U in 0-255, part index
            I in 0-24 (0 = background).
    """
    _check_iuv(iuv)
    return maps_to_tensor(iuv, densepose=True).numpy()


def pose_input_maps(
    openpose_json: dict[str, Any] | str | os.PathLike,
    size: tuple[int, int],
    densepose: np.ndarray | None = None,
    basic_point_only: bool = False,
) -> np.ndarray:
    """The pose-to-body generator input of one frame at full frame size (no resize, no crop).

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
    openpose = maps_to_tensor(rendering).numpy()
    if densepose is None:
        return openpose
    if densepose.shape[:2] != (height, width):
        raise ValueError(f"DensePose image of shape {densepose.shape} does not match size (H, W) = {size}")
    return np.concatenate([densepose_input(densepose), openpose], axis=0)


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoseGeometry:
    """Where a frame goes: resize to ``resize`` ``(H, W)``, crop rows ``top:top+crop[0]`` and
    columns ``left:left+crop[1]`` (the original's random crop; the whole image when ``crop`` is
    ``None``), then keep the central columns when ``center_crop``."""

    resize: tuple[int, int]
    crop: tuple[int, int] | None = None
    top: int = 0
    left: int = 0
    center_crop: bool = True

    @property
    def output_size(self) -> tuple[int, int]:
        """``(H, W)`` of the final maps."""
        height, width = self.resize
        if self.crop is not None and (width > self.crop[1] or height > self.crop[0]):
            height = min(height - self.top, self.crop[0])
            width = min(width - self.left, self.crop[1])
        if self.center_crop:
            bs = int(width * 0.25) // 32 * 32
            width = 2 * bs
        return height, width

    def apply(self, image: np.ndarray, method: str) -> np.ndarray:
        """Apply to an ``(H, W, 3)`` uint8 image (``method``: ``"nearest"`` or ``"bicubic"``)."""
        from PIL import Image

        resample = {"nearest": Image.NEAREST, "bicubic": Image.BICUBIC}[method]
        pil = Image.fromarray(np.ascontiguousarray(image)).resize((self.resize[1], self.resize[0]), resample)
        if self.crop is not None:
            ch, cw = self.crop
            if pil.size[0] > cw or pil.size[1] > ch:
                pil = pil.crop(
                    (self.left, self.top, min(pil.size[0], self.left + cw), min(pil.size[1], self.top + ch))
                )
        out = np.asarray(pil)
        return center_crop_columns(out) if self.center_crop else out


def center_crop_columns(image: np.ndarray) -> np.ndarray:
    """Keep columns ``[w//2 - bs, w//2 + bs)``, ``bs = int(w · 0.25) // 32 · 32`` of ``(H, W, ...)``
    (the original pose dataset's crop of the central half)."""
    width = image.shape[1]
    bs = int(width * 0.25) // 32 * 32
    if bs == 0:
        raise ValueError(f"frames {width} px wide are too narrow for the central crop (need >= 128 px)")
    return image[:, width // 2 - bs : width // 2 + bs]


def _round4(n: int) -> int:
    return int(round(n / 4)) * 4


def _power32(n: float) -> int:
    return int(round(n / 32.0) * 32)


def pose_geometry(
    size: tuple[int, int],
    load_size: int,
    fine_size: int | None = None,
    mode: str = "scale_height",
    center_crop: bool = True,
    rng: np.random.Generator | None = None,
) -> PoseGeometry:
    """The original's ``get_img_params`` for pose frames.

    Args:
        size: ``(H, W)`` of the source frames.
        load_size: target height (``scale_height``), the largest random height
            (``random_scale_height``); ignored by ``"none"``.
        fine_size: crop height of the random crop (``*_and_crop`` modes); the crop width follows
            the aspect ratio; both rounded to a multiple of 32.
        mode: ``"scale_height"`` (test time: height ``load_size``), ``"scale_height_and_crop"``,
            ``"random_scale_height_and_crop"`` (height uniform in ``[fine_size, load_size]``) or
            ``"none_and_crop"`` (the original's pose training scripts: no scaling, sides rounded
            to 4, then a random ``fine_size`` crop).
        center_crop: keep the central half of the columns afterwards (the original always does).
        rng: random generator of the crop position / scale (required by the random modes).
    """
    height, width = size
    modes = ("scale_height", "scale_height_and_crop", "random_scale_height_and_crop", "none_and_crop")
    if mode not in modes:
        raise ValueError(f"pose resize mode must be one of {modes}, got {mode!r}")
    cropping = mode.endswith("_and_crop")
    if cropping and (fine_size is None or rng is None):
        raise ValueError(f"mode {mode!r} needs fine_size and a random generator")
    if mode.startswith("scale_height"):
        new_h, new_w = load_size, load_size * width // height
    elif mode.startswith("random_scale_height"):
        new_h = int(rng.integers(fine_size, load_size + 2))  # type: ignore[union-attr,arg-type]  # randint(fine, load+1)
        new_w = new_h * width // height
    else:
        new_h, new_w = height, width
    new_w, new_h = _round4(new_w), _round4(new_h)
    if not cropping:
        return PoseGeometry(resize=(_power32(new_h), _power32(new_w)), center_crop=center_crop)
    crop_h = _power32(fine_size)  # type: ignore[arg-type]
    crop_w = _power32(fine_size * width // height)  # type: ignore[operator]
    x_span = (new_w - crop_w) // 2
    left = int(np.clip(int(rng.standard_normal() * x_span / 3 + x_span), 0, max(0, 2 * x_span)))  # type: ignore[union-attr]
    top = int(rng.integers(0, min(max(0, new_h - crop_h), new_h // 8) + 1))  # type: ignore[union-attr]
    return PoseGeometry(
        resize=(new_h, new_w), crop=(crop_h, crop_w), top=top, left=left, center_crop=center_crop
    )


def pose_input_uint8(
    people: list[OpenPosePerson] | None,
    geometry: PoseGeometry,
    size: tuple[int, int],
    densepose: np.ndarray | None = None,
    basic_point_only: bool = False,
    random_drop_prob: float = 0.0,
    remove_face_labels: bool = False,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """One frame's pose input as uint8 ``(C, h, w)`` (DensePose V, U, I, then OpenPose RGB),
    before the original's normalisation; see :func:`build_pose_frame` for the arguments."""
    if people is None and densepose is None:
        raise ValueError("a pose frame needs OpenPose keypoints, a DensePose image, or both")
    channels = []
    if densepose is not None:
        _check_iuv(densepose)
        if densepose.shape[:2] != tuple(size):
            raise ValueError(
                f"DensePose image {densepose.shape[1]}x{densepose.shape[0]} does not match the frame size "
                f"{size[1]}x{size[0]}"
            )
        iuv = drop_densepose_parts(densepose, random_drop_prob, remove_face_labels, rng)
        channels.append(geometry.apply(iuv, "nearest"))
    if people is not None:
        rendering = render_openpose(people, size, basic_point_only, random_drop_prob, remove_face_labels, rng)
        channels.append(geometry.apply(rendering, "nearest"))
    return np.ascontiguousarray(np.concatenate(channels, axis=-1).transpose(2, 0, 1))


def decode_pose_input(maps: np.ndarray, densepose: bool) -> torch.Tensor:
    """uint8 ``(..., C, h, w)`` from :func:`pose_input_uint8` → float32 in ``[-1, 1]`` with the
    original's operations (the DensePose part index channel 2 becomes ``I / 12 - 1``)."""
    tensor = torch.from_numpy(np.ascontiguousarray(maps)).float().div(255).sub(0.5).div(0.5)
    if densepose:
        tensor[..., 2, :, :] = ((tensor[..., 2, :, :] * 0.5 + 0.5) * 255 / 24 - 0.5) / 0.5
    return tensor


def build_pose_frame(
    people: list[OpenPosePerson] | None,
    geometry: PoseGeometry,
    size: tuple[int, int],
    densepose: np.ndarray | None = None,
    frame: np.ndarray | None = None,
    basic_point_only: bool = False,
    random_drop_prob: float = 0.0,
    remove_face_labels: bool = False,
    rng: np.random.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One frame of the original's pose input (``pose_dataset.py``) and its target frame.

    Args:
        people: OpenPose people (``None``: DensePose only, the original's ``--densepose_only``).
        geometry: from :func:`pose_geometry`.
        size: ``(H, W)`` of the source frame.
        densepose: ``(H, W, 3)`` uint8 IUV image (``None``: OpenPose only).
        frame: ``(H, W, 3)`` uint8 RGB frame (``None``: no target).
        basic_point_only, random_drop_prob, remove_face_labels, rng: see :func:`render_openpose`
            and :func:`drop_densepose_parts`.

    Returns:
        ``inputs`` ``(C, h, w)`` float32 in ``[-1, 1]`` (DensePose V, U, I then OpenPose RGB) and
        the frame ``(3, h, w)`` float32 in ``[-1, 1]`` (or ``None``).
    """
    maps = pose_input_uint8(
        people, geometry, size, densepose, basic_point_only, random_drop_prob, remove_face_labels, rng
    )
    inputs = decode_pose_input(maps, densepose=densepose is not None)
    target = None if frame is None else maps_to_tensor(geometry.apply(frame, "bicubic"))
    return inputs, target
