"""A preallocated sliding window of encoded input frames and their pyramid levels (vid2vid §3.3).

At every time step the sequential generator sees the last ``n_frames_G`` encoded input frames at
every spatial scale: full resolution for the finest network, average-pooled copies for the
coarser ones. Each frame stays in the window for ``n_frames_G`` steps, so rebuilding the window
(one concatenation per step) and re-pooling the whole window into the pyramid (every frame pooled
``n_frames_G`` times) repeats work. :class:`InputWindow` pools each frame once when it arrives,
writes every level into a preallocated buffer per scale, and hands out the window as views.

The buffers hold ``capacity`` frames (``2 * n_frames`` by default); frame ``t`` is written at
slot ``t``; when the buffer is full the newest ``n_frames - 1`` frames move to its start (one copy
every ``capacity - n_frames + 1`` pushes). The window of each level is a contiguous view of
``n_frames`` consecutive slots, oldest first. Values are exactly those of pooling the stacked
window (pooling works plane by plane).
"""

from __future__ import annotations

import torch
from torch import Tensor

from vid2vid.nn.pyramid import downsample2x

__all__ = ["InputWindow"]


class InputWindow:
    """Sliding window of the last ``n_frames`` encoded frames, kept at ``n_levels`` scales.

    Args:
        n_frames: frames in the window (the generator's ``n_frames_G``).
        n_levels: pyramid levels (the generator's ``n_scales``); level ``s`` is pooled ``s`` times.
        capacity: frames each buffer holds (``>= n_frames``; default ``2 * n_frames``). Larger
            means fewer moves, more memory.

    The buffers are allocated at the first :meth:`push`, with that frame's batch size, channels,
    size, device and dtype; later frames must match until :meth:`reset`. :meth:`levels` returns views into the
    buffers: they stay valid until the next :meth:`push` (use them, or copy them, before).
    """

    def __init__(self, n_frames: int, n_levels: int = 1, capacity: int | None = None) -> None:
        if n_frames < 1 or n_levels < 1:
            raise ValueError(f"n_frames and n_levels must be >= 1, got {n_frames}, {n_levels}")
        capacity = 2 * n_frames if capacity is None else capacity
        if capacity < n_frames:
            raise ValueError(f"capacity must be >= n_frames = {n_frames}, got {capacity}")
        self.n_frames = n_frames
        self.n_levels = n_levels
        self.capacity = capacity
        self._buffers: list[Tensor] = []
        self._end = 0  # slot after the newest frame
        self._count = 0  # frames in the window (<= n_frames)

    def __len__(self) -> int:
        """Frames currently in the window (at most ``n_frames``)."""
        return self._count

    @property
    def full(self) -> bool:
        """The window holds ``n_frames`` frames."""
        return self._count == self.n_frames

    def reset(self) -> None:
        """Forget every frame (the buffers are reused by frames of the same shape, dtype and device)."""
        self._end = 0
        self._count = 0

    def push(self, frame: Tensor, repeat: int = 1) -> None:
        """Append an encoded frame (the oldest one leaves a full window).

        Args:
            frame: ``(B, C, H, W)`` float, one encoded input frame (see
                :meth:`SequentialGenerator.encode_inputs`); ``H`` and ``W`` divisible by
                ``2**(n_levels - 1)``.
            repeat: append it this many times (the ``"zeros"`` first-frame policy pads the window
                with copies of the first frame); it is pooled once.
        """
        if frame.dim() != 4:
            raise ValueError(f"frame must be (B, C, H, W), got shape {tuple(frame.shape)}")
        if repeat < 1:
            raise ValueError(f"repeat must be >= 1, got {repeat}")
        if not self._matches(frame):
            if self._count:
                buf = self._buffers[0]
                expected = (buf.shape[0], *buf.shape[2:])
                raise ValueError(
                    f"frame {tuple(frame.shape)} {frame.dtype} on {frame.device} does not match the "
                    f"window's {expected} {buf.dtype} on {buf.device}; call reset() to start a new clip"
                )
            self._allocate(frame)
        pyramid = [frame]
        for _ in range(self.n_levels - 1):
            pyramid.append(downsample2x(pyramid[-1]))
        for _ in range(repeat):
            if self._end == self.capacity:
                self._move_to_start()
            for buf, value in zip(self._buffers, pyramid, strict=True):
                buf[:, self._end].copy_(value)
            self._end += 1
            self._count = min(self._count + 1, self.n_frames)

    def levels(self) -> list[Tensor]:
        """The window at every level, finest first: ``(B, n, C, H / 2**s, W / 2**s)``, oldest first.

        ``n = len(self)``; the generator needs a full window (``n == n_frames``).
        """
        if not self._buffers or self._count == 0:
            raise ValueError("the window is empty: push encoded frames first")
        start = self._end - self._count
        return [buf[:, start : self._end] for buf in self._buffers]

    # ------------------------------------------------------------------ internals
    def _matches(self, frame: Tensor) -> bool:
        if not self._buffers:
            return False
        buf = self._buffers[0]
        return (
            (buf.shape[0], *buf.shape[2:]) == tuple(frame.shape)
            and buf.dtype == frame.dtype
            and buf.device == frame.device
        )

    def _allocate(self, frame: Tensor) -> None:
        batch, channels, height, width = frame.shape
        multiple = 2 ** (self.n_levels - 1)
        if height % multiple or width % multiple:
            raise ValueError(
                f"frame size {height}x{width} is not divisible by 2**(n_levels - 1) = {multiple}"
            )
        self._buffers = [
            torch.empty(
                batch,
                self.capacity,
                channels,
                height // 2**s,
                width // 2**s,
                device=frame.device,
                dtype=frame.dtype,
            )
            for s in range(self.n_levels)
        ]

    def _move_to_start(self) -> None:
        # Keep the newest n_frames - 1 frames (they stay in the next window) at the buffer's start.
        keep = min(self._count, self.n_frames - 1)
        dst = self.n_frames - 1 - keep
        for buf in self._buffers:
            if keep > 0:
                src = buf[:, self._end - keep : self._end]
                if self._end - keep < dst + keep:  # overlapping ranges (capacity < 2 * n_frames - 1)
                    src = src.clone()
                buf[:, dst : dst + keep].copy_(src)
        self._end = dst + keep
