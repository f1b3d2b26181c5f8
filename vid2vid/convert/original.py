"""Conversion of the original NVIDIA/vid2vid (and pix2pixHD) networks into our modules.

The original saves ``torch.save(net.state_dict())`` per network; its option names (flags of
``options/*.py``) describe the architecture. Each ``convert_*`` function takes the original's
state dict(s) and options, builds our module and fills it through a strict
:class:`~vid2vid.convert.state_dict_mapping.StateDictMapping`: every source tensor must be
used (or be an unused running statistic), every module tensor must be provided.

Key layouts of the original (``nn.Sequential`` indices):

- ``[ReflectionPad, Conv, Norm, ReLU]`` stems put the convolution at 1 and the norm at 2;
  each stride-2 convolution adds ``[Conv, Norm, ReLU]`` (3 indices); each transposed
  convolution adds ``[ConvT, Norm, ReLU]``; final layers ``[ReflectionPad, Conv, Act]``.
- ``ResnetBlock.conv_block``: ``[Pad, Conv(1), Norm(2), ReLU, Pad, Conv(5), Norm(6)]``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from vid2vid.convert.state_dict_mapping import ConversionError, StateDictMapping
from vid2vid.nn.discriminator import MultiScaleDiscriminator
from vid2vid.nn.feature_image_generator import FeatureImageGenerator, FeatureImageGeneratorConfig
from vid2vid.nn.image_generator import ImageGenerator, ImageGeneratorConfig
from vid2vid.nn.instance_encoder import InstanceFeatureEncoder
from vid2vid.nn.sequential_generator import SequentialGenerator, SequentialGeneratorConfig

__all__ = [
    "ORIGINAL_LICENSE",
    "load_original_state_dict",
    "read_original_options",
    "sequential_generator_config_from_options",
    "convert_sequential_generator",
    "convert_image_generator",
    "convert_feature_image_generator",
    "infer_image_generator_config",
    "original_input_range",
    "convert_multiscale_discriminator",
    "convert_instance_encoder",
    "convert_original",
    "infer_generator_options",
    "check_generator_options",
    "image_model_inputs_from_options",
    "KINDS",
]

ORIGINAL_LICENSE = (
    "CC BY-NC-SA 4.0 (weights converted from NVIDIA/vid2vid or pix2pixHD; non-commercial use only, "
    "https://creativecommons.org/licenses/by-nc-sa/4.0/)"
)


def load_original_state_dict(path: str | os.PathLike[str]) -> dict[str, Tensor]:
    """Read an original ``.pth`` checkpoint safely (``torch.load(weights_only=True)``).

    Accepts a plain state dict, or a dict holding one under ``state_dict``; strips a
    ``module.`` prefix left by ``DataParallel``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"original checkpoint not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - re-raised with the file name
        raise ValueError(f"cannot read {path} as a PyTorch state dict (weights_only=True): {err}") from err
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not all(isinstance(v, Tensor) for v in obj.values()):
        raise ValueError(f"{path} does not hold a state dict of tensors")
    return {(k[len("module.") :] if k.startswith("module.") else k): v for k, v in obj.items()}


def _parse_value(text: str) -> Any:
    text = text.strip()
    if text in ("True", "False"):
        return text == "True"
    if text == "None":
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [] if not inner else [_parse_value(x) for x in inner.split(",")]
    return text


def read_original_options(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse the original's ``opt.txt`` (``name: value`` lines, with a ``[default: ...]`` suffix
    in newer versions) or a JSON file of option names → values."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"options file not found: {path}")
    text = path.read_text()
    if path.suffix == ".json":
        import json

        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"{path} must hold a JSON object of option names")
        if isinstance(data.get("options"), dict):  # a record holding the options under "options"
            data = {**{k: v for k, v in data.items() if k != "options"}, **data["options"]}
        return data
    options: dict[str, Any] = {}
    for line in text.splitlines():
        if ":" not in line or line.startswith("-"):
            continue
        key, _, value = line.partition(":")
        value = value.split("\t[default:")[0].split("[default:")[0]
        options[key.strip()] = _parse_value(value)
    if not options:
        raise ValueError(f"no 'name: value' options found in {path}")
    return options


