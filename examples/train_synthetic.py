"""Train the ``tiny`` preset on the synthetic street dataset (CPU; about 5 minutes on 2 cores).

    python examples/train_synthetic.py --out runs/synthetic

The same as the README's quick start, from Python: writes the dataset to ``<out>/data``
(``make-synthetic --preset tiny``), trains with ``get_preset("tiny")`` and leaves a model folder
the pipeline loads in ``<out>/checkpoints/latest/model``, then synthesises a held-out clip to
``<out>/tiny.mp4``. ``--iters N`` stops earlier (the schedule has 400 iterations).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from vid2vid import Vid2VidPipeline
from vid2vid.data.synthetic import make_synthetic_dataset, render_synthetic_clip
from vid2vid.training import Vid2VidTrainer
from vid2vid.training.config import TINY_DATA, get_preset


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/synthetic"), help="output folder")
    parser.add_argument(
        "--iters", type=int, default=None, help="stop after N iterations (default: the schedule, 400)"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    width, height = TINY_DATA["size"]
    root = make_synthetic_dataset(
        args.out / "data",
        n_clips=TINY_DATA["clips"],
        n_frames=TINY_DATA["frames"],
        size=(width, height),
        seed=0,
    )
    config = get_preset("tiny").replace(
        dataroot=str(root), checkpoint_dir=str(args.out / "checkpoints"), max_iters=args.iters
    )
    result = Vid2VidTrainer(config).train()
    pipe = Vid2VidPipeline.from_pretrained(args.out / "checkpoints")  # the run folder: latest/model
    clip = render_synthetic_clip(n_frames=30, width=width, height=height, seed=1)  # not a training clip
    out = pipe(clip["labels"], instances=clip["instances"])
    video = pipe.save_video(out, args.out / "tiny.mp4")
    print(f"trained {result.global_step} iterations in {result.seconds:.0f} s; {pipe}; video {video}")


if __name__ == "__main__":
    main()
