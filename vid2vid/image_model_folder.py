"""The image-model folder: a pix2pixHD generator on its own (pix2pixHD §3; vid2vid's first-frame model).

Layout::

    config.json            model_type "pix2pixhd_generator", generator config, input description
    model.safetensors      ImageGenerator weights
    encoder.safetensors    optional InstanceFeatureEncoder weights (multimodal synthesis)
    features.safetensors   optional per-class instance-feature clusters "class_<id>" -> (K, F)

``config.json`` keys: ``model_type``, ``config`` (every :class:`ImageGeneratorConfig` field),
``label_nc`` (classes of the label maps; 0 for continuous inputs), ``input_nc`` (channels of
continuous inputs, when ``label_nc == 0``), ``use_instance`` (an instance-edge channel follows
the labels), optional ``encoder`` (the :class:`InstanceFeatureEncoder` arguments), ``labels``
(names/colours), ``license``, ``vid2vid_version`` and free-form ``training``/``converted_from``
records. The generator's ``input_nc`` is the per-frame encoding's channels plus the instance
features' channels.

Written by ``vid2vid train --model image`` and ``vid2vid convert --kind pix2pixhd_*``; read by
:class:`~vid2vid.pipelines.image.Pix2PixHDPipeline` and bundled into a vid2vid model folder as
its first-frame generator by ``vid2vid bundle``.
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
from vid2vid.nn.instance_encoder import InstanceFeatureEncoder

__all__ = [
    "IMAGE_MODEL_TYPE",
    "ENCODER_FILE",
    "FEATURES_FILE",
    "ImageModel",
    "save_image_model",
    "load_image_model",
    "read_model_type",
]

IMAGE_MODEL_TYPE = "pix2pixhd_generator"
CONFIG_FILE = "config.json"
MODEL_FILE = "model.safetensors"
ENCODER_FILE = "encoder.safetensors"
FEATURES_FILE = "features.safetensors"


def read_model_type(folder: str | os.PathLike[str]) -> str | None:
    """The ``model_type`` of a model folder's ``config.json`` (``None`` without one)."""
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        return None
    value = read_json(path).get("model_type")
    return None if value is None else str(value)


@dataclass
class ImageModel:
    """A loaded image model.

    Attributes:
        generator: the pix2pixHD generator (eval mode).
        label_nc: classes of the label maps (0: continuous inputs of ``input_nc`` channels).
        use_instance: an instance-edge channel follows the labels.
        input_nc: channels of continuous inputs (``label_nc == 0``); 0 for label models.
        encoder: the instance-feature encoder, if the folder has one.
        encoder_args: its constructor arguments.
        feature_clusters: per-class feature clusters ``"class_<id>"`` → ``(K, F)`` float32.
        labels: optional label set ``{"names": [...], "colors": [[r, g, b], ...]}``.
        metadata: the rest of ``config.json`` (licence, training or conversion record, ...).
    """

    generator: ImageGenerator
    label_nc: int = 35
    use_instance: bool = False
    input_nc: int = 0
    encoder: InstanceFeatureEncoder | None = None
    encoder_args: dict[str, Any] | None = None
    feature_clusters: dict[str, Tensor] | None = None
    labels: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def frame_nc(self) -> int:
        """Channels of one encoded frame: one-hot labels (or continuous inputs) + instance edge."""
        return (self.label_nc or self.input_nc) + int(self.use_instance)

    @property
    def feature_channels(self) -> int:
        """Instance-feature channels the generator takes after the encoded frame (0: none)."""
        return self.generator.config.input_nc - self.frame_nc


def _check_inputs(generator: ImageGenerator, label_nc: int, use_instance: bool, input_nc: int) -> None:
    if label_nc < 0 or input_nc < 0:
        raise ValueError(f"label_nc and input_nc must be >= 0, got {label_nc}, {input_nc}")
    if label_nc == 0 and input_nc == 0:
        raise ValueError("an image model needs label_nc > 0 (label maps) or input_nc > 0 (continuous inputs)")
    frame_nc = (label_nc or input_nc) + int(use_instance)
    if generator.config.input_nc < frame_nc:
        raise ValueError(
            f"the generator takes {generator.config.input_nc} input channels, fewer than the "
            f"{frame_nc} of one encoded frame (label_nc={label_nc}, input_nc={input_nc}, "
            f"use_instance={use_instance})"
        )


