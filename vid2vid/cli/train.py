"""``vid2vid train``: train a vid2vid model (or its pix2pixHD first-frame model) on a dataset.

Settings come, in increasing priority, from a preset (``--preset street_512``), a YAML/JSON file
(``--config cfg.yaml``), ``--set key=value`` overrides (``generator.ngf=64`` for nested keys)
and the explicit flags below. ``--resume`` continues a run exactly from its checkpoint (its
saved configuration, plus any overrides given). Several processes: ``torchrun
--nproc_per_node N -m vid2vid.cli.main train ...``.
"""

from __future__ import annotations

import argparse
from typing import Any

# vid2vid.training.config.PRESETS, listed here so that `--help` needs no torch import (a test
# checks the two lists are the same).
PRESET_NAMES: tuple[str, ...] = (
    "tiny",
    "street_256",
    "street_512",
    "street_1024",
    "street_2048",
    "face_512",
    "pose_256",
    "pose_512",
)

# explicit flag -> TrainConfig field
_FLAGS: dict[str, tuple[str, type]] = {
    "dataroot": ("dataroot", str),
    "checkpoint_dir": ("checkpoint_dir", str),
    "lr": ("lr", float),
    "batch_size": ("batch_size", int),
    "niter": ("niter", int),
    "niter_decay": ("niter_decay", int),
    "max_iters": ("max_iters", int),
    "save_every": ("save_every", int),
    "log_every": ("log_every", int),
    "device": ("device", str),
    "amp": ("amp", str),
    "seed": ("seed", int),
    "num_workers": ("num_workers", int),
    "flow_source": ("flow_source", str),
    "load_pretrain": ("load_pretrain", str),
}


_HELP: dict[str, str] = {
    "dataroot": "dataset root in the vid2vid layout ({phase}_A, {phase}_B, {phase}_inst, {phase}_flow)",
    "checkpoint_dir": "folder for checkpoints (latest/, step_*/), logs and the saved config",
    "lr": "Adam learning rate",
    "batch_size": "clips per iteration",
    "niter": "epochs at the initial learning rate",
    "niter_decay": "epochs of linear learning-rate decay to zero after --niter",
    "max_iters": "stop after this many iterations (within the schedule: --niter + --niter-decay epochs)",
    "save_every": "save a checkpoint every N iterations (and always at the end or on a signal)",
    "log_every": "log losses every N iterations",
    "device": "auto, cpu, cuda or cuda:N (auto = cuda when available, else cpu)",
    "amp": "mixed precision on CUDA: none, bf16 or fp16",
    "seed": "seed of weights and data order",
    "num_workers": "DataLoader worker processes",
    "flow_source": "reference flow: cache ({phase}_flow from prepare-flow or make-synthetic), dis, raft_small or raft_large",
    "load_pretrain": "start from a trained model folder (spatial coarse-to-fine: add a finer scale)",
}


def _config_default(field_name: str) -> Any:
    from vid2vid.training.config import TrainConfig

    return getattr(TrainConfig(), field_name)


def register(subparsers: Any) -> None:
    """Add the ``train`` sub-command."""
    p = subparsers.add_parser(
        "train",
        help="train a vid2vid (or pix2pixHD first-frame) model",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--model", choices=("vid2vid", "image"), default=None, help="what to train (default: vid2vid)"
    )
    p.add_argument(
        "--preset",
        default=None,
        metavar="NAME",
        help="start from a preset: " + ", ".join(PRESET_NAMES) + " (tiny: CPU quick start; docs/training.md)",
    )
    p.add_argument("--config", default=None, help="YAML or JSON file of TrainConfig settings")
    p.add_argument(
        "--set",
        dest="overrides",
        action="extend",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="override settings: --set niter=5 generator.ngf=32 (repeatable)",
    )
    p.add_argument(
        "--resume",
        nargs="?",
        const="",
        default=None,
        metavar="CHECKPOINT",
        help="continue from a checkpoint folder (default: <checkpoint_dir>/latest)",
    )
    for flag, (field_name, kind) in _FLAGS.items():
        default = _config_default(field_name)
        shown = "unset" if default in (None, "") else default
        p.add_argument(
            f"--{flag.replace('_', '-')}",
            dest=flag,
            type=kind,
            default=None,
            help=f"{_HELP[flag]} (default: the preset's or --config's value, else {shown})",
        )
    p.add_argument(
        "--vgg-weights", dest="vgg_weights", default=None, help='path, "default", "random" or "none"'
    )
    p.add_argument(
        "--quiet", "--no-progress", dest="no_progress", action="store_true", help="no progress bar"
    )
    p.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    p.set_defaults(func=run)


