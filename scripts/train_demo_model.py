"""Reproduce the demo checkpoints in ``vid2vid/assets/`` with the library's trainer (CPU only).

``--kind street`` (default) makes ``vid2vid/assets/demo``; ``--kind face`` / ``--kind pose`` make
``vid2vid/assets/demo_face`` / ``vid2vid/assets/demo_pose`` (see "Face and pose" below). The
recipe is three steps, run in-process through the ``vid2vid`` command line:

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

Face and pose (``--kind face|pose``): the same three steps with ``make-synthetic --kind face|pose``
(:data:`FACE_DATA_ARGS`, :data:`POSE_DATA_ARGS`) and ``dataset_mode`` ``"face"`` / ``"pose"``
(:data:`FACE_TRAIN_CONFIG`, :data:`POSE_TRAIN_CONFIG`): 128×128 face crops with the original's 15
input channels in ``[0, 1]`` (edges + distance maps), and 128×128 pose crops (height scaled to 128,
central half of the columns) with its 6 channels in ``[-1, 1]`` (DensePose + OpenPose). Both are
``no_first_frame`` models, so ``vid2vid demo --kind face|pose`` needs no real frames; the export
records the input range in the model folder (``input_range``). Each run was capped at about 20
minutes on one CPU thread (``nice -n 10``); ``--max-iters`` caps the number of iterations::

    OMP_NUM_THREADS=1 nice -n 10 python scripts/train_demo_model.py --kind face --threads 1 \
        --work /tmp/vid2vid_demo_face --out vid2vid/assets/demo_face
"""

from __future__ import annotations

import argparse
import json
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


FACE_DATA_ARGS: tuple[str, ...] = (
    "--kind",
    "face",
    "--clips",
    "24",
    "--frames",
    "24",
    "--size",
    "160x160",
    "--seed",
    "0",
)

POSE_DATA_ARGS: tuple[str, ...] = (
    "--kind",
    "pose",
    "--clips",
    "24",
    "--frames",
    "24",
    "--size",
    "256x128",
    "--seed",
    "0",
)

_SMALL_TRAINING: dict[str, Any] = {
    "flow_source": "cache",
    "vgg_weights": "none",
    "num_workers": 0,
    "ndf": 16,
    "ndf_max": 16,
    "num_D": 2,
    "n_layers_D": 3,
    "norm_D": "instance",
    "n_scales_temporal": 1,
    "batch_size": 1,
    "n_frames_total": 4,
    "max_frames_per_gpu": 2,
    "max_frames_backpropagate": 1,
    "niter_step": 1000,
    "lr": 3e-4,
    "save_every": 50,
    "log_every": 10,
    "image_every": 200,
    "seed": 0,
    "progress": False,
}

_SMALL_GENERATOR: dict[str, Any] = {
    "label_nc": 0,
    "use_instance": False,
    "n_frames_G": 3,
    "ngf": 16,
    "n_downsample": 3,
    "n_blocks": 3,
    "n_blocks_local": 1,
    "n_scales": 1,
    "no_first_frame": True,
    "use_foreground": False,
}

FACE_TRAIN_CONFIG: dict[str, Any] = {
    **_SMALL_TRAINING,
    "generator": {**_SMALL_GENERATOR, "input_nc": 15},
    "dataset_mode": "face",
    "load_size": 128,
    "flip": True,
    "niter": 10,
    "niter_decay": 10,
    "max_iters": 224,  # where the shipped run was stopped (~19 min, one shared core)
}

POSE_TRAIN_CONFIG: dict[str, Any] = {
    **_SMALL_TRAINING,
    "generator": {**_SMALL_GENERATOR, "input_nc": 6},
    "dataset_mode": "pose",
    "resize_mode": "scale_height",
    "load_size": 128,
    "fine_size": 128,
    "flip": False,
    "pose_sample_by_length": False,
    "niter": 10,
    "niter_decay": 10,
    "max_iters": 184,  # where the shipped run was stopped (~19 min, one shared core)
}

