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
        longest_clip=100,
    )
    args.update(kw)
    return sequence_schedule(epoch, **args)


def test_sequence_length_doubles_every_niter_step_epochs_up_to_the_cap() -> None:
    lengths = [_sched(e).n_frames_generated for e in (0, 4, 5, 10, 15, 20)]
    assert lengths == [6, 6, 12, 24, 48, 96]
    # capped by the longest clip (and by max_sequence_length), minus the n_frames_G - 1 first frames
    assert _sched(30, longest_clip=40).n_frames_generated == 38
    assert _sched(30, max_sequence_length=20).n_frames_generated == 18
    assert _sched(0).n_frames_load == 6 + 2


def test_frames_per_chunk_and_backprop_follow_update_training_batch() -> None:
    assert (_sched(0).frames_per_chunk, _sched(0).frames_backprop) == (2, 1)
    assert _sched(5).frames_backprop == 2  # min(max_bp=4, 2**1) = 2, divides the chunk of 2
    big = dict(max_frames_per_gpu=6, max_frames_backpropagate=4)
    assert [_sched(e, **big).frames_backprop for e in (0, 5, 10, 15)] == [1, 2, 3, 3]  # 6 // ceil(6/4) = 3
    assert _sched(0, n_frames_total=7, max_frames_per_gpu=2).n_frames_generated == 6  # whole chunks only
    # the original rounds with its per-call frame count *before* doubling it: 3 frames, 2 wanted -> 1
    assert _sched(5, n_frames_total=3, max_frames_per_gpu=4).frames_backprop == 1
    assert _sched(10, n_frames_total=3, max_frames_per_gpu=4).frames_backprop == 4


def test_a_chunk_spans_the_originals_generator_gpus() -> None:
    # scripts/street/train_512.sh: --n_gpus_gen 6 --max_frames_per_gpu 2 --n_frames_total 6
    street = dict(n_frames_total=6, max_frames_per_gpu=2, n_gpus_gen=6)
    assert (_sched(0, **street).frames_per_chunk, _sched(0, **street).n_frames_generated) == (6, 6)
    assert (_sched(5, **street).frames_per_chunk, _sched(5, **street).n_frames_generated) == (12, 12)
    assert (_sched(10, **street).frames_per_chunk, _sched(10, **street).n_frames_generated) == (12, 24)
    # with several clips per batch each GPU holds one clip: chunks of max_frames_per_gpu
    assert (
        _sched(0, n_frames_total=12, max_frames_per_gpu=3, n_gpus_gen=8, batch_size=8).frames_per_chunk == 3
    )


def test_each_clip_is_capped_by_its_own_length() -> None:
    sched = _sched(20)  # 96 frames wanted
    short = sched.for_clip(30)  # 30 frames: 28 can be generated after the n_frames_G - 1 first ones
    assert (short.n_frames_generated, short.frames_per_chunk, short.n_frames_load) == (28, 2, 30)
    odd = _sched(20, max_frames_per_gpu=4).for_clip(13)  # 11 generated -> whole chunks of 4
    assert (odd.n_frames_generated, odd.frames_per_chunk) == (8, 4)
    assert sched.for_clip(200).n_frames_generated == 96
    with pytest.raises(ValueError, match="shorter than n_frames_G"):
        sched.for_clip(2)


def test_finest_only_for_niter_fix_global_epochs_with_several_scales() -> None:
    assert [_sched(e, n_scales=2, niter_fix_global=2).finest_only for e in range(3)] == [True, True, False]
    assert not _sched(0, n_scales=1, niter_fix_global=2).finest_only


def test_too_short_clips_are_an_error() -> None:
    with pytest.raises(ValueError, match="at least n_frames_G"):
        _sched(0, longest_clip=2)


@pytest.mark.parametrize(
    ("preset", "chunk", "generated"),
    [
        # (the original's script: chunk = n_gpus_gen x max_frames_per_gpu with one clip per batch,
        #  max_frames_per_gpu with several; generated = n_frames_total in whole chunks)
        ("street_256", 6, 6),  # train_g1_256.sh: 1 GPU, --max_frames_per_gpu 6 --n_frames_total 6
        ("street_512", 6, 6),  # train_512.sh: --n_gpus_gen 6 --max_frames_per_gpu 2 --n_frames_total 6
        ("street_1024", 4, 4),  # train_1024.sh: --n_gpus_gen 4 --n_frames_total 4
        ("street_2048", 4, 4),  # train_2048.sh: --n_gpus_gen 4 --n_frames_total 4
        ("face_512", 6, 12),  # face/train_512.sh: --n_gpus_gen 6 --n_frames_total 12
        ("pose_256", 3, 12),  # pose/train_256p.sh: --batchSize 8 --max_frames_per_gpu 3
        ("pose_512", 1, 12),  # pose/train_512p.sh: --batchSize 8
    ],
)
def test_presets_reproduce_their_scripts_chunks(preset: str, chunk: int, generated: int) -> None:
    from vid2vid.training import get_preset

    c = get_preset(preset)
    s = sequence_schedule(
        0,
        n_frames_total=c.n_frames_total,
        max_frames_per_gpu=c.max_frames_per_gpu,
        max_frames_backpropagate=c.max_frames_backpropagate,
        niter_step=c.niter_step,
        n_frames_G=c.generator.n_frames_G,
        longest_clip=300,
        n_gpus_gen=c.n_gpus_gen,
        batch_size=c.batch_size,
    )
    assert (s.frames_per_chunk, s.n_frames_generated) == (chunk, generated)
