"""Weight initialisation of the original pix2pixHD / vid2vid networks (their ``weights_init``).

The original draws every convolution and transposed convolution weight from ``N(0, 0.02)`` and
every BatchNorm weight from ``N(1, 0.02)`` with BatchNorm biases 0; convolution biases keep
PyTorch's default. Our affine normalisations (``batch``, ``instance_affine`` — the original's
BatchNorm on one frame) are initialised like its BatchNorm.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["init_weights_original", "INIT_MODES"]

#: ``"original"``: :func:`init_weights_original`; ``"pytorch"``: PyTorch's default initialisation.
INIT_MODES: tuple[str, ...] = ("original", "pytorch")


def _is_affine_norm(m: nn.Module) -> bool:
    return "Norm" in type(m).__name__ and isinstance(getattr(m, "weight", None), torch.Tensor)


@torch.no_grad()
def init_weights_original(module: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """Re-initialise ``module`` in place as the original's ``weights_init``; returns it.

    Args:
        module: any network (every sub-module is visited).
        generator: optional random generator (default: torch's global one).
    """
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            m.weight.normal_(0.0, 0.02, generator=generator)
        elif _is_affine_norm(m):
            m.weight.normal_(1.0, 0.02, generator=generator)
            if getattr(m, "bias", None) is not None:
                m.bias.zero_()
    return module
