"""A whole original model → one model folder: the vid2vid generator with its first-frame model.

The original's ``test.py`` makes the first ``n_frames_G - 1`` frames in one of three ways
(``models/vid2vid_model_G.py``, ``generate_first_frame``): zeros (``--no_first_img``), the real
frames (``--use_real_img``), or a single-image generator (``--use_single_G``):
``checkpoints/label2city_single/latest_net_G_{512,1024,2048}.pth`` for street models, fed the
one-hot labels without the instance-edge channel, and
``checkpoints/edge2face_single/latest_net_G.pth`` + ``latest_net_E.pth`` + ``features.npy`` for
face models, whose instance features are the training features nearest to those the encoder
extracts from the real first frame. :func:`convert_original_model` converts all of it into a
:class:`~vid2vid.model_folder.ModelFolder` whose pipeline runs what ``test.py`` runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import Tensor

from vid2vid.convert.original import (
    ORIGINAL_LICENSE,
    convert_feature_image_generator,
    convert_image_generator,
    convert_instance_encoder,
    convert_original,
    infer_image_generator_config,
    original_input_range,
)
from vid2vid.convert.state_dict_mapping import ConversionError
from vid2vid.model_folder import ModelFolder, check_input_range
from vid2vid.nn.feature_image_generator import FeatureImageGeneratorConfig
from vid2vid.nn.sequential_generator import SequentialGenerator

__all__ = ["convert_original_model", "infer_encoder_kwargs"]


def infer_encoder_kwargs(state_dict: Mapping[str, Tensor]) -> dict[str, Any]:
    """The arguments of :class:`~vid2vid.nn.InstanceFeatureEncoder` that the original ``Encoder``'s weights imply."""
    if "model.1.weight" not in state_dict:
        raise ConversionError("not an instance-feature encoder (no 'model.1.weight' key)")
    stem = state_dict["model.1.weight"]
    # model.{4 + 3i}: the n_down stride-2 convolutions, then as many transposed convolutions.
    n_layers = 0
    while f"model.{4 + 3 * n_layers}.weight" in state_dict:
        n_layers += 1
    if n_layers == 0 or n_layers % 2:
        raise ConversionError(
            f"instance-feature encoder: {n_layers} (transposed) convolutions, expected 2 * n_downsample"
        )
    n_down = n_layers // 2
    final = state_dict.get(f"model.{4 + 6 * n_down + 1}.weight")
    if final is None:
        raise ConversionError(f"instance-feature encoder: no output convolution model.{4 + 6 * n_down + 1}")
    return {
        "input_nc": int(stem.shape[1]),
        "output_nc": int(final.shape[0]),
        "ngf": int(stem.shape[0]),
        "n_downsample": n_down,
        "norm": "instance",
    }


