"""Schedules: learning-rate decay, sequence-length doubling, frames to backpropagate."""

from __future__ import annotations

import pytest

from vid2vid.training import lr_factor, sequence_schedule


def test_lr_is_constant_then_decays_linearly_to_zero() -> None:
    factors = [lr_factor(e, niter=2, niter_decay=4) for e in range(7)]
    assert factors == [1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]
    assert lr_factor(5, niter=10, niter_decay=0) == 1.0


def _sched(epoch: int, **kw):
    args = dict(
        n_frames_total=6,
        max_frames_per_gpu=2,
        max_frames_backpropagate=4,
        niter_step=5,
        n_frames_G=3,
        shortest_clip=100,
    )
    args.update(kw)
    return sequence_schedule(epoch, **args)


def test_sequence_length_doubles_every_niter_step_epochs_up_to_the_cap() -> None:
    lengths = [_sched(e).n_frames_generated for e in (0, 4, 5, 10, 15, 20)]
    assert lengths == [6, 6, 12, 24, 48, 96]
    # capped by the shortest clip (and by max_sequence_length), minus the n_frames_G - 1 first frames
    assert _sched(30, shortest_clip=40).n_frames_generated == 38
    assert _sched(30, max_sequence_length=20).n_frames_generated == 18
    assert _sched(0).n_frames_load == 6 + 2


def test_frames_per_chunk_and_backprop_follow_update_training_batch() -> None:
    assert (_sched(0).frames_per_chunk, _sched(0).frames_backprop) == (2, 1)
    assert _sched(5).frames_backprop == 2  # min(max_bp=4, 2**1) = 2, divides the chunk of 2
    big = dict(max_frames_per_gpu=6, max_frames_backpropagate=4)
    assert [_sched(e, **big).frames_backprop for e in (0, 5, 10, 15)] == [1, 2, 3, 3]  # 6 // ceil(6/4) = 3
    assert _sched(0, n_frames_total=7, max_frames_per_gpu=2).n_frames_generated == 6  # whole chunks only


def test_finest_only_for_niter_fix_global_epochs_with_several_scales() -> None:
    assert [_sched(e, n_scales=2, niter_fix_global=2).finest_only for e in range(3)] == [True, True, False]
    assert not _sched(0, n_scales=1, niter_fix_global=2).finest_only


def test_too_short_clips_are_an_error() -> None:
    with pytest.raises(ValueError, match="at least n_frames_G"):
        _sched(0, shortest_clip=2)
