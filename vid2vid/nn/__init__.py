"""Networks of vid2vid and pix2pixHD: generators, discriminators, instance feature encoder."""

from vid2vid.nn.blocks import ConvNormAct, OutputConv, ResidualBlock, UpConvNormAct
from vid2vid.nn.composite_generator import CompositeFeatures, CompositeGenerator, CompositeOutput
from vid2vid.nn.conv_stacks import DownsamplingEncoder, UpsamplingDecoder
from vid2vid.nn.discriminator import MultiScaleDiscriminator, PatchDiscriminator
from vid2vid.nn.feature_image_generator import FeatureImageGenerator, FeatureImageGeneratorConfig
from vid2vid.nn.image_generator import ImageGenerator, ImageGeneratorConfig
from vid2vid.nn.input_window import InputWindow
from vid2vid.nn.instance_encoder import InstanceFeatureEncoder, instance_average_pool
from vid2vid.nn.norm import NORM_TYPES, make_norm
from vid2vid.nn.presets import GENERATOR_PRESETS, generator_preset
from vid2vid.nn.pyramid import build_pyramid, downsample2x
from vid2vid.nn.sequential_generator import (
    GeneratorOutput,
    GeneratorState,
    SequentialGenerator,
    SequentialGeneratorConfig,
)
from vid2vid.nn.temporal_discriminator import TemporalDiscriminator

__all__ = [
    "SequentialGenerator",
    "SequentialGeneratorConfig",
    "GeneratorOutput",
    "GeneratorState",
    "InputWindow",
    "CompositeGenerator",
    "CompositeFeatures",
    "CompositeOutput",
    "ImageGenerator",
    "ImageGeneratorConfig",
    "FeatureImageGenerator",
    "FeatureImageGeneratorConfig",
    "MultiScaleDiscriminator",
    "PatchDiscriminator",
    "TemporalDiscriminator",
    "InstanceFeatureEncoder",
    "instance_average_pool",
    "ResidualBlock",
    "ConvNormAct",
    "UpConvNormAct",
    "OutputConv",
    "DownsamplingEncoder",
    "UpsamplingDecoder",
    "make_norm",
    "NORM_TYPES",
    "build_pyramid",
    "downsample2x",
    "GENERATOR_PRESETS",
    "generator_preset",
]
