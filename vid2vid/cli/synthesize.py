"""``vid2vid synthesize``: run a model (local folder or Hub repo) on a label video.

A vid2vid model folder synthesises the clip as a video; a pix2pixHD image-model folder
(``vid2vid train --model image``, a converted pix2pixHD checkpoint) synthesises it frame by frame
(the per-frame baseline), or a single label PNG into one image (``--out x.png``).

Example::

    vid2vid synthesize --model org/street-512 --labels my_clip/labels --instances my_clip/inst \\
        --out out.mp4 --device cuda --dtype float16 --fps 15
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vid2vid.cli.common import add_device_argument, check_device


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``synthesize`` sub-command."""
    parser = subparsers.add_parser(
        "synthesize",
        help="synthesise a video from a label clip with a trained or converted model",
        description=(
            "Load a model folder or Hub repo (Vid2VidPipeline.from_pretrained) and synthesise one output "
            "frame per input label frame (models that start from zeros: from frame n_frames_G - 1 on, as the "
            "original's test.py). Labels: a folder of single-channel label PNGs (or, for continuous-input "
            "models, a folder of .npy maps, a video file or a frame folder). Video models continue the video "
            "from their first frames; pix2pixHD image models synthesise every frame on its own (and accept a "
            "single label PNG)."
        ),
    )
    parser.add_argument("--model", required=True, help="model folder or Hugging Face Hub repo id (org/name)")
    parser.add_argument("--revision", default=None, help="Hub branch, tag or commit (default main)")
    parser.add_argument(
        "--labels",
        required=True,
        help="folder of label PNGs; for continuous-input models a folder of per-frame (C, H, W) .npy maps "
        "in the model's input range (as `vid2vid build-inputs` writes them), a frame folder or a video",
    )
    parser.add_argument(
        "--instances", default=None, help="folder of instance-map PNGs (models with use_instance)"
    )
    parser.add_argument(
        "--first-frames",
        default=None,
        help="real first frames (folder or video): the history for first_frame=real, or the frames whose "
        "features pick the training features of models with feature_choice=nearest (face)",
    )
    parser.add_argument(
        "--first-frames-range",
        nargs=2,
        type=float,
        default=(0.0, 1.0),
        metavar=("LO", "HI"),
        help="value range of float first frames given as .npy maps: 0 1 (default) or -1 1 (used as they are)",
    )
    parser.add_argument(
        "--first-frame",
        choices=("real", "zeros", "image_generator"),
        default=None,
        help="override the model's first-frame policy",
    )
    parser.add_argument(
        "--out",
        required=True,
        help="output .mp4/.gif/.webm, a path without suffix for PNGs, or .safetensors for the float frames "
        "(T, 3, H, W) in [0, 1] without rounding (key 'frames', plus 'first_index')",
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
    from vid2vid.pipelines.image import Pix2PixHDPipeline

    if isinstance(pipe, Pix2PixHDPipeline):  # an image model: every frame from its own label map
        if args.first_frames:
            raise ValueError(
                f"--first-frames applies to video models; {args.model} is a pix2pixHD image model, which "
                "synthesises every frame from its label map"
            )
        output = pipe(args.labels, instances=args.instances, seed=args.seed, progress=not args.quiet)
        if output.frames.dim() == 3:  # one label map in, one image out
            if Path(args.out).suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp"):
                print(f"wrote 1 image to {pipe.save_image(output, args.out)}")
                return 0
        path = pipe.save_video(output, args.out, fps=args.fps)
        print(f"wrote {1 if output.frames.dim() == 3 else len(output.frames)} frames to {path}")
        return 0
    output = pipe(
        args.labels,
        instances=args.instances,
        first_frames=args.first_frames,
        first_frames_range=tuple(args.first_frames_range),
        seed=args.seed,
        progress=not args.quiet,
    )
    if str(args.out).endswith(".safetensors"):
        import torch

        from vid2vid.checkpoint import save_state_dict

        path = save_state_dict(
            {
                "frames": output.frames.float().cpu().contiguous(),
                "first_index": torch.tensor(output.first_index),
            },
            args.out,
        )
    else:
        path = pipe.save_video(output, args.out, fps=args.fps)
    note = f" (input frames {output.first_index}..)" if output.first_index else ""
    print(f"wrote {len(output.frames)} frames to {path}{note}")
    return 0
