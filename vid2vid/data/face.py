"""Edge-to-face inputs from 68-point facial landmarks (vid2vid paper §4, "edge → face" videos).

Mirrors what the original's ``data/face_dataset.py`` feeds its generator, rewritten:

- Landmarks in the dlib / iBUG-300W layout: jaw 0-16, eyebrows 17-21 / 22-26, nose 27-35, eyes
  36-41 / 42-47, outer mouth 48-59, inner mouth 60-67. The original's landmark files are text,
  one ``x,y`` line per point (68 lines); JSON and ``.npy`` ``(68, 2)`` are accepted too.
- The upper half of the face outline is made up by mirroring the jaw line (points 1-15) about
  the line through points 0 and 16, squeezed to 2/3 height: 15 extra points, 83 in all.
- Every facial part is a list of polylines ("edges"); each edge is drawn piece by piece, a
  quadratic curve through every 3 consecutive points (a straight line for a 2-point piece),
  rasterised 1 px wide with ``cv2.polylines`` and thickened with the original's 2 × 2 stamp
  (offsets -1 and 0 in x and y).
- Input channels (:data:`FACE_INPUT_NC` = 15, the original's ``--input_nc 15``):
  channel 0 the edge map in ``{0, 1}`` (all face edges, plus Canny edges of the real frame
  outside the face region); channels 1-14 one distance map per edge:
  ``floor(min(d / 3, 255)) / 255`` with ``d`` the L1 distance in pixels to that edge, in
  ``[0, 1]`` (0 on the edge). The original does not normalise these maps to ``[-1, 1]``.
- The crop box: a square of 2.5 × the landmarks' width, centred horizontally on them and
  vertically a quarter of the way from their top to their bottom, shifted to stay inside the
  frame when it can (the original's ``get_crop_coords``).

Deliberate differences: where the original's curve fit is too bent (``|a| > 1``) it drops the
piece, and where the points turn back along the fitted axis it draws only part of it, leaving holes
in the edge map; we draw the straight polyline through the points instead.
Canny edges come from OpenCV (Gaussian σ = 1, thresholds 10 % / 20 % of the intensity range,
L2 gradient), which approximates ``skimage.feature.canny``'s defaults used by the original.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vid2vid.atomic import atomic_path

__all__ = [
    "FacePart",
    "FACE_PARTS",
    "FACE_INPUT_NC",
    "N_FACE_LANDMARKS",
    "FaceCropBox",
    "read_face_landmarks",
    "write_face_landmarks",
    "add_upper_face",
    "face_part_labels",
    "face_edge_maps",
    "edge_distance_maps",
    "canny_edges",
    "face_crop_box",
    "face_input_maps",
    "draw_curve",
    "square_stamp",
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
_N_EDGES = sum(len(part.edges) for part in FACE_PARTS)
#: Channels of :func:`face_input_maps` with distance maps: 1 edge map + one map per edge (14).
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
    return points.astype(np.float32)


def read_face_landmarks(path: str | os.PathLike) -> np.ndarray:
    """Read 68 facial landmarks.

    Formats by suffix: ``.txt`` (the original's: 68 lines ``x,y``; whitespace-separated also
    accepted), ``.json`` (a list of 68 ``[x, y]`` pairs, or an object with key ``"landmarks"``
    holding one) and ``.npy`` (a ``(68, 2)`` array).

    Returns:
        ``(68, 2)`` float32 pixel coordinates ``(x, y)``.
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
    """Write ``(68, 2)`` landmarks as ``.txt`` (``x,y`` lines), ``.json`` or ``.npy``, atomically."""
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
        else:
            f.write("".join(f"{x:.6g},{y:.6g}\n" for x, y in points.tolist()).encode("utf-8"))
    return path


# --------------------------------------------------------------------------------------------
# Geometry and drawing
# --------------------------------------------------------------------------------------------


def add_upper_face(landmarks: np.ndarray) -> np.ndarray:
    """Append the mirrored upper face outline.

    Args:
        landmarks: ``(68, 2)`` ``(x, y)``.

    Returns:
        ``(83, 2)`` float32: the 68 points, then jaw points 15 … 1 reflected about the line
        ``y = (y0 + y16) / 2`` and squeezed to 2/3 (integer pixel positions, as the original).
    """
    points = _check_landmarks(landmarks, "landmarks")
    jaw = np.trunc(points[:17]).astype(np.int64)
    baseline = (jaw[0, 1] + jaw[-1, 1]) / 2.0
    upper = jaw[1:-1].astype(np.float64)
    upper[:, 1] = np.trunc(baseline + np.floor((baseline - upper[:, 1]) * 2.0 / 3.0))
    return np.concatenate([points, upper[::-1].astype(np.float32)], axis=0)


