"""``vid2vid synthesize``: run a model (local folder or Hub repo) on a label video.

Example::

    vid2vid synthesize --model org/street-512 --labels my_clip/labels --instances my_clip/inst \\
        --out out.mp4 --device cuda --dtype float16 --fps 15
"""

from __future__ import annotations

import argparse

from vid2vid.cli.common import add_device_argument, check_device


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``synthesize`` sub-command."""
    parser = subparsers.add_parser(
        "synthesize",
        help="synthesise a video from a label clip with a trained or converted model",
        description=(
            "Load a model folder or Hub repo (Vid2VidPipeline.from_pretrained) and synthesise one output "
            "frame per input label frame. Labels: a folder of single-channel label PNGs (or, for "
            "continuous-input models, a video file / frame folder)."
        ),
    )
    parser.add_argument("--model", required=True, help="model folder or Hugging Face Hub repo id (org/name)")
    parser.add_argument("--revision", default=None, help="Hub branch, tag or commit (default main)")
    parser.add_argument(
        "--labels", required=True, help="folder of label PNGs (or video for continuous inputs)"
    )
    parser.add_argument(
        "--instances", default=None, help="folder of instance-map PNGs (models with use_instance)"
    )
    parser.add_argument(
        "--first-frames", default=None, help="real first frames (folder or video) for first_frame=real"
    )
    parser.add_argument(
        "--first-frame",
        choices=("real", "zeros", "image_generator"),
        default=None,
        help="override the model's first-frame policy",
    )
    parser.add_argument(
        "--out", required=True, help="output .mp4/.gif/.webm, or a path without suffix for PNGs"
    )
    add_device_argument(parser)
    parser.add_argument(
        "--dtype",
        choices=("float32", "float16", "bfloat16"),
        default="float32",
        help="compute precision (default float32; float16/bfloat16 on CUDA)",
    )
    parser.add_argument(
        "--fps", type=float, default=15.0, help="frames per second of the output (default 15)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of multimodal feature sampling (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load, synthesise with a progress bar, write the video; prints the output path."""

    from vid2vid.pipeline import Vid2VidPipeline

    device = check_device(args.device)
    pipe = Vid2VidPipeline.from_pretrained(
        args.model, revision=args.revision, device=device, dtype=args.dtype, first_frame=args.first_frame
    )
    output = pipe(
        args.labels,
        instances=args.instances,
        first_frames=args.first_frames,
        seed=args.seed,
        progress=not args.quiet,
    )
    path = pipe.save_video(output, args.out, fps=args.fps)
    print(f"wrote {len(output.frames)} frames to {path}")
    return 0
