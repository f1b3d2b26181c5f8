"""Reference optical-flow estimators: the interface (design notes §3); the factory is in ``factory.py``.

The original vid2vid computes the reference flow of its flow and warp losses (§3.2 of the
paper) with FlowNet2, a compiled CUDA extension. We replace it with pluggable estimators:
torchvision RAFT (:class:`~vid2vid.flow.raft.RAFTFlow`, best on GPU), OpenCV DIS
(:class:`~vid2vid.flow.dis.DISFlow`, CPU, no weights) or flow computed once and read back from
disk (:class:`~vid2vid.flow.precomputed.PrecomputedFlow`).

Every estimator returns the *backward* flow of our convention (design notes §1): for each pixel
of ``frame`` (time t), where it comes from in ``prev_frame`` (time t-1), so
``flow_warp(prev_frame, estimator(frame, prev_frame)) ≈ frame``.

:class:`FlowEstimator` is a plain class, not an ``nn.Module``, on purpose: a reference estimator
is a frozen measuring tool. Keeping it out of the module tree means it never lands in a
generator's state dict or optimiser, is not wrapped by DDP and is not flipped into training
mode by ``model.train()``. Estimators that hold a network (RAFT) keep it on their own
``device`` and move inputs there; results come back on the input's device.
"""

from __future__ import annotations

import abc
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["FlowEstimator", "pad_to_multiple"]


def pad_to_multiple(images: Tensor, multiple: int, min_size: int = 0) -> tuple[Tensor, tuple[int, int]]:
    """Replicate-pad ``images`` on the bottom and right.

    Args:
        images: ``(B, C, H, W)`` float.
        multiple: the padded height and width are multiples of this.
        min_size: the padded height and width are at least this (rounded up to ``multiple``).

    Returns:
        The padded ``(B, C, H', W')`` tensor and the original ``(H, W)`` to crop back to.
    """
    height, width = images.shape[-2:]
    target_h = max(-(-height // multiple) * multiple, -(-min_size // multiple) * multiple)
    target_w = max(-(-width // multiple) * multiple, -(-min_size // multiple) * multiple)
    if (target_h, target_w) == (height, width):
        return images, (height, width)
    # Replicate padding needs the pad to be smaller than the input for "reflect", not for
    # "replicate", so any size works.
    padded = F.pad(images, (0, target_w - width, 0, target_h - height), mode="replicate")
    return padded, (height, width)


class FlowEstimator(abc.ABC):
    """Base class of the reference-flow estimators.

    Subclasses implement :meth:`_estimate` on validated inputs; :meth:`__call__` checks shapes,
    runs without gradients and returns float32 on the input's device.
    """

    #: Short name stored in flow caches' metadata (e.g. ``"dis_medium"``).
    name: str = "flow"

    def __call__(self, frame: Tensor, prev_frame: Tensor) -> Tensor:
        """Backward flow of ``frame`` with respect to ``prev_frame``.

        Args:
            frame: ``(B, 3, H, W)`` float in ``[-1, 1]``, frame t. A single ``(3, H, W)`` frame is
                accepted and gets a batch dimension of 1 in the output.
            prev_frame: ``(B, 3, H, W)`` float in ``[-1, 1]``, frame t-1.

        Returns:
            ``(B, 2, H, W)`` float32 pixels (channel 0 = x) on ``frame``'s device, such that
            ``flow_warp(prev_frame, flow) ≈ frame``.
        """
        if frame.dim() == 3:
            frame = frame.unsqueeze(0)
        if prev_frame.dim() == 3:
            prev_frame = prev_frame.unsqueeze(0)
        if frame.dim() != 4 or frame.shape[1] != 3:
            raise ValueError(f"frame must be (B, 3, H, W) in [-1, 1], got shape {tuple(frame.shape)}")
        if prev_frame.shape != frame.shape:
            raise ValueError(
                f"prev_frame {tuple(prev_frame.shape)} must have the shape of frame {tuple(frame.shape)}"
            )
        if not frame.is_floating_point() or not prev_frame.is_floating_point():
            raise ValueError(
                f"frames must be float tensors in [-1, 1], got {frame.dtype} and {prev_frame.dtype} "
                "(convert uint8 frames with x / 127.5 - 1)"
            )
        if frame.shape[-2] < 2 or frame.shape[-1] < 2:
            raise ValueError(f"flow needs height and width >= 2, got {tuple(frame.shape[-2:])}")
        with torch.no_grad():
            flow = self._estimate(frame.float(), prev_frame.float())
        return flow.to(device=frame.device, dtype=torch.float32)

    @abc.abstractmethod
    def _estimate(self, frame: Tensor, prev_frame: Tensor) -> Tensor:
        """``frame``, ``prev_frame``: ``(B, 3, H, W)`` float32 in ``[-1, 1]`` → ``(B, 2, H, W)`` flow."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def __getattr__(name: str) -> Any:
    """``get_flow_estimator`` / ``FLOW_ESTIMATORS`` moved to :mod:`vid2vid.flow.factory`."""
    if name in ("get_flow_estimator", "FLOW_ESTIMATORS"):
        import warnings

        warnings.warn(
            f"vid2vid.flow.estimator.{name} moved to vid2vid.flow.factory (or import it from vid2vid.flow)",
            DeprecationWarning,
            stacklevel=2,
        )
        from vid2vid.flow import factory

        return getattr(factory, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
