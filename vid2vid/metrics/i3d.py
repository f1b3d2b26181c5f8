"""Inflated 3-D Inception-v1 (I3D, Carreira & Zisserman, CVPR 2017): the feature network of FVD.

Written from the paper's architecture; its parameter names follow the widely used PyTorch port
of the Kinetics-400 RGB model (``Conv3d_1a_7x7.conv3d.weight``, ``Mixed_3b.b1b.bn.running_mean``,
``logits.conv3d.bias`` ...), so that port's state dict loads as-is. Convolutions and pools use
TensorFlow "SAME" padding; batch norm has ``eps = 1e-3``. Unlike the port, the final average pool
is global (any clip length and frame size; the same at 16 × 224 × 224), and
:meth:`InceptionI3d.forward` returns the 400 class logits, the features FVD is computed on (Unterthiner et al. 2018).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["InceptionI3d"]


def _same_pad(x: Tensor, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> Tensor:
    pads: list[int] = []
    for size, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride), strict=False):
        total = max(k - s, 0) if size % s == 0 else max(k - size % s, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class Unit3D(nn.Module):
    """Conv3d (no padding, "SAME" padding applied in forward) + optional BatchNorm + optional ReLU."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel: tuple[int, int, int] = (1, 1, 1),
        stride: tuple[int, int, int] = (1, 1, 1),
        batch_norm: bool = True,
        relu: bool = True,
        bias: bool = False,
    ) -> None:
        super().__init__()
        self.kernel, self.stride, self.relu = kernel, stride, relu
        self.conv3d = nn.Conv3d(in_ch, out_ch, kernel, stride, bias=bias)
        self.bn = nn.BatchNorm3d(out_ch, eps=1e-3, momentum=0.01) if batch_norm else None

    def forward(self, x: Tensor) -> Tensor:
        """``(B, in_ch, T, H, W)`` → ``(B, out_ch, ceil(T/s), ceil(H/s), ceil(W/s))``."""
        x = self.conv3d(_same_pad(x, self.kernel, self.stride))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class _SamePool(nn.Module):
    def __init__(self, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool3d(_same_pad(x, self.kernel, self.stride), self.kernel, self.stride)


class _Mixed(nn.Module):
    """Inception block: 1x1 | 1x1→3x3 | 1x1→3x3 | pool→1x1 branches, concatenated."""

    def __init__(self, in_ch: int, c: tuple[int, int, int, int, int, int]) -> None:
        super().__init__()
        self.b0 = Unit3D(in_ch, c[0])
        self.b1a = Unit3D(in_ch, c[1])
        self.b1b = Unit3D(c[1], c[2], (3, 3, 3))
        self.b2a = Unit3D(in_ch, c[3])
        self.b2b = Unit3D(c[3], c[4], (3, 3, 3))
        self.b3a = _SamePool((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(in_ch, c[5])
        self.out_channels = c[0] + c[2] + c[4] + c[5]

    def forward(self, x: Tensor) -> Tensor:
        branches = [self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))]
        return torch.cat(branches, dim=1)


_MIXED = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}


class InceptionI3d(nn.Module):
    """I3D: clips ``(B, 3, T, H, W)`` in ``[-1, 1]`` → class logits ``(B, num_classes)``.

    Args:
        num_classes: outputs of the logits layer (400 for Kinetics-400).
    """

    def __init__(self, num_classes: int = 400) -> None:
        super().__init__()
        self.Conv3d_1a_7x7 = Unit3D(3, 64, (7, 7, 7), (2, 2, 2))
        self.MaxPool3d_2a_3x3 = _SamePool((1, 3, 3), (1, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(64, 64)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, (3, 3, 3))
        self.MaxPool3d_3a_3x3 = _SamePool((1, 3, 3), (1, 2, 2))
        ch = 192
        for name in (
            "Mixed_3b",
            "Mixed_3c",
            "MaxPool3d_4a_3x3",
            "Mixed_4b",
            "Mixed_4c",
            "Mixed_4d",
            "Mixed_4e",
            "Mixed_4f",
            "MaxPool3d_5a_2x2",
            "Mixed_5b",
            "Mixed_5c",
        ):
            if name == "MaxPool3d_4a_3x3":
                setattr(self, name, _SamePool((3, 3, 3), (2, 2, 2)))
            elif name == "MaxPool3d_5a_2x2":
                setattr(self, name, _SamePool((2, 2, 2), (2, 2, 2)))
            else:
                block = _Mixed(ch, _MIXED[name])
                setattr(self, name, block)
                ch = block.out_channels
        self.feature_channels = ch  # 1024
        self.logits = Unit3D(ch, num_classes, batch_norm=False, relu=False, bias=True)
        self._order = [n for n, _ in self.named_children() if n != "logits"]

    def forward(self, x: Tensor) -> Tensor:
        """Time-averaged logits ``(B, num_classes)`` of clips ``(B, 3, T, H, W)`` in ``[-1, 1]``."""
        if x.dim() != 5 or x.shape[1] != 3:
            raise ValueError(f"I3D takes clips (B, 3, T, H, W) in [-1, 1], got shape {tuple(x.shape)}")
        for name in self._order:
            x = getattr(self, name)(x)
        # the port averages 2 x 7 x 7 windows, all of them at 16 x 224 x 224 (logits are linear in it)
        return self.logits(F.adaptive_avg_pool3d(x, 1)).flatten(1)
