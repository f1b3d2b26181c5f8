"""Down- and up-sampling stacks: the encoder and decoder halves of every generator here.

``DownsamplingEncoder``: 7×7 stem, ``n_downsample`` stride-2 3×3 convolutions (channels double,
capped at ``max_channels``), then ``n_blocks`` residual blocks. ``UpsamplingDecoder``:
``n_blocks`` residual blocks, then ``n_upsample`` transposed convolutions (channels halve).
pix2pixHD's global generator is one of each; vid2vid's composite generator sums two encoders
and runs two or three decoders on the sum.
"""

from __future__ import annotations

from torch import Tensor, nn

from vid2vid.nn.blocks import ConvNormAct, ResidualBlock, UpConvNormAct

__all__ = ["DownsamplingEncoder", "UpsamplingDecoder"]


def _width(base: int, level: int, max_channels: int | None) -> int:
    width = base * 2**level
    return width if max_channels is None else min(width, max_channels)


class DownsamplingEncoder(nn.Module):
    """Stem + stride-2 convolutions + residual blocks.

    Shapes: ``(B, in_channels, H, W)`` → ``(B, out_channels, H / 2**n_downsample, W / 2**n_downsample)``
    with ``out_channels = min(base_channels * 2**n_downsample, max_channels)``.
    """

    def __init__(
        self,
        in_channels: int,
        base_channels: int,
        n_downsample: int,
        n_blocks: int,
        norm: str = "instance",
        padding_type: str = "reflect",
        max_channels: int | None = None,
    ) -> None:
        super().__init__()
        if in_channels < 1 or base_channels < 1:
            raise ValueError(f"channels must be positive, got in={in_channels}, base={base_channels}")
        self.stem = ConvNormAct(
            in_channels, _width(base_channels, 0, max_channels), 7, norm=norm, padding_type="reflect"
        )
        self.down = nn.ModuleList(
            ConvNormAct(
                _width(base_channels, i, max_channels),
                _width(base_channels, i + 1, max_channels),
                3,
                stride=2,
                norm=norm,
                padding_type="zero",
            )
            for i in range(n_downsample)
        )
        self.out_channels = _width(base_channels, n_downsample, max_channels)
        self.blocks = nn.Sequential(
            *(ResidualBlock(self.out_channels, norm, padding_type) for _ in range(n_blocks))
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem(x)
        for layer in self.down:
            x = layer(x)
        return self.blocks(x)

    def forward_from_stem(self, stem_conv: Tensor) -> Tensor:
        """The encoder given its stem convolution's output ``(B, C_stem, H, W)`` (norm and activation follow)."""
        x = self.stem.act(self.stem.norm(stem_conv))
        for layer in self.down:
            x = layer(x)
        return self.blocks(x)


class UpsamplingDecoder(nn.Module):
    """Residual blocks + transposed convolutions.

    Shapes: ``(B, min(base_channels * 2**n_upsample, max_channels), h, w)`` →
    ``(B, base_channels, h * 2**n_upsample, w * 2**n_upsample)``.
    """

    def __init__(
        self,
        base_channels: int,
        n_upsample: int,
        n_blocks: int,
        norm: str = "instance",
        padding_type: str = "reflect",
        max_channels: int | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = _width(base_channels, n_upsample, max_channels)
        self.blocks = nn.Sequential(
            *(ResidualBlock(self.in_channels, norm, padding_type) for _ in range(n_blocks))
        )
        self.up = nn.ModuleList(
            UpConvNormAct(
                _width(base_channels, n_upsample - i, max_channels),
                _width(base_channels, n_upsample - i - 1, max_channels),
                norm=norm,
            )
            for i in range(n_upsample)
        )
        self.out_channels = _width(base_channels, 0, max_channels)

    def forward(self, x: Tensor) -> Tensor:
        x = self.blocks(x)
        for layer in self.up:
            x = layer(x)
        return x
