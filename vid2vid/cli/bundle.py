"""``vid2vid bundle``: a labels-only model folder from a video model and a first-frame image model.

Example::

    vid2vid train --model image --dataroot data/synthetic --checkpoint-dir runs/image ...
    vid2vid bundle --video-model runs/video/latest/model --first-frame-model runs/image/latest/model \\
        --out models/street-labels-only
    vid2vid synthesize --model models/street-labels-only --labels clip/labels --instances clip/inst --out out.mp4
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bundle`` sub-command."""
    parser = subparsers.add_parser(
        "bundle",
        help="make a labels-only model: a video model + a pix2pixHD first-frame model",
        description=(
            "Write a vid2vid model folder whose first frames are synthesised from the labels by a pix2pixHD "
            "image model (first_frame=image_generator), so that synthesis needs no real first frames. Both "
            "models must take the same inputs (label classes, instance maps)."
        ),
    )
    parser.add_argument("--video-model", required=True, help="vid2vid model folder or Hub repo id (org/name)")
    parser.add_argument(
        "--first-frame-model",
        required=True,
        help="image-model folder or Hub repo id (vid2vid train --model image, or a converted pix2pixHD model)",
    )
    parser.add_argument("--out", required=True, help="the new model folder")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace the model in an existing --out folder"
    )
    parser.add_argument("--revision", default=None, help="Hub revision of --video-model (default main)")
    parser.add_argument(
        "--first-frame-revision", default=None, help="Hub revision of --first-frame-model (default main)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Bundle and print the output folder."""
    from vid2vid.bundle import bundle_first_frame_model

    out = bundle_first_frame_model(
        args.video_model,
        args.first_frame_model,
        args.out,
        overwrite=args.overwrite,
        revision=args.revision,
        first_frame_revision=args.first_frame_revision,
    )
    print(f"wrote {out}: first frames from {args.first_frame_model}, then {args.video_model}")
    return 0
