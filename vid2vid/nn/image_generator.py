"""pix2pixHD's image generator: global generator + local enhancers (pix2pixHD §3.2).

vid2vid uses it to synthesise the first frame(s) of a video from labels alone, and it is a
complete image-to-image model on its own. The global generator ``G1`` runs at
``1 / 2**n_local_enhancers`` of the output size on average-pooled inputs; each local enhancer
``G2`` downsamples its input once, adds the coarser network's last feature map and decodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from vid2vid.config_io import JsonConfig
from vid2vid.nn.blocks import PADDING_TYPES, OutputConv
from vid2vid.nn.conv_stacks import DownsamplingEncoder, UpsamplingDecoder
from vid2vid.nn.norm import check_norm
from vid2vid.nn.pyramid import build_pyramid

__all__ = ["ImageGeneratorConfig", "ImageGenerator", "LocalEnhancer"]


@dataclass
class ImageGeneratorConfig(JsonConfig):
    """Arguments of :class:`ImageGenerator` (JSON-serialisable).

    Attributes:
        input_nc: input channels (one-hot labels [+ instance edges] [+ instance features]).
        output_nc: output channels.
        ngf: width of the finest network's first layer; the global network uses
            ``ngf * 2**n_local_enhancers``.
        n_downsample: stride-2 convolutions of the global network.
        n_blocks: residual blocks of the global network.
        n_local_enhancers: number of local enhancers (each doubles the resolution).
        n_blocks_local: residual blocks of each local enhancer.
        norm: normalisation name (pix2pixHD: ``instance``).
        padding_type: padding of the residual blocks.
        max_channels: width cap of the global network (1024 in the original).
    """

    input_nc: int = 35
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
        if self.input_nc < 1 or self.output_nc < 1 or self.ngf < 1:
            raise ValueError("input_nc, output_nc and ngf must be positive")
        if self.n_downsample < 0 or self.n_local_enhancers < 0:
            raise ValueError("n_downsample and n_local_enhancers must be >= 0")

    @property
    def size_multiple(self) -> int:
        """Height and width must be divisible by ``2**(n_downsample + n_local_enhancers)``."""
        return 2 ** (self.n_downsample + self.n_local_enhancers)


class LocalEnhancer(nn.Module):
    """One local enhancer: ``decoder(encoder(x) + coarse_features)``.

    Shapes: ``x`` ``(B, input_nc, H, W)``, ``coarse`` ``(B, 2 * ngf, H/2, W/2)`` → ``(B, ngf, H, W)``.
    """

    def __init__(self, input_nc: int, ngf: int, n_blocks: int, norm: str, padding_type: str) -> None:
        super().__init__()
        self.encoder = DownsamplingEncoder(input_nc, ngf, 1, 0, norm, padding_type)
        self.decoder = UpsamplingDecoder(ngf, 1, n_blocks, norm, padding_type)

    def forward(self, x: Tensor, coarse: Tensor) -> Tensor:
        return self.decoder(self.encoder(x) + coarse)


class ImageGenerator(nn.Module):
    """pix2pixHD generator: labels ``(B, input_nc, H, W)`` → image ``(B, output_nc, H, W)`` in ``[-1, 1]``."""

    def __init__(self, config: ImageGeneratorConfig | None = None, **kwargs: Any) -> None:
        super().__init__()
        if config is None:
            config = ImageGeneratorConfig(**kwargs)
        elif kwargs:
            raise ValueError("pass either a config or keyword arguments, not both")
        self.config = c = config
        ngf_global = c.ngf * 2**c.n_local_enhancers
        self.global_encoder = DownsamplingEncoder(
            c.input_nc, ngf_global, c.n_downsample, c.n_blocks, c.norm, c.padding_type, c.max_channels
        )
        self.global_decoder = UpsamplingDecoder(
            ngf_global, c.n_downsample, 0, c.norm, c.padding_type, c.max_channels
        )
        self.enhancers = nn.ModuleList(
            LocalEnhancer(
                c.input_nc, c.ngf * 2 ** (c.n_local_enhancers - n), c.n_blocks_local, c.norm, c.padding_type
            )
            for n in range(1, c.n_local_enhancers + 1)
        )
        self.image_out = OutputConv(c.ngf, c.output_nc, "tanh")

    def forward(self, inputs: Tensor, features: Tensor | None = None) -> Tensor:
        """Synthesise an image.

        Args:
            inputs: ``(B, C, H, W)`` float, e.g. one-hot labels; ``H, W`` divisible by
                ``config.size_multiple``.
            features: optional ``(B, F, H, W)`` instance features concatenated to ``inputs``
                (``C + F`` must equal ``input_nc``).

        Returns:
            ``(B, output_nc, H, W)`` in ``[-1, 1]``.
        """
        if features is not None:
            if features.shape[0] != inputs.shape[0] or features.shape[-2:] != inputs.shape[-2:]:
                raise ValueError(
                    f"features {tuple(features.shape)} must share batch and size with inputs {tuple(inputs.shape)}"
                )
            inputs = torch.cat([inputs, features.to(inputs.dtype)], dim=1)
        c = self.config
        if inputs.dim() != 4 or inputs.shape[1] != c.input_nc:
            raise ValueError(f"inputs must be (B, {c.input_nc}, H, W), got {tuple(inputs.shape)}")
        height, width = inputs.shape[-2:]
        m = c.size_multiple
        if height % m or width % m:
            raise ValueError(
                f"image size {height}x{width} (HxW) is not divisible by {m} = 2**(n_downsample + n_local_enhancers)"
            )
        pyramid = build_pyramid(inputs, c.n_local_enhancers + 1)
        x = self.global_decoder(self.global_encoder(pyramid[-1]))
        for n, enhancer in enumerate(self.enhancers, start=1):
            x = enhancer(pyramid[c.n_local_enhancers - n], x)
        return self.image_out(x)
