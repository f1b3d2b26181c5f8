"""Reproduce the demo checkpoint in ``vid2vid/assets/demo/`` with the library's trainer (CPU only).

The recipe is three steps, run in-process through the ``vid2vid`` command line:

1. the synthetic street dataset (:mod:`vid2vid.data.synthetic`, exact flow cache included)::

       vid2vid make-synthetic --out WORK/data --clips 48 --frames 30 --size 128x64 --seed 0

2. the real trainer (:class:`vid2vid.training.Vid2VidTrainer`, the full vid2vid objective: image
   and temporal LSGAN + feature matching, ``F_Flow``/``F_Warp``/``G_Warp`` against the cached
   flow, the occlusion term ``W``) with :data:`DEMO_TRAIN_CONFIG` written to
   ``WORK/demo_train.yaml``::

       vid2vid train --config WORK/demo_train.yaml --threads 2

   65 epochs of 24 iterations (1560 iterations): 35 at lr 3e-4, then 30 of linear decay.
   VGG19 ImageNet weights are not available offline, so there is no perceptual term
   (``vgg_weights: none``). ``no_first_frame`` models start every sequence from an all-zero
   history, which is what :class:`~vid2vid.Vid2VidPipeline` does with the ``"zeros"``
   first-frame policy: the demo needs no real frames.

3. the export: the checkpoint's model folder ``WORK/run/latest/model`` cast to float16 (half the
   size; :func:`~vid2vid.model_folder.load_model_folder` casts back to the requested dtype) with
   the synthetic label names and colours, written to ``--out`` with 0644 permissions.

Run (about 35 minutes on 2 CPU cores)::

    PYTHONPATH=. python scripts/train_demo_model.py --work /tmp/vid2vid_demo_train --out vid2vid/assets/demo

``--resume`` continues an interrupted run from ``WORK/run`` (bit-for-bit, see
``docs/training.md``); ``--export-only`` skips steps 1 and 2. Losses go to TensorBoard in
``WORK/run/logs``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

DATA_ARGS: tuple[str, ...] = ("--clips", "48", "--frames", "30", "--size", "128x64", "--seed", "0")

DEMO_TRAIN_CONFIG: dict[str, Any] = {
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
    "niter": 35,
    "niter_decay": 30,
    "save_every": 100,
    "log_every": 10,
    "image_every": 200,
    "seed": 0,
    "progress": False,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=Path("/tmp/vid2vid_demo_train"), help="data, run, config")
    p.add_argument("--out", type=Path, default=Path("vid2vid/assets/demo"), help="exported model folder")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--resume", action="store_true", help="continue the run in WORK/run")
    p.add_argument("--export-only", action="store_true", help="only export WORK/run/latest/model")
    return p.parse_args(argv)


def synthetic_labels() -> dict[str, list]:
    """``{"names", "colors"}`` over the 35 label ids, from :data:`SYNTHETIC_LABELS` (others unused, black)."""
    from vid2vid.data.synthetic import SYNTHETIC_LABEL_NC, SYNTHETIC_LABELS

    names = [f"unused_{i}" for i in range(SYNTHETIC_LABEL_NC)]
    colors = [[0, 0, 0] for _ in range(SYNTHETIC_LABEL_NC)]
    for lab in SYNTHETIC_LABELS:
        names[lab.id], colors[lab.id] = lab.name, list(lab.color)
    return {"names": names, "colors": colors}


def export(checkpoint_model: Path, out: Path) -> Path:
    """Write ``checkpoint_model`` (a trainer model folder) to ``out`` in float16 with the label set."""
    from vid2vid.model_folder import load_model_folder, save_model_folder

    model = load_model_folder(checkpoint_model)
    if model.first_frame != "zeros":
        raise ValueError(
            f"{checkpoint_model}: expected a no_first_frame model, got first_frame={model.first_frame!r}"
        )
    trained = model.metadata.get("training", {})
    metadata = {
        "license": "MIT",
        "training": {
            "script": "scripts/train_demo_model.py",
            "trainer": "vid2vid.training.Vid2VidTrainer (vid2vid train)",
            "dataset": "vid2vid make-synthetic " + " ".join(DATA_ARGS),
            "global_step": trained.get("global_step"),
            "epoch": trained.get("epoch"),
            "weights_dtype": "float16",
            "size": {"width": 128, "height": 64},
            "config": DEMO_TRAIN_CONFIG,
        },
    }
    half = model.generator.eval().half()
    save_model_folder(out, half, first_frame="zeros", labels=synthetic_labels(), metadata=metadata)
    for path in out.rglob("*"):
        if path.is_file():
            os.chmod(path, 0o644)
    return out


def main(argv: list[str] | None = None) -> int:
    """Make the dataset, train, export; returns the exit status."""
    args = parse_args(argv)
    from vid2vid.cli.main import main as cli
    from vid2vid.training.config import TrainConfig, save_config

    data, run = args.work / "data", args.work / "run"
    threads = ["--threads", str(args.threads)]
    if not args.export_only:
        if args.resume:
            status = cli(["train", "--resume", str(run), *threads])
        else:
            status = cli(["make-synthetic", "--out", str(data), *DATA_ARGS, "--quiet"])
            if status:
                return status
            config = TrainConfig.from_dict(
                {**DEMO_TRAIN_CONFIG, "dataroot": str(data), "checkpoint_dir": str(run)}
            )
            config_path = save_config(config, args.work / "demo_train.yaml")
            status = cli(["train", "--config", str(config_path), *threads])
        if status:
            return status
    out = export(run / "latest" / "model", args.out)
    print(f"exported {run / 'latest' / 'model'} (float16) to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
