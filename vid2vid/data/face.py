"""Edge-to-face inputs from 68-point facial landmarks (vid2vid paper §4, "edge → face" videos).

Reproduces, pixel for pixel, what the original's ``data/face_dataset.py`` feeds its generator
(checked against ``fixtures/nvidia-vid2vid-test/tp_face_inputs``: input maps and part labels
exact, frames to 1e-6):

- Landmarks in the dlib / iBUG-300W layout: jaw 0-16, eyebrows 17-21 / 22-26, nose 27-35, eyes
  36-41 / 42-47, outer mouth 48-59, inner mouth 60-67. The original's landmark files are text,
  one ``x,y`` line per point (68 lines); JSON and ``.npy`` ``(68, 2)`` are accepted too.
- The upper half of the face outline is made up by mirroring the jaw (points 1-15, truncated to
  int) about ``baseline_y = (y0 + y16) / 2`` as ``baseline_y + (baseline_y - y) * 2 // 3``: 15
  extra points, appended in reverse order (83 in all).
- Every facial part is a list of polylines ("edges"), cut into pieces of 3 points sharing their
  ends; each piece is drawn as the original's fitted curve
  (:func:`vid2vid.data.keypoint_drawing.interp_points`) with a 2 × 2 footprint.
- Input channels (:data:`FACE_INPUT_NC` = 15, the original's ``--input_nc 15``), uint8 at full
  frame size, then cropped, resized (PIL bilinear) and divided by 255, so values are in
  ``[0, 1]`` (the original does not normalise them to ``[-1, 1]``): channel 0 the edge map (all
  face curves at 255, plus Canny edges of the real frame where the part label is 0, added in
  uint8 with wrap-around as the original); channels 1-14 one distance map per edge,
  ``uint8(clip(d / 3, 0, 255))`` with ``d`` the L1 (3 × 3 mask) distance to that edge.
- Part labels (the original's ``inst``): filled polygons, 1 face, 2 eyebrows, 3 nose, 4 eyes,
  5 mouth, 6 inner mouth, later parts painting over earlier ones; cropped and resized nearest.
- The crop box: a square of side ``2.5 × (max x - min x)`` of one frame's landmarks, centred at
  ``((min x + max x) // 2, (3 min y + max y) // 4)``, shifted to stay inside the frame where it
  fits (the original's ``get_crop_coords``); the output is ``load_size`` wide (``scaleWidth``),
  sides rounded to multiples of 4 then 32.

Training-time augmentations (:class:`vid2vid.data.face_dataset.FaceDataset`): the crop box of
each sample comes from its own first frame (the original), optionally jittered; the facial parts
can be moved and scaled (:func:`scale_face_points`, the original's ``--random_scale_points``);
random horizontal flips (the original's default for faces).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vid2vid.atomic import atomic_path
from vid2vid.data.keypoint_drawing import canny, draw_edge, interp_points, to_gray

__all__ = [
    "FacePart",
    "FACE_PARTS",
    "FACE_INPUT_NC",
    "N_FACE_LANDMARKS",
    "FACE_PART_NAMES",
    "FaceCropBox",
    "FaceFrameMaps",
    "FacePointScaling",
    "ORIGINAL_POINT_SCALING",
    "FaceClip",
    "read_face_landmarks",
    "write_face_landmarks",
    "add_upper_face",
    "face_part_labels",
    "face_edge_maps",
    "scale_face_points",
    "random_point_scaling",
    "canny_edges",
    "face_crop_box",
    "face_output_size",
    "render_face_maps",
    "face_input_maps",
    "build_face_clip",
]

N_FACE_LANDMARKS = 68


@dataclass(frozen=True)
class FacePart:
    """One facial part: its label in the part map and its polylines (indices into the 83 points)."""

    name: str
    label: int
    edges: tuple[tuple[int, ...], ...]


# The original's part list, on the 68 landmarks + 15 mirrored upper-face points (68-82).
FACE_PARTS: tuple[FacePart, ...] = (
    FacePart("face", 1, (tuple(range(0, 17)) + tuple(range(68, 83)) + (0,),)),
    FacePart("right_eyebrow", 2, (tuple(range(17, 22)),)),
    FacePart("left_eyebrow", 2, (tuple(range(22, 27)),)),
    FacePart("nose", 3, ((28, 31), tuple(range(31, 36)), (35, 28))),
    FacePart("right_eye", 4, ((36, 37, 38, 39), (39, 40, 41, 36))),
    FacePart("left_eye", 4, ((42, 43, 44, 45), (45, 46, 47, 42))),
    FacePart("mouth", 5, (tuple(range(48, 55)), (54, 55, 56, 57, 58, 59, 48))),
    FacePart("inner_mouth", 6, (tuple(range(60, 65)), (64, 65, 66, 67, 60))),
)
FACE_PART_NAMES: tuple[str, ...] = ("background", "face", "eyebrows", "nose", "eyes", "mouth", "inner_mouth")
_N_EDGES = sum(len(part.edges) for part in FACE_PARTS)
#: Channels of the face input with distance maps: 1 edge map + one map per edge (14).
FACE_INPUT_NC = 1 + _N_EDGES


# --------------------------------------------------------------------------------------------
# Landmark files
# --------------------------------------------------------------------------------------------


def _check_landmarks(points: np.ndarray, where: str) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.shape != (N_FACE_LANDMARKS, 2):
        raise ValueError(f"{where}: expected 68 facial landmarks as (68, 2) x, y, got shape {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError(f"{where}: landmarks hold NaN or infinite values")
    return points


def read_face_landmarks(path: str | os.PathLike) -> np.ndarray:
    """Read 68 facial landmarks.

    Formats by suffix: ``.txt`` (the original's: 68 lines ``x,y``; whitespace-separated also
    accepted), ``.json`` (a list of 68 ``[x, y]`` pairs, or an object with key ``"landmarks"``
    holding one) and ``.npy`` (a ``(68, 2)`` array).

    Returns:
        ``(68, 2)`` float64 pixel coordinates ``(x, y)`` (float64 as the original's ``np.loadtxt``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"landmark file {path} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".txt":
            text = path.read_text(encoding="utf-8")
            delimiter = "," if "," in text else None
            rows = [line for line in text.splitlines() if line.strip()]
            points = np.array([[float(v) for v in line.split(delimiter)] for line in rows])
        elif suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                if "landmarks" not in data:
                    raise ValueError(f"JSON object without a 'landmarks' key (keys: {sorted(data)})")
                data = data["landmarks"]
            points = np.array(data, dtype=np.float64)
        elif suffix == ".npy":
            points = np.load(path, allow_pickle=False)
        else:
            raise ValueError(f"unknown landmark file type {suffix!r}; expected .txt, .json or .npy")
    except (ValueError, TypeError) as err:
        raise ValueError(f"cannot read landmarks from {path}: {err}") from err
    return _check_landmarks(points, f"landmark file {path}")


def write_face_landmarks(path: str | os.PathLike, landmarks: np.ndarray) -> Path:
    """Write ``(68, 2)`` landmarks as ``.txt`` (``x,y`` lines; integers as ``%d`` like the
    original's landmark script), ``.json`` or ``.npy``, atomically."""
    path = Path(path)
    points = _check_landmarks(landmarks, f"landmarks for {path}")
    suffix = path.suffix.lower()
    if suffix not in (".txt", ".json", ".npy"):
        raise ValueError(f"unknown landmark file type {suffix!r}; expected .txt, .json or .npy")
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        if suffix == ".npy":
            np.save(f, points)
        elif suffix == ".json":
            f.write(json.dumps(points.tolist()).encode("utf-8"))
        elif np.array_equal(points, np.round(points)):
            f.write("".join(f"{int(x)},{int(y)}\n" for x, y in points.tolist()).encode("utf-8"))
        else:
            f.write("".join(f"{x:.9g},{y:.9g}\n" for x, y in points.tolist()).encode("utf-8"))
    return path


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------


def add_upper_face(landmarks: np.ndarray) -> np.ndarray:
    """Append the mirrored upper face outline (the original's integer arithmetic).

    Args:
        landmarks: ``(68, 2)`` ``(x, y)``.

    Returns:
        ``(83, 2)`` float64: the 68 points, then jaw points 15 … 1 (truncated to int) with
        ``y ← trunc(b + (b - y) * 2 // 3)``, ``b = (y0 + y16) / 2``.
    """
    points = _check_landmarks(landmarks, "landmarks")
    jaw = points[:17].astype(np.int32)
    baseline = (jaw[0, 1] + jaw[-1, 1]) / 2
    upper = jaw[1:-1].copy()
    upper[:, 1] = baseline + (baseline - upper[:, 1]) * 2 // 3  # float → int32: truncation
    return np.vstack((points, upper[::-1]))


def _with_upper_face(landmarks: np.ndarray) -> np.ndarray:
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape == (83, 2):
        return points
    return add_upper_face(points)


def face_part_labels(landmarks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Filled facial-part map: ``(H, W)`` uint8, 0 background, then the :class:`FacePart` labels.

    Args:
        landmarks: ``(68, 2)`` or ``(83, 2)`` (upper face added) ``(x, y)``.
        size: ``(H, W)``.
    """
    import cv2

    height, width = size
    points = _with_upper_face(landmarks)
    labels = np.zeros((height, width), np.uint8)
    for part in FACE_PARTS:
        indices = [i for edge in part.edges for i in edge]
        cv2.fillPoly(labels, pts=[points[indices].astype(np.int32)], color=part.label)
    return labels


def face_edge_maps(
    landmarks: np.ndarray, size: tuple[int, int], add_dist_map: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """The face curves and their distance maps at full frame size.

    Args:
        landmarks: ``(68, 2)`` or ``(83, 2)`` ``(x, y)``.
        size: ``(H, W)``.
        add_dist_map: also compute one distance map per edge.

    Returns:
        ``edges`` ``(H, W)`` uint8 in ``{0, 255}`` (all curves) and ``dist`` ``(14, H, W)`` uint8
        ``clip(d / 3, 0, 255)`` (``None`` without ``add_dist_map``).
    """
    import cv2

    height, width = size
    points = _with_upper_face(landmarks)
    edges = np.zeros((height, width), np.uint8)
    dist = np.zeros((_N_EDGES, height, width), np.uint8) if add_dist_map else None
    e = 0
    for part in FACE_PARTS:
        for edge in part.edges:
            single = np.zeros((height, width), np.uint8)
            for i in range(0, max(1, len(edge) - 1), 2):
                piece = list(edge[i : i + 3])
                curve_x, curve_y = interp_points(points[piece, 0], points[piece, 1])
                draw_edge(edges, curve_x, curve_y)
                if dist is not None:
                    draw_edge(single, curve_x, curve_y)
            if dist is not None:
                d = cv2.distanceTransform(255 - single, cv2.DIST_L1, 3)
                dist[e] = np.clip(d / 3, 0, 255).astype(np.uint8)
            e += 1
    return edges, dist


# --------------------------------------------------------------------------------------------
# Point scaling (the original's --random_scale_points)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FacePointScaling:
    """Per-part scaling of the landmarks (the original's ``scale_points``).

    Rows index the part groups by label - 1: 0 face outline, 1 eyebrows, 2 nose, 3 eyes, 4 outer
    mouth, 5 inner mouth. ``ratio`` ``(6, 2)`` scales each part about its mean (x, y) and
    ``shift`` ``(6, 2)`` moves it in pixels; ``sym_ratio`` ``(6, 2)`` scales the distance between
    the two eyebrows (row 1) and the two eyes (row 3) about their common mean.
    """

    ratio: np.ndarray
    sym_ratio: np.ndarray
    shift: np.ndarray


#: The fixed values the original uses with ``--random_scale_points`` (its random draw is commented out).
ORIGINAL_POINT_SCALING = FacePointScaling(
    ratio=np.array([[0.9, 1], [1, 1], [0.9, 1], [1, 1.1], [0.9, 0.9], [0.9, 0.9]]),
    sym_ratio=np.array([[1, 1], [0.9, 1], [1, 1], [0.9, 1], [1, 1], [1, 1]]),
    shift=np.zeros((6, 2)),
)


def random_point_scaling(
    rng: np.random.Generator, ratio_range: tuple[float, float] = (0.9, 1.1), max_shift: float = 5.0
) -> FacePointScaling:
    """Random :class:`FacePointScaling`: ratios uniform in ``ratio_range``, shifts in ``±max_shift``
    pixels (the ranges of the original's commented-out random draw)."""
    low, high = ratio_range
    return FacePointScaling(
        ratio=rng.uniform(low, high, size=(6, 2)),
        sym_ratio=rng.uniform(low, high, size=(6, 2)),
        shift=rng.uniform(-max_shift, max_shift, size=(6, 2)),
    )


def _scale_group(
    points: np.ndarray, edges: list[tuple[int, ...]], ratio: np.ndarray, shift: np.ndarray
) -> None:
    indices = [i for edge in edges for i in edge]
    pts = points[indices]
    mean = pts.mean(axis=0)
    pts = (pts - mean) * ratio + mean + shift
    points[indices] = pts


def _scale_symmetric(points: np.ndarray, edges: list[tuple[int, ...]], ratio: np.ndarray) -> None:
    indices = [i for edge in edges for i in edge]
    mean = points[indices].mean(axis=0)
    for edge in edges:
        pts = points[list(edge)]
        own = pts.mean(axis=0)
        new_own = (own - mean) * ratio + mean
        points[list(edge)] = (pts - own) + new_own  # the original's order of operations


def scale_face_points(landmarks: np.ndarray, scaling: FacePointScaling) -> np.ndarray:
    """Move and scale the facial parts as the original's ``scale_points`` (on a copy).

    First the two eyebrows and the two eyes are moved apart / together (``sym_ratio``), then every
    part is scaled about its mean and shifted. The part labels are drawn from the unscaled points
    (as in the original); only the curves and distance maps move.

    Args:
        landmarks: ``(68, 2)`` or ``(83, 2)`` ``(x, y)``.

    Returns:
        ``(83, 2)`` float64.
    """
    points = _with_upper_face(landmarks).copy()
    parts = {part.name: list(part.edges) for part in FACE_PARTS}
    _scale_symmetric(points, parts["right_eyebrow"] + parts["left_eyebrow"], scaling.sym_ratio[1])
    _scale_symmetric(points, parts["right_eye"] + parts["left_eye"], scaling.sym_ratio[3])
    for part in FACE_PARTS:
        _scale_group(points, list(part.edges), scaling.ratio[part.label - 1], scaling.shift[part.label - 1])
    return points


# --------------------------------------------------------------------------------------------
# Canny, crop box, output size
# --------------------------------------------------------------------------------------------


def canny_edges(frame: np.ndarray) -> np.ndarray:
    """Canny edges of an RGB frame as the original computes them
    (``skimage.feature.canny`` of PIL's grayscale): ``(H, W, 3)`` uint8 → ``(H, W)`` bool."""
    return canny(to_gray(frame))


@dataclass(frozen=True)
class FaceCropBox:
    """Crop rectangle in pixels: rows ``top:bottom``, columns ``left:right``."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)`` of the box."""
        return self.bottom - self.top, self.right - self.left

    def crop_array(self, image: np.ndarray) -> np.ndarray:
        """Crop an ``(H, W, ...)`` array with numpy slicing, as the original crops its maps."""
        return image[self.top : self.bottom, self.left : self.right]

    def crop_image(self, image: np.ndarray) -> np.ndarray:
        """Crop an ``(H, W, 3)`` uint8 frame as PIL's ``Image.crop`` (outside the frame: black),
        as the original crops its frames."""
        from PIL import Image

        return np.asarray(Image.fromarray(image).crop((self.left, self.top, self.right, self.bottom)))

    def jittered(self, rng: np.random.Generator, amount: float, size: tuple[int, int]) -> FaceCropBox:
        """A box moved by up to ``amount × side`` in x and y and rescaled by ``1 ± amount``, kept
        inside a ``size`` ``(H, W)`` frame where it fits (our augmentation; 0 = unchanged)."""
        if amount <= 0:
            return self
        height, width = self.size
        side = max(height, width) * (1.0 + rng.uniform(-amount, amount))
        cx = (self.left + self.right) / 2 + rng.uniform(-amount, amount) * width
        cy = (self.top + self.bottom) / 2 + rng.uniform(-amount, amount) * height
        half = max(1, int(side // 2))
        cx = min(max(cx, half), size[1] - half) if 2 * half <= size[1] else cx
        cy = min(max(cy, half), size[0] - half) if 2 * half <= size[0] else cy
        return FaceCropBox(int(cx - half), int(cy - half), int(cx + half), int(cy + half))


def face_crop_box(landmarks: np.ndarray, size: tuple[int, int]) -> FaceCropBox:
    """The original's face crop (``get_crop_coords``), from one frame's 68 landmarks.

    Args:
        landmarks: ``(68, 2)`` ``(x, y)``.
        size: ``(H, W)`` of the frame.

    Returns:
        A square box of side ``2.5 × (max x - min x)``, centred at ``((min x + max x) // 2,
        (3 min y + max y) // 4)``, shifted to lie inside the frame when it fits.
    """
    points = _check_landmarks(landmarks, "landmarks")
    height, width = size
    min_x, max_x = points[:, 0].min(), points[:, 0].max()
    min_y, max_y = points[:, 1].min(), points[:, 1].max()
    side = (max_x - min_x) * 2.5
    if side <= 0:
        raise ValueError("landmarks have zero width: cannot place a face crop box")
    xc = (min_x + max_x) // 2
    yc = (min_y * 3 + max_y) // 4
    xc = min(max(0, xc - side // 2) + side, width) - side // 2
    yc = min(max(0, yc - side // 2) + side, height) - side // 2
    return FaceCropBox(
        left=int(xc - side // 2),
        top=int(yc - side // 2),
        right=int(xc + side // 2),
        bottom=int(yc + side // 2),
    )


def _round_to(n: float, base: int) -> int:
    return int(round(n / base) * base)


def face_output_size(crop_size: tuple[int, int], load_size: int) -> tuple[int, int]:
    """Output ``(H, W)`` of a ``crop_size`` ``(H, W)`` crop: the original's ``scaleWidth`` rule.

    Width ``load_size``, height ``load_size · H // W``; each rounded to a multiple of 4, then
    of 32 (Python ``round``: half to even).
    """
    height, width = crop_size
    if height < 1 or width < 1:
        raise ValueError(f"face crop is empty ({width}x{height}); are the landmarks inside the frame?")
    new_w, new_h = load_size, load_size * height // width
    new_w, new_h = int(round(new_w / 4)) * 4, int(round(new_h / 4)) * 4
    out_h, out_w = _round_to(new_h, 32), _round_to(new_w, 32)
    if out_h < 32 or out_w < 32:
        raise ValueError(f"load_size {load_size} gives an empty {out_w}x{out_h} output; use at least 32")
    return out_h, out_w


# --------------------------------------------------------------------------------------------
# Generator input
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceFrameMaps:
    """One frame's full-size face maps: ``inputs`` ``(C, H, W)`` uint8 (edges, distance maps) and
    ``labels`` ``(H, W)`` uint8 part labels."""

    inputs: np.ndarray
    labels: np.ndarray


def render_face_maps(
    landmarks: np.ndarray,
    size: tuple[int, int],
    frame: np.ndarray | None = None,
    add_dist_map: bool = True,
    canny: bool = True,
    point_scaling: FacePointScaling | None = None,
) -> FaceFrameMaps:
    """The original's full-size face maps of one frame, uint8 (before crop and resize).

    Args:
        landmarks: ``(68, 2)`` ``(x, y)`` pixel coordinates in the frame.
        size: ``(H, W)`` of the frame.
        frame: the real ``(H, W, 3)`` uint8 RGB frame, for the Canny background edges (the
            original uses them at training and test time); without it none are added.
        add_dist_map: append the 14 per-edge distance maps (C = 15; else C = 1).
        canny: add Canny edges of ``frame`` where the part label is 0.
        point_scaling: move/scale the parts before drawing (see :func:`scale_face_points`).
    """
    height, width = size
    if height < 2 or width < 2:
        raise ValueError(f"size must be (H, W) with both >= 2, got {size}")
    if frame is not None and frame.shape[:2] != (height, width):
        raise ValueError(f"frame of shape {frame.shape} does not match size (H, W) = {size}")
    points = add_upper_face(landmarks)
    labels = face_part_labels(points, size)
    if point_scaling is not None:
        points = scale_face_points(points, point_scaling)
    edges, dist = face_edge_maps(points, size, add_dist_map)
    if canny and frame is not None:
        background = canny_edges(frame) & (labels == 0)
        edges += background.astype(np.uint8) * np.uint8(255)  # uint8 wrap-around, as the original
    inputs = edges[None] if dist is None else np.concatenate([edges[None], dist], axis=0)
    return FaceFrameMaps(inputs=inputs, labels=labels)


def face_input_maps(
    landmarks: np.ndarray,
    size: tuple[int, int],
    frame: np.ndarray | None = None,
    add_dist_map: bool = True,
    canny: bool = True,
) -> np.ndarray:
    """The edge-to-face generator input of one frame at full frame size, float32 in ``[0, 1]``.

    ``(C, H, W)``, C = 15 (:data:`FACE_INPUT_NC`) or 1 without distance maps; see
    :func:`render_face_maps` (this is its ``inputs / 255``). Crop and resize as the original with
    :func:`build_face_clip`.
    """
    maps = render_face_maps(landmarks, size, frame=frame, add_dist_map=add_dist_map, canny=canny)
    return maps.inputs.astype(np.float32) / 255.0


def _resize(image: np.ndarray, size: tuple[int, int], method: str) -> np.ndarray:
    from PIL import Image

    resample = {"bilinear": Image.BILINEAR, "nearest": Image.NEAREST, "bicubic": Image.BICUBIC}[method]
    return np.asarray(Image.fromarray(np.ascontiguousarray(image)).resize((size[1], size[0]), resample))


@dataclass(frozen=True)
class FaceClip:
    """Face maps of a clip, cropped and resized as the original.

    ``inputs`` ``(T, C, h, w)`` uint8 (the network sees ``inputs / 255``, in ``[0, 1]``);
    ``labels`` ``(T, h, w)`` uint8 part labels; ``frames`` ``(T, h, w, 3)`` uint8 crops resized
    bicubic (``None`` without frames); ``box`` the crop box in the original frames.
    """

    inputs: np.ndarray
    labels: np.ndarray
    frames: np.ndarray | None
    box: FaceCropBox


def build_face_clip(
    landmarks: list[np.ndarray],
    frames: list[np.ndarray] | np.ndarray | None,
    size: tuple[int, int] | None = None,
    load_size: int = 512,
    add_dist_map: bool = True,
    canny: bool = True,
    box: FaceCropBox | None = None,
    point_scaling: FacePointScaling | None = None,
) -> FaceClip:
    """Build the original's face inputs for consecutive frames (``face_dataset.py``).

    Args:
        landmarks: per frame ``(68, 2)`` ``(x, y)``.
        frames: per frame ``(H, W, 3)`` uint8 RGB, or ``None`` (no Canny edges, no frames out).
        size: ``(H, W)`` of the frames (needed without ``frames``).
        load_size: output width (``scaleWidth``); the height follows the crop's aspect.
        add_dist_map, canny: see :func:`render_face_maps`.
        box: crop box; default the original's box of the first frame's landmarks.
        point_scaling: see :func:`scale_face_points` (the same for every frame).
    """
    if len(landmarks) == 0:
        raise ValueError("build_face_clip needs at least one frame of landmarks")
    if frames is not None:
        if len(frames) != len(landmarks):
            raise ValueError(f"{len(frames)} frames but {len(landmarks)} landmark sets")
        size = tuple(frames[0].shape[:2])  # type: ignore[assignment]
    if size is None:
        raise ValueError("give the frame size (H, W) or the frames")
    if box is None:
        box = face_crop_box(landmarks[0], size)
    out_size = face_output_size(box.size, load_size)
    inputs, labels, crops = [], [], []
    for t, points in enumerate(landmarks):
        frame = None if frames is None else np.asarray(frames[t])
        maps = render_face_maps(points, size, frame, add_dist_map, canny, point_scaling)
        inputs.append(np.stack([_resize(box.crop_array(m), out_size, "bilinear") for m in maps.inputs]))
        labels.append(_resize(box.crop_array(maps.labels), out_size, "nearest"))
        if frame is not None:
            crops.append(_resize(box.crop_image(frame), out_size, "bicubic"))
    return FaceClip(
        inputs=np.stack(inputs),
        labels=np.stack(labels),
        frames=np.stack(crops) if crops else None,
        box=box,
    )
