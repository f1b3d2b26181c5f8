"""The start-up summary, the plain max_iters note and the schedule-aware ETA."""

from __future__ import annotations

import pytest

from vid2vid.training.eta import ScheduleETA, format_seconds
from vid2vid.training.summary import schedule_note, startup_summary
from vid2vid.training.trainer import Vid2VidTrainer


def test_eta_follows_the_doubling_sequence_length() -> None:
    # 2 iterations per epoch; the work doubles every epoch: 1, 2, 4, 8 -> 2 + 4 + 8 + 16 = 30 units.
    eta = ScheduleETA(lambda epoch: 2**epoch, iters_per_epoch=2, total_iterations=8)
    assert eta.work_between(0, 8) == 30
    # after the first epoch (2 units) in 10 s: 5 s per unit, 28 units left -> 140 s, not 3 x 10 s.
    assert eta.remaining(2, 10.0) == pytest.approx(140.0)
    assert eta.remaining(0, 0.0) is None
    # a resumed run measures from its own start
    resumed = ScheduleETA(lambda epoch: 2**epoch, iters_per_epoch=2, total_iterations=8, start_step=6)
    assert resumed.remaining(7, 8.0) == pytest.approx(8.0)  # one step of 8 units took 8 s; one left
    assert format_seconds(3725) == "1h02m" and format_seconds(125) == "2m05s" and format_seconds(9) == "9s"


def test_max_iters_beyond_the_schedule_is_said_plainly() -> None:
    note = schedule_note(n_epochs=25, iters_per_epoch=8, max_iters=400)
    assert note is not None and "beyond the schedule" in note and "stops at 200" in note and "--niter" in note
    assert "not have decayed" in (schedule_note(25, 8, 100) or "")
    assert schedule_note(25, 8, None) is None and schedule_note(25, 8, 200) is None


def test_startup_summary_names_data_model_schedule_device(make_config) -> None:
    config = make_config("summary", max_iters=10_000, niter_step=1)
    trainer = Vid2VidTrainer(config)
    text = "\n".join(startup_summary(trainer))
    assert "4 clips of 12 frames" in text
    assert "generator" in text and "parameters" in text and "VGG loss off" in text
    assert f"{config.n_epochs} epochs" in text and f"x {trainer.iters_per_epoch} iterations" in text
    assert "doubling every 1 epochs" in text
    assert "beyond the schedule" in text
    assert "device: cpu" in text and "torch threads" in text
