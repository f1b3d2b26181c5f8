"""``vid2vid demo``: synthesise a clip offline with the small checkpoints shipped in the package.

Three demo models, each trained by ``scripts/train_demo_model.py`` with the library's trainer on
one of the procedural sets of :mod:`vid2vid.data.synthetic`:

- ``--kind street`` (default, ``vid2vid/assets/demo/``): street label maps → street scenes;
- ``--kind face`` (``vid2vid/assets/demo_face/``): the original's 15 face input channels (edges +
  distance maps, ``[0, 1]``) drawn from the 68 landmarks of a synthetic talking face → 128×128 face;
- ``--kind pose`` (``vid2vid/assets/demo_pose/``): DensePose + OpenPose renderings (6 channels,
  ``[-1, 1]``) of a synthetic walking / dancing figure → 128×128 body.

All three start from an all-zero history (``no_first_frame`` models), so the demo needs nothing but
the package. A fresh synthetic clip is rendered (face and pose: written to a temporary dataset and
read back by :class:`~vid2vid.data.FaceDataset` / :class:`~vid2vid.data.PoseDataset` exactly as
at test time); the command writes the video and a PNG strip (inputs | output) next to it and
prints both paths. Example::

    vid2vid demo --out demo.mp4 --frames 30
    vid2vid demo --kind face --out face.mp4
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vid2vid.cli.common import add_device_argument, check_device

DEMO_KINDS: tuple[str, ...] = ("street", "face", "pose")


def demo_model_folder(kind: str = "street") -> Path:
    """The demo model folder of ``kind`` (``"street"``, ``"face"`` or ``"pose"``) inside the installed package."""
    from importlib.resources import files

    if kind not in DEMO_KINDS:
        raise ValueError(f"demo kind must be one of {DEMO_KINDS}, got {kind!r}")
    return Path(str(files("vid2vid") / "assets" / ("demo" if kind == "street" else f"demo_{kind}")))


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` sub-command."""
    parser = subparsers.add_parser(
        "demo",
        help="run a bundled demo model on a synthetic street, face or pose clip (offline)",
        description=(
            "Render a synthetic street, face or pose clip, synthesise it with the small demo checkpoint shipped "
            "in the package, and write the video plus a side-by-side PNG strip (inputs | output)."
        ),
    )
    parser.add_argument("--kind", choices=DEMO_KINDS, default="street", help="street (default), face or pose")
    parser.add_argument("--out", default="demo.mp4", help="output video (.mp4/.gif/...; default demo.mp4)")
    parser.add_argument("--frames", type=int, default=30, help="number of frames (default 30)")
    parser.add_argument("--seed", type=int, default=1234, help="seed of the synthetic clip (default 1234)")
    add_device_argument(parser)
    parser.add_argument("--fps", type=float, default=15.0, help="frames per second (default 15)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def colorize(labels: Any, colors: list[list[int]] | None) -> Any:
    """``(..., H, W)`` int ids → ``(..., H, W, 3)`` uint8 with the model's label colours."""
    import numpy as np

    from vid2vid.data.synthetic import colorize_labels

    if not colors:
        return colorize_labels(labels)
    palette = np.zeros((max(256, len(colors)), 3), dtype=np.uint8)
    palette[: len(colors)] = np.asarray(colors, dtype=np.uint8)
    return palette[np.asarray(labels, dtype=np.int64)]


def strip_image(label_rgb: Any, frames: Any, n_rows: int = 4) -> Any:
    """Rows of ``labels | output`` for ``n_rows`` evenly spaced frames → ``(rows*H, 2W, 3)`` uint8."""
    import numpy as np

    t = frames.shape[0]
    n = min(n_rows, t)
    picks = sorted({round(i * (t - 1) / max(1, n - 1)) for i in range(n)})
    return np.concatenate([np.concatenate([label_rgb[i], frames[i]], axis=1) for i in picks], axis=0)


def street_inputs(pipe: Any, n_frames: int, seed: int) -> tuple[Any, Any, Any]:
    """A synthetic street clip for the street demo: ``(labels, instances, label_rgb)``.

    ``labels`` / ``instances`` ``(T, H, W)`` int64 tensors (instances ``None`` without instance
    maps), ``label_rgb`` ``(T, H, W, 3)`` uint8 in the model's label colours.
    """
    import torch

    from vid2vid.data.synthetic import render_synthetic_clip

    options = pipe.metadata.get("training", {}).get("options", {})
    width, height = int(options.get("width", 128)), int(options.get("height", 64))
    clip = render_synthetic_clip(n_frames, width, height, seed=seed)
    instances = torch.from_numpy(clip["instances"]) if pipe.config.use_instance else None
    return (
        torch.from_numpy(clip["labels"]),
        instances,
        colorize(clip["labels"], (pipe.labels or {}).get("colors")),
    )


def keypoint_inputs(pipe: Any, kind: str, n_frames: int, seed: int) -> tuple[Any, Any, Any]:
    """A synthetic face or pose clip, as the test-time dataset forms it: ``(inputs, inputs_rgb, frames)``.

    ``inputs`` ``(T, C, h, w)`` float in the model's input range (face ``[0, 1]``, pose ``[-1, 1]``);
    ``inputs_rgb`` ``(T, h, w, 3)`` uint8 to look at (face: the edge map, pose: the OpenPose rendering);
    ``frames`` ``(T, 3, h, w)`` float in ``[0, 1]``: the real frames, cropped the same way.
    The render size and crop come from the model folder's ``metadata["demo"]``.
    """
    import tempfile

    import numpy as np

    from vid2vid.data import FaceDataset, PoseDataset
    from vid2vid.data.synthetic import make_synthetic_dataset

    settings = pipe.metadata.get("demo", {})
    size = (int(settings.get("render_width", 160 if kind == "face" else 256)),
            int(settings.get("render_height", 160 if kind == "face" else 128)))  # fmt: skip
    load_size = int(settings.get("load_size", 128))
    with tempfile.TemporaryDirectory(prefix=f"vid2vid_demo_{kind}_") as tmp:
        root = make_synthetic_dataset(tmp, 1, n_frames, size, seed=seed, phase="test", kind=kind)
        if kind == "face":
            dataset: Any = FaceDataset(
                root,
                phase="test",
                n_frames=1,
                load_size=load_size,
                add_dist_map=pipe.config.input_nc == 15,
                flip=False,
            )
        else:
            inputs = "both" if pipe.config.input_nc == 6 else "openpose"
            dataset = PoseDataset(
                root, phase="test", n_frames=1, inputs=inputs, load_size=load_size, fine_size=load_size
            )
        clip = dataset.load_clip(0)
    maps = clip["inputs"]
    lo, hi = dataset.input_range
    shown = maps[:, :1].expand(-1, 3, -1, -1) if kind == "face" else maps[:, -3:]
    rgb = ((shown.float() - lo) / (hi - lo)).clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).numpy()
    return maps, np.ascontiguousarray(rgb), (clip["frames"].float() * 0.5 + 0.5).clamp(0, 1)


