"""Schedules a user can reason about: image epochs over frames, max_iters never capped silently,
and vid2vid logs that show the sequence length, chunks per clip and frames back-propagated."""

from __future__ import annotations

import pytest

from vid2vid.nn import ImageGeneratorConfig
from vid2vid.training.image_trainer import ImageTrainer
from vid2vid.training.trainer import Vid2VidTrainer

TINY_IMAGE = ImageGeneratorConfig(ngf=4, n_downsample=2, n_blocks=1)


def test_an_image_epoch_visits_every_frame_once(make_config) -> None:
    trainer = ImageTrainer(make_config("img", model="image", image_generator=TINY_IMAGE, batch_size=2))
    # the synthetic set: 4 clips x 12 frames
    assert len(trainer.dataset) == 48 and trainer.iters_per_epoch == 24
    assert trainer.total_iterations == trainer.config.n_epochs * 24
    trainer.sampler.set_epoch(0)
    trainer.dataset.set_epoch(0)
    seen = [(s["clip"], s["start"]) for s in (trainer.dataset[i] for i in trainer.sampler)]
    assert len(seen) == 48 and len(set(seen)) == 48
    assert {c for c, _ in seen} == set(trainer.dataset.clips.clip_names)
    assert all(trainer.dataset[i]["frames"].shape[0] == 1 for i in (0, 47))


def test_max_iters_beyond_the_schedule_is_said_and_the_run_ends_with_the_schedule(
    make_config, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(
        "beyond",
        model="image",
        image_generator=TINY_IMAGE,
        batch_size=4,
        niter=1,
        niter_decay=1,
        max_iters=50,
    )
    trainer = ImageTrainer(config)
    summary = trainer.schedule_summary()
    assert summary[0].startswith("schedule: 2 epochs x 12 iterations = 24 iterations")
    assert "max_iters=50 is beyond the schedule's end: training stops after 24 iterations" in summary[1]
    result = trainer.train()
    assert result.global_step == 24 and result.epoch == 2
    err = capsys.readouterr().err
    assert "max_iters=50 is beyond the schedule's end" in err and "schedule: 2 epochs" in err
    short = ImageTrainer(config.replace(max_iters=18, checkpoint_dir=config.checkpoint_dir + "2"))
    assert (
        "max_iters=18 stops the run before the schedule's end (24), in epoch 1, at 1 x"
        in short.schedule_summary()[1]
    )


def test_vid2vid_logs_show_the_sequence_schedule(make_config, capsys: pytest.CaptureFixture[str]) -> None:
    # tiny config: n_frames_total 4, 2 frames per chunk, n_frames_G 3, 12-frame clips, niter_step 2
    trainer = Vid2VidTrainer(make_config("v", max_iters=1))
    trainer.train()
    record = trainer.logger.records[0]
    assert record["train/sequence_length"] == 6.0  # 4 generated + 2 conditioning frames
    assert record["train/chunks_per_clip"] == 2.0  # chunks of 2 frames
    assert record["train/frames_backprop"] == 1.0
    assert record["train/n_frames"] == 4.0
    err = capsys.readouterr().err
    assert (
        "epoch 0: sequences of 6 frames (4 generated in 2 chunk(s) of 2, gradients through 1 frame(s))" in err
    )
    assert "an epoch: one sample of each of the 4 clips" in err