def save_image_model(
    folder: str | os.PathLike[str],
    generator: ImageGenerator,
    *,
    label_nc: int,
    use_instance: bool,
    input_nc: int = 0,
    encoder: InstanceFeatureEncoder | None = None,
    encoder_args: Mapping[str, Any] | None = None,
    feature_clusters: Mapping[str, Tensor] | None = None,
    labels: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write an image-model folder (every file atomically; ``config.json`` last).

    Args:
        folder: destination (created).
        generator: the pix2pixHD generator.
        label_nc: classes of the label maps, or 0 for continuous inputs of ``input_nc`` channels.
        use_instance: the generator's input has an instance-edge channel after the labels.
        input_nc: continuous input channels (only with ``label_nc == 0``).
        encoder, encoder_args: optional instance-feature encoder and its constructor arguments.
        feature_clusters: optional ``"class_<id>"`` → ``(K, F)`` clusters.
        labels: optional label names/colours.
        metadata: extra JSON-able entries (licence, training record, ...).

    Raises:
        ValueError: inputs that do not fit the generator's ``input_nc``.
    """
    _check_inputs(generator, label_nc, use_instance, input_nc if label_nc == 0 else 0)
    if encoder is not None and encoder_args is None:
        raise ValueError("saving an encoder needs its encoder_args (constructor arguments)")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_module_weights(generator, folder / MODEL_FILE, metadata={"format": "pt"})
    from vid2vid import __version__

    config: dict[str, Any] = dict(metadata or {})
    config.update(
        {
            "model_type": IMAGE_MODEL_TYPE,
            "config": generator.config.to_dict(),
            "label_nc": int(label_nc),
            "use_instance": bool(use_instance),
            "vid2vid_version": __version__,
        }
    )
    if label_nc == 0:
        config["input_nc"] = int(input_nc)
    if encoder is not None:
        save_module_weights(encoder, folder / ENCODER_FILE)
        config["encoder"] = dict(encoder_args or {})
    if feature_clusters:
        save_state_dict(dict(feature_clusters), folder / FEATURES_FILE)
    if labels is not None:
        config["labels"] = dict(labels)
    write_json(folder / CONFIG_FILE, config)
    return folder


def load_image_model(
    folder: str | os.PathLike[str], device: str | torch.device = "cpu", dtype: torch.dtype | None = None
) -> ImageModel:
    """Read an image-model folder strictly (missing or unexpected tensors are errors naming them).

    Folders written before ``input_nc`` was recorded get it from the generator's channels.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image-model folder not found: {folder}")
    config = read_json(folder / CONFIG_FILE)
    if config.get("model_type") != IMAGE_MODEL_TYPE:
        raise ValueError(
            f"{folder / CONFIG_FILE}: model_type is {config.get('model_type')!r}, expected {IMAGE_MODEL_TYPE!r}"
        )
    if "config" not in config:
        raise KeyError(f"{folder / CONFIG_FILE} has no 'config' entry (the generator's arguments)")
    generator = ImageGenerator(ImageGeneratorConfig.from_dict(config["config"]))
    load_module_weights(generator, folder / MODEL_FILE)
    encoder = None
    encoder_args = None
    if "encoder" in config:
        encoder_args = dict(config["encoder"])
        encoder = InstanceFeatureEncoder(**encoder_args)
        load_module_weights(encoder, folder / ENCODER_FILE)
        encoder.eval().to(device=device, dtype=dtype)
    label_nc = int(config.get("label_nc", generator.config.input_nc))
    use_instance = bool(config.get("use_instance", False))
    input_nc = 0
    if label_nc == 0:
        feat = int(encoder_args.get("output_nc", 3)) if encoder_args else 0
        input_nc = int(config.get("input_nc", generator.config.input_nc - int(use_instance) - feat))
    _check_inputs(generator, label_nc, use_instance, input_nc)
    clusters = load_state_dict(folder / FEATURES_FILE) if (folder / FEATURES_FILE).is_file() else None
    known = {"model_type", "config", "encoder", "label_nc", "use_instance", "input_nc", "labels"}
    return ImageModel(
        generator=generator.eval().to(device=device, dtype=dtype),
        label_nc=label_nc,
        use_instance=use_instance,
        input_nc=input_nc,
        encoder=encoder,
        encoder_args=encoder_args,
        feature_clusters=clusters,
        labels=config.get("labels"),
        metadata={k: v for k, v in config.items() if k not in known},
    )
