"""Normalisation-layer factory, resolved from JSON-able names.

- ``"batch"``: ``BatchNorm2d`` with a learned affine (the original's default for vid2vid).
- ``"instance"``: ``InstanceNorm2d`` without affine and without running statistics (pix2pixHD's
  default; the original tracked running statistics it never used at test time).
- ``"instance_affine"``: ``InstanceNorm2d`` with a learned affine. On one frame this is exactly
  what the original's BatchNorm computes with per-call statistics (its test loop runs one frame
  per call in training mode), and it does not depend on the batch size or on train/eval mode.
  Converted vid2vid generators use it.
- ``"none"``: identity.

Instance normalisation runs through :class:`InstanceNorm2d`, a drop-in subclass of
``torch.nn.InstanceNorm2d`` (same parameters, same state-dict keys) that calls the batch-norm
kernel directly for a batch of one frame, where instance and batch statistics coincide.
``torch.nn.functional.instance_norm`` reaches the very same kernel, but only after repeating the
affine parameters ``B`` times and making the input contiguous on every call; skipping those
copies gives bit-identical outputs, faster.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["NORM_TYPES", "InstanceNorm2d", "make_norm", "check_norm"]

NORM_TYPES: tuple[str, ...] = ("batch", "instance", "instance_affine", "none")


def check_norm(norm: str) -> str:
    """Return ``norm`` if it is a known name, else raise ``ValueError`` listing the options."""
    if norm not in NORM_TYPES:
        raise ValueError(f"unknown norm {norm!r}; expected one of {', '.join(NORM_TYPES)}")
    return norm


class InstanceNorm2d(nn.InstanceNorm2d):
    """Instance normalisation over ``(B, C, H, W)`` without per-call parameter copies.

    Same constructor, parameters (``weight``/``bias`` when ``affine``) and state-dict keys as
    ``torch.nn.InstanceNorm2d``. Without running statistics, a batch of one frame is normalised
    by ``F.batch_norm`` with per-call statistics (the kernel ``F.instance_norm`` itself ends in,
    so outputs and gradients are bit-identical); larger batches, unbatched ``(C, H, W)`` inputs,
    non-contiguous (e.g. channels-last) inputs and layers tracking running statistics take
    ``torch.nn.InstanceNorm2d``'s path. On CPU, channels-last inputs go through the contiguous
    kernel on purpose, as before: the CPU channels-last batch-norm kernel rounds the mean of a
    constant plane, and normalising a near-constant plane (the encoder of an all-zero history)
    amplifies that rounding by ``1 / sqrt(eps)`` per layer. On CUDA, channels-last inputs stay
    channels-last (the point of that format there; CUDA reductions are not bit-exact anyway).
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - torch's argument name
        if (
            input.dim() == 4
            and input.shape[0] == 1
            and not self.track_running_stats
            and (
                input.is_contiguous()
                or (input.is_cuda and input.is_contiguous(memory_format=torch.channels_last))
            )
        ):
            if input.shape[1] != self.num_features:
                raise ValueError(
                    f"expected {self.num_features} channels for InstanceNorm2d, got input {tuple(input.shape)}"
                )
            if input.shape[2] * input.shape[3] <= 1:
                raise ValueError(
                    f"instance normalisation needs more than one spatial value per channel, got input "
                    f"{tuple(input.shape)}"
                )
            return F.batch_norm(input, None, None, self.weight, self.bias, True, 0.0, self.eps)
        return super().forward(input)


def make_norm(norm: str, num_features: int) -> nn.Module:
    """Build a 2-D normalisation layer over ``num_features`` channels from its name."""
    check_norm(norm)
    if norm == "batch":
        return nn.BatchNorm2d(num_features, affine=True)
    if norm == "instance":
        return InstanceNorm2d(num_features, affine=False, track_running_stats=False)
    if norm == "instance_affine":
        return InstanceNorm2d(num_features, affine=True, track_running_stats=False)
    return nn.Identity()
