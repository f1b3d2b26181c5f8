"""Convert an original NVIDIA/vid2vid checkpoint (+ its single-image first-frame generator) and upload it.

Usage::

    python examples/convert_original_checkpoint.py \\
        --checkpoint checkpoints/label2city_1024_g1 \\
        --first-frame-weights checkpoints/label2city_single/latest_net_G_1024.pth \\
        --out converted/street-1024 --push org/vid2vid-street-1024

The sequential generator is converted from ``latest_net_G0.pth`` [``G1`` ...] and ``opt.txt`` in
``--checkpoint``; the optional single-image generator (the original's ``--use_single_G``:
``label2city_single/latest_net_G_{512,1024,2048}.pth``, architecture read from the weights) becomes
the first-frame generator (``first_frame="image_generator"``), fed the one-hot labels without the
instance-edge channel as the original does. This is ``vid2vid convert --weights DIR
--first-frame-weights PTH --out DIR``. Converted weights keep the original's licence, CC BY-NC-SA 4.0
(non-commercial); it is written into ``config.json`` and the model card, and must be respected when
you share them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vid2vid import Vid2VidPipeline
from vid2vid.cli.main import main as cli_main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--checkpoint", required=True, type=Path, help="folder with latest_net_G*.pth and opt.txt"
    )
    parser.add_argument(
        "--first-frame-weights",
        type=Path,
        help="label2city_single/latest_net_G_<size>.pth for the first frames",
    )
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--push", help="Hub repo id to upload to (needs a write token: `hf auth login`)")
    parser.add_argument("--private", action="store_true")
    args = parser.parse_args()

    # The CLI checks that every tensor maps onto the architecture the options describe.
    argv = ["convert", "--weights", str(args.checkpoint), "--out", str(args.out)]
    if args.first_frame_weights:
        argv += ["--first-frame-weights", str(args.first_frame_weights)]
    if cli_main(argv) != 0:
        raise SystemExit("conversion failed")

    pipe = Vid2VidPipeline.from_pretrained(args.out)
    pipe.save_pretrained(args.out)  # adds the README.md model card (licence from config.json)
    print(f"converted to {args.out}: first frames {pipe.first_frame}, licence {pipe.metadata.get('license')}")
    if args.push:
        print("uploaded:", pipe.push_to_hub(args.push, private=args.private))


if __name__ == "__main__":
    main()
