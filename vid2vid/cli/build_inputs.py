"""``vid2vid build-inputs face|pose``: turn per-frame landmarks / keypoints into generator inputs.

One input file per frame: ``<out>/<stem>.npy``, a ``(C, H, W)`` float16 array holding exactly
what :func:`vid2vid.data.face.face_input_maps` (C = 15 or 1, values in ``[0, 1]``) or
:func:`vid2vid.data.pose.pose_input_maps` (C = 3 or 6, values in ``[-1, 1]``) return, named after
the landmark / keypoint file. float16 keeps these maps exactly enough (every value is a multiple
of 1/255 before resizing) at half the size of float32, and one format for every channel count
means readers need no per-modality decoding. ``<out>/inputs.json`` records the settings.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["register", "run", "build_face_inputs", "build_pose_inputs", "parse_size"]

_LANDMARK_SUFFIXES = (".txt", ".json", ".npy")


def parse_size(text: str) -> tuple[int, int]:
    """``"WxH"`` → ``(H, W)``."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size must be WxH, e.g. 256x128, got {text!r}") from None
    if width < 2 or height < 2:
        raise ValueError(f"size must be at least 2x2, got {text!r}")
    return height, width


def _list_files(folder: Path, suffixes: tuple[str, ...], what: str) -> list[Path]:
    from vid2vid.data.io import natural_sort_key

    if not folder.is_dir():
        raise FileNotFoundError(f"{what} folder {folder} does not exist")
    files = [
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith(".")
    ]
    if not files:
        raise ValueError(f"{what} folder {folder} holds no {'/'.join(suffixes)} files")
    return sorted(files, key=lambda p: natural_sort_key(p.name))


def _save_npy(path: Path, array: Any) -> None:
    import numpy as np

    from vid2vid.atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, np.ascontiguousarray(array, dtype=np.float16))


def _write_info(out: Path, info: dict[str, Any]) -> None:
    from vid2vid.atomic import atomic_write_text

    atomic_write_text(out / "inputs.json", json.dumps(info, indent=2) + "\n")


def _resize_maps(maps: Any, size: tuple[int, int]) -> Any:
    """Bilinear resize of ``(C, H, W)`` float maps to ``size`` ``(H, W)`` (the original's transform)."""
    import cv2
    import numpy as np

    height, width = size
    return np.stack([cv2.resize(m, (width, height), interpolation=cv2.INTER_LINEAR) for m in maps])


