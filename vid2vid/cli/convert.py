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
    "pix2pixhd_with_features",
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
    first = parser.add_argument_group(
        "first-frame model (vid2vid_generator only; the original's --use_single_G)",
        "Bundle the single-image generator that makes the first frames: label2city_single/"
        "latest_net_G_{512,1024,2048}.pth for street models (fed the one-hot labels without the "
        "instance-edge channel), edge2face_single/latest_net_G.pth + latest_net_E.pth + features.npy "
        "for face models. Its architecture is read from the weights.",
    )
    first.add_argument("--first-frame-weights", metavar="PTH", help="the single-image generator's .pth")
    first.add_argument(
        "--first-frame-encoder", metavar="PTH", help="its instance-feature encoder (latest_net_E.pth)"
    )
    first.add_argument("--first-frame-features", metavar="NPY", help="its training features (features.npy)")
    first.add_argument(
        "--feature-choice",
        choices=("nearest", "random"),
        help="how instance features are picked (default: nearest with an encoder, as the original)",
    )
    parser.add_argument(
        "--input-range",
        nargs=2,
        type=float,
        metavar=("LO", "HI"),
        help="value range of continuous inputs the model was trained with (default from dataset_mode: "
        "face 0 1, pose -1 1)",
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
        image_model_inputs_from_options,
        load_original_state_dict,
        read_original_options,
    )
    from vid2vid.convert.parity import check_fixture
    from vid2vid.image_model_folder import save_image_model
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
    extras = (
        args.first_frame_weights,
        args.first_frame_encoder,
        args.first_frame_features,
        args.feature_choice,
    )
    if args.kind != "vid2vid_generator" and (any(x is not None for x in extras) or args.input_range):
        raise ValueError(
            "--first-frame-* , --feature-choice and --input-range apply to --kind vid2vid_generator"
        )

    state_dicts = [load_original_state_dict(p) for p in weights]
    out = Path(args.out)
    if args.kind == "vid2vid_generator":
        from vid2vid.convert.original_features import read_original_features
        from vid2vid.convert.original_model import convert_original_model

        first_path = Path(args.first_frame_weights) if args.first_frame_weights else None
        converted = convert_original_model(
            options,
            state_dicts,
            source_names=[p.name for p in weights],
            norm=args.norm,
            first_frame_state_dict=load_original_state_dict(first_path) if first_path else None,
            first_frame_name=first_path.name if first_path else "latest_net_G.pth",
            encoder_state_dict=(
                load_original_state_dict(args.first_frame_encoder) if args.first_frame_encoder else None
            ),
            features=read_original_features(args.first_frame_features) if args.first_frame_features else None,
            feature_choice=args.feature_choice,
            input_range=tuple(args.input_range) if args.input_range else None,
        )
        model = converted.generator
        save_model_folder(
            out,
            model,
            first_frame=converted.first_frame,
            image_generator=converted.image_generator,
            feature_clusters=converted.feature_clusters,
            metadata=converted.metadata,
            input_range=converted.input_range,
            first_frame_input=converted.first_frame_input,
            feature_encoder=converted.feature_encoder,
            feature_choice=converted.feature_choice,
        )
        if converted.image_generator is not None:
            print(
                f"first frames: {first_path.name} ({type(converted.image_generator).__name__}, input "  # type: ignore[union-attr]
                f"{converted.first_frame_input!r}, features {converted.feature_choice if converted.feature_clusters else 'none'})"
            )
    elif args.kind in ("pix2pixhd_global", "pix2pixhd_local"):
        # an image-model folder: Pix2PixHDPipeline / `vid2vid synthesize` run it, `vid2vid bundle` adds it
        model, _ = convert_original(
            args.kind, options, state_dicts, [p.name for p in weights], norm=args.norm
        )
        inputs = image_model_inputs_from_options(options, model.config.input_nc)
        if inputs["feature_channels"]:
            raise ValueError(
                "this generator takes instance features (instance_feat/label_feat): converting its "
                "feature encoder and clusters is not supported; convert a generator trained without features"
            )
        save_image_model(
            out,
            model,
            label_nc=inputs["label_nc"],
            use_instance=inputs["use_instance"],
            input_nc=inputs["input_nc"],
            metadata={
                "license": ORIGINAL_LICENSE,
                "converted_from": {"files": [p.name for p in weights], "original_options": options},
            },
        )
    else:
        model, config = convert_original(
            args.kind, options, state_dicts, [p.name for p in weights], norm=args.norm
        )
        record = {
            "license": ORIGINAL_LICENSE,
            "converted_from": {"files": [p.name for p in weights], "original_options": options},
        }
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
        verify = Path(args.verify)
        if read_original_options(verify / "config.json").get("kind", "").startswith("vid2vid_test"):
            from vid2vid.convert.pipeline_parity import check_pipeline_fixture

            result = check_pipeline_fixture(verify, model_folder=out)
        else:
            result = check_fixture(args.verify)
        print(f"parity on {result.summary()}")
        if not result.passed:
            print(f"parity check FAILED (> {result.tolerance:g})")
            return 1
    return 0
