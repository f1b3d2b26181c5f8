"""Convolutional building blocks shared by the generators and the encoder (pix2pixHD §3.2).

Every block has explicit JSON-able arguments (``norm="instance"``, ``padding_type="reflect"``)
and named children (``conv``, ``norm``) so that state-dict keys read as what they are.
"""

from __future__ import annotations

from torch import Tensor, nn

from vid2vid.nn.norm import make_norm

__all__ = ["ConvNormAct", "UpConvNormAct", "ResidualBlock", "OutputConv", "PADDING_TYPES", "padding_mode"]

PADDING_TYPES: tuple[str, ...] = ("reflect", "replicate", "zero")


def padding_mode(padding_type: str) -> str:
    """Map a padding name (``reflect``/``replicate``/``zero``) to ``nn.Conv2d``'s ``padding_mode``."""
    if padding_type not in PADDING_TYPES:
        raise ValueError(f"unknown padding_type {padding_type!r}; expected one of {', '.join(PADDING_TYPES)}")
    return "zeros" if padding_type == "zero" else padding_type


def _activation(name: str) -> nn.Module:
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2, inplace=True)
    if name == "tanh":
        return nn.Tanh()
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "none":
        return nn.Identity()
    raise ValueError(f"unknown activation {name!r}; expected relu, leaky_relu, tanh, sigmoid or none")


class ConvNormAct(nn.Module):
    """``conv → norm → activation`` with "same" padding (``kernel_size // 2``).

    Shapes: ``(B, in_channels, H, W)`` → ``(B, out_channels, ⌈H/stride⌉, ⌈W/stride⌉)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        norm: str = "instance",
        activation: str = "relu",
        padding_type: str = "zero",
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            padding_mode=padding_mode(padding_type),
        )
        self.norm = make_norm(norm, out_channels)
        self.act = _activation(activation)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.conv(x)))


class UpConvNormAct(nn.Module):
    """Transposed 3×3 convolution, stride 2 (doubles H and W) → norm → ReLU.

    Shapes: ``(B, in_channels, H, W)`` → ``(B, out_channels, 2H, 2W)``.
    """

    def __init__(self, in_channels: int, out_channels: int, norm: str = "instance") -> None:
        super().__init__()
        self.conv = nn.ConvTranspose2d(
            in_channels, out_channels, kernel_size=3, stride=2, padding=1, output_padding=1
        )
        self.norm = make_norm(norm, out_channels)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.conv(x)))


class ResidualBlock(nn.Module):
    """Residual block: ``x + norm(conv(relu(norm(conv(x)))))`` with 3×3 convolutions.

    Padding is reflection by default (pix2pixHD). Shapes: ``(B, C, H, W)`` → ``(B, C, H, W)``.
    """

    def __init__(self, channels: int, norm: str = "instance", padding_type: str = "reflect") -> None:
        super().__init__()
        mode = padding_mode(padding_type)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode=mode)
        self.norm1 = make_norm(norm, channels)
        self.act = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode=mode)
        self.norm2 = make_norm(norm, channels)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.norm2(self.conv2(self.act(self.norm1(self.conv1(x)))))


class OutputConv(nn.Module):
    """Final 7×7 reflection-padded convolution with an output activation (``tanh``, ``sigmoid``, ``none``).

    Shapes: ``(B, in_channels, H, W)`` → ``(B, out_channels, H, W)``.
    """

    def __init__(self, in_channels: int, out_channels: int, activation: str = "tanh") -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 7, padding=3, padding_mode="reflect")
        self.act = _activation(activation)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.conv(x))
