"""Train a tiny vid2vid model on the shipped synthetic street dataset (CPU, a few minutes).

    python examples/train_synthetic.py --out runs/synthetic --iters 200

Writes the dataset to ``<out>/data``, trains, and leaves a model folder the pipeline can load in
``<out>/checkpoints/latest/model`` (TensorBoard logs in ``<out>/checkpoints/logs``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from vid2vid.data.synthetic import make_synthetic_dataset
from vid2vid.model_folder import load_model_folder
from vid2vid.nn import SequentialGeneratorConfig
from vid2vid.training import TrainConfig, Vid2VidTrainer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/synthetic"))
    parser.add_argument("--iters", type=int, default=200)
    parser.add_argument("--size", type=int, nargs=2, default=(128, 64), metavar=("W", "H"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    root = make_synthetic_dataset(args.out / "data", n_clips=8, n_frames=24, size=tuple(args.size), seed=0)
    config = TrainConfig(
        generator=SequentialGeneratorConfig(
            label_nc=35, use_instance=True, ngf=16, n_downsample=2, n_blocks=4, use_foreground=True
        ),
        ndf=16,
        ndf_max=16,
        num_D=2,
        dataroot=str(root),
        load_size=args.size[0],
        num_workers=0,
        n_frames_total=4,
        max_frames_per_gpu=2,
        niter=10,
        niter_decay=10,
        niter_step=5,
        vgg_weights="none",  # "default" needs torchvision's VGG19 ImageNet weights (see docs/losses.md)
        checkpoint_dir=str(args.out / "checkpoints"),
        save_every=50,
        log_every=10,
        max_iters=args.iters,
    )
    result = Vid2VidTrainer(config).train()
    model = load_model_folder(result.checkpoint / "model")
    print(f"trained {result.global_step} iterations; model folder {result.checkpoint / 'model'}")
    print(f"generator: {sum(p.numel() for p in model.generator.parameters())} parameters")


if __name__ == "__main__":
    main()
