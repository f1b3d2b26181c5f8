"""Sample length and per-sample randomness shared by the clip datasets.

:class:`EpochSampling` gives a dataset of clips the trainer's interface for sequence lengths that
grow over training (``set_n_frames``), reproducible per-epoch randomness (``set_epoch`` and a
per-sample ``numpy`` generator) and the check that every clip is long enough
(:func:`check_sample_length`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["EpochSampling", "check_sample_length"]


def check_sample_length(
    clips: Sequence[Any], n_frames: int, min_frames: int | None, describe: Callable[[Any], str]
) -> None:
    """Check that every clip can give a sample of ``n_frames`` frames (``set_n_frames``).

    Args:
        clips: objects with ``length``; ``describe(clip)`` names one in the error.
        n_frames: frames per sample (>= 1).
        min_frames: with per-clip caps, the frames a clip needs at least; ``None``: ``n_frames``.

    Raises:
        ValueError: ``n_frames < 1``, or the shortest clip is too short (named).
    """
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    needed = n_frames if min_frames is None else min(n_frames, min_frames)
    shortest = min(clips, key=lambda clip: clip.length)
    if shortest.length < needed:
        raise ValueError(
            f"{describe(shortest)} has {shortest.length} frames, fewer than n_frames={needed}; "
            "use shorter samples or drop the clip"
        )


class EpochSampling:
    """Mixin for datasets of clips (attributes ``clips`` with ``name`` and ``length``, ``seed``).

    Sets ``n_frames`` (frames per sample), ``cap_per_clip`` (a shorter clip gives all its frames)
    and ``epoch``; :meth:`_rng` is the generator of one sample: seeded by ``(seed, epoch, index)``
    when ``seed`` is given, so that a resumed run draws the same samples, else fresh.
    """

    clips: Sequence[Any]
    seed: int | None
    n_frames: int
    cap_per_clip: bool = False
    epoch: int = 0

    def _describe_clip(self, clip: Any) -> str:
        """How an error names a clip."""
        return f"clip {clip.name!r}"

    def set_n_frames(self, n_frames: int, min_frames: int | None = None) -> None:
        """Change the sample length (the trainer doubles it every few epochs, as the original).

        Args:
            n_frames: frames per sample.
            min_frames: when given, a clip shorter than ``n_frames`` yields all its frames (at
                least ``min_frames`` are required), as the original caps each clip by its own
                length; otherwise every clip must have ``n_frames`` frames.
        """
        check_sample_length(self.clips, n_frames, min_frames, self._describe_clip)
        self.n_frames = n_frames
        self.cap_per_clip = min_frames is not None

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch used to derive per-sample randomness when ``seed`` is given."""
        self.epoch = int(epoch)

    def _rng(self, index: int) -> np.random.Generator:
        if self.seed is None:
            return np.random.default_rng()
        return np.random.default_rng([self.seed, self.epoch, index])
