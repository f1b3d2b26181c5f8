"""Pipelines beyond the video one (design notes §6: the future home of every pipeline).

- :class:`~vid2vid.pipelines.image.Pix2PixHDPipeline`: image-to-image synthesis with a pix2pixHD
  generator, one frame at a time (the per-frame baseline; vid2vid's first-frame model).
- :class:`~vid2vid.pipelines.features.InstanceFeatureSampler`: per-instance features drawn from
  per-class clusters (multimodal synthesis).

The video pipeline still lives in :mod:`vid2vid.pipeline`.
"""

from vid2vid.pipelines.features import InstanceFeatureSampler
from vid2vid.pipelines.image import Pix2PixHDPipeline

__all__ = ["Pix2PixHDPipeline", "InstanceFeatureSampler"]