def run(args: argparse.Namespace) -> int:
    """Render, synthesise, write the video and the strip; print both paths."""
    if args.frames < 1:
        raise ValueError(f"--frames must be >= 1, got {args.frames}")
    from PIL import Image

    from vid2vid.atomic import atomic_write_bytes
    from vid2vid.pipeline import Vid2VidPipeline, frames_to_uint8

    kind = getattr(args, "kind", "street")
    folder = demo_model_folder(kind)
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"the {kind} demo checkpoint is missing from the package: {folder}")
    pipe = Vid2VidPipeline.from_pretrained(folder, device=check_device(args.device))
    # Models that start from zeros output from frame n_frames_G - 1 on (as the original's test.py):
    # render that many more input frames so that the video has --frames frames.
    extra = pipe.config.n_frames_G - 1 if pipe.first_frame == "zeros" else 0
    if kind == "street":
        labels, instances, label_rgb = street_inputs(pipe, args.frames + extra, args.seed)
    else:
        labels, label_rgb, _ = keypoint_inputs(pipe, kind, args.frames + extra, args.seed)
        instances = None
    output = pipe(labels, instances=instances, progress=not args.quiet)
    out = Path(args.out)
    video = pipe.save_video(output, out, fps=args.fps)
    strip = strip_image(label_rgb[output.first_index :], frames_to_uint8(output))
    strip_path = out.with_name(out.stem + "_strip.png")
    import io

    buffer = io.BytesIO()
    Image.fromarray(strip).save(buffer, format="PNG")
    atomic_write_bytes(strip_path, buffer.getvalue())
    print(f"video: {video}")
    print(f"strip: {strip_path}")
    return 0
