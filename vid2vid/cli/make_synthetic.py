"""``vid2vid make-synthetic``: write the procedural street-scene dataset with exact flow.

See :mod:`vid2vid.data.synthetic`. Example::

    vid2vid make-synthetic --out data/synthetic --clips 16 --frames 30 --size 256x128 --seed 0
"""

from __future__ import annotations

import argparse
import time


def _parse_size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"size must look like WIDTHxHEIGHT, e.g. 256x128; got {text!r}")
    return int(parts[0]), int(parts[1])


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``make-synthetic`` sub-command."""
    parser = subparsers.add_parser(
        "make-synthetic",
        help="write the synthetic street-scene dataset (labels, instances, frames, exact flow)",
        description=(
            "Render procedural street clips (Cityscapes label ids, label_nc=35) in the vid2vid layout "
            "{phase}_A / {phase}_B / {phase}_inst, with the exact ground-truth flow in {phase}_flow."
        ),
    )
    parser.add_argument(
        "--preset",
        choices=("tiny",),
        default=None,
        help="the dataset of a training preset: tiny = --out data/tiny --clips 16 --frames 12 --size 128x64 "
        "(flags given explicitly win)",
    )
    parser.add_argument(
        "--out", default=None, help="dataset root to write, created if needed (required without --preset)"
    )
    parser.add_argument("--clips", type=_positive, default=None, help="number of clips (default 16)")
    parser.add_argument("--frames", type=_positive, default=None, help="frames per clip (default 30)")
    parser.add_argument("--size", type=_parse_size, default=None, help="WIDTHxHEIGHT (default 256x128)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--phase", default="train", help="folder prefix: train, test, ... (default train)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Render and write the dataset; prints where it went and how long it took."""
    from vid2vid.data.synthetic import make_synthetic_dataset

    defaults: dict = {"clips": 16, "frames": 30, "size": (256, 128), "out": None}
    if args.preset == "tiny":
        from vid2vid.training.config import TINY_DATA

        defaults = dict(TINY_DATA)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.out is None:
        raise ValueError("give --out (the dataset root to write) or --preset tiny")
    from vid2vid.validation import check_memory

    w, h = args.size
    # one clip in memory at a time: RGB, label and instance ids, flow and confidence per frame
    check_memory(args.frames * w * h * (3 + 8 + 8 + 8 + 4), f"one clip of {args.frames} frames of {w}x{h}")
    started = time.perf_counter()
    out = make_synthetic_dataset(
        args.out,
        n_clips=args.clips,
        n_frames=args.frames,
        size=args.size,
        seed=args.seed,
        phase=args.phase,
        progress=not args.quiet,
    )
    elapsed = time.perf_counter() - started
    print(
        f"wrote {args.clips} clips x {args.frames} frames of {args.size[0]}x{args.size[1]} to {out} "
        f"({args.phase}_A, {args.phase}_B, {args.phase}_inst, {args.phase}_flow) in {elapsed:.1f} s"
    )
    return 0