def build_face_inputs(
    landmarks_dir: str | Path,
    out: str | Path,
    size: tuple[int, int] | None = None,
    frames: str | Path | None = None,
    add_dist_map: bool = True,
    canny: bool = True,
    crop: bool = False,
    resize: tuple[int, int] | None = None,
) -> list[Path]:
    """Edge-to-face inputs for a folder of landmark files (one per frame, natural name order).

    Args:
        landmarks_dir: ``.txt`` / ``.json`` / ``.npy`` landmark files (see
            :func:`vid2vid.data.face.read_face_landmarks`).
        out: output folder (created).
        size: ``(H, W)`` of the frames the landmarks refer to; default the size of ``frames``.
        frames: optional folder of frames or video of the real frames (for Canny background edges),
            one frame per landmark file.
        add_dist_map, canny: see :func:`vid2vid.data.face.face_input_maps`.
        crop: crop every frame to the face box of the first frame's landmarks (the original).
        resize: optional output ``(H, W)`` after cropping (bilinear).

    Returns:
        The written ``.npy`` files.
    """
    from vid2vid.data.face import FaceCropBox, face_crop_box, face_input_maps, read_face_landmarks
    from vid2vid.data.io import read_frames

    files = _list_files(Path(landmarks_dir), _LANDMARK_SUFFIXES, "landmark")
    real = None
    if frames is not None:
        real = read_frames(frames)
        if len(real) != len(files):
            raise ValueError(
                f"{frames} has {len(real)} frames but {landmarks_dir} has {len(files)} landmark files"
            )
        if size is not None and tuple(size) != real.shape[1:3]:
            raise ValueError(
                f"--size {size[1]}x{size[0]} does not match the frames of {frames} "
                f"({real.shape[2]}x{real.shape[1]})"
            )
        size = (int(real.shape[1]), int(real.shape[2]))
    if size is None:
        raise ValueError("give the frame size (--size WxH) or the frames (--frames)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    box: FaceCropBox | None = None
    written = []
    for t, path in enumerate(files):
        landmarks = read_face_landmarks(path)
        if crop and box is None:
            box = face_crop_box(landmarks, size)
        frame = None if real is None else real[t]
        maps = face_input_maps(landmarks, size, frame=frame, add_dist_map=add_dist_map, canny=canny)
        if box is not None:
            maps = box.apply_chw(maps)
        if resize is not None:
            maps = _resize_maps(maps, resize)
        target = out / f"{path.stem}.npy"
        _save_npy(target, maps)
        written.append(target)
    _write_info(
        out,
        {
            "kind": "face",
            "channels": int(maps.shape[0]),
            "range": [0.0, 1.0],
            "layout": "edges, then one distance map per facial edge",
            "source_size_hw": list(size),
            "crop_box_ltrb": None if box is None else [box.left, box.top, box.right, box.bottom],
            "size_hw": list(maps.shape[1:]),
            "canny": bool(canny and real is not None),
        },
    )
    return written


def build_pose_inputs(
    keypoints_dir: str | Path,
    out: str | Path,
    size: tuple[int, int] | None = None,
    densepose: str | Path | None = None,
    basic_point_only: bool = False,
) -> list[Path]:
    """Pose-to-body inputs for a folder of OpenPose JSON files (one per frame, natural name order).

    Args:
        keypoints_dir: OpenPose ``*.json`` files.
        out: output folder (created).
        size: ``(H, W)`` of the frames; default the size of the DensePose images.
        densepose: optional folder of DensePose IUV PNGs, one per keypoint file.
        basic_point_only: see :func:`vid2vid.data.pose.render_openpose`.

    Returns:
        The written ``.npy`` files.
    """
    from vid2vid.data.io import list_frame_files, read_frames
    from vid2vid.data.pose import pose_input_maps

    files = _list_files(Path(keypoints_dir), (".json",), "OpenPose keypoint")
    iuv = None
    if densepose is not None:
        n_dp = len(list_frame_files(densepose))
        if n_dp != len(files):
            raise ValueError(
                f"{densepose} has {n_dp} DensePose images but {keypoints_dir} has {len(files)} files"
            )
        iuv = read_frames(densepose)
        if size is not None and tuple(size) != iuv.shape[1:3]:
            raise ValueError(
                f"--size {size[1]}x{size[0]} does not match the DensePose images of {densepose} "
                f"({iuv.shape[2]}x{iuv.shape[1]})"
            )
        size = (int(iuv.shape[1]), int(iuv.shape[2]))
    if size is None:
        raise ValueError("give the frame size (--size WxH) or the DensePose images (--densepose)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for t, path in enumerate(files):
        maps = pose_input_maps(
            path, size, densepose=None if iuv is None else iuv[t], basic_point_only=basic_point_only
        )
        target = out / f"{path.stem}.npy"
        _save_npy(target, maps)
        written.append(target)
    _write_info(
        out,
        {
            "kind": "pose",
            "channels": 3 if iuv is None else 6,
            "range": [-1.0, 1.0],
            "layout": "OpenPose RGB" if iuv is None else "DensePose V, U, I, then OpenPose RGB",
            "size_hw": list(size),
        },
    )
    return written


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``build-inputs`` sub-command with its ``face`` and ``pose`` modes."""
    parser = subparsers.add_parser(
        "build-inputs",
        help="convert per-frame face landmarks / OpenPose keypoints into generator inputs",
        description="Write one (C, H, W) float16 .npy generator input per landmark/keypoint file.",
    )
    modes = parser.add_subparsers(dest="mode", metavar="MODE", required=True)

    face = modes.add_parser("face", help="edge-to-face inputs from 68-point landmarks (.txt/.json/.npy)")
    face.add_argument("--landmarks", required=True, help="folder with one landmark file per frame")
    face.add_argument("--out", required=True, help="output folder")
    face.add_argument("--frames", help="real frames (folder or video) for Canny background edges")
    face.add_argument("--size", help="frame size WxH the landmarks refer to (default: size of --frames)")
    face.add_argument("--no-dist-map", action="store_true", help="edge channel only (no distance maps)")
    face.add_argument("--no-canny", action="store_true", help="no Canny edges of the real frames")
    face.add_argument("--crop", action="store_true", help="crop to the face box of the first frame")
    face.add_argument("--resize", help="resize the (cropped) maps to WxH")
    face.set_defaults(func=run)

    pose = modes.add_parser("pose", help="pose-to-body inputs from OpenPose JSON (+ DensePose IUV)")
    pose.add_argument("--keypoints", required=True, help="folder with one OpenPose JSON per frame")
    pose.add_argument("--out", required=True, help="output folder")
    pose.add_argument("--densepose", help="folder with one DensePose IUV PNG per frame")
    pose.add_argument("--size", help="frame size WxH (default: size of the DensePose images)")
    pose.add_argument(
        "--basic-point-only", action="store_true", help="body limbs only (no head, hands, face)"
    )
    pose.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``build-inputs``; returns the exit code."""
    size = parse_size(args.size) if args.size else None
    if args.mode == "face":
        written = build_face_inputs(
            args.landmarks,
            args.out,
            size=size,
            frames=args.frames,
            add_dist_map=not args.no_dist_map,
            canny=not args.no_canny,
            crop=args.crop,
            resize=parse_size(args.resize) if args.resize else None,
        )
    else:
        written = build_pose_inputs(
            args.keypoints,
            args.out,
            size=size,
            densepose=args.densepose,
            basic_point_only=args.basic_point_only,
        )
    print(f"wrote {len(written)} input map(s) to {args.out}")
    return 0