KINDS: dict[str, dict[str, Any]] = {
    "street": {"data": DATA_ARGS, "train": DEMO_TRAIN_CONFIG, "out": "vid2vid/assets/demo", "input_range": None},
    "face": {"data": FACE_DATA_ARGS, "train": FACE_TRAIN_CONFIG, "out": "vid2vid/assets/demo_face",
             "input_range": (0.0, 1.0)},
    "pose": {"data": POSE_DATA_ARGS, "train": POSE_TRAIN_CONFIG, "out": "vid2vid/assets/demo_pose",
             "input_range": (-1.0, 1.0)},
}  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kind", choices=tuple(KINDS), default="street", help="which demo model (default street)")
    p.add_argument(
        "--work", type=Path, default=None, help="data, run, config (default /tmp/vid2vid_demo_<kind>)"
    )
    p.add_argument(
        "--out", type=Path, default=None, help="exported model folder (default vid2vid/assets/demo[_kind])"
    )
    p.add_argument("--max-iters", type=int, default=None, help="override the recipe's iteration cap")
    p.add_argument(
        "--evaluate", action="store_true", help="only measure the exported model's held-out error (face/pose)"
    )
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--resume", action="store_true", help="continue the run in WORK/run")
    p.add_argument("--export-only", action="store_true", help="only export WORK/run/latest/model")
    args = p.parse_args(argv)
    if args.work is None:
        args.work = Path(
            "/tmp/vid2vid_demo_train" if args.kind == "street" else f"/tmp/vid2vid_demo_{args.kind}"
        )
    if args.out is None:
        args.out = Path(KINDS[args.kind]["out"])
    return args


def synthetic_labels() -> dict[str, list]:
    """``{"names", "colors"}`` over the 35 label ids, from :data:`SYNTHETIC_LABELS` (others unused, black)."""
    from vid2vid.data.synthetic import SYNTHETIC_LABEL_NC, SYNTHETIC_LABELS

    names = [f"unused_{i}" for i in range(SYNTHETIC_LABEL_NC)]
    colors = [[0, 0, 0] for _ in range(SYNTHETIC_LABEL_NC)]
    for lab in SYNTHETIC_LABELS:
        names[lab.id], colors[lab.id] = lab.name, list(lab.color)
    return {"names": names, "colors": colors}


def export(checkpoint_model: Path, out: Path, kind: str = "street") -> Path:
    """Write ``checkpoint_model`` (a trainer model folder) to ``out`` in float16 (street: with the label set)."""
    from vid2vid.model_folder import load_model_folder, save_model_folder

    model = load_model_folder(checkpoint_model)
    if model.first_frame != "zeros":
        raise ValueError(
            f"{checkpoint_model}: expected a no_first_frame model, got first_frame={model.first_frame!r}"
        )
    trained = model.metadata.get("training", {})
    recipe = KINDS[kind]
    metadata = {
        "license": "MIT",
        "training": {
            "script": f"scripts/train_demo_model.py --kind {kind}",
            "trainer": "vid2vid.training.Vid2VidTrainer (vid2vid train)",
            "dataset": "vid2vid make-synthetic " + " ".join(recipe["data"]),
            "global_step": trained.get("global_step"),
            "epoch": trained.get("epoch"),
            "weights_dtype": "float16",
            **({"size": trained["size"]} if "size" in trained else {}),
            "config": recipe["train"],
        },
    }
    if kind != "street":
        metadata["demo"] = demo_settings(kind)
    if kind == "street":
        labels = synthetic_labels()
    else:
        labels = None
    input_range = recipe["input_range"]
    if input_range is not None and model.input_range is not None and tuple(model.input_range) != input_range:
        raise ValueError(
            f"{checkpoint_model}: input_range {model.input_range} but the {kind} recipe says {input_range}"
        )
    half = model.generator.eval().half()
    save_model_folder(
        out, half, first_frame="zeros", labels=labels, metadata=metadata, input_range=input_range
    )
    for path in out.rglob("*"):
        if path.is_file():
            os.chmod(path, 0o644)
    return out


