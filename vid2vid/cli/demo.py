"""``vid2vid demo``: synthesise a street clip offline with the small checkpoint shipped in the package.

The demo model (``vid2vid/assets/demo/``, trained on the procedural street scenes of
:mod:`vid2vid.data.synthetic` by ``scripts/train_demo_model.py``) runs on a freshly rendered
synthetic label clip; the command writes the video and a PNG strip (colourised labels | output)
next to it and prints both paths. Example::

    vid2vid demo --out demo.mp4 --frames 30
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vid2vid.cli.common import add_device_argument, check_device


def demo_model_folder() -> Path:
    """The demo model folder inside the installed package (``vid2vid.DEMO_MODEL``)."""
    from vid2vid import DEMO_MODEL

    return Path(DEMO_MODEL)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` sub-command."""
    parser = subparsers.add_parser(
        "demo",
        help="run the bundled demo model on a synthetic street clip (offline)",
        description=(
            "Render a synthetic street label clip, synthesise it with the small demo checkpoint shipped "
            "in the package, and write the video plus a side-by-side PNG strip (labels | output)."
        ),
    )
    parser.add_argument("--out", default="demo.mp4", help="output video (.mp4/.gif/...; default demo.mp4)")
    parser.add_argument("--frames", type=int, default=30, help="number of frames (default 30)")
    parser.add_argument("--seed", type=int, default=1234, help="seed of the synthetic scene (default 1234)")
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
    picks = sorted({round(i * (t - 1) / max(1, n_rows - 1)) for i in range(min(n_rows, t))})
    return np.concatenate([np.concatenate([label_rgb[i], frames[i]], axis=1) for i in picks], axis=0)


def run(args: argparse.Namespace) -> int:
    """Render, synthesise, write the video and the strip; print both paths."""
    if args.frames < 1:
        raise ValueError(f"--frames must be >= 1, got {args.frames}")
    import torch
    from PIL import Image

    from vid2vid.atomic import atomic_write_bytes
    from vid2vid.data.synthetic import render_synthetic_clip
    from vid2vid.pipeline import Vid2VidPipeline, frames_to_uint8

    folder = demo_model_folder()
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"the demo checkpoint is missing from the package: {folder}")
    pipe = Vid2VidPipeline.from_pretrained(folder, device=check_device(args.device))
    width, height = pipe.training_size or (128, 64)
    # Models that start from zeros output from frame n_frames_G - 1 on (as the original's test.py):
    # render that many more label frames so that the video has --frames frames.
    extra = pipe.config.n_frames_G - 1 if pipe.first_frame == "zeros" else 0
    clip = render_synthetic_clip(args.frames + extra, width, height, seed=args.seed)
    output = pipe(
        torch.from_numpy(clip["labels"]),
        instances=torch.from_numpy(clip["instances"]) if pipe.config.use_instance else None,
        progress=not args.quiet,
    )
    out = Path(args.out)
    video = pipe.save_video(output, out, fps=args.fps)
    colors = (pipe.labels or {}).get("colors")
    strip = strip_image(colorize(clip["labels"][output.first_index :], colors), frames_to_uint8(output))
    strip_path = out.with_name(out.stem + "_strip.png")
    import io

    buffer = io.BytesIO()
    Image.fromarray(strip).save(buffer, format="PNG")
    atomic_write_bytes(strip_path, buffer.getvalue())
    print(f"video: {video}")
    print(f"strip: {strip_path}")
    return 0
