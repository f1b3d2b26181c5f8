"""Training schedules of vid2vid (§4): learning-rate decay, sequence-length doubling, frames to backpropagate.

Every schedule is a pure function of the (0-based) epoch, so a resumed run recomputes exactly
the values an uninterrupted run had. The original changes them at the *end* of an epoch
(``update_models``): epoch ``e`` (0-based) uses the values set after ``e`` epochs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["lr_factor", "SequenceSchedule", "sequence_schedule"]


def lr_factor(epoch: int, niter: int, niter_decay: int) -> float:
    """Multiplier of the base learning rate during 0-based ``epoch``.

    1 for the first ``niter`` epochs, then linear decay: ``1 - (epoch - niter) / niter_decay``
    (the original's ``update_learning_rate`` after each epoch past ``niter``), never below 0.
    """
    if epoch < niter or niter_decay == 0:
        return 1.0
    return max(0.0, 1.0 - (epoch - niter) / niter_decay)


@dataclass(frozen=True)
class SequenceSchedule:
    """How sequences are generated during one epoch.

    Attributes:
        n_frames_generated: generated frames per sample (a multiple of ``frames_per_chunk``).
        n_frames_load: frames read per sample: ``n_frames_generated + n_frames_G - 1``.
        frames_per_chunk: frames generated between two detaches of the history (the original's
            ``n_frames_load`` per GPU); losses are computed and weights updated once per chunk.
        frames_backprop: gradients flow back through at most this many generated frames (the
            history is detached every ``frames_backprop`` steps inside a chunk).
        finest_only: only the finest spatial scale is trained (``niter_fix_global``).
    """

    n_frames_generated: int
    n_frames_load: int
    frames_per_chunk: int
    frames_backprop: int
    finest_only: bool


def sequence_schedule(
    epoch: int,
    *,
    n_frames_total: int,
    max_frames_per_gpu: int,
    max_frames_backpropagate: int,
    niter_step: int,
    n_frames_G: int,
    shortest_clip: int,
    max_sequence_length: int = 128,
    n_scales: int = 1,
    niter_fix_global: int = 0,
) -> SequenceSchedule:
    """The sequence schedule of 0-based ``epoch`` (the original's ``update_training_batch``).

    After every ``niter_step`` epochs (``ratio = epoch // niter_step``) the number of generated
    frames doubles, ``n_frames_total * 2**ratio``, capped by ``min(max_sequence_length,
    shortest_clip) - (n_frames_G - 1)``; the frames per chunk double up to
    ``max_frames_per_gpu``; the frames to backpropagate become ``min(max_frames_backpropagate,
    2**ratio)`` rounded so that they divide the chunk evenly.

    Raises:
        ValueError: when the shortest clip is shorter than ``n_frames_G`` frames.
    """
    ratio = epoch // niter_step
    cap = min(max_sequence_length, shortest_clip) - (n_frames_G - 1)
    if cap < 1:
        raise ValueError(
            f"clips must have at least n_frames_G={n_frames_G} frames to generate one, the shortest has {shortest_clip}"
        )
    total = max(1, min(cap, n_frames_total * 2**ratio))
    chunk = max(1, min(max_frames_per_gpu, n_frames_total * 2**ratio, total))
    n_chunks = max(1, total // chunk)
    generated = chunk * n_chunks
    if ratio == 0:
        backprop = 1
    else:
        wanted = min(max_frames_backpropagate, 2**ratio)
        backprop = max(1, chunk // math.ceil(chunk / wanted))
    backprop = min(backprop, chunk)
    return SequenceSchedule(
        n_frames_generated=generated,
        n_frames_load=generated + n_frames_G - 1,
        frames_per_chunk=chunk,
        frames_backprop=backprop,
        finest_only=n_scales > 1 and epoch < niter_fix_global,
    )
