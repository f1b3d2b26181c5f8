"""``vid2vid convert``: turn an original NVIDIA/vid2vid or pix2pixHD checkpoint into ours."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]

_KINDS = (
    "vid2vid_generator",
    "pix2pixhd_global",
    "pix2pixhd_local",
    "multiscale_patch_discriminator",
    "instance_feature_encoder",
)


def register(subparsers: Any) -> None:
    """Add the ``convert`` sub-command."""
    parser = subparsers.add_parser(
        "convert",
        help="convert an original NVIDIA/vid2vid or pix2pixHD checkpoint to safetensors + config.json",
        description=(
            "Convert original checkpoints (torch.load with weights_only=True) into a folder with "
            "config.json and model.safetensors. Every tensor of the source must map onto the "
            "architecture described by the options, or the conversion fails naming the keys. "
            "Converted weights keep the original's CC BY-NC-SA 4.0 licence (written into config.json)."
        ),
    )
    parser.add_argument(
        "--kind",
        choices=_KINDS,
        default="vid2vid_generator",
        help="network type (default: vid2vid_generator)",
    )
    parser.add_argument(
        "--weights",
        nargs="+",
        required=True,
        help="the original .pth files (for vid2vid_generator: latest_net_G0.pth [G1 ...], coarsest first), "
        "or one checkpoint folder holding latest_net_G*.pth and opt.txt",
    )
    parser.add_argument(
        "--options", help="the original's opt.txt or a JSON object of its option names (label_nc, ngf, ...)"
    )
    parser.add_argument(
        "--set",
        action="extend",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="override/add original options: --set n_scales_spatial=3 use_instance=True fg=True (repeatable)",
    )
    parser.add_argument(
        "--norm", help="our norm for the generator (default: instance_affine for the original's batch)"
    )
    parser.add_argument("--out", required=True, help="output folder (config.json + model.safetensors)")
    parser.add_argument(
        "--verify",
        metavar="FIXTURE_DIR",
        help="also run a reference fixture folder and report the max difference",
    )
    parser.set_defaults(func=run)


def _resolve_weights(paths: list[str], kind: str) -> tuple[list[Path], Path | None]:
    if len(paths) == 1 and Path(paths[0]).is_dir():
        folder = Path(paths[0])
        if kind != "vid2vid_generator":
            raise ValueError(
                f"a checkpoint folder is only understood for vid2vid_generator; pass the .pth of {kind}"
            )
        found = sorted(folder.glob("latest_net_G[0-9]*.pth"), key=lambda p: int(p.stem.rsplit("G", 1)[1]))
        if not found:
            raise FileNotFoundError(f"no latest_net_G<s>.pth files in {folder}")
        opt = folder / "opt.txt"
        return found, opt if opt.is_file() else None
    return [Path(p) for p in paths], None


def run(args: argparse.Namespace) -> int:
    """Convert, save, optionally verify; print a summary. Returns the exit code."""
    from vid2vid import __version__
    from vid2vid.checkpoint import save_module_weights, write_json
    from vid2vid.convert.original import (
        ORIGINAL_LICENSE,
        _parse_value,
        convert_original,
        load_original_state_dict,
        read_original_options,
    )
    from vid2vid.convert.parity import check_fixture
    from vid2vid.model_folder import save_model_folder

    weights, found_opt = _resolve_weights(args.weights, args.kind)
    options: dict[str, Any] = {}
    options_file = args.options or found_opt
    if options_file:
        options.update(read_original_options(options_file))
    for item in args.set:
        if "=" not in item:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        key, _, value = item.partition("=")
        options[key.strip()] = _parse_value(value)
    if args.kind == "vid2vid_generator" and "n_scales_spatial" not in options:
        options["n_scales_spatial"] = len(weights)

    state_dicts = [load_original_state_dict(p) for p in weights]
    model, config = convert_original(
        args.kind, options, state_dicts, [p.name for p in weights], norm=args.norm
    )

    out = Path(args.out)
    record = {
        "license": ORIGINAL_LICENSE,
        "converted_from": {"files": [p.name for p in weights], "original_options": options},
    }
    if args.kind == "vid2vid_generator":
        first_frame = "zeros" if model.config.no_first_frame else "real"
        save_model_folder(out, model, first_frame=first_frame, metadata=record)
    else:
        save_module_weights(model, out / "model.safetensors", metadata={"format": "pt"})
        write_json(
            out / "config.json",
            {"model_type": args.kind, "config": config, "vid2vid_version": __version__, **record},
        )
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"converted {args.kind} from {', '.join(p.name for p in weights)} ({n_params:,} parameters) -> {out}"
    )
    if args.verify:
        result = check_fixture(args.verify)
        print(
            f"parity on {result.name}: max |ours - original| = {result.max_abs_diff:.3g} over {result.n_values:,} values"
        )
        if result.max_abs_diff > 1e-4:
            print("parity check FAILED (> 1e-4)")
            return 1
    return 0
