"""``vid2vid make-synthetic``: write a procedural dataset (street, face or pose) with exact flow.

See :mod:`vid2vid.data.synthetic`. Examples::

    vid2vid make-synthetic --out data/synthetic --clips 16 --frames 30 --size 256x128 --seed 0
    vid2vid make-synthetic --kind face --out data/faces --clips 8 --frames 30 --size 256x256
    vid2vid make-synthetic --kind pose --out data/poses --clips 8 --frames 30 --size 256x128
"""

from __future__ import annotations

import argparse
import time

from vid2vid.cli.common import positive_int


def _parse_size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"size must look like WIDTHxHEIGHT, e.g. 256x128; got {text!r}")
    return int(parts[0]), int(parts[1])


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``make-synthetic`` sub-command."""
    parser = subparsers.add_parser(
        "make-synthetic",
        help="write a synthetic dataset: street scenes, talking faces or walking/dancing figures (exact flow)",
        description=(
            "street (default): procedural street clips (Cityscapes label ids, label_nc=35) in the layout "
            "{phase}_A / {phase}_B / {phase}_inst. face: talking, turning faces with 68 landmarks in "
            "{phase}_keypoints / {phase}_img. pose: walking and dancing figures with OpenPose BODY_25 JSON and "
            "DensePose IUV in {phase}_openpose / {phase}_densepose / {phase}_img. Every kind writes its exact "
            "ground-truth flow to {phase}_flow."
        ),
    )
    parser.add_argument(
        "--kind", choices=("street", "face", "pose"), default="street", help="what to render (default street)"
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
    parser.add_argument("--clips", type=positive_int, default=None, help="number of clips (default 16)")
    parser.add_argument("--frames", type=positive_int, default=None, help="frames per clip (default 30)")
    parser.add_argument(
        "--size", type=_parse_size, default=None, help="WIDTHxHEIGHT (default 256x128; faces 256x256)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--phase", default="train", help="folder prefix: train, test, ... (default train)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Render and write the dataset; prints where it went and how long it took."""
    from vid2vid.data.synthetic import make_synthetic_dataset

    defaults: dict = {"clips": 16, "frames": 30, "size": None, "out": None}
    if args.preset == "tiny":
        from vid2vid.training.config import TINY_DATA

        defaults = dict(TINY_DATA)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.out is None:
        raise ValueError("give --out (the dataset root to write) or --preset tiny")
    size = args.size or ((256, 256) if args.kind == "face" else (256, 128))
    from vid2vid.validation import check_memory

    w, h = size
    # one clip in memory at a time: RGB, label and instance ids, flow and confidence per frame
    check_memory(args.frames * w * h * (3 + 8 + 8 + 8 + 4), f"one clip of {args.frames} frames of {w}x{h}")
    started = time.perf_counter()
    out = make_synthetic_dataset(
        args.out,
        n_clips=args.clips,
        n_frames=args.frames,
        size=size,
        seed=args.seed,
        phase=args.phase,
        progress=not args.quiet,
        kind=args.kind,
    )
    elapsed = time.perf_counter() - started
    folders = {
        "street": ("A", "B", "inst", "flow"),
        "face": ("keypoints", "img", "flow"),
        "pose": ("openpose", "densepose", "img", "flow"),
    }[args.kind]
    print(
        f"wrote {args.clips} {args.kind} clips x {args.frames} frames of {size[0]}x{size[1]} to {out} "
        f"({', '.join(f'{args.phase}_{f}' for f in folders)}) in {elapsed:.1f} s"
    )
    return 0
