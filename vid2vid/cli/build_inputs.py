"""``vid2vid build-inputs face|pose``: turn per-frame landmarks / keypoints into generator inputs.

Builds exactly the original's test-time inputs (``face_dataset.py`` / ``pose_dataset.py``: crop,
resize, central crop) and writes them losslessly, one ``<out>/<stem>.npy`` ``(C, H, W)`` uint8 map
per frame plus ``<out>/inputs.json`` (see :mod:`vid2vid.data.input_maps`; decode with
:func:`vid2vid.data.input_maps.read_input_maps`). With ``--frames-out`` the matching target
frames (cropped and resized the same way) are written as PNGs, so ``<root>/{phase}_A/<clip>`` +
``<root>/{phase}_B/<clip>`` form a :class:`~vid2vid.data.ClipDataset` with ``label_nc=0``.
"""

from __future__ import annotations

import argparse
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


def _write_frames(frames: Any, stems: list[str], out: Path) -> None:
    from PIL import Image

    from vid2vid.atomic import atomic_path

    out.mkdir(parents=True, exist_ok=True)
    for frame, stem in zip(frames, stems, strict=True):
        with atomic_path(out / f"{stem}.png") as tmp:
            Image.fromarray(frame).save(tmp, format="PNG")


def build_face_inputs(
    landmarks_dir: str | Path,
    out: str | Path,
    load_size: int | None = 512,
    size: tuple[int, int] | None = None,
    frames: str | Path | None = None,
    add_dist_map: bool = True,
    canny: bool = True,
    frames_out: str | Path | None = None,
) -> list[Path]:
    """The original's edge-to-face inputs for a folder of landmark files (natural name order).

    Args:
        landmarks_dir: ``.txt`` / ``.json`` / ``.npy`` landmark files, one per frame.
        out: output folder (created): ``<stem>.npy`` uint8 ``(C, H, W)`` + ``inputs.json``.
        load_size: output width after cropping to the first frame's face box (the original's
            test-time crop and ``scaleWidth``); ``None``: full frame size, no crop.
        size: ``(H, W)`` of the frames the landmarks refer to; default the size of ``frames``.
        frames: folder of frames or video of the real frames (Canny background edges).
        add_dist_map, canny: see :func:`vid2vid.data.face.render_face_maps`.
        frames_out: also write the cropped, resized frames there as PNGs (needs ``frames``).

    Returns:
        The written ``.npy`` files.
    """
    import numpy as np

    from vid2vid.data.face import build_face_clip, read_face_landmarks, render_face_maps
    from vid2vid.data.input_maps import write_input_info, write_input_map
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
                f"--size {size[1]}x{size[0]} does not match the frames of {frames} ({real.shape[2]}x{real.shape[1]})"
            )
        size = (int(real.shape[1]), int(real.shape[2]))
    if size is None:
        raise ValueError("give the frame size (--size WxH) or the frames (--frames)")
    if frames_out is not None and real is None:
        raise ValueError("--frames-out needs the frames (--frames)")
    landmarks = [read_face_landmarks(p) for p in files]
    box = None
    if load_size is None:
        maps = np.stack(
            [
                render_face_maps(lm, size, None if real is None else real[t], add_dist_map, canny).inputs
                for t, lm in enumerate(landmarks)
            ]
        )
        crops = real
    else:
        clip = build_face_clip(
            landmarks, None if real is None else list(real), size, load_size, add_dist_map, canny
        )
        maps, crops, box = clip.inputs, clip.frames, clip.box
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [write_input_map(out / f"{path.stem}.npy", m) for path, m in zip(files, maps, strict=True)]
    if frames_out is not None:
        _write_frames(crops, [p.stem for p in files], Path(frames_out))
    write_input_info(
        out,
        {
            "kind": "face",
            "channels": int(maps.shape[1]),
            "decode": "unit",
            "range": [0.0, 1.0],
            "layout": "edges, then one distance map per facial edge",
            "source_size_hw": list(size),
            "crop_box_ltrb": None if box is None else [box.left, box.top, box.right, box.bottom],
            "size_hw": list(maps.shape[2:]),
            "canny": bool(canny and real is not None),
        },
    )
    return written


