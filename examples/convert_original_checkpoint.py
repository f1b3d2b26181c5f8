"""Convert an original NVIDIA/vid2vid checkpoint (+ its pix2pixHD first-frame generator) and upload it.

Usage::

    python examples/convert_original_checkpoint.py \\
        --checkpoint checkpoints/label2city_1024_g1 \\
        --first-frame-weights checkpoints/label2city_1024_g1/latest_net_G.pth \\
        --first-frame-options '{"label_nc": 35, "ngf": 32, "n_downsample_global": 4, "n_local_enhancers": 1, "netG": "local"}' \\
        --out converted/street-1024 --push org/vid2vid-street-1024

The sequential generator is converted from ``latest_net_G0.pth`` [``G1`` ...] and ``opt.txt`` in
``--checkpoint`` (the same as ``vid2vid convert --weights DIR --out DIR``). The optional
pix2pixHD generator is converted into an image-model folder (``vid2vid convert --kind
pix2pixhd_local``) and bundled as the model's first-frame generator (``vid2vid bundle``), so the
result synthesises from labels alone (``first_frame="image_generator"``).
Converted weights keep the original's licence, CC BY-NC-SA 4.0 (non-commercial); it is written
into ``config.json`` and the model card, and must be respected when you share them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vid2vid import Vid2VidPipeline
from vid2vid.cli.main import main as cli_main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--checkpoint", required=True, type=Path, help="folder with latest_net_G*.pth and opt.txt"
    )
    parser.add_argument(
        "--first-frame-weights", type=Path, help="pix2pixHD latest_net_G.pth for the first frames"
    )
    parser.add_argument(
        "--first-frame-options", help="JSON of the pix2pixHD options (label_nc, ngf, netG, ...)"
    )
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--push", help="Hub repo id to upload to (needs a write token: `hf auth login`)")
    parser.add_argument("--private", action="store_true")
    args = parser.parse_args()

    # 1. The sequential generator: the CLI checks every tensor maps onto the architecture.
    video_dir = args.out.with_name(args.out.name + "-video") if args.first_frame_weights else args.out
    if cli_main(["convert", "--weights", str(args.checkpoint), "--out", str(video_dir)]) != 0:
        raise SystemExit("conversion failed")

    # 2. Optionally the pix2pixHD first-frame generator: converted into an image-model folder, then
    #    bundled with the video model into a labels-only model folder (first_frame="image_generator").
    if args.first_frame_weights:
        options = json.loads(args.first_frame_options or "{}")
        kind = "pix2pixhd_local" if options.get("netG") == "local" else "pix2pixhd_global"
        image_dir = args.out.with_name(args.out.name + "-first-frame")
        cmd = ["convert", "--kind", kind, "--weights", str(args.first_frame_weights), "--out", str(image_dir)]
        cmd += ["--set", *(f"{k}={v}" for k, v in options.items())] if options else []
        if cli_main(cmd) != 0:
            raise SystemExit("conversion of the first-frame generator failed")
        bundle = ["bundle", "--video-model", str(video_dir), "--first-frame-model", str(image_dir)]
        if cli_main([*bundle, "--out", str(args.out), "--overwrite"]) != 0:
            raise SystemExit("bundling failed")

    pipe = Vid2VidPipeline.from_pretrained(args.out)
    pipe.save_pretrained(args.out)  # adds the README.md model card (licence from config.json)
    print(f"converted to {args.out}: first frames {pipe.first_frame}, licence {pipe.metadata.get('license')}")
    if args.push:
        print("uploaded:", pipe.push_to_hub(args.push, private=args.private))


if __name__ == "__main__":
    main()
