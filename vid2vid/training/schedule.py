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
        n_frames_generated: generated frames per sample (a multiple of ``frames_per_chunk``) for
            clips long enough; :meth:`for_clip` fits it to a shorter clip.
        n_frames_load: frames read per sample: ``n_frames_generated + n_frames_G - 1``.
        frames_per_chunk: frames generated between two detaches of the history (the original's
            ``n_frames_load`` per iteration of its inner loop); losses are computed and weights
            updated once per chunk.
        frames_backprop: the generator's input copy of the history is detached every that many
            frames inside a chunk (the original's ``n_frames_bp``).
        finest_only: only the finest spatial scale is trained (``niter_fix_global``).
        target: generated frames wanted this epoch before fitting whole chunks (the original
            dataset's ``n_frames_total``); ``max_chunk``: the largest chunk.
        n_frames_G: frames the generator sees per step.
    """

    n_frames_generated: int
    n_frames_load: int
    frames_per_chunk: int
    frames_backprop: int
    finest_only: bool
    target: int = 0
    max_chunk: int = 0
    n_frames_G: int = 1

    def for_clip(self, length: int) -> SequenceSchedule:
        """The schedule for a clip of ``length`` frames (the original's ``get_video_params``).

        A clip shorter than ``n_frames_load`` generates ``length - n_frames_G + 1`` frames at most,
        in whole chunks of ``min(max_chunk, that)`` frames.
        """
        seq = min(self.target, length - self.n_frames_G + 1)
        if seq < 1:
            raise ValueError(f"a clip of {length} frames is shorter than n_frames_G={self.n_frames_G}")
        chunk = min(self.max_chunk, seq)
        generated = chunk * (seq // chunk)
        return SequenceSchedule(
            n_frames_generated=generated,
            n_frames_load=generated + self.n_frames_G - 1,
            frames_per_chunk=chunk,
            frames_backprop=self.frames_backprop,
            finest_only=self.finest_only,
            target=self.target,
            max_chunk=self.max_chunk,
            n_frames_G=self.n_frames_G,
        )


def sequence_schedule(
    epoch: int,
    *,
    n_frames_total: int,
    max_frames_per_gpu: int,
    max_frames_backpropagate: int,
    niter_step: int,
    n_frames_G: int,
    longest_clip: int,
    max_sequence_length: int = 128,
    n_scales: int = 1,
    niter_fix_global: int = 0,
    n_gpus_gen: int = 1,
    batch_size: int = 1,
) -> SequenceSchedule:
    """The sequence schedule of 0-based ``epoch`` (the original's ``update_training_batch``).

    After every ``niter_step`` epochs (``ratio = epoch // niter_step``) the number of generated
    frames doubles, ``n_frames_total * 2**ratio``, capped from the first doubling on by
    ``min(max_sequence_length, longest_clip) - (n_frames_G - 1)`` (each clip is then capped by
    its own length: :meth:`SequenceSchedule.for_clip`). A chunk holds up to
    ``max_frames_per_gpu * n_gpus_gen`` frames (the original spreads one clip's chunk over
    ``n_gpus_gen`` GPUs when ``batch_size == 1``; ``max_frames_per_gpu`` otherwise). The frames
    to back-propagate follow the original's update rule: at each doubling, while smaller than
    its generator's per-call frame count ``nfl``, they become ``nfl // ceil(nfl / min(
    max_frames_backpropagate, 2**ratio))`` with ``nfl`` taken *before* that count doubles.

    Raises:
        ValueError: when the longest clip is shorter than ``n_frames_G`` frames.
    """
    ratio = epoch // niter_step
    cap = min(max_sequence_length, longest_clip) - (n_frames_G - 1)
    if cap < 1:
        raise ValueError(
            f"clips must have at least n_frames_G={n_frames_G} frames to generate one, the longest has {longest_clip}"
        )
    n_gpus = n_gpus_gen if batch_size == 1 else 1
    max_chunk = max_frames_per_gpu * n_gpus
    # the original model's state: frames per GPU and frames to back-propagate, updated per doubling
    per_gpu = max(1, min(max_frames_per_gpu, n_frames_total // n_gpus))
    backprop = 1
    target = n_frames_total
    for r in range(1, ratio + 1):
        nfl = n_gpus * per_gpu
        if backprop < nfl:
            wanted = min(max_frames_backpropagate, 2**r)
            backprop = nfl // math.ceil(nfl / wanted)
        per_gpu = min(per_gpu * 2, max_frames_per_gpu)
        if target < cap:
            target = min(cap, n_frames_total * 2**r)
    chunk = max(1, min(max_chunk, target))
    generated = chunk * max(1, target // chunk)
    return SequenceSchedule(
        n_frames_generated=generated,
        n_frames_load=generated + n_frames_G - 1,
        frames_per_chunk=chunk,
        frames_backprop=max(1, backprop),
        finest_only=n_scales > 1 and epoch < niter_fix_global,
        target=target,
        max_chunk=max_chunk,
        n_frames_G=n_frames_G,
    )
