"""LPIPS: learned perceptual image patch similarity (Zhang et al., CVPR 2018), version 0.1.

A frozen ImageNet backbone (AlexNet, or VGG16) gives five ReLU activations of each image; each is
unit-normalised along channels, the squared difference of the two images' activations is
weighted per channel by a learned non-negative 1 × 1 "linear" layer, averaged over space and
summed over layers. Inputs in ``[-1, 1]`` are first shifted and scaled per channel
(``(x - shift) / scale``, the constants of the reference implementation).

Weights: the backbone is torchvision's ImageNet model (``alexnet-owt-7be5be79.pth`` /
``vgg16-397923af.pth`` in the torch hub cache); the linear layers are the LPIPS v0.1 heads
(``alex.pth`` / ``vgg.pth`` of the ``lpips`` package, BSD-2; keys ``lin{k}.model.1.weight``),
found in ``$VID2VID_LPIPS_<NET>_HEADS``, the hub cache as ``lpips_v0.1_<net>.pth``, or an
installed ``lpips`` package. ``weights=None`` builds random weights (tests only).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import torch
from torch import Tensor, nn

from vid2vid.metrics._inputs import check_pair
from vid2vid.metrics.weights import WeightsSpec, load_into, read_state_dict, resolve_weights

__all__ = ["LPIPS", "LPIPS_BACKBONES"]

# backbone: torchvision constructor, weights spec, slice ends of ``features`` at the five ReLUs, channels
LPIPS_BACKBONES: dict[str, dict] = {
    "alex": {
        "ends": (2, 5, 8, 10, 12),
        "channels": (64, 192, 384, 256, 256),
        "spec": WeightsSpec(
            "AlexNet (ImageNet) backbone of LPIPS",
            "alexnet-owt-7be5be79.pth",
            "VID2VID_LPIPS_ALEX_BACKBONE",
            url="https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
        ),
    },
    "vgg": {
        "ends": (4, 9, 16, 23, 30),
        "channels": (64, 128, 256, 512, 512),
        "spec": WeightsSpec(
            "VGG16 (ImageNet) backbone of LPIPS",
            "vgg16-397923af.pth",
            "VID2VID_LPIPS_VGG_BACKBONE",
            url="https://download.pytorch.org/models/vgg16-397923af.pth",
        ),
    },
}

_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)


def _heads_spec(net: str) -> WeightsSpec:
    return WeightsSpec(
        f"LPIPS v0.1 linear heads ({net})",
        f"lpips_v0.1_{net}.pth",
        f"VID2VID_LPIPS_{net.upper()}_HEADS",
        source=f"the 'lpips' PyPI package (file lpips/weights/v0.1/{net}.pth)",
    )


def _find_heads(net: str, path: str | os.PathLike[str] | None) -> Path:
    spec = _heads_spec(net)
    try:
        return resolve_weights(spec, path, download=False)
    except RuntimeError:
        found = importlib.util.find_spec("lpips")
        if found is not None and found.origin is not None:
            candidate = Path(found.origin).parent / "weights" / "v0.1" / f"{net}.pth"
            if candidate.is_file():
                return candidate
        raise


class LPIPS(nn.Module):
    """LPIPS distance between two batches of images (lower = more similar; 0 for identical images).

    Args:
        net: ``"alex"`` (the default of the LPIPS paper) or ``"vgg"``.
        weights: ``"default"`` (backbone and heads from local files/caches, see the module
            docstring) or ``None`` (random backbone and random non-negative heads: tests only).
        backbone_weights, head_weights: explicit files overriding the lookup.
        download: try to download the backbone into the hub cache when no local file is found.
    """

    def __init__(
        self,
        net: str = "alex",
        weights: str | None = "default",
        backbone_weights: str | os.PathLike[str] | None = None,
        head_weights: str | os.PathLike[str] | None = None,
        download: bool = True,
    ) -> None:
        super().__init__()
        if net not in LPIPS_BACKBONES:
            raise ValueError(f"net must be one of {sorted(LPIPS_BACKBONES)}, got {net!r}")
        if weights not in ("default", None):
            raise ValueError(
                f"weights must be 'default' or None, got {weights!r} (use backbone_weights/head_weights for files)"
            )
        from torchvision.models import alexnet, vgg16

        info = LPIPS_BACKBONES[net]
        self.net = net
        model = (alexnet if net == "alex" else vgg16)(weights=None)
        if weights == "default":
            spec = info["spec"]
            path = resolve_weights(spec, backbone_weights, download=download)
            state = read_state_dict(path)
            feats = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
            load_into(model.features, feats or state, str(path))
        starts = (0, *info["ends"][:-1])
        self.slices = nn.ModuleList(
            nn.Sequential(*[model.features[i] for i in range(a, b)])
            for a, b in zip(starts, info["ends"], strict=False)
        )
        self.heads = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in info["channels"])
        if weights == "default":
            path = _find_heads(net, head_weights)
            state = read_state_dict(path)
            heads = {}
            for k in range(len(self.heads)):
                key = f"lin{k}.model.1.weight"
                if key not in state:
                    raise KeyError(f"{path} is not an LPIPS v0.1 heads file: no tensor {key!r}")
                heads[f"{k}.weight"] = state[key]
            load_into(self.heads, heads, str(path))
        else:
            for head in self.heads:
                nn.init.uniform_(head.weight, 0.0, 1.0 / head.in_channels)
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1), persistent=False)
        self.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> LPIPS:
        """Always stays in eval mode (frozen metric network)."""
        return super().train(False)

    def features(self, x: Tensor) -> list[Tensor]:
        """Unit-normalised activations of ``x`` ``(N, 3, H, W)`` in ``[-1, 1]``: five ``(N, C_k, H_k, W_k)``."""
        h = (x - self.shift.to(x.dtype)) / self.scale.to(x.dtype)
        out = []
        for block in self.slices:
            h = block(h)
            out.append(h / (h.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10))
        return out

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """LPIPS of each pair.

        Args:
            pred, target: ``(N, 3, H, W)`` float in ``[-1, 1]`` (at least 32 × 32 for AlexNet).

        Returns:
            ``(N,)`` float32, ``>= 0``.
        """
        pred, target = check_pair(pred, target)
        if min(pred.shape[-2:]) < 32:
            raise ValueError(f"LPIPS needs frames of at least 32x32, got {tuple(pred.shape[-2:])}")
        param = next(self.parameters())
        pred, target = pred.to(param.device, param.dtype), target.to(param.device, param.dtype)
        with torch.no_grad():
            total = pred.new_zeros(pred.shape[0])
            for head, fp, ft in zip(self.heads, self.features(pred), self.features(target), strict=False):
                total = total + head((fp - ft).pow(2)).mean(dim=(1, 2, 3))
        return total.float()