def convert_original_model(
    options: Mapping[str, Any],
    generator_state_dicts: Sequence[Mapping[str, Tensor]],
    *,
    source_names: Sequence[str] | None = None,
    norm: str | None = None,
    first_frame_state_dict: Mapping[str, Tensor] | None = None,
    first_frame_name: str = "latest_net_G.pth",
    encoder_state_dict: Mapping[str, Tensor] | None = None,
    features: Mapping[str, Tensor] | None = None,
    feature_choice: str | None = None,
    input_range: tuple[float, float] | None = None,
) -> ModelFolder:
    """Convert an original vid2vid model, with its first-frame model, into a :class:`ModelFolder`.

    Args:
        options: the original's options (``opt.txt`` names); see
            :func:`~vid2vid.convert.original.sequential_generator_config_from_options`.
        generator_state_dicts: ``latest_net_G0.pth``, ``G1``, ... (coarsest first).
        source_names: file names for error messages.
        norm: override our norm of the sequential generator.
        first_frame_state_dict: the single-image generator (``--use_single_G``): a pix2pixHD
            ``GlobalGenerator``/``LocalEnhancer`` (street) or ``Global_with_z``/``Local_with_z``
            (face); its architecture is read from the weights.
        first_frame_name: its file name, for messages and the conversion record.
        encoder_state_dict: the instance-feature encoder (``latest_net_E.pth``) of a face model.
        features: per-class training features ``{"class_<id>": (N, F)}`` (see
            :func:`~vid2vid.convert.original_features.read_original_features`).
        feature_choice: ``"nearest"`` (default with an encoder, the original's choice) or ``"random"``.
        input_range: value range of the continuous inputs (default: from ``dataset_mode``, see
            :func:`~vid2vid.convert.original.original_input_range`).

    Returns:
        The folder contents: policy ``"zeros"`` for ``no_first_img`` models, ``"image_generator"``
        with a single-image generator, else ``"real"`` (``--use_real_img``).

    Raises:
        ConversionError: weights that do not match the options or each other.
        ValueError: contradictory inputs (a first-frame model for a ``no_first_img`` model, features
            without a generator that uses them, ...).
    """
    generator, _ = convert_original(
        "vid2vid_generator", options, generator_state_dicts, source_names, norm=norm
    )
    assert isinstance(generator, SequentialGenerator)
    c = generator.config
    if c.label_nc > 0:
        if input_range is not None:
            raise ValueError(
                "an input range applies to continuous-input models (label_nc=0), not to label models"
            )
    else:
        input_range = check_input_range(
            input_range if input_range is not None else original_input_range(options)
        )
    files = list(source_names or [])
    first_frame = "zeros" if c.no_first_frame else "real"
    image_generator = encoder = None
    first_frame_input = "encoded"
    if first_frame_state_dict is None:
        if encoder_state_dict is not None or features is not None:
            raise ValueError("an encoder or features were given without the first-frame generator they serve")
    else:
        if c.no_first_frame:
            raise ValueError(
                "this model starts from zeros (no_first_img): the original never runs a first-frame "
                "generator for it; convert it without one"
            )
        first_frame = "image_generator"
        files.append(first_frame_name)
        icfg = infer_image_generator_config(first_frame_state_dict)
        base = c.label_nc if c.label_nc > 0 else c.input_nc
        if isinstance(icfg, FeatureImageGeneratorConfig):
            image_generator = convert_feature_image_generator(
                first_frame_state_dict, icfg, "instance", first_frame_name
            )
            in_nc, feat_nc = icfg.input_nc, icfg.feature_nc
        else:
            image_generator = convert_image_generator(
                first_frame_state_dict, icfg, "instance", first_frame_name
            )
            in_nc, feat_nc = icfg.input_nc, 0
        if in_nc == base:
            first_frame_input = "labels"  # --use_single_G: the label channels without the edge channel
        elif in_nc == c.frame_nc:
            first_frame_input = "encoded"
        else:
            raise ConversionError(
                f"{first_frame_name} takes {in_nc} input channels but this model's frames have {base} "
                f"(label_nc={c.label_nc}, input_nc={c.input_nc}) + {int(c.use_instance)} instance-edge channel"
            )
        if feat_nc:
            if features is None:
                raise ValueError(
                    f"{first_frame_name} takes {feat_nc} instance-feature channels: give the training "
                    "features (the original's features.npy)"
                )
            bad = {k: tuple(v.shape) for k, v in features.items() if v.dim() != 2 or v.shape[1] != feat_nc}
            if bad:
                raise ValueError(f"features must be (N, {feat_nc}) per class, got {bad}")
        elif features is not None or encoder_state_dict is not None:
            raise ValueError(
                f"{first_frame_name} takes no instance features; do not give an encoder or features"
            )
        if encoder_state_dict is not None:
            files.append("latest_net_E.pth")
            encoder = convert_instance_encoder(
                encoder_state_dict, source_name="latest_net_E.pth", **infer_encoder_kwargs(encoder_state_dict)
            )
            if encoder.out.conv.out_channels != feat_nc:
                raise ConversionError(
                    f"the encoder makes {encoder.out.conv.out_channels} feature channels, {first_frame_name} takes {feat_nc}"
                )
    if feature_choice is None:
        feature_choice = "nearest" if encoder is not None else "random"
    metadata = {
        "license": ORIGINAL_LICENSE,
        "converted_from": {"files": files, "original_options": dict(options)},
    }
    return ModelFolder(
        generator=generator,
        first_frame=first_frame,
        image_generator=image_generator,
        feature_clusters=dict(features) if features is not None else None,
        metadata=metadata,
        input_range=input_range,
        first_frame_input=first_frame_input,
        feature_encoder=encoder,
        feature_choice=feature_choice,
    )