def draw_curve(canvas: np.ndarray, xs: np.ndarray, ys: np.ndarray, value: int = 1) -> None:
    """Rasterise the original's curve through 2 or 3 points, 1 px wide, in place.

    A quadratic ``v = a u² + b u + c`` (a line for 2 points) is fitted along the axis ``u``
    with the larger step between points and drawn from the first to the last point (the
    original's ``interpPoints``), with integer pixel positions ``floor(x), floor(y)``. When the
    fit is too bent (``|a| > 1``) or the points do not advance along ``u`` (the curve turns back),
    where the original draws nothing or a piece of the curve, the straight polyline through the
    points is drawn.

    Args:
        canvas: ``(H, W)`` uint8, modified in place.
        xs, ys: the points' coordinates (2 or 3 each).
        value: pixel value to draw.
    """
    import cv2

    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    swap = np.abs(np.diff(xs)).max(initial=0.0) < np.abs(np.diff(ys)).max(initial=0.0)
    u, v = (ys, xs) if swap else (xs, ys)
    steps = np.diff(u)
    monotone = bool(np.all(steps > 0) or np.all(steps < 0))
    degree = 2 if len(u) >= 3 else 1
    curve: np.ndarray | None = None
    if monotone:
        coeffs = np.polyfit(u, v, degree)
        if degree == 1 or abs(coeffs[0]) <= 1.0:
            n = int(np.ceil(abs(u[-1] - u[0]))) + 1
            uu = np.linspace(u[0], u[-1], max(n, 2))
            vv = np.polyval(coeffs, uu)
            curve = np.stack([vv, uu] if swap else [uu, vv], axis=1)
    if curve is None:
        curve = np.stack([xs, ys], axis=1)
    # floor as the original's int cast, with a tolerance for the fit's rounding noise (94 - 1e-13 → 94)
    pixels = np.floor(curve + 1e-6).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(canvas, [pixels], isClosed=False, color=int(value), thickness=1)


def square_stamp(mask: np.ndarray, half: int) -> np.ndarray:
    """Thicken a 1-px drawing with the original's square stamp: offsets ``-half … half-1``.

    ``mask``: ``(H, W)`` uint8 → ``(H, W)`` uint8, every drawn pixel p spreads to p + [-half, half-1]².
    """
    import cv2

    if half <= 0:
        return mask
    kernel = np.ones((2 * half, 2 * half), np.uint8)
    # cv2.dilate: dst(x) = max_k src(x + k - anchor) → offsets anchor - k ∈ [-half, half - 1].
    return cv2.dilate(mask, kernel, anchor=(half - 1, half - 1))


def _edge_pieces(edge: tuple[int, ...], piece_len: int) -> list[tuple[int, ...]]:
    """Split a polyline into pieces of ``piece_len`` points sharing their end points (original)."""
    return [edge[i : i + piece_len] for i in range(0, max(1, len(edge) - 1), piece_len - 1)]


