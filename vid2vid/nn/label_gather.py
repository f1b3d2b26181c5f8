"""Convolution over one-hot label maps as a gather of weight columns (an optional fast path).

The first layer of every vid2vid label encoder is a 7×7 convolution over ``n_frames_G`` stacked
one-hot label maps (plus an instance-edge channel per frame): 108 input channels for Cityscapes,
of which exactly one label channel per frame is non-zero at every pixel. Its output at a pixel is
therefore the bias plus, for every frame and kernel tap, the weight column of the class id seen
through that tap — ``n_frames × 49`` looked-up vectors (and the edge columns scaled by the edge
values) instead of ``108 × 49`` multiply-adds per output channel. :func:`one_hot_conv2d`
computes exactly that with one ``F.embedding_bag`` (mode ``sum``). A binary extra channel (instance
edges, 0 or 1) is folded into the lookup: the table gets a second row per class with the edge
column added, so the bag stays ``n_frames × 49`` entries; other extra channels are convolved.

The result is mathematically the convolution; it is not bit-identical (the terms are summed in
another order), typically within 1e-6 of it. It applies only to inputs that are one-hot, so the
generator uses it at the finest scale only (coarser scales see average-pooled, fractional maps).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["one_hot_conv2d"]

# Upper bound on the gathered indices per chunk (int64 each), to bound the temporary memory.
_CHUNK_ELEMENTS = 1 << 24


def _pad_index(size: int, pad: int, mode: str, device: torch.device) -> Tensor:
    # Source coordinate of every padded coordinate in [-pad, size + pad).
    idx = torch.arange(-pad, size + pad, device=device)
    if mode == "reflect":
        if pad >= size:
            raise ValueError(f"reflect padding {pad} needs a size above {pad}, got {size}")
        idx = idx.abs()
        return torch.where(idx >= size, 2 * (size - 1) - idx, idx)
    if mode == "replicate":
        return idx.clamp(0, size - 1)
    raise ValueError(f"padding_mode must be 'reflect' or 'replicate', got {mode!r}")


def one_hot_conv2d(
    ids: Tensor,
    extra: Tensor | None,
    weight: Tensor,
    bias: Tensor | None,
    num_classes: int,
    padding_mode: str = "reflect",
) -> Tensor:
    """``conv2d(pad(x), weight, bias)`` for ``x`` = frame-major stacks of ``[one_hot(ids), extra]``.

    Args:
        ids: ``(B, T, H, W)`` int64 class ids in ``[0, num_classes)`` (not checked: out-of-range ids
            index other frames' weights; validate them before, as the pipeline does).
        extra: ``(B, T, E, H, W)`` float channels that follow the one-hot channels of each frame
            (instance edges), or ``None`` (``E = 0``).
        weight: ``(O, T * (num_classes + E), k, k)`` the convolution's weight, odd ``k``, stride 1.
        bias: ``(O,)`` or ``None``.
        num_classes: one-hot channels per frame.
        padding_mode: ``"reflect"`` or ``"replicate"`` "same" padding of ``k // 2``.

    Returns:
        ``(B, O, H, W)`` in ``weight``'s dtype, equal to the convolution up to float rounding.
    """
    if ids.dim() != 4 or ids.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"ids must be (B, T, H, W) int64, got {tuple(ids.shape)} {ids.dtype}")
    batch, frames, height, width = ids.shape
    n_extra = 0 if extra is None else extra.shape[2]
    if extra is not None and (
        extra.dim() != 5 or extra.shape[:2] != ids.shape[:2] or extra.shape[-2:] != ids.shape[-2:]
    ):
        raise ValueError(
            f"extra must be (B={batch}, T={frames}, E, {height}, {width}), got {tuple(extra.shape)}"
        )
    out_ch, in_ch, k, k2 = weight.shape
    if k != k2 or k % 2 == 0:
        raise ValueError(f"the kernel must be square with an odd size, got {k}x{k2}")
    if in_ch != frames * (num_classes + n_extra):
        raise ValueError(
            f"weight takes {in_ch} input channels, expected T * (num_classes + E) = "
            f"{frames} * ({num_classes} + {n_extra})"
        )
    pad = k // 2
    taps = k * k
    w = weight.reshape(out_ch, frames, num_classes + n_extra, k, k)
    # One table row per (frame, tap, class): (T * taps * classes, O).
    table = w[:, :, :num_classes].permute(1, 3, 4, 2, 0).reshape(frames * taps, num_classes, out_ch)
    index_ids = ids
    binary_extra = extra is not None and n_extra == 1 and bool(((extra == 0) | (extra == 1)).all())
    if binary_extra:
        # A binary extra channel (instance edges) doubles the classes: row (c, 1) = column c + edge column.
        assert extra is not None
        edge_table = w[:, :, num_classes].permute(1, 2, 3, 0).reshape(frames * taps, 1, out_ch)
        table = torch.cat([table, table + edge_table], dim=1)
        index_ids = ids + extra[:, :, 0].to(ids.dtype) * num_classes
    classes = table.shape[1]
    table = table.reshape(frames * taps * classes, out_ch)

    rows = _pad_index(height, pad, padding_mode, ids.device)
    cols = _pad_index(width, pad, padding_mode, ids.device)
    index_dtype = torch.int32 if table.shape[0] < 2**31 else torch.int64
    padded = index_ids.to(index_dtype)[:, :, rows[:, None], cols[None, :]]  # (B, T, H + 2p, W + 2p)
    # Row of class 0 for (frame t, tap ky, kx): ((t * k + ky) * k + kx) * classes.
    base = (torch.arange(frames * taps, device=ids.device, dtype=index_dtype) * classes).view(frames, k, k)
    bag = frames * taps
    rows_per_chunk = max(1, _CHUNK_ELEMENTS // max(1, batch * width * bag))
    out = torch.empty(batch, height, width, out_ch, device=weight.device, dtype=weight.dtype)
    for y0 in range(0, height, rows_per_chunk):
        y1 = min(height, y0 + rows_per_chunk)
        # (B, T, h, W, k, k) sliding views of the padded ids -> (B, h, W, T, k, k) bag indices.
        patches = padded[:, :, y0 : y1 + 2 * pad].unfold(2, k, 1).unfold(3, k, 1)
        index = torch.empty(batch, y1 - y0, width, frames, k, k, device=ids.device, dtype=index_dtype)
        torch.add(patches.permute(0, 2, 3, 1, 4, 5), base, out=index)
        gathered = F.embedding_bag(index.view(-1, bag), table, mode="sum")
        out[:, y0:y1] = gathered.view(batch, y1 - y0, width, out_ch)
    result = out.permute(0, 3, 1, 2)
    if extra is not None and not binary_extra:
        # General extra channels: an ordinary convolution over them alone.
        extra_weight = w[:, :, num_classes:].reshape(out_ch, frames * n_extra, k, k)
        flat = extra.reshape(batch, frames * n_extra, height, width).to(weight.dtype)
        result = result + F.conv2d(F.pad(flat, (pad, pad, pad, pad), mode=padding_mode), extra_weight)
    if bias is not None:
        result = result + bias.view(1, -1, 1, 1)
    return result.contiguous()
