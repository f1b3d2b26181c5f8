"""``vid2vid train`` as a subprocess: SIGTERM saves and exits cleanly; SIGKILL never corrupts a checkpoint."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from vid2vid.model_folder import load_model_folder
from vid2vid.training import resolve_checkpoint, save_config
from vid2vid.training.state import read_progress

REPO = Path(__file__).resolve().parents[2]


def _launch(args: list[str], log: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    return subprocess.Popen(
        [sys.executable, "-m", "vid2vid.cli.main", "train", "--threads", "1", *args],
        cwd=REPO,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _wait_for_step(ckpt_dir: Path, step: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = ckpt_dir / "latest" / "trainer_state.json"
        if state.is_file():
            try:
                if read_progress(state).global_step >= step:
                    return
            except (ValueError, FileNotFoundError):  # replaced while reading
                pass
        if proc.poll() is not None:
            raise AssertionError(f"training exited early with code {proc.returncode}")
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint at step {step} after {timeout}s")


def test_sigkill_at_random_moments_leaves_a_loadable_checkpoint_and_training_resumes(
    make_config, tmp_path: Path
) -> None:
    config = make_config("killed", save_every=1, max_iters=40, n_frames_total=2)
    cfg_file = save_config(config, tmp_path / "cfg.yaml")
    ckpt = Path(config.checkpoint_dir)
    log = tmp_path / "log.txt"
    rng = random.Random(0)
    last_step = 0
    for attempt in range(3):
        args = ["--config", str(cfg_file)] if attempt == 0 else ["--resume", str(ckpt)]
        proc = _launch(args, log)
        try:
            _wait_for_step(ckpt, last_step + 1, proc)
            time.sleep(rng.uniform(0.0, 0.4))  # somewhere inside an iteration or a save
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        folder = resolve_checkpoint(ckpt)
        progress = read_progress(folder / "trainer_state.json")
        assert progress.global_step > last_step, (attempt, log.read_text()[-2000:])
        last_step = progress.global_step
        load_model_folder(folder / "model")  # complete and loadable
    # a final resumed run continues from the last checkpoint and finishes
    proc = _launch(["--resume", str(ckpt), "--set", f"max_iters={last_step + 2}", "--no-progress"], log)
    assert proc.wait(timeout=120) == 0, log.read_text()[-3000:]
    assert read_progress(ckpt / "latest" / "trainer_state.json").global_step == last_step + 2
    assert not [p.name for p in ckpt.iterdir() if p.name.startswith(".latest")]  # no stale temp folders


def test_sigterm_finishes_the_iteration_saves_and_exits_cleanly(make_config, tmp_path: Path) -> None:
    config = make_config("term", save_every=1000, max_iters=10_000, n_frames_total=2)
    cfg_file = save_config(config, tmp_path / "cfg.json")
    ckpt = Path(config.checkpoint_dir)
    log = tmp_path / "log.txt"
    proc = _launch(["--config", str(cfg_file), "--set", "save_every=2"], log)
    _wait_for_step(ckpt, 2, proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
    text = log.read_text()
    assert "stopped by SIGTERM" in text and "interrupted, checkpoint saved" in text
    progress = read_progress(ckpt / "latest" / "trainer_state.json")
    assert progress.global_step >= 2
    assert not [p for p in ckpt.iterdir() if p.name.startswith(".latest")]


def test_sigterm_to_the_process_group_with_workers_saves_and_exits_cleanly(
    make_config, tmp_path: Path
) -> None:
    """``timeout`` and batch schedulers signal the whole group: the DataLoader workers too."""
    config = make_config("group", save_every=1, max_iters=10_000, n_frames_total=2, num_workers=2)
    cfg_file = save_config(config, tmp_path / "cfg.json")
    ckpt = Path(config.checkpoint_dir)
    log = tmp_path / "log.txt"
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "vid2vid.cli.main", "train", "--threads", "1", "--config", str(cfg_file)],
        cwd=REPO,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as under a scheduler
    )
    try:
        _wait_for_step(ckpt, 2, proc, timeout=90)  # workers running
        os.killpg(proc.pid, signal.SIGTERM)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = log.read_text()
    assert code == 0, text[-3000:]
    assert "stopped by SIGTERM" in text and "killed by signal" not in text
    progress = read_progress(ckpt / "latest" / "trainer_state.json")
    assert progress.global_step >= 1
    load_model_folder(resolve_checkpoint(ckpt) / "model")
