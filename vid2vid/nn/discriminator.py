"""PatchGAN discriminators at several spatial scales (pix2pixHD §3.2, vid2vid §3.2 D_I).

``PatchDiscriminator``: 4×4 convolutions with stride 2 and LeakyReLU(0.2) — ``n_layers`` strided
layers, one stride-1 layer, and a 1-channel stride-1 output — returning every layer's output so
that the generator can match discriminator features. ``MultiScaleDiscriminator`` runs ``num_D``
of them on the input average-pooled 0, 1, 2, ... times.
"""

from __future__ import annotations

from torch import Tensor, nn

from vid2vid.nn.norm import check_norm, make_norm
from vid2vid.nn.pyramid import downsample2x

__all__ = ["PatchDiscriminator", "MultiScaleDiscriminator", "DiscriminatorLayer"]


class DiscriminatorLayer(nn.Module):
    """4×4 convolution (padding 2) → optional norm → optional LeakyReLU(0.2)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, norm: str, activation: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=4, stride=stride, padding=2)
        self.norm = make_norm(norm, out_channels)
        self.act = nn.LeakyReLU(0.2, inplace=True) if activation else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.conv(x)))


class PatchDiscriminator(nn.Module):
    """One PatchGAN discriminator.

    Args:
        input_nc: input channels.
        ndf: width of the first layer (doubles per layer, capped at ``max_channels``).
        n_layers: strided layers (3 in the original).
        norm: normalisation of every layer but the first and the last.
        max_channels: width cap (512).

    Input ``(B, input_nc, H, W)``; output: list of ``n_layers + 2`` feature maps, the last one the
    ``(B, 1, h, w)`` patch prediction (unbounded: GAN losses interpret it).
    """

    def __init__(
        self, input_nc: int, ndf: int = 64, n_layers: int = 3, norm: str = "batch", max_channels: int = 512
    ) -> None:
        super().__init__()
        check_norm(norm)
        if n_layers < 1:
            raise ValueError(f"n_layers must be >= 1, got {n_layers}")
        layers = [DiscriminatorLayer(input_nc, ndf, 2, "none", True)]
        width = ndf
        for _ in range(1, n_layers):
            layers.append(DiscriminatorLayer(width, min(width * 2, max_channels), 2, norm, True))
            width = min(width * 2, max_channels)
        layers.append(DiscriminatorLayer(width, min(width * 2, max_channels), 1, norm, True))
        width = min(width * 2, max_channels)
        layers.append(DiscriminatorLayer(width, 1, 1, "none", False))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: Tensor) -> list[Tensor]:
        features = []
        for layer in self.layers:
            x = layer(x)
            features.append(x)
        return features


class MultiScaleDiscriminator(nn.Module):
    """``num_D`` PatchGAN discriminators on an average-pool pyramid of the input.

    Args:
        input_nc: input channels (image D: labels + edges + frame; temporal D: frames + flows).
        ndf: width of the full-resolution discriminator's first layer. Scale ``i`` (input pooled
            ``i`` times) uses ``min(ndf * 2**i, ndf_max)``, as the original does (its weights name
            the scales in the opposite order: ``scale{num_D-1-i}``).
        n_layers: strided layers per discriminator.
        num_D: number of scales.
        norm: normalisation name (the original: ``batch``).
        ndf_max: width cap of a scale's first layer (64 in the original).

    Input ``(B, input_nc, H, W)``; output: ``num_D`` lists (full resolution first) of
    ``n_layers + 2`` feature maps each, the last being the patch prediction.
    """

    def __init__(
        self,
        input_nc: int,
        ndf: int = 64,
        n_layers: int = 3,
        num_D: int = 3,
        norm: str = "batch",
        ndf_max: int = 64,
    ) -> None:
        super().__init__()
        if num_D < 1:
            raise ValueError(f"num_D must be >= 1, got {num_D}")
        self.input_nc = input_nc
        self.scales = nn.ModuleList(
            PatchDiscriminator(input_nc, min(ndf * 2**i, ndf_max), n_layers, norm) for i in range(num_D)
        )

    def forward(self, x: Tensor) -> list[list[Tensor]]:
        if x.dim() != 4 or x.shape[1] != self.input_nc:
            raise ValueError(f"discriminator input must be (B, {self.input_nc}, H, W), got {tuple(x.shape)}")
        results = []
        for i, scale in enumerate(self.scales):
            if i > 0:
                x = downsample2x(x)
            results.append(scale(x))
        return results