_GENERATOR_DEFAULTS: dict[str, Any] = {
    # Defaults of the original's options/base_options.py and train_options.py.
    "label_nc": 35,
    "input_nc": 3,
    "output_nc": 3,
    "ngf": 128,
    "n_downsample_G": 3,
    "n_blocks": 9,
    "n_blocks_local": 3,
    "n_scales_spatial": 1,
    "n_frames_G": 3,
    "norm": "batch",
    "use_instance": False,
    "fg": False,
    "fg_labels": [26],
    "no_flow": False,
    "no_first_img": False,
}


def sequential_generator_config_from_options(
    options: Mapping[str, Any], norm: str | None = None
) -> SequentialGeneratorConfig:
    """Our generator config from the original's option names.

    Args:
        options: original flags (``label_nc``, ``ngf``, ``n_downsample_G``, ``n_scales_spatial``,
            ``use_instance``, ``fg``, ``fg_labels``, ``no_flow``, ``no_first_img``, ...); missing
            ones take the original's defaults.
        norm: our norm name; default: ``instance_affine`` for the original's ``batch`` (the
            function its test loop computes) and ``instance`` for ``instance``.
    """
    opt = {**_GENERATOR_DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    if opt.get("openpose_only"):
        opt["no_flow"] = True  # the original forces this
    fg_labels = opt["fg_labels"]
    if isinstance(fg_labels, (int, str)):
        fg_labels = [int(x) for x in str(fg_labels).split(",")]
    original_norm = str(opt["norm"])
    if norm is None:
        norm = {"batch": "instance_affine", "instance": "instance"}.get(original_norm)
        if norm is None:
            raise ValueError(f"unsupported original norm {original_norm!r}")
    return SequentialGeneratorConfig(
        label_nc=int(opt["label_nc"]),
        input_nc=int(opt["input_nc"]),
        use_instance=bool(opt["use_instance"]),
        output_nc=int(opt["output_nc"]),
        n_frames_G=int(opt["n_frames_G"]),
        ngf=int(opt["ngf"]),
        n_downsample=int(opt["n_downsample_G"]),
        n_blocks=int(opt["n_blocks"]),
        n_blocks_local=int(opt["n_blocks_local"]),
        n_scales=int(opt["n_scales_spatial"]),
        norm=norm,
        no_flow=bool(opt["no_flow"]),
        use_foreground=bool(opt["fg"]),
        fg_labels=list(fg_labels),
        no_first_frame=bool(opt["no_first_img"]),
    )


def _map_stem_and_downs(m: StateDictMapping, src: str, dst: str, n_down: int, sn: str, dn: str) -> int:
    """Stem (conv 1, norm 2) and ``n_down`` stride-2 layers (conv 4+3i, norm 5+3i); returns next index."""
    m.conv_norm(f"{src}.1", f"{src}.2", f"{dst}.stem", sn, dn)
    for i in range(n_down):
        m.conv_norm(f"{src}.{4 + 3 * i}", f"{src}.{5 + 3 * i}", f"{dst}.down.{i}", sn, dn)
    return 4 + 3 * n_down


def _map_ups(m: StateDictMapping, src: str, start: int, dst: str, n_up: int, sn: str, dn: str) -> None:
    for i in range(n_up):
        m.conv_norm(f"{src}.{start + 3 * i}", f"{src}.{start + 3 * i + 1}", f"{dst}.up.{i}", sn, dn)


def _map_blocks(m: StateDictMapping, src: str, start: int, dst: str, n: int, sn: str, dn: str) -> None:
    for k in range(n):
        m.residual_block(f"{src}.{start + k}", f"{dst}.blocks.{k}", sn, dn)


def _map_global_composite(m: StateDictMapping, cfg: SequentialGeneratorConfig, sn: str, dn: str) -> None:
    d = cfg.n_downsample
    n_enc = cfg.n_blocks - cfg.n_blocks // 2
    n_dec = cfg.n_blocks // 2
    for src, dst in (("model_down_seg", "label_encoder"), ("model_down_img", "prev_encoder")):
        nxt = _map_stem_and_downs(m, src, dst, d, sn, dn)
        _map_blocks(m, src, nxt, dst, n_enc, sn, dn)
    heads = [("img", "image")] + ([] if cfg.no_flow else [("flow", "flow")])
    for src, dst in heads:
        _map_blocks(m, f"model_res_{src}", 0, f"{dst}_decoder", n_dec, sn, dn)
        _map_ups(m, f"model_up_{src}", 0, f"{dst}_decoder", d, sn, dn)
    m.conv("model_final_img.1", "image_out.conv")
    if not cfg.no_flow:
        m.conv("model_final_flow.1", "flow_out.conv")
        m.conv("model_final_w.1", "weight_out.conv")
    if cfg.use_foreground:
        _map_stem_and_downs(m, "indv_down", "fg_encoder", d, sn, dn)
        _map_blocks(m, "indv_res", 0, "fg_decoder", cfg.n_blocks, sn, dn)
        _map_ups(m, "indv_up", 0, "fg_decoder", d, sn, dn)
        m.conv("indv_final.1", "fg_out.conv")


def _map_local_composite(m: StateDictMapping, cfg: SequentialGeneratorConfig, sn: str, dn: str) -> None:
    n = cfg.n_blocks_local
    for src, dst in (("model_down_seg", "label_encoder"), ("model_down_img", "prev_encoder")):
        _map_stem_and_downs(m, src, dst, 1, sn, dn)
    heads = [("img", "image")] + ([] if cfg.no_flow else [("flow", "flow")])
    for src, dst in heads:
        _map_blocks(m, f"model_up_{src}", 0, f"{dst}_decoder", n, sn, dn)
        _map_ups(m, f"model_up_{src}", n, f"{dst}_decoder", 1, sn, dn)
    m.conv("model_final_img.1", "image_out.conv")
    if not cfg.no_flow:
        m.conv("model_final_flow.1", "flow_out.conv")
        m.conv("model_final_w.1", "weight_out.conv")
    if cfg.use_foreground:
        _map_stem_and_downs(m, "indv_down", "fg_encoder", 1, sn, dn)
        _map_blocks(m, "indv_up", 0, "fg_decoder", n, sn, dn)
        _map_ups(m, "indv_up", n, "fg_decoder", 1, sn, dn)
        m.conv("indv_final.1", "fg_out.conv")


def convert_sequential_generator(
    state_dicts: Sequence[Mapping[str, Tensor]],
    config: SequentialGeneratorConfig,
    source_norm: str = "batch",
    source_names: Sequence[str] | None = None,
    key_map: dict[str, str] | None = None,
) -> SequentialGenerator:
    """Build a :class:`SequentialGenerator` from the original's ``netG0``, ``netG1``, ... state dicts.

    Args:
        state_dicts: one per spatial scale, coarsest first (``latest_net_G0.pth``, ``G1``, ...).
        config: our config (see :func:`sequential_generator_config_from_options`).
        source_norm: the original's ``--norm`` (``batch`` or ``instance``).
        source_names: names for error messages (file names).
        key_map: when given, filled with ``"G<s>.<original key>" → "<our parameter name>"``.
    """
    if len(state_dicts) != config.n_scales:
        raise ConversionError(
            f"n_scales={config.n_scales} needs {config.n_scales} generator state dicts "
            f"(latest_net_G0.pth ... G{config.n_scales - 1}), got {len(state_dicts)}"
        )
    names = list(source_names) if source_names else [f"netG{s}" for s in range(len(state_dicts))]
    model = SequentialGenerator(config)
    for s, sd in enumerate(state_dicts):
        m = StateDictMapping(sd, names[s])
        if s == 0:
            _map_global_composite(m, config, source_norm, config.norm)
        else:
            _map_local_composite(m, config, source_norm, config.norm)
        m.load_into(model, prefix=f"scales.{s}.")
        if key_map is not None:
            key_map.update({f"G{s}.{src}": f"scales.{s}.{dst}" for src, dst in m.pairs.items()})
    return model


def convert_image_generator(
    state_dict: Mapping[str, Tensor],
    config: ImageGeneratorConfig,
    source_norm: str = "instance",
    source_name: str = "netG",
) -> ImageGenerator:
    """Build an :class:`ImageGenerator` from pix2pixHD's ``GlobalGenerator`` / ``LocalEnhancer`` state dict.

    ``config.n_local_enhancers == 0`` reads a ``GlobalGenerator`` (keys ``model.*``); otherwise a
    ``LocalEnhancer`` (global part under ``model.*`` without its final layers, enhancer ``n``
    under ``model{n}_1`` / ``model{n}_2``).
    """
    model = ImageGenerator(config)
    m = StateDictMapping(state_dict, source_name)
    d, n_local, sn, dn = config.n_downsample, config.n_local_enhancers, source_norm, config.norm
    nxt = _map_stem_and_downs(m, "model", "global_encoder", d, sn, dn)
    _map_blocks(m, "model", nxt, "global_encoder", config.n_blocks, sn, dn)
    up_start = nxt + config.n_blocks
    _map_ups(m, "model", up_start, "global_decoder", d, sn, dn)
    if n_local == 0:
        m.conv(f"model.{up_start + 3 * d + 1}", "image_out.conv")
    for n in range(1, n_local + 1):
        _map_stem_and_downs(m, f"model{n}_1", f"enhancers.{n - 1}.encoder", 1, sn, dn)
        _map_blocks(m, f"model{n}_2", 0, f"enhancers.{n - 1}.decoder", config.n_blocks_local, sn, dn)
        _map_ups(m, f"model{n}_2", config.n_blocks_local, f"enhancers.{n - 1}.decoder", 1, sn, dn)
        if n == n_local:
            m.conv(f"model{n}_2.{config.n_blocks_local + 4}", "image_out.conv")
    m.load_into(model)
    return model


def convert_feature_image_generator(
    state_dict: Mapping[str, Tensor],
    config: FeatureImageGeneratorConfig,
    source_norm: str = "instance",
    source_name: str = "netG",
) -> FeatureImageGenerator:
    """Build a :class:`FeatureImageGenerator` from the original's ``Global_with_z`` / ``Local_with_z``.

    Keys: global part ``model_downsample.*`` (stem, stride-2 convolutions), ``model_resnet.*``,
    ``model_upsample.*`` (transposed convolutions); ``Global_with_z`` ends in
    ``model_upsample_conv.1``; ``Local_with_z`` adds ``model{n}_1`` (enhancer encoder),
    ``model{n}_2`` (blocks + transposed convolution) and ``model_final.1``.
    """
    model = FeatureImageGenerator(config)
    m = StateDictMapping(state_dict, source_name)
    sn, dn, d = source_norm, config.norm, config.n_downsample
    _map_stem_and_downs(m, "model_downsample", "global_encoder", d, sn, dn)
    for k in range(config.n_blocks):
        m.residual_block(f"model_resnet.{k}", f"global_blocks.{k}", sn, dn)
    for i in range(d):
        m.conv_norm(f"model_upsample.{3 * i}", f"model_upsample.{3 * i + 1}", f"global_up.{i}", sn, dn)
    for n in range(1, config.n_local_enhancers + 1):
        dst = f"enhancers.{n - 1}"
        _map_stem_and_downs(m, f"model{n}_1", f"{dst}.encoder", 1, sn, dn)
        nb = config.n_blocks_local
        for k in range(nb):
            m.residual_block(f"model{n}_2.{k}", f"{dst}.blocks.{k}", sn, dn)
        m.conv_norm(f"model{n}_2.{nb}", f"model{n}_2.{nb + 1}", f"{dst}.up", sn, dn)
    m.conv("model_final.1" if config.n_local_enhancers else "model_upsample_conv.1", "image_out.conv")
    m.load_into(model)
    return model


def _count(
    sd: Mapping[str, Tensor], pattern: str, start: int = 0, step: int = 1, ndim: int | None = None
) -> int:
    n = 0
    while (key := pattern.format(start + step * n)) in sd and (ndim is None or sd[key].dim() == ndim):
        n += 1
    return n


def infer_image_generator_config(
    state_dict: Mapping[str, Tensor], norm: str = "instance"
) -> ImageGeneratorConfig | FeatureImageGeneratorConfig:
    """Read a pix2pixHD-style image generator's architecture from its weights.

    Recognises ``GlobalGenerator`` (keys ``model.*``), ``LocalEnhancer`` (``model.*`` +
    ``model{n}_1/_2``) and vid2vid's ``Global_with_z`` / ``Local_with_z`` (``model_downsample.*``),
    so that the original's single-image checkpoints (``label2city_single/latest_net_G_512.pth``:
    global, 3 downsamplings; ``_1024``: global, 4; ``_2048``: local enhancer; and
    ``edge2face_single/latest_net_G.pth``: global with features) convert without options.
    """
    sd = state_dict
    n_local = _count(sd, "model{}_1.1.weight", start=1)
    if "model_downsample.1.weight" in sd:
        stem = sd["model_downsample.1.weight"]
        d = _count(sd, "model_downsample.{}.weight", start=4, step=3, ndim=4)
        n_blocks = _count(sd, "model_resnet.{}.conv_block.1.weight")
        if d == 0 or n_blocks == 0:
            raise ConversionError(
                "not a Global_with_z / Local_with_z generator (no stride-2 layers or blocks)"
            )
        deepest = int(sd[f"model_downsample.{4 + 3 * (d - 1)}.weight"].shape[0])
        nz = int(sd["model_resnet.0.conv_block.1.weight"].shape[0]) - deepest
        ngf_global = int(stem.shape[0])
        return FeatureImageGeneratorConfig(
            input_nc=int(stem.shape[1]) - nz,
            feature_nc=nz,
            output_nc=int(sd["model_final.1.weight" if n_local else "model_upsample_conv.1.weight"].shape[0]),
            ngf=ngf_global // 2**n_local,
            n_downsample=d,
            n_blocks=n_blocks,
            n_local_enhancers=n_local,
            n_blocks_local=_count(sd, "model1_2.{}.conv_block.1.weight") if n_local else 3,
            norm=norm,
        )
    if "model.1.weight" not in sd:
        raise ConversionError(
            "not a pix2pixHD image generator (no 'model.1.weight' or 'model_downsample.1.weight' key)"
        )
    stem = sd["model.1.weight"]
    d = _count(sd, "model.{}.weight", start=4, step=3, ndim=4)
    n_blocks = _count(sd, "model.{}.conv_block.1.weight", start=4 + 3 * d)
    if n_local:
        n_blocks_local = _count(sd, f"model{n_local}_2.{{}}.conv_block.1.weight")
        output_nc = int(sd[f"model{n_local}_2.{n_blocks_local + 4}.weight"].shape[0])
    else:
        n_blocks_local = 3
        output_nc = int(sd[f"model.{4 + 3 * d + n_blocks + 3 * d + 1}.weight"].shape[0])
    return ImageGeneratorConfig(
        input_nc=int(stem.shape[1]),
        output_nc=output_nc,
        ngf=int(stem.shape[0]) // 2**n_local,
        n_downsample=d,
        n_blocks=n_blocks,
        n_local_enhancers=n_local,
        n_blocks_local=n_blocks_local,
        norm=norm,
    )


def original_input_range(options: Mapping[str, Any]) -> tuple[float, float] | None:
    """The value range of the continuous inputs the original fed a model trained with ``options``.

    ``None`` for label models (``label_nc > 0``); ``(0, 1)`` for ``dataset_mode face`` (edge and
    distance maps, ``normalize=False``); ``(-1, 1)`` for ``pose`` and for the generic datasets
    (``temporal``/``test``, which normalise continuous inputs like images).

    Raises:
        ValueError: a continuous-input model whose options do not name its ``dataset_mode``.
    """
    label_nc = int(options.get("label_nc", 35) or 0)
    if label_nc > 0:
        return None
    mode = options.get("dataset_mode")
    if mode == "face":
        return (0.0, 1.0)
    if mode in ("pose", "temporal", "test"):
        return (-1.0, 1.0)
    raise ValueError(
        "this model takes continuous inputs (label_nc=0) and the options do not say which dataset it was "
        f"trained with (dataset_mode={mode!r}); give its input range: [0, 1] for the original's face "
        "models (dataset_mode face), [-1, 1] for pose models (dataset_mode pose)"
    )


def convert_multiscale_discriminator(
    state_dict: Mapping[str, Tensor],
    input_nc: int,
    ndf: int = 64,
    n_layers: int = 3,
    num_D: int = 3,
    norm: str = "batch",
    ndf_max: int = 64,
    source_name: str = "netD",
    key_map: dict[str, str] | None = None,
) -> MultiScaleDiscriminator:
    """Build a :class:`MultiScaleDiscriminator` from the original's ``MultiscaleDiscriminator``
    (saved with intermediate features: keys ``scale{k}_layer{j}.*``).

    The original's ``scale{num_D-1-i}`` processes the input pooled ``i`` times; ours is ``scales[i]``.
    Also converts each temporal scale of the temporal discriminator (``netD_T{s}``).
    ``key_map``, when given, is filled with ``original key → our parameter name``.
    """
    model = MultiScaleDiscriminator(input_nc, ndf, n_layers, num_D, norm, ndf_max)
    m = StateDictMapping(state_dict, source_name)
    for i in range(num_D):
        k = num_D - 1 - i
        for j in range(n_layers + 2):
            m.conv(f"scale{k}_layer{j}.0", f"scales.{i}.layers.{j}.conv")
            if 0 < j < n_layers + 1:
                m.norm(f"scale{k}_layer{j}.1", f"scales.{i}.layers.{j}.norm", norm, norm)
    m.load_into(model)
    if key_map is not None:
        key_map.update(m.pairs)
    return model


def convert_instance_encoder(
    state_dict: Mapping[str, Tensor],
    input_nc: int = 3,
    output_nc: int = 3,
    ngf: int = 16,
    n_downsample: int = 4,
    norm: str = "instance",
    source_name: str = "netE",
) -> InstanceFeatureEncoder:
    """Build an :class:`InstanceFeatureEncoder` from pix2pixHD's ``Encoder`` (keys ``model.*``)."""
    model = InstanceFeatureEncoder(input_nc, output_nc, ngf, n_downsample, norm)
    m = StateDictMapping(state_dict, source_name)
    nxt = _map_stem_and_downs(m, "model", "encoder", n_downsample, norm, norm)
    _map_ups(m, "model", nxt, "decoder", n_downsample, norm, norm)
    m.conv(f"model.{nxt + 3 * n_downsample + 1}", "out.conv")
    m.load_into(model)
    return model


# --------------------------------------------------------------------------- by kind
KINDS: tuple[str, ...] = (
    "vid2vid_generator",
    "pix2pixhd_global",
    "pix2pixhd_local",
    "pix2pixhd_with_features",
    "multiscale_patch_discriminator",
    "instance_feature_encoder",
)


def image_generator_config_from_options(options: Mapping[str, Any], local: bool) -> ImageGeneratorConfig:
    """pix2pixHD ``--netG global|local`` options → :class:`ImageGeneratorConfig`."""
    return ImageGeneratorConfig(
        input_nc=int(options.get("input_nc", options.get("label_nc", 35))),
        output_nc=int(options.get("output_nc", 3)),
        ngf=int(options.get("ngf", 64)),
        n_downsample=int(options.get("n_downsampling", options.get("n_downsample_global", 4))),
        n_blocks=int(options.get("n_blocks", options.get("n_blocks_global", 9))),
        n_local_enhancers=int(options.get("n_local_enhancers", 1)) if local else 0,
        n_blocks_local=int(options.get("n_blocks_local", 3)),
        norm=str(options.get("norm", "instance")),
    )


def image_model_inputs_from_options(options: Mapping[str, Any], generator_input_nc: int) -> dict[str, Any]:
    """How a converted pix2pixHD generator's input channels split: labels, instance edge, features.

    pix2pixHD's generator takes ``label_nc`` one-hot channels (``input_nc`` continuous ones when
    ``label_nc == 0``), one instance-edge channel unless ``--no_instance``, and ``feat_num``
    feature channels with ``--instance_feat``/``--label_feat``. Options that name ``label_nc``
    are read that way; without it the weights decide: ``generator_input_nc`` one-hot channels
    and nothing else (the reference fixtures), or 35 classes + edge for 36 channels (the
    original's Cityscapes defaults).

    Returns:
        ``{"label_nc", "use_instance", "input_nc", "feature_channels"}`` for the image-model folder.

    Raises:
        ConversionError: options whose channels do not add up to ``generator_input_nc``.
    """
    if "label_nc" in options:
        label_nc = int(options["label_nc"])
        input_nc = int(options.get("input_nc", 3)) if label_nc == 0 else 0
        use_instance = not bool(options.get("no_instance", False))
        feat = (
            int(options.get("feat_num", 3))
            if options.get("instance_feat") or options.get("label_feat")
            else 0
        )
    elif generator_input_nc == 36:
        label_nc, input_nc, use_instance, feat = 35, 0, True, 0
    else:
        label_nc, input_nc, use_instance, feat = generator_input_nc, 0, False, 0
    total = (label_nc or input_nc) + int(use_instance) + feat
    if total != generator_input_nc:
        raise ConversionError(
            f"the options describe {total} generator input channels (label_nc={label_nc}"
            + (f", input_nc={input_nc}" if label_nc == 0 else "")
            + f", instance edge: {int(use_instance)}, features: {feat}) but the weights take {generator_input_nc}; "
            "set label_nc, no_instance, instance_feat/label_feat and feat_num as in the original's opt.txt"
        )
    return {
        "label_nc": label_nc,
        "use_instance": use_instance,
        "input_nc": input_nc,
        "feature_channels": feat,
    }


def discriminator_kwargs_from_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Original ``define_D`` options → :class:`MultiScaleDiscriminator` keyword arguments."""
    if "input_nc" not in options:
        raise ValueError("discriminator options need input_nc (e.g. 39 for 35 labels + edge + RGB)")
    return {
        "input_nc": int(options["input_nc"]),
        "ndf": int(options.get("ndf", 64)),
        "n_layers": int(options.get("n_layers_D", 3)),
        "num_D": int(options.get("num_D", 2)),
        "norm": str(options.get("norm", "batch")),
        "ndf_max": int(options.get("ndf_max", 64)),
    }


def encoder_kwargs_from_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """pix2pixHD ``Encoder`` options → :class:`InstanceFeatureEncoder` keyword arguments."""
    return {
        "input_nc": int(options.get("input_nc", 3)),
        "output_nc": int(options.get("output_nc", options.get("feat_num", 3))),
        "ngf": int(options.get("ngf", options.get("nef", 16))),
        "n_downsample": int(options.get("n_downsampling", options.get("n_downsample_E", 4))),
        "norm": str(options.get("norm", "instance")),
    }


def convert_original(
    kind: str,
    options: Mapping[str, Any],
    state_dicts: Sequence[Mapping[str, Tensor]],
    source_names: Sequence[str] | None = None,
    norm: str | None = None,
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Convert any supported original network.

    Args:
        kind: one of :data:`KINDS`.
        options: the original's option names → values (``opt.txt`` or a JSON file).
        state_dicts: the ``.pth`` state dicts (one per spatial scale for ``vid2vid_generator``).
        source_names: file names for error messages.
        norm: override our norm for ``vid2vid_generator`` (default: see
            :func:`sequential_generator_config_from_options`).

    Returns:
        ``(module, config)``: our module and the JSON-able arguments that rebuild it.
    """
    names = list(source_names) if source_names else None
    if kind == "vid2vid_generator":
        check_generator_options(options, state_dicts)
        cfg = sequential_generator_config_from_options(options, norm=norm)
        model = convert_sequential_generator(state_dicts, cfg, str(options.get("norm", "batch")), names)
        return model, cfg.to_dict()
    if len(state_dicts) != 1:
        raise ConversionError(f"{kind} is converted from exactly one state dict, got {len(state_dicts)}")
    name = names[0] if names else kind
    if kind in ("pix2pixhd_global", "pix2pixhd_local"):
        icfg = image_generator_config_from_options(options, local=kind.endswith("local"))
        stem = state_dicts[0].get("model.1.weight")
        if stem is not None and stem.dim() == 4 and stem.shape[1] != icfg.input_nc:
            # pix2pixHD's own opt.txt names the label classes, not the generator's input channels
            icfg = dataclasses.replace(icfg, input_nc=int(stem.shape[1]))
        return convert_image_generator(state_dicts[0], icfg, icfg.norm, name), icfg.to_dict()
    if kind == "pix2pixhd_with_features":
        fcfg = infer_image_generator_config(state_dicts[0], str(options.get("norm", "instance")))
        if not isinstance(fcfg, FeatureImageGeneratorConfig):
            raise ConversionError(
                f"{name} is a plain pix2pixHD generator: use pix2pixhd_global or pix2pixhd_local"
            )
        return convert_feature_image_generator(state_dicts[0], fcfg, fcfg.norm, name), fcfg.to_dict()
    if kind == "multiscale_patch_discriminator":
        kwargs = discriminator_kwargs_from_options(options)
        return convert_multiscale_discriminator(state_dicts[0], source_name=name, **kwargs), kwargs
    if kind == "instance_feature_encoder":
        kwargs = encoder_kwargs_from_options(options)
        return convert_instance_encoder(state_dicts[0], source_name=name, **kwargs), kwargs
    raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")


def infer_generator_options(state_dicts: Sequence[Mapping[str, Tensor]]) -> dict[str, Any]:
    """Read the architecture options that the original generator's weights themselves determine.

    From ``latest_net_G0.pth`` (+ finer scales): ``ngf``, ``n_downsample_G``, ``n_blocks``,
    ``n_blocks_local``, ``n_scales_spatial``, ``fg``, ``no_flow``, ``norm``, ``n_frames_G`` (from the
    previous-frame encoder's input channels, assuming RGB output) and the per-frame input channels
    ``frame_nc`` (= ``label_nc`` + instance edge, or ``input_nc`` + edge: the split between labels and
    the instance channel is not recoverable from the weights and must come from the options).
    """
    if not state_dicts:
        raise ValueError("no generator state dicts given")
    sd = state_dicts[0]
    try:
        stem = sd["model_down_seg.1.weight"]
        prev_stem = sd["model_down_img.1.weight"]
    except KeyError as err:
        raise ConversionError(f"not a vid2vid composite generator (missing {err.args[0]!r})") from err
    n_down = 0
    while (
        f"model_down_seg.{4 + 3 * n_down}.weight" in sd
        and sd[f"model_down_seg.{4 + 3 * n_down}.weight"].dim() == 4
    ):
        n_down += 1
    n_enc = 0
    while f"model_down_seg.{4 + 3 * n_down + n_enc}.conv_block.1.weight" in sd:
        n_enc += 1
    n_dec = 0
    while f"model_res_img.{n_dec}.conv_block.1.weight" in sd:
        n_dec += 1
    n_blocks_local = 3
    if len(state_dicts) > 1:
        n_blocks_local = 0
        while f"model_up_img.{n_blocks_local}.conv_block.1.weight" in state_dicts[1]:
            n_blocks_local += 1
    prev_nc = int(prev_stem.shape[1])
    n_frames = prev_nc // 3 + 1
    return {
        "ngf": int(stem.shape[0]),
        "n_downsample_G": n_down,
        "n_blocks": n_enc + n_dec,
        "n_blocks_local": n_blocks_local,
        "n_scales_spatial": len(state_dicts),
        "fg": "indv_down.1.weight" in sd,
        "no_flow": "model_final_flow.1.weight" not in sd,
        "norm": "batch" if "model_down_seg.2.weight" in sd else "instance",
        "n_frames_G": n_frames,
        "frame_nc": int(stem.shape[1]) // n_frames,
    }


def check_generator_options(options: Mapping[str, Any], state_dicts: Sequence[Mapping[str, Tensor]]) -> None:
    """Raise a :class:`ConversionError` naming every option that contradicts the weights.

    Compares the options (with the original's defaults) against :func:`infer_generator_options`,
    so that a wrong ``--ngf`` or a forgotten ``--use_instance`` is reported as such instead of as
    hundreds of shape mismatches.
    """
    inferred = infer_generator_options(state_dicts)
    opt = {**_GENERATOR_DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    problems = [
        f"{key}={opt[key]!r} but the weights say {inferred[key]!r}"
        for key in ("ngf", "n_downsample_G", "n_blocks", "n_scales_spatial", "fg", "no_flow", "n_frames_G")
        if key in opt and opt[key] != inferred[key]
    ]
    if len(state_dicts) > 1 and opt["n_blocks_local"] != inferred["n_blocks_local"]:
        problems.append(
            f"n_blocks_local={opt['n_blocks_local']!r} but the weights say {inferred['n_blocks_local']!r}"
        )
    frame_nc = (int(opt["label_nc"]) or int(opt["input_nc"])) + int(bool(opt["use_instance"]))
    if frame_nc != inferred["frame_nc"]:
        problems.append(
            f"each input frame has {frame_nc} channels (label_nc={opt['label_nc']}, input_nc={opt['input_nc']}, "
            f"use_instance={opt['use_instance']}) but the weights expect {inferred['frame_nc']}"
        )
    if problems:
        raise ConversionError(
            "the options do not describe these weights:\n- "
            + "\n- ".join(problems)
            + f"\n(options inferred from the weights: {inferred})"
        )
