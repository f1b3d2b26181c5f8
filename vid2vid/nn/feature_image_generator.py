"""Image generator conditioned on instance features at every level (vid2vid §3.4, face first frames).

The first frame of a face video is made by a pix2pixHD-style generator that receives the
per-part instance features ``z`` (from :class:`~vid2vid.nn.instance_encoder.InstanceFeatureEncoder`)
not only with its input but again before the residual blocks, before the first transposed
convolution and before the output convolution, each time average-pooled to the resolution of
that stage (the original's ``Global_with_z`` / ``Local_with_z``, its ``edge2face_single`` model).

Shapes: inputs ``(B, input_nc, H, W)`` + features ``(B, feature_nc, H, W)`` →
``(B, output_nc, H, W)`` in ``[-1, 1]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from vid2vid.config_io import JsonConfig
from vid2vid.nn.blocks import PADDING_TYPES, OutputConv, ResidualBlock, UpConvNormAct
from vid2vid.nn.conv_stacks import DownsamplingEncoder
from vid2vid.nn.norm import check_norm
from vid2vid.nn.pyramid import build_pyramid

__all__ = ["FeatureImageGeneratorConfig", "FeatureImageGenerator"]


@dataclass
class FeatureImageGeneratorConfig(JsonConfig):
    """Arguments of :class:`FeatureImageGenerator` (JSON-serialisable).

    Attributes:
        input_nc: input channels (e.g. 15 face maps: edges + 14 distance maps).
        feature_nc: instance-feature channels ``z`` (16 for the original's edge2face).
        output_nc: output channels.
        ngf: width of the finest network's first layer; the global network uses
            ``ngf * 2**n_local_enhancers``.
        n_downsample: stride-2 convolutions of the global network.
        n_blocks: residual blocks of the global network (width + ``feature_nc``).
        n_local_enhancers: local enhancers (0 = ``Global_with_z``, >= 1 = ``Local_with_z``).
        n_blocks_local: residual blocks of each local enhancer.
        norm: normalisation name (the original: ``instance``).
        padding_type: padding of the residual blocks.
        max_channels: width cap of the global network (1024 in the original).
    """

    input_nc: int = 15
    feature_nc: int = 16
    output_nc: int = 3
    ngf: int = 64
    n_downsample: int = 3
    n_blocks: int = 9
    n_local_enhancers: int = 0
    n_blocks_local: int = 3
    norm: str = "instance"
    padding_type: str = "reflect"
    max_channels: int = 1024

    def __post_init__(self) -> None:
        check_norm(self.norm)
        if self.padding_type not in PADDING_TYPES:
            raise ValueError(f"padding_type must be one of {PADDING_TYPES}, got {self.padding_type!r}")
        if min(self.input_nc, self.feature_nc, self.output_nc, self.ngf) < 1:
            raise ValueError("input_nc, feature_nc, output_nc and ngf must be positive")
        if self.n_downsample < 1 or self.n_local_enhancers < 0:
            raise ValueError("n_downsample must be >= 1 and n_local_enhancers >= 0")

    @property
    def size_multiple(self) -> int:
        """Height and width must be divisible by ``2**(n_downsample + n_local_enhancers)``."""
        return 2 ** (self.n_downsample + self.n_local_enhancers)


def _width(base: int, level: int, cap: int) -> int:
    return min(base * 2**level, cap)


class _FeatureEnhancer(nn.Module):
    """One local enhancer: ``encoder(x [+ z]) + coarse [‖ z↓]`` → blocks → transposed conv."""

    def __init__(
        self, in_nc: int, ngf: int, extra_nc: int, n_blocks: int, norm: str, padding_type: str
    ) -> None:
        super().__init__()
        self.encoder = DownsamplingEncoder(in_nc, ngf, 1, 0, norm, padding_type)
        width = 2 * ngf + extra_nc
        self.blocks = nn.Sequential(*(ResidualBlock(width, norm, padding_type) for _ in range(n_blocks)))
        self.up = UpConvNormAct(width, ngf, norm)


class FeatureImageGenerator(nn.Module):
    """Image generator with instance features injected at every level (``Global_with_z``/``Local_with_z``)."""

    def __init__(self, config: FeatureImageGeneratorConfig | None = None, **kwargs: Any) -> None:
        super().__init__()
        if config is None:
            config = FeatureImageGeneratorConfig(**kwargs)
        elif kwargs:
            raise ValueError("pass either a config or keyword arguments, not both")
        self.config = c = config
        nz, cap, n_local = c.feature_nc, c.max_channels, c.n_local_enhancers
        ngf_g = c.ngf * 2**n_local
        self.global_encoder = DownsamplingEncoder(
            c.input_nc + nz, ngf_g, c.n_downsample, 0, c.norm, c.padding_type, cap
        )
        deepest = _width(ngf_g, c.n_downsample, cap)
        self.global_blocks = nn.Sequential(
            *(ResidualBlock(deepest + nz, c.norm, c.padding_type) for _ in range(c.n_blocks))
        )
        self.global_up = nn.ModuleList(
            UpConvNormAct(
                _width(ngf_g, c.n_downsample - i, cap) + (2 * nz if i == 0 else 0),
                _width(ngf_g, c.n_downsample - i - 1, cap),
                c.norm,
            )
            for i in range(c.n_downsample)
        )
        self.enhancers = nn.ModuleList(
            _FeatureEnhancer(
                c.input_nc + (nz if n == n_local else 0),
                c.ngf * 2 ** (n_local - n),
                nz if n == 1 else 0,
                c.n_blocks_local,
                c.norm,
                c.padding_type,
            )
            for n in range(1, n_local + 1)
        )
        self.image_out = OutputConv(c.ngf + nz, c.output_nc, "tanh")

    def forward(self, inputs: Tensor, features: Tensor | None = None) -> Tensor:
        """Synthesise an image.

        Args:
            inputs: ``(B, input_nc, H, W)`` float; ``H, W`` divisible by ``config.size_multiple``.
            features: ``(B, feature_nc, H, W)`` instance features (constant inside each instance).

        Returns:
            ``(B, output_nc, H, W)`` in ``[-1, 1]``.
        """
        c = self.config
        if features is None:
            raise ValueError(f"this generator needs instance features (B, {c.feature_nc}, H, W)")
        if inputs.dim() != 4 or inputs.shape[1] != c.input_nc:
            raise ValueError(f"inputs must be (B, {c.input_nc}, H, W), got {tuple(inputs.shape)}")
        if (
            features.dim() != 4
            or features.shape[1] != c.feature_nc
            or (features.shape[0] != inputs.shape[0] or features.shape[-2:] != inputs.shape[-2:])
        ):
            raise ValueError(
                f"features must be (B, {c.feature_nc}, H, W) matching inputs {tuple(inputs.shape)}, "
                f"got {tuple(features.shape)}"
            )
        height, width = inputs.shape[-2:]
        m = c.size_multiple
        if height % m or width % m:
            raise ValueError(
                f"image size {height}x{width} (HxW) is not divisible by {m} = 2**(n_downsample + n_local_enhancers)"
            )
        z = features.to(inputs.dtype)
        n_local = c.n_local_enhancers
        x_pyr = build_pyramid(inputs, n_local + 1)
        z_local = build_pyramid(z, n_local + 1)[-1]
        z_global = build_pyramid(z_local, c.n_downsample + 1)[-1]
        x = self.global_encoder(torch.cat([x_pyr[-1], z_local], dim=1))
        x = self.global_blocks(torch.cat([x, z_global], dim=1))
        x = torch.cat([x, z_global], dim=1)
        for layer in self.global_up:
            x = layer(x)
        for n, enh in enumerate(self.enhancers, start=1):
            x_in = x_pyr[n_local - n]
            if n == n_local:
                x_in = torch.cat([x_in, z], dim=1)
            x = enh.encoder(x_in) + x
            if n == 1:
                x = torch.cat([x, z_local], dim=1)
            x = enh.up(enh.blocks(x))
        return self.image_out(torch.cat([x, z], dim=1))