def demo_settings(kind: str) -> dict[str, Any]:
    """How ``vid2vid demo --kind face|pose`` renders its input clip for this model (frame size, crop)."""
    data = KINDS[kind]["data"]
    width, height = (int(v) for v in data[data.index("--size") + 1].split("x"))
    return {
        "kind": kind,
        "render_width": width,
        "render_height": height,
        "load_size": KINDS[kind]["train"]["load_size"],
    }


def evaluate(kind: str, folder: Path, n_clips: int = 4, n_frames: int = 12) -> dict[str, float]:
    """Held-out error of the exported ``kind`` demo model against two trivial baselines.

    ``n_clips`` synthetic clips with seeds 5000, 5001, ... (never trained on) are rendered and formed
    as the demo forms them (:func:`vid2vid.cli.demo.keypoint_inputs`); the model starts from zeros.
    Returns mean ``|output - real|`` (``[0, 1]`` scale) over the output frames, the same for the
    ``"untrained"`` generator (same architecture, seed-0 initialisation), for ``"other_clip"`` (the
    model's outputs against the next clip's real frames: lower ``"model"`` means the output follows
    its own inputs), for
    ``"mean_colour"`` (every pixel the clip's mean real colour: a model that ignores the inputs and
    knows the clip's colours) and ``"mean_frame"`` (the per-pixel mean of the held-out frames).
    """
    import torch

    from vid2vid.cli.demo import keypoint_inputs
    from vid2vid.nn import SequentialGenerator
    from vid2vid.pipeline import Vid2VidPipeline

    pipe = Vid2VidPipeline.from_pretrained(folder, device="cpu", dtype=torch.float32)
    torch.manual_seed(0)
    untrained = Vid2VidPipeline(
        SequentialGenerator(**pipe.config.to_dict()).eval(), first_frame="zeros", input_range=pipe.input_range
    )
    outs, fresh, reals = [], [], []
    for i in range(n_clips):
        maps, _, real = keypoint_inputs(pipe, kind, n_frames, seed=5000 + i)
        out = pipe(maps, progress=False)
        outs.append(out.frames.float())
        fresh.append(untrained(maps, progress=False).frames.float())
        reals.append(real[out.first_index :])
    out, real = torch.stack(outs), torch.stack(reals)  # (N, T, 3, H, W)
    # the same outputs scored against another clip's frames: does the output follow its own inputs?
    shuffled = float((out - real.roll(1, dims=0)).abs().mean())
    mean_colour = real.mean(dim=(1, 3, 4), keepdim=True).expand_as(real)
    mean_frame = real.mean(dim=(0, 1), keepdim=True).expand_as(real)
    return {
        "model": float((out - real).abs().mean()),
        "untrained": float((torch.stack(fresh) - real).abs().mean()),
        "other_clip": shuffled,
        "mean_colour": float((mean_colour - real).abs().mean()),
        "mean_frame": float((mean_frame - real).abs().mean()),
    }


def main(argv: list[str] | None = None) -> int:
    """Make the dataset, train, export; returns the exit status."""
    args = parse_args(argv)
    from vid2vid.cli.main import main as cli
    from vid2vid.training.config import TrainConfig, save_config

    if args.evaluate:
        print(json.dumps(evaluate(args.kind, args.out), indent=1))
        return 0
    data, run = args.work / "data", args.work / "run"
    threads = ["--threads", str(args.threads)]
    if not args.export_only:
        if args.resume:
            status = cli(["train", "--resume", str(run), *threads])
        else:
            recipe = KINDS[args.kind]
            status = cli(["make-synthetic", "--out", str(data), *recipe["data"], "--quiet"])
            if status:
                return status
            train = {**recipe["train"], "dataroot": str(data), "checkpoint_dir": str(run)}
            if args.max_iters is not None:
                train["max_iters"] = args.max_iters
            config = TrainConfig.from_dict(train)
            config_path = save_config(config, args.work / "demo_train.yaml")
            status = cli(["train", "--config", str(config_path), *threads])
        if status:
            return status
    out = export(run / "latest" / "model", args.out, args.kind)
    print(f"exported {run / 'latest' / 'model'} (float16) to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
