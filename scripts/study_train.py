"""Train the models of the evaluation study (``docs/evaluation.md``) at an equal budget (CPU only).

Variants, all on the same synthetic street data, the same number of iterations, batch size,
learning-rate schedule, discriminators and seed:

* ``full``: vid2vid as the demo model (``scripts/train_demo_model.py``'s settings), all losses;
* ``no_flow``: the generator without its flow/occlusion heads (``generator.no_flow``), so no
  flow-warp terms (``F_Flow``, ``F_Warp``, ``W``); ``G_Warp`` and the temporal discriminator stay;
* ``no_temporal_d``: full generator and losses, but the temporal discriminator never sees a
  window (its GAN and feature-matching terms are absent and it is never updated);
* ``image``: the pix2pixHD per-frame image generator (``model="image"``, image GAN + feature
  matching only), synthesised frame by frame at evaluation time (the per-frame baseline).

Data (``WORK/data``)::

    vid2vid make-synthetic --out WORK/data --clips 16 --frames 30 --size 128x64 --seed 0 --phase train
    vid2vid make-synthetic --out WORK/data --clips 6 --frames 30 --size 128x64 --seed 1 --phase test

The test clips (another seed) are never seen in training. Each run writes
``WORK/runs/<variant>-s<seed>/latest/model``. Run (one process per variant, nice'd, one thread)::

    OMP_NUM_THREADS=1 nice -n 10 python scripts/study_train.py --work WORK --variant full --seed 0
    ... --variant no_flow / no_temporal_d / image

``--iters`` sets the budget (default 240 iterations = 30 epochs of 8 batches of 2 clips:
15 at constant learning rate, 15 of linear decay).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

VARIANTS = ("full", "no_flow", "no_temporal_d", "image")
#: the study's data: train and held-out test clips, frames per clip, WIDTHxHEIGHT
DATA = {"train_clips": 16, "test_clips": 6, "frames": 30, "size": "128x64"}
#: ``--smoke``: the same recipe on a few tiny clips for 2 iterations (the test suite runs it)
SMOKE_DATA = {"train_clips": 2, "test_clips": 2, "frames": 6, "size": "64x32"}

BASE_CONFIG: dict[str, Any] = {
    "generator": {
        "label_nc": 35,
        "use_instance": True,
        "n_frames_G": 3,
        "ngf": 16,
        "n_downsample": 3,
        "n_blocks": 3,
        "n_blocks_local": 1,
        "n_scales": 1,
        "no_first_frame": True,
        "use_foreground": False,
        "fg_labels": [26],
    },
    "image_generator": {"ngf": 16, "n_downsample": 3, "n_blocks": 6},
    "resize_mode": "scale_width",
    "load_size": 128,
    "fine_size": 128,
    "flip": False,
    "num_workers": 0,
    "flow_source": "cache",
    "vgg_weights": "none",
    "ndf": 16,
    "ndf_max": 16,
    "num_D": 2,
    "n_layers_D": 3,
    "norm_D": "instance",
    "n_scales_temporal": 1,
    "batch_size": 2,
    "n_frames_total": 4,
    "max_frames_per_gpu": 2,
    "max_frames_backpropagate": 1,
    "niter_step": 1000,
    "lr": 3e-4,
    "save_every": 1000,
    "log_every": 20,
    "image_every": 1000,
    "tensorboard": False,
    "progress": False,
}


class _NoWindows:
    """Stands in for the trainer's temporal windows: no window ever, so no temporal discriminator."""

    def reset(self) -> None:
        """Nothing to forget."""

    def add(self, real: Any, fake: Any, flow: Any) -> list[None]:
        """No window at any temporal scale."""
        return []


def variant_config(
    variant: str, data: Path, run: Path, seed: int, iters: int, train_clips: int = DATA["train_clips"]
) -> dict[str, Any]:
    """The :class:`~vid2vid.training.TrainConfig` dictionary of one variant."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    per_epoch = max(train_clips // BASE_CONFIG["batch_size"], 1)
    epochs = max(iters // per_epoch, 2)
    cfg = {
        **BASE_CONFIG,
        "generator": dict(BASE_CONFIG["generator"]),
        "dataroot": str(data),
        "checkpoint_dir": str(run),
        "seed": seed,
        "niter": epochs // 2,
        "niter_decay": epochs - epochs // 2,
    }
    if variant == "no_flow":
        cfg["generator"]["no_flow"] = True
    if variant == "image":
        cfg["model"] = "image"
    return cfg


def make_data(data: Path, spec: dict[str, Any] = DATA) -> None:
    """Write the train and held-out test splits (skipped when present)."""
    from vid2vid.cli.main import main as cli

    for phase, clips, seed in (("train", spec["train_clips"], 0), ("test", spec["test_clips"], 1)):
        if (data / f"{phase}_B").is_dir():
            continue
        args = [
            "--clips",
            str(clips),
            "--frames",
            str(spec["frames"]),
            "--size",
            spec["size"],
            "--seed",
            str(seed),
        ]
        status = cli(["make-synthetic", "--out", str(data), *args, "--phase", phase, "--quiet"])
        if status:
            raise SystemExit(status)


def train(variant: str, work: Path, seed: int, iters: int, train_clips: int = DATA["train_clips"]) -> Any:
    """Train one variant (model folder: ``WORK/runs/<variant>-s<seed>/latest/model``); returns its TrainResult."""
    import torch

    from vid2vid.training import ImageTrainer, Vid2VidTrainer
    from vid2vid.training.config import TrainConfig

    run = work / "runs" / f"{variant}-s{seed}"
    config = TrainConfig.from_dict(variant_config(variant, work / "data", run, seed, iters, train_clips))
    if variant == "image":
        trainer: Any = ImageTrainer(config)
    else:
        trainer = Vid2VidTrainer(config)
        if variant == "no_temporal_d":
            trainer.windows = _NoWindows()
    torch.set_num_threads(1)
    result = trainer.train()
    print(f"{variant} seed {seed}: {result}")
    return result


def main(argv: list[str] | None = None) -> int:
    """Make the data if needed, then train the requested variant(s)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, required=True, help="data and runs go here")
    p.add_argument("--variant", choices=(*VARIANTS, "all"), default="all")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--iters", type=int, default=240, help="iterations per run (default 240)")
    p.add_argument("--smoke", action="store_true", help="tiny data, 2 iterations: checks the recipe runs")
    args = p.parse_args(argv)
    spec = SMOKE_DATA if args.smoke else DATA
    iters = 2 if args.smoke else args.iters
    make_data(args.work / "data", spec)
    for variant in VARIANTS if args.variant == "all" else (args.variant,):
        train(variant, args.work, args.seed, iters, spec["train_clips"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
