"""The model folder: what ``save_pretrained`` writes, ``from_pretrained`` and the trainer read.

Layout (design notes §4)::

    config.json            model type, generator config, first-frame policy, label set, licence
    model.safetensors      SequentialGenerator weights
    first_frame/           optional pix2pixHD ImageGenerator for the first frames
        config.json
        model.safetensors
    features.safetensors   optional per-class instance-feature clusters (multimodal synthesis)

``config.json`` keys: ``model_type`` (``"vid2vid_generator"``), ``config`` (every
:class:`SequentialGeneratorConfig` field), ``first_frame`` (``"real"``, ``"zeros"`` or
``"image_generator"``), optional ``labels`` (``{"names": [...], "colors": [[r, g, b], ...]}``),
optional ``license``, ``vid2vid_version`` and free-form ``training``/``converted_from`` records.
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
from vid2vid.nn.image_generator import ImageGenerator, ImageGeneratorConfig
from vid2vid.nn.sequential_generator import SequentialGenerator, SequentialGeneratorConfig
from vid2vid.validation import check_config_dict

__all__ = [
    "CONFIG_FILE",
    "MODEL_FILE",
    "FIRST_FRAME_DIR",
    "FEATURES_FILE",
    "FIRST_FRAME_POLICIES",
    "check_first_frame_policy",
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


def check_first_frame_policy(first_frame: str, has_image_generator: bool) -> str:
    """Return ``first_frame`` if it is a known policy that the model can follow, else raise ``ValueError``."""
    if first_frame not in FIRST_FRAME_POLICIES:
        raise ValueError(f"first_frame must be one of {FIRST_FRAME_POLICIES}, got {first_frame!r}")
    if first_frame == "image_generator" and not has_image_generator:
        raise ValueError("first_frame='image_generator' but there is no first-frame image generator")
    return first_frame


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
    """

    generator: SequentialGenerator
    first_frame: str = "real"
    image_generator: ImageGenerator | None = None
    feature_clusters: dict[str, Tensor] | None = None
    labels: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def save_model_folder(
    folder: str | os.PathLike[str],
    generator: SequentialGenerator,
    *,
    first_frame: str = "real",
    image_generator: ImageGenerator | None = None,
    feature_clusters: Mapping[str, Tensor] | None = None,
    labels: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write a model folder (every file atomically; ``config.json`` last).

    Raises:
        ValueError: ``first_frame="image_generator"`` without an ``image_generator``, or an unknown policy.
    """
    check_first_frame_policy(first_frame, image_generator is not None)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_module_weights(generator, folder / MODEL_FILE, metadata={"format": "pt"})
    if image_generator is not None:
        save_module_weights(image_generator, folder / FIRST_FRAME_DIR / MODEL_FILE, metadata={"format": "pt"})
        write_json(
            folder / FIRST_FRAME_DIR / CONFIG_FILE,
            {"model_type": "pix2pixhd_generator", "config": image_generator.config.to_dict()},
        )
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
    image_generator = None
    if (folder / FIRST_FRAME_DIR).is_dir():
        sub_file = folder / FIRST_FRAME_DIR / CONFIG_FILE
        sub = read_json(sub_file)
        if "config" not in sub:
            raise KeyError(f"{sub_file} has no 'config' entry (the first-frame image generator's arguments)")
        image_generator = ImageGenerator(
            ImageGeneratorConfig(**_checked(ImageGeneratorConfig, sub["config"], f"{sub_file}: config"))
        )
        load_module_weights(image_generator, folder / FIRST_FRAME_DIR / MODEL_FILE)
    elif first_frame == "image_generator":
        raise FileNotFoundError(
            f"{folder} says first_frame='image_generator' but has no {FIRST_FRAME_DIR}/ folder"
        )
    clusters = load_state_dict(folder / FEATURES_FILE) if (folder / FEATURES_FILE).is_file() else None
    generator.eval().to(device=device, dtype=dtype)
    if image_generator is not None:
        image_generator.eval().to(device=device, dtype=dtype)
    known = {"model_type", "config", "first_frame", "labels"}
    return ModelFolder(
        generator=generator,
        first_frame=first_frame,
        image_generator=image_generator,
        feature_clusters=clusters,
        labels=config.get("labels"),
        metadata={k: v for k, v in config.items() if k not in known},
    )
