"""The model folder: what ``save_pretrained`` writes, ``from_pretrained`` and the trainer read.

Layout (design notes §4)::

    config.json            model type, generator config, first-frame policy, label set, licence
    model.safetensors      SequentialGenerator weights
    first_frame/           optional image generator for the first frames
        config.json        model_type, config, input, feature_choice, optional encoder
        model.safetensors
        encoder.safetensors  optional instance-feature encoder (nearest-neighbour feature choice)
    features.safetensors   optional per-class instance features (clusters or training features)

``config.json`` keys: ``model_type`` (``"vid2vid_generator"``), ``config`` (every
:class:`SequentialGeneratorConfig` field), ``first_frame`` (``"real"``, ``"zeros"`` or
``"image_generator"``), optional ``input_range`` (``[lo, hi]``: the value range of the continuous
input maps the generator was trained with, e.g. ``[0, 1]`` for the original's face models and
``[-1, 1]`` for its pose models; absent means ``[-1, 1]``), optional ``labels``
(``{"names": [...], "colors": [[r, g, b], ...]}``), optional ``license``, ``vid2vid_version`` and
free-form ``training``/``converted_from`` records.

``first_frame/config.json`` keys: ``model_type`` (``"pix2pixhd_generator"``: :class:`ImageGenerator`,
features concatenated to the input; ``"pix2pixhd_generator_with_features"``:
:class:`FeatureImageGenerator`, features injected at every level), ``config``, optional ``input``
(what the image generator is fed: ``"encoded"``, the sequential generator's per-frame encoding
with its instance-edge channel, the default; or ``"labels"``, the one-hot labels / continuous maps
without the edge channel, as the original's ``--use_single_G`` street models), optional
``feature_choice`` (``"random"``: seeded picks among the rows of ``features.safetensors``, the
default; ``"nearest"``: the row nearest to the features the ``encoder`` extracts from the real first
frames, as the original's face models) and ``encoder`` (the encoder's arguments).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from vid2vid.checkpoint import (
    load_module_weights,
    load_state_dict,
    read_json,
    save_module_weights,
    save_state_dict,
    write_json,
)
from vid2vid.nn.feature_image_generator import FeatureImageGenerator, FeatureImageGeneratorConfig
from vid2vid.nn.image_generator import ImageGenerator, ImageGeneratorConfig
from vid2vid.nn.instance_encoder import InstanceFeatureEncoder
from vid2vid.nn.sequential_generator import SequentialGenerator, SequentialGeneratorConfig
from vid2vid.validation import check_config_dict

__all__ = [
    "CONFIG_FILE",
    "MODEL_FILE",
    "FIRST_FRAME_DIR",
    "FEATURES_FILE",
    "FIRST_FRAME_POLICIES",
    "FIRST_FRAME_INPUTS",
    "FEATURE_CHOICES",
    "DEFAULT_INPUT_RANGE",
    "check_first_frame_policy",
    "check_input_range",
    "default_first_frame_input",
    "encoder_kwargs",
    "ModelFolder",
    "save_model_folder",
    "load_model_folder",
]

CONFIG_FILE = "config.json"
MODEL_FILE = "model.safetensors"
FIRST_FRAME_DIR = "first_frame"
FEATURES_FILE = "features.safetensors"
FIRST_FRAME_POLICIES: tuple[str, ...] = ("real", "zeros", "image_generator")
MODEL_TYPE = "vid2vid_generator"
ENCODER_FILE = "encoder.safetensors"
FIRST_FRAME_INPUTS: tuple[str, ...] = ("encoded", "labels")
FEATURE_CHOICES: tuple[str, ...] = ("random", "nearest")
DEFAULT_INPUT_RANGE: tuple[float, float] = (-1.0, 1.0)
_IMAGE_MODEL_TYPES = {
    "pix2pixhd_generator": (ImageGenerator, ImageGeneratorConfig),
    "pix2pixhd_generator_with_features": (FeatureImageGenerator, FeatureImageGeneratorConfig),
}


def check_first_frame_policy(first_frame: str, has_image_generator: bool) -> str:
    """Return ``first_frame`` if it is a known policy that the model can follow, else raise ``ValueError``."""
    if first_frame not in FIRST_FRAME_POLICIES:
        raise ValueError(f"first_frame must be one of {FIRST_FRAME_POLICIES}, got {first_frame!r}")
    if first_frame == "image_generator" and not has_image_generator:
        raise ValueError("first_frame='image_generator' but there is no first-frame image generator")
    return first_frame


def check_input_range(value: Any) -> tuple[float, float] | None:
    """``None`` or a pair ``(lo, hi)`` with ``lo < hi`` → ``(float, float)``; anything else raises ``ValueError``."""
    if value is None:
        return None
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"input_range must be a pair [lo, hi] such as [0, 1] or [-1, 1], got {value!r}"
        ) from err
    if not lo < hi:
        raise ValueError(f"input_range must have lo < hi, got {value!r}")
    return (lo, hi)


def default_first_frame_input(
    config: SequentialGeneratorConfig, image_generator: ImageGenerator | FeatureImageGenerator | None
) -> str:
    """``"labels"`` when the image generator takes exactly the label channels (one-hot labels or
    continuous maps) of a model whose frames also carry an instance-edge channel (the original's
    ``--use_single_G``), else ``"encoded"``."""
    if image_generator is None or not config.use_instance:
        return "encoded"
    base = config.label_nc if config.label_nc > 0 else config.input_nc
    return "labels" if image_generator.config.input_nc == base else "encoded"


def encoder_kwargs(encoder: InstanceFeatureEncoder) -> dict[str, Any]:
    """The constructor arguments that rebuild ``encoder`` (read from its layers)."""
    stem = encoder.encoder.stem
    norm_layer = stem.norm
    if isinstance(norm_layer, torch.nn.InstanceNorm2d):
        norm = "instance_affine" if norm_layer.affine else "instance"
    elif isinstance(norm_layer, torch.nn.BatchNorm2d):
        norm = "batch"
    else:
        norm = "none"
    return {
        "input_nc": stem.conv.in_channels,
        "output_nc": encoder.out.conv.out_channels,
        "ngf": stem.conv.out_channels,
        "n_downsample": encoder.n_downsample,
        "norm": norm,
    }


@dataclass
class ModelFolder:
    """Everything a model folder holds, loaded.

    Attributes:
        generator: the sequential generator (eval mode).
        first_frame: how the first ``n_frames_G - 1`` frames are obtained: ``"real"`` (given by the
            caller), ``"zeros"`` (model trained to start from nothing) or ``"image_generator"``.
        image_generator: the pix2pixHD first-frame generator, if the folder has one.
        feature_clusters: per-class feature cluster tensors (``"class_<id>"`` → ``(K, F)`` float),
            if the folder has them.
        labels: optional label set ``{"names": [...], "colors": [[r, g, b], ...]}``.
        metadata: the rest of ``config.json`` (licence, training or conversion record, ...).
        input_range: value range of the continuous inputs the generator was trained with
            (``None``: not recorded, i.e. :data:`DEFAULT_INPUT_RANGE`; unused by label models).
        first_frame_input: what the image generator is fed (see :data:`FIRST_FRAME_INPUTS`).
        feature_encoder: instance-feature encoder for the ``"nearest"`` feature choice.
        feature_choice: how instance features are chosen (see :data:`FEATURE_CHOICES`).
    """

    generator: SequentialGenerator
    first_frame: str = "real"
    image_generator: ImageGenerator | FeatureImageGenerator | None = None
    feature_clusters: dict[str, Tensor] | None = None
    labels: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    input_range: tuple[float, float] | None = None
    first_frame_input: str = "encoded"
    feature_encoder: InstanceFeatureEncoder | None = None
    feature_choice: str = "random"


def _check_first_frame_options(
    first_frame_input: str, feature_choice: str, feature_encoder: InstanceFeatureEncoder | None
) -> None:
    if first_frame_input not in FIRST_FRAME_INPUTS:
        raise ValueError(f"first_frame_input must be one of {FIRST_FRAME_INPUTS}, got {first_frame_input!r}")
    if feature_choice not in FEATURE_CHOICES:
        raise ValueError(f"feature_choice must be one of {FEATURE_CHOICES}, got {feature_choice!r}")
    if feature_choice == "nearest" and feature_encoder is None:
        raise ValueError("feature_choice='nearest' needs a feature_encoder (the instance-feature encoder)")


def save_model_folder(
    folder: str | os.PathLike[str],
    generator: SequentialGenerator,
    *,
    first_frame: str = "real",
    image_generator: ImageGenerator | FeatureImageGenerator | None = None,
    feature_clusters: Mapping[str, Tensor] | None = None,
    labels: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    input_range: tuple[float, float] | None = None,
    first_frame_input: str | None = None,
    feature_encoder: InstanceFeatureEncoder | None = None,
    feature_choice: str = "random",
) -> Path:
    """Write a model folder (every file atomically; ``config.json`` last).

    Args (beyond the :class:`ModelFolder` fields they fill): ``input_range`` is written only when
    given; ``first_frame_input`` (default :func:`default_first_frame_input`), ``feature_choice``
    and ``feature_encoder`` only with an ``image_generator``.

    Raises:
        ValueError: ``first_frame="image_generator"`` without an ``image_generator``, an unknown
            policy, input kind or feature choice, ``"nearest"`` without an encoder, or a bad range.
    """
    check_first_frame_policy(first_frame, image_generator is not None)
    input_range = check_input_range(input_range)
    if input_range is not None and generator.config.label_nc > 0:
        raise ValueError("input_range applies to continuous inputs (label_nc == 0), not to label models")
    if first_frame_input is None:
        first_frame_input = default_first_frame_input(generator.config, image_generator)
    _check_first_frame_options(first_frame_input, feature_choice, feature_encoder)
    if image_generator is None and feature_encoder is not None:
        raise ValueError("a feature_encoder is only used with an image_generator")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_module_weights(generator, folder / MODEL_FILE, metadata={"format": "pt"})
    if image_generator is not None:
        save_module_weights(image_generator, folder / FIRST_FRAME_DIR / MODEL_FILE, metadata={"format": "pt"})
        model_type = (
            "pix2pixhd_generator_with_features"
            if isinstance(image_generator, FeatureImageGenerator)
            else "pix2pixhd_generator"
        )
        sub: dict[str, Any] = {
            "model_type": model_type,
            "config": image_generator.config.to_dict(),
            "input": first_frame_input,
            "feature_choice": feature_choice,
        }
        if feature_encoder is not None:
            save_module_weights(
                feature_encoder, folder / FIRST_FRAME_DIR / ENCODER_FILE, metadata={"format": "pt"}
            )
            sub["encoder"] = encoder_kwargs(feature_encoder)
        write_json(folder / FIRST_FRAME_DIR / CONFIG_FILE, sub)
    if feature_clusters:
        save_state_dict(dict(feature_clusters), folder / FEATURES_FILE)
    from vid2vid import __version__

    config: dict[str, Any] = dict(metadata or {})
    config.update(
        {
            "model_type": MODEL_TYPE,
            "config": generator.config.to_dict(),
            "first_frame": first_frame,
            "vid2vid_version": __version__,
        }
    )
    if input_range is not None:
        config["input_range"] = list(input_range)
    if labels is not None:
        config["labels"] = dict(labels)
    write_json(folder / CONFIG_FILE, config)
    return folder


# The settings every saved model folder states (the fields of each config when this check was
# written). Fields added to the configs later may be missing from older folders: they take their
# defaults, which by construction reproduce the older behaviour.
_REQUIRED_KEYS: dict[str, frozenset[str]] = {
    "SequentialGeneratorConfig": frozenset(
        "label_nc input_nc use_instance output_nc n_frames_G ngf n_downsample n_blocks n_blocks_local "
        "n_scales norm padding_type no_flow use_foreground fg_labels no_first_frame".split()
    ),
    "ImageGeneratorConfig": frozenset(
        "input_nc output_nc ngf n_downsample n_blocks n_local_enhancers n_blocks_local norm padding_type".split()
    ),
}


def _checked(cls: type, data: Any, source: str) -> dict[str, Any]:
    """``data`` type-checked against ``cls``'s fields, with every required setting present."""
    from dataclasses import fields

    required = _REQUIRED_KEYS.get(cls.__name__, frozenset())
    optional = frozenset(f.name for f in fields(cls)) - required
    return check_config_dict(cls, data, source, require_all=True, optional=optional)


