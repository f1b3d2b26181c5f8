"""Synthesise a video from your own label maps with a model from the Hugging Face Hub (or a folder).

Usage::

    python examples/synthesize_from_hub.py --model org/vid2vid-street-512 \\
        --labels my_clip/labels --instances my_clip/instances --out out.mp4

``--labels`` is a folder of single-channel label PNGs (class ids, e.g. Cityscapes ``*_labelIds.png``);
``--instances`` the matching instance-id PNGs when the model uses them. Frames must be the size the
model expects (a multiple of ``pipe.config.size_multiple``). ``--stream`` runs the constant-memory
loop and writes PNGs one by one, for clips too long to hold in memory.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from vid2vid import Vid2VidPipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="Hub repo id (org/name) or a local model folder")
    parser.add_argument("--labels", required=True, type=Path)
    parser.add_argument("--instances", type=Path)
    parser.add_argument("--first-frames", type=Path, help="real first frames, for first_frame='real' models")
    parser.add_argument("--out", default="out.mp4")
    parser.add_argument("--stream", action="store_true", help="write frames one by one (constant memory)")
    args = parser.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.float16 if device == "cuda" else torch.float32  # float16 is refused on CPU
    pipe = Vid2VidPipeline.from_pretrained(args.model, device=device, dtype=dtype)
    print(
        f"model: {pipe.config.label_nc} classes, first frames: {pipe.first_frame}, licence: {pipe.metadata.get('license')}"
    )

    if not args.stream:
        out = pipe(args.labels, instances=args.instances, first_frames=args.first_frames, seed=0)
        print("wrote", pipe.save_video(out, args.out, fps=15))
        return

    from vid2vid.data.io import list_frame_files

    label_files = list_frame_files(args.labels)
    inst_files = list_frame_files(args.instances) if args.instances else None
    out_dir = Path(args.out).with_suffix("")
    out_dir.mkdir(parents=True, exist_ok=True)
    # Models that start from zeros output from label frame n_frames_G - 1 on (as the original's test.py).
    offset = pipe.config.n_frames_G - 1 if args.first_frames is None and pipe.first_frame == "zeros" else 0
    for t, image in enumerate(
        pipe.stream(label_files, inst_files, first_frames=args.first_frames, output_type="pil")
    ):
        image.save(out_dir / f"{t + offset:05d}.png")
    print("wrote frames to", out_dir)


if __name__ == "__main__":
    main()
