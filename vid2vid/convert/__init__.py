"""Conversion of original NVIDIA/vid2vid and pix2pixHD checkpoints (``vid2vid convert``)."""

from vid2vid.convert.original import (
    KINDS,
    ORIGINAL_LICENSE,
    check_generator_options,
    convert_feature_image_generator,
    convert_image_generator,
    convert_instance_encoder,
    convert_multiscale_discriminator,
    convert_original,
    convert_sequential_generator,
    infer_generator_options,
    infer_image_generator_config,
    load_original_state_dict,
    original_input_range,
    read_original_options,
    sequential_generator_config_from_options,
)
from vid2vid.convert.original_features import read_original_features
from vid2vid.convert.original_model import convert_original_model
from vid2vid.convert.state_dict_mapping import ConversionError, StateDictMapping

__all__ = [
    "KINDS",
    "convert_original",
    "infer_generator_options",
    "check_generator_options",
    "ORIGINAL_LICENSE",
    "ConversionError",
    "StateDictMapping",
    "load_original_state_dict",
    "read_original_options",
    "sequential_generator_config_from_options",
    "convert_sequential_generator",
    "convert_image_generator",
    "convert_multiscale_discriminator",
    "convert_instance_encoder",
    "convert_feature_image_generator",
    "infer_image_generator_config",
    "original_input_range",
    "convert_original_model",
    "read_original_features",
]