def load_model_folder(
    folder: str | os.PathLike[str], device: str | torch.device = "cpu", dtype: torch.dtype | None = None
) -> ModelFolder:
    """Read a model folder strictly (missing or unexpected tensors are errors naming them)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"model folder not found: {folder}")
    config = read_json(folder / CONFIG_FILE)
    model_type = config.get("model_type")
    if model_type != MODEL_TYPE:
        raise ValueError(f"{folder / CONFIG_FILE}: model_type is {model_type!r}, expected {MODEL_TYPE!r}")
    if "config" not in config:
        raise KeyError(f"{folder / CONFIG_FILE} has no 'config' entry (the generator's arguments)")
    generator = SequentialGenerator(
        SequentialGeneratorConfig(
            **_checked(SequentialGeneratorConfig, config["config"], f"{folder / CONFIG_FILE}: config")
        )
    )
    load_module_weights(generator, folder / MODEL_FILE)
    first_frame = config.get("first_frame", "real")
    if not isinstance(first_frame, str) or first_frame not in FIRST_FRAME_POLICIES:
        raise ValueError(
            f"{folder / CONFIG_FILE}: first_frame must be one of {FIRST_FRAME_POLICIES}, got {first_frame!r}"
        )
    image_generator: ImageGenerator | FeatureImageGenerator | None = None
    encoder: InstanceFeatureEncoder | None = None
    first_frame_input, feature_choice = "encoded", "random"
    if (folder / FIRST_FRAME_DIR).is_dir():
        sub_path = folder / FIRST_FRAME_DIR / CONFIG_FILE
        sub = read_json(sub_path)
        if "config" not in sub:
            raise KeyError(f"{sub_path} has no 'config' entry (the first-frame image generator's arguments)")
        sub_type = sub.get("model_type", "pix2pixhd_generator")
        if sub_type not in _IMAGE_MODEL_TYPES:
            raise ValueError(
                f"{sub_path}: model_type must be one of {sorted(_IMAGE_MODEL_TYPES)}, got {sub_type!r}"
            )
        module_cls, config_cls = _IMAGE_MODEL_TYPES[sub_type]
        image_generator = module_cls(
            config_cls.from_dict(_checked(config_cls, sub["config"], f"{sub_path}: config"))
        )
        load_module_weights(image_generator, folder / FIRST_FRAME_DIR / MODEL_FILE)
        first_frame_input = sub.get("input", "encoded")
        feature_choice = sub.get("feature_choice", "random")
        if "encoder" in sub:
            encoder = InstanceFeatureEncoder(**sub["encoder"])
            load_module_weights(encoder, folder / FIRST_FRAME_DIR / ENCODER_FILE)
        try:
            _check_first_frame_options(first_frame_input, feature_choice, encoder)
        except ValueError as err:
            raise ValueError(f"{sub_path}: {err}") from err
    elif first_frame == "image_generator":
        raise FileNotFoundError(
            f"{folder} says first_frame='image_generator' but has no {FIRST_FRAME_DIR}/ folder"
        )
    clusters = load_state_dict(folder / FEATURES_FILE) if (folder / FEATURES_FILE).is_file() else None
    try:
        input_range = check_input_range(config.get("input_range"))
    except ValueError as err:
        raise ValueError(f"{folder / CONFIG_FILE}: {err}") from err
    generator.eval().to(device=device, dtype=dtype)
    for module in (image_generator, encoder):
        if module is not None:
            module.eval().to(device=device, dtype=dtype)
    known = {"model_type", "config", "first_frame", "labels", "input_range"}
    return ModelFolder(
        generator=generator,
        first_frame=first_frame,
        image_generator=image_generator,
        feature_clusters=clusters,
        labels=config.get("labels"),
        metadata={k: v for k, v in config.items() if k not in known},
        input_range=input_range,
        first_frame_input=first_frame_input,
        feature_encoder=encoder,
        feature_choice=feature_choice,
    )
