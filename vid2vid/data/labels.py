"""Label-map encoding: one-hot class maps and instance-boundary maps (pix2pixHD §3.3).

The generator and the discriminators read a frame's semantic layout as the one-hot
encoding of its class ids, optionally followed by one channel that marks instance
boundaries. Everything here is vectorised and follows the input's device.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["one_hot", "instance_edges", "encode_label_map", "check_label_ids"]


def check_label_ids(labels: Tensor, label_nc: int, what: str = "labels") -> None:
    """Raise ``ValueError`` unless ``labels`` holds integer class ids in ``[0, label_nc)``."""
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.is_complex():
        raise ValueError(f"{what} must be an integer tensor of class ids, got dtype {labels.dtype}")
    if label_nc <= 0:
        raise ValueError(f"label_nc must be positive, got {label_nc}")
    if labels.numel() == 0:
        return
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= label_nc:
        bad = high if high >= label_nc else low
        raise ValueError(
            f"{what} contain class id {bad}, outside [0, {label_nc}) (label_nc={label_nc}); "
            f"ids seen span [{low}, {high}]. Check label_nc or remap your label ids."
        )


def one_hot(labels: Tensor, label_nc: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """One-hot encode class ids along a new channel dimension placed before ``H, W``.

    Args:
        labels: ``(..., H, W)`` integer class ids in ``[0, label_nc)``, e.g. ``(B, H, W)`` or
            ``(B, T, H, W)``.
        label_nc: number of classes.
        dtype: floating dtype of the result.

    Returns:
        ``(..., label_nc, H, W)`` in ``{0, 1}``.
    """
    if labels.dim() < 2:
        raise ValueError(f"labels must be at least (H, W), got shape {tuple(labels.shape)}")
    check_label_ids(labels, label_nc)
    out = torch.zeros(*labels.shape[:-2], label_nc, *labels.shape[-2:], dtype=dtype, device=labels.device)
    return out.scatter_(-3, labels.long().unsqueeze(-3), 1.0)


def instance_edges(instances: Tensor, dtype: torch.dtype = torch.float32) -> Tensor:
    """Instance-boundary map: 1 where a pixel's instance id differs from a 4-neighbour's.

    Both pixels of every differing horizontal or vertical pair are marked, as in pix2pixHD.

    Args:
        instances: ``(..., H, W)`` integer instance ids.
        dtype: floating dtype of the result.

    Returns:
        ``(..., 1, H, W)`` in ``{0, 1}``.
    """
    if instances.dim() < 2:
        raise ValueError(f"instances must be at least (H, W), got shape {tuple(instances.shape)}")
    if instances.dtype.is_floating_point:
        raise ValueError(f"instances must be an integer tensor of instance ids, got dtype {instances.dtype}")
    edge = torch.zeros(instances.shape, dtype=torch.bool, device=instances.device)
    horizontal = instances[..., :, 1:] != instances[..., :, :-1]
    vertical = instances[..., 1:, :] != instances[..., :-1, :]
    edge[..., :, 1:] |= horizontal
    edge[..., :, :-1] |= horizontal
    edge[..., 1:, :] |= vertical
    edge[..., :-1, :] |= vertical
    return edge.unsqueeze(-3).to(dtype)


def encode_label_map(
    labels: Tensor | None,
    label_nc: int,
    instances: Tensor | None = None,
    inputs: Tensor | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Build a network's per-frame input: one-hot labels (or continuous maps) + instance edges.

    Args:
        labels: ``(..., H, W)`` int64 class ids in ``[0, label_nc)``; used when ``label_nc > 0``.
        label_nc: number of classes, or 0 for continuous inputs.
        instances: optional ``(..., H, W)`` int64 instance ids; adds one edge channel.
        inputs: ``(..., C, H, W)`` float continuous maps (edges, pose renderings); used when
            ``label_nc == 0``.
        dtype: floating dtype of the result.

    Returns:
        ``(..., label_nc or C [+ 1], H, W)`` float.
    """
    if label_nc > 0:
        if labels is None:
            raise ValueError(f"label_nc={label_nc} needs integer labels, got None")
        encoded = one_hot(labels, label_nc, dtype=dtype)
    else:
        if inputs is None:
            raise ValueError("label_nc=0 means continuous inputs: pass a float (..., C, H, W) tensor")
        if not inputs.dtype.is_floating_point:
            raise ValueError(f"continuous inputs must be floating point, got dtype {inputs.dtype}")
        encoded = inputs.to(dtype)
    if instances is not None:
        if instances.shape != encoded.shape[:-3] + encoded.shape[-2:]:
            raise ValueError(
                f"instances {tuple(instances.shape)} must match the label maps' shape "
                f"{tuple(encoded.shape[:-3] + encoded.shape[-2:])}"
            )
        encoded = torch.cat([encoded, instance_edges(instances, dtype=dtype)], dim=-3)
    return encoded