def face_edge_maps(landmarks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """One edge image per facial edge (14 of them, in :data:`FACE_PARTS` order).

    Args:
        landmarks: ``(68, 2)`` ``(x, y)`` pixels, or ``(83, 2)`` with the upper face already added.
        size: ``(H, W)`` of the canvas.

    Returns:
        ``(14, H, W)`` uint8 in ``{0, 1}``; their union is the face edge map.
    """
    height, width = size
    points = landmarks if len(landmarks) == 83 else add_upper_face(landmarks)
    maps = np.zeros((_N_EDGES, height, width), np.uint8)
    e = 0
    for part in FACE_PARTS:
        for edge in part.edges:
            line = np.zeros((height, width), np.uint8)
            for piece in _edge_pieces(edge, 3):
                draw_curve(line, points[list(piece), 0], points[list(piece), 1])
            maps[e] = square_stamp(line, 1)
            e += 1
    return maps


def edge_distance_maps(edge_maps: np.ndarray) -> np.ndarray:
    """The original's distance-transform channels.

    Args:
        edge_maps: ``(N, H, W)`` in ``{0, 1}``.

    Returns:
        ``(N, H, W)`` float32 ``floor(min(d / 3, 255)) / 255`` in ``[0, 1]``, ``d`` the L1 distance
        in pixels to the nearest edge pixel (0 on edges; 1 everywhere for an empty edge map).
    """
    import cv2

    out = np.empty(edge_maps.shape, np.float32)
    for i, edges in enumerate(edge_maps):
        if not edges.any():
            out[i] = 1.0
            continue
        background = np.where(edges > 0, 0, 255).astype(np.uint8)
        dist = cv2.distanceTransform(background, cv2.DIST_L1, 3)
        out[i] = np.floor(np.clip(dist / 3.0, 0.0, 255.0)) / 255.0
    return out


def face_part_labels(landmarks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Filled facial-part map: ``(H, W)`` uint8, 0 background, then the :class:`FacePart` labels.

    Face 1, eyebrows 2, nose 3, eyes 4, mouth 5, inner mouth 6; later parts paint over earlier ones.
    """
    import cv2

    height, width = size
    points = landmarks if len(landmarks) == 83 else add_upper_face(landmarks)
    labels = np.zeros((height, width), np.uint8)
    for part in FACE_PARTS:
        indices = [i for edge in part.edges for i in edge]
        polygon = np.trunc(points[indices]).astype(np.int32)
        cv2.fillPoly(labels, [polygon], color=part.label)
    return labels


def canny_edges(frame: np.ndarray) -> np.ndarray:
    """Canny edges of an RGB frame: ``(H, W, 3)`` uint8 → ``(H, W)`` uint8 in ``{0, 1}``."""
    import cv2

    if frame.ndim != 3 or frame.shape[-1] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"frame must be (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}")
    gray = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    blurred = cv2.GaussianBlur(gray, (0, 0), sigmaX=1.0)
    edges = cv2.Canny(blurred, 0.1 * 255, 0.2 * 255, L2gradient=True)
    return (edges > 0).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Crop box
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceCropBox:
    """Crop rectangle in pixels: rows ``top:bottom``, columns ``left:right`` (may leave the frame)."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)`` of the cropped image."""
        return self.bottom - self.top, self.right - self.left

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Crop an ``(H, W)`` or ``(H, W, C)`` image; parts outside the frame are zero."""
        height, width = image.shape[:2]
        out = np.zeros((self.bottom - self.top, self.right - self.left, *image.shape[2:]), image.dtype)
        y0, y1 = max(self.top, 0), min(self.bottom, height)
        x0, x1 = max(self.left, 0), min(self.right, width)
        if y0 < y1 and x0 < x1:
            out[y0 - self.top : y1 - self.top, x0 - self.left : x1 - self.left] = image[y0:y1, x0:x1]
        return out

    def apply_chw(self, maps: np.ndarray) -> np.ndarray:
        """Crop ``(C, H, W)`` maps; parts outside the frame are zero."""
        return np.ascontiguousarray(self.apply(np.moveaxis(maps, 0, -1)).transpose(2, 0, 1))


def face_crop_box(landmarks: np.ndarray, size: tuple[int, int]) -> FaceCropBox:
    """The original's face crop (``get_crop_coords``), computed from one frame's landmarks.

    Args:
        landmarks: ``(68, 2)`` ``(x, y)``.
        size: ``(H, W)`` of the frame.

    Returns:
        A square box of side ``2.5 × (max x - min x)``, centred on the landmarks horizontally and at
        ``(3 min y + max y) / 4`` vertically, shifted to lie inside the frame when it fits.
    """
    points = _check_landmarks(landmarks, "landmarks")
    height, width = size
    min_x, max_x = float(points[:, 0].min()), float(points[:, 0].max())
    min_y, max_y = float(points[:, 1].min()), float(points[:, 1].max())
    side = (max_x - min_x) * 2.5
    if side <= 0:
        raise ValueError("landmarks have zero width: cannot place a face crop box")
    half = side // 2
    xc = (min_x + max_x) // 2
    yc = (min_y * 3 + max_y) // 4
    xc = min(max(0.0, xc - half) + side, width) - half
    yc = min(max(0.0, yc - half) + side, height) - half
    return FaceCropBox(left=int(xc - half), top=int(yc - half), right=int(xc + half), bottom=int(yc + half))


# --------------------------------------------------------------------------------------------
# Generator input
# --------------------------------------------------------------------------------------------


def face_input_maps(
    landmarks: np.ndarray,
    size: tuple[int, int],
    frame: np.ndarray | None = None,
    add_dist_map: bool = True,
    canny: bool = True,
) -> np.ndarray:
    """The edge-to-face generator input of one frame, at full frame size.

    Args:
        landmarks: ``(68, 2)`` ``(x, y)`` pixel coordinates in the frame.
        size: ``(H, W)`` of the frame.
        frame: the real ``(H, W, 3)`` uint8 RGB frame, for the Canny background edges (the
            original uses them at training and test time). Without it no Canny edges are added.
        add_dist_map: append the 14 per-edge distance maps.
        canny: add Canny edges of ``frame`` outside the face region (part label 0).

    Returns:
        ``(C, H, W)`` float32 in ``[0, 1]``, C = 15 (:data:`FACE_INPUT_NC`) or 1 without distance
        maps: channel 0 the edge map in ``{0, 1}``, then the distance maps (see module docstring).
        Crop with :func:`face_crop_box` / :meth:`FaceCropBox.apply_chw` as the original does.
    """
    height, width = size
    if height < 2 or width < 2:
        raise ValueError(f"size must be (H, W) with both >= 2, got {size}")
    if frame is not None and frame.shape[:2] != (height, width):
        raise ValueError(f"frame of shape {frame.shape} does not match size (H, W) = {size}")
    points = add_upper_face(landmarks)
    edge_maps = face_edge_maps(points, (height, width))
    edges = edge_maps.max(axis=0)
    if canny and frame is not None:
        background = face_part_labels(points, (height, width)) == 0
        edges = np.maximum(edges, canny_edges(frame) * background)
    channels = [edges.astype(np.float32)[None]]
    if add_dist_map:
        channels.append(edge_distance_maps(edge_maps))
    return np.concatenate(channels, axis=0)