def build_pose_inputs(
    keypoints_dir: str | Path | None,
    out: str | Path,
    load_size: int | None = 512,
    size: tuple[int, int] | None = None,
    densepose: str | Path | None = None,
    basic_point_only: bool = False,
    center_crop: bool = True,
    frames: str | Path | None = None,
    frames_out: str | Path | None = None,
) -> list[Path]:
    """The original's pose-to-body inputs (natural name order of the files).

    Args:
        keypoints_dir: OpenPose ``*.json`` files, one per frame (``None``: DensePose only).
        out: output folder (created): ``<stem>.npy`` uint8 ``(C, H, W)`` + ``inputs.json``.
        load_size: output height (the original's test-time ``scaleHeight``); ``None``: keep the
            frame size (sides rounded to multiples of 32).
        size: ``(H, W)`` of the frames; default the size of the DensePose images or frames.
        densepose: optional folder of DensePose IUV PNGs, one per frame.
        basic_point_only: see :func:`vid2vid.data.pose.render_openpose`.
        center_crop: keep the central half of the columns (the original always does).
        frames, frames_out: real frames to resize/crop the same way and write as PNGs.

    Returns:
        The written ``.npy`` files.
    """
    from vid2vid.data.input_maps import write_input_info, write_input_map
    from vid2vid.data.io import list_frame_files, read_frames
    from vid2vid.data.pose import PoseGeometry, pose_geometry, pose_input_uint8, read_openpose

    files = _list_files(Path(keypoints_dir), (".json",), "OpenPose keypoint") if keypoints_dir else None
    iuv = None
    count = None if files is None else len(files)
    if densepose is not None:
        dp_files = list_frame_files(densepose)
        if count is not None and len(dp_files) != count:
            raise ValueError(
                f"{densepose} has {len(dp_files)} DensePose images but {keypoints_dir} has {count} files"
            )
        iuv = read_frames(densepose)
        count = len(iuv)
        size = _check_size(size, iuv.shape[1:3], densepose, "DensePose images")
    if count is None:
        raise ValueError("give OpenPose keypoints (--keypoints), DensePose images (--densepose) or both")
    real = None
    if frames is not None:
        real = read_frames(frames)
        if len(real) != count:
            raise ValueError(f"{frames} has {len(real)} frames but there are {count} input frames")
        size = _check_size(size, real.shape[1:3], frames, "frames")
    if size is None:
        raise ValueError("give the frame size (--size WxH), the DensePose images (--densepose) or the frames")
    if frames_out is not None and real is None:
        raise ValueError("--frames-out needs the frames (--frames)")
    if load_size is None:
        geometry = PoseGeometry(resize=(size[0] // 32 * 32, size[1] // 32 * 32), center_crop=center_crop)
    else:
        geometry = pose_geometry(size, load_size, mode="scale_height", center_crop=center_crop)
    stems = [p.stem for p in files] if files is not None else [p.stem for p in list_frame_files(densepose)]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for t, stem in enumerate(stems):
        people = read_openpose(files[t]) if files is not None else None
        maps = pose_input_uint8(people, geometry, size, None if iuv is None else iuv[t], basic_point_only)
        written.append(write_input_map(out / f"{stem}.npy", maps))
    if frames_out is not None:
        _write_frames([geometry.apply(f, "bicubic") for f in real], stems, Path(frames_out))
    layout = ([] if iuv is None else ["DensePose V", "DensePose U", "DensePose I"]) + (
        [] if files is None else ["OpenPose R", "OpenPose G", "OpenPose B"]
    )
    write_input_info(
        out,
        {
            "kind": "pose",
            "channels": len(layout),
            "decode": "symmetric",
            "densepose_index_channels": [] if iuv is None else [2],
            "range": [-1.0, 1.0],
            "layout": layout,
            "source_size_hw": list(size),
            "size_hw": list(geometry.output_size),
        },
    )
    return written


def _check_size(size: tuple[int, int] | None, found: Any, where: Any, what: str) -> tuple[int, int]:
    found = (int(found[0]), int(found[1]))
    if size is not None and tuple(size) != found:
        raise ValueError(
            f"--size {size[1]}x{size[0]} does not match the {what} of {where} ({found[1]}x{found[0]})"
        )
    return found


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``build-inputs`` sub-command with its ``face`` and ``pose`` modes."""
    parser = subparsers.add_parser(
        "build-inputs",
        help="convert per-frame face landmarks / OpenPose keypoints into generator inputs",
        description="Write the original's inputs as one (C, H, W) uint8 .npy per frame plus inputs.json.",
    )
    modes = parser.add_subparsers(dest="mode", metavar="MODE", required=True)

    face = modes.add_parser("face", help="edge-to-face inputs from 68-point landmarks (.txt/.json/.npy)")
    face.add_argument("--landmarks", required=True, help="folder with one landmark file per frame")
    face.add_argument("--out", required=True, help="output folder")
    face.add_argument("--frames", help="real frames (folder or video) for Canny background edges")
    face.add_argument("--frames-out", help="also write the cropped, resized frames (PNG) here")
    face.add_argument("--size", help="frame size WxH the landmarks refer to (default: size of --frames)")
    face.add_argument(
        "--load-size", type=int, default=512, help="output width after the face crop (default 512)"
    )
    face.add_argument("--no-crop", action="store_true", help="full frame size: no face crop, no resize")
    face.add_argument("--no-dist-map", action="store_true", help="edge channel only (no distance maps)")
    face.add_argument("--no-canny", action="store_true", help="no Canny edges of the real frames")
    face.set_defaults(func=run)

    pose = modes.add_parser("pose", help="pose-to-body inputs from OpenPose JSON (+ DensePose IUV)")
    pose.add_argument("--keypoints", help="folder with one OpenPose JSON per frame")
    pose.add_argument("--out", required=True, help="output folder")
    pose.add_argument("--densepose", help="folder with one DensePose IUV PNG per frame")
    pose.add_argument("--frames", help="real frames (folder or video), for --frames-out and the size")
    pose.add_argument("--frames-out", help="also write the resized, cropped frames (PNG) here")
    pose.add_argument("--size", help="frame size WxH (default: size of the DensePose images / frames)")
    pose.add_argument("--load-size", type=int, default=512, help="output height (default 512)")
    pose.add_argument("--no-resize", action="store_true", help="keep the frame size (rounded down to 32)")
    pose.add_argument(
        "--no-center-crop",
        action="store_true",
        help="keep every column (the original keeps the central half)",
    )
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
            load_size=None if args.no_crop else args.load_size,
            size=size,
            frames=args.frames,
            add_dist_map=not args.no_dist_map,
            canny=not args.no_canny,
            frames_out=args.frames_out,
        )
    else:
        written = build_pose_inputs(
            args.keypoints,
            args.out,
            load_size=None if args.no_resize else args.load_size,
            size=size,
            densepose=args.densepose,
            basic_point_only=args.basic_point_only,
            center_crop=not args.no_center_crop,
            frames=args.frames,
            frames_out=args.frames_out,
        )
    print(f"wrote {len(written)} input map(s) to {args.out}")
    return 0
