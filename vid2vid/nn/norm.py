"""Normalisation-layer factory, resolved from JSON-able names.

- ``"batch"``: ``BatchNorm2d`` with a learned affine (the original's default for vid2vid).
- ``"instance"``: ``InstanceNorm2d`` without affine and without running statistics (pix2pixHD's
  default; the original tracked running statistics it never used at test time).
- ``"instance_affine"``: ``InstanceNorm2d`` with a learned affine. On one frame this is exactly
  what the original's BatchNorm computes with per-call statistics (its test loop runs one frame
  per call in training mode), and it does not depend on the batch size or on train/eval mode.
  Converted vid2vid generators use it.
- ``"none"``: identity.
"""

from __future__ import annotations

from torch import nn

__all__ = ["NORM_TYPES", "make_norm", "check_norm"]

NORM_TYPES: tuple[str, ...] = ("batch", "instance", "instance_affine", "none")


def check_norm(norm: str) -> str:
    """Return ``norm`` if it is a known name, else raise ``ValueError`` listing the options."""
    if norm not in NORM_TYPES:
        raise ValueError(f"unknown norm {norm!r}; expected one of {', '.join(NORM_TYPES)}")
    return norm


def make_norm(norm: str, num_features: int) -> nn.Module:
    """Build a 2-D normalisation layer over ``num_features`` channels from its name."""
    check_norm(norm)
    if norm == "batch":
        return nn.BatchNorm2d(num_features, affine=True)
    if norm == "instance":
        return nn.InstanceNorm2d(num_features, affine=False, track_running_stats=False)
    if norm == "instance_affine":
        return nn.InstanceNorm2d(num_features, affine=True, track_running_stats=False)
    return nn.Identity()