def resolve_config(args: argparse.Namespace) -> tuple[Any, str | None]:
    """The resolved :class:`TrainConfig` and the checkpoint to resume from (or ``None``)."""
    from pathlib import Path

    from vid2vid.training.config import TrainConfig, apply_overrides, get_preset, load_config
    from vid2vid.training.state import CONFIG_FILE, resolve_checkpoint

    resume = None
    if args.resume is not None:
        if args.preset or args.config:
            raise ValueError(
                "--resume uses the checkpoint's saved config; drop --preset/--config (use --set)"
            )
        ckpt_dir = args.resume or args.checkpoint_dir or TrainConfig().checkpoint_dir
        folder = resolve_checkpoint(Path(ckpt_dir))
        config = load_config(folder / CONFIG_FILE)
        resume = str(folder)
    else:
        config = get_preset(args.preset) if args.preset else TrainConfig()
        if args.config:
            loaded = load_config(args.config).to_dict()
            if args.preset:  # the file overrides the preset's values it sets
                import yaml

                raw = Path(args.config).read_text()
                given = yaml.safe_load(raw) or {}
                flat = {}
                for k, v in given.items():
                    if isinstance(v, dict):
                        flat.update({f"{k}.{kk}": vv for kk, vv in v.items()})
                    else:
                        flat[k] = v
                config = apply_overrides(config, flat)
            else:
                config = TrainConfig.from_dict(loaded)
    explicit: dict[str, Any] = {}
    if args.model:
        explicit["model"] = args.model
    for flag, (field_name, _) in _FLAGS.items():
        value = getattr(args, flag)
        if value is not None:
            explicit[field_name] = value
    if args.vgg_weights is not None:
        explicit["vgg_weights"] = None if args.vgg_weights == "random" else args.vgg_weights
    if args.no_progress:
        explicit["progress"] = False
    config = apply_overrides(config, args.overrides)
    if explicit:
        config = apply_overrides(config, explicit)
    return config, resume


def run(args: argparse.Namespace) -> int:
    """Train; returns 0 when the run finished or was stopped cleanly by a signal."""
    config, resume = resolve_config(args)
    if args.print_config:
        print(config.to_json())
        return 0
    from vid2vid.training.distributed import cleanup_distributed, init_distributed
    from vid2vid.training.trainer import resolve_device

    device = resolve_device(config.device)
    ctx = init_distributed(device.type)
    try:
        if config.model == "image":
            from vid2vid.training.image_trainer import ImageTrainer

            trainer: Any = ImageTrainer(config, dist=ctx, resume=resume)
        else:
            from vid2vid.training.trainer import Vid2VidTrainer

            trainer = Vid2VidTrainer(config, dist=ctx, resume=resume)
        result = trainer.train()
    finally:
        cleanup_distributed()
    if ctx.is_main:
        state = "interrupted, checkpoint saved" if result.interrupted else "finished"
        print(
            f"vid2vid train: {state}: step {result.global_step}, epoch {result.epoch}, "
            f"{result.iterations_per_second:.3g} it/s, checkpoint {result.checkpoint}"
        )
    return 0
