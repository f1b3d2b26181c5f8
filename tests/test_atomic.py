"""Atomic writes: all-or-nothing, temp file cleaned up, ordinary permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from vid2vid.atomic import atomic_path, atomic_write_text
from vid2vid.data.io import write_video


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_success_replaces_the_file_with_default_permissions(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "config.json"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()
    assert [p.name for p in target.parent.iterdir()] == ["config.json"]


def test_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "weights.safetensors"
    target.write_text("good")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        assert tmp.suffix == ".safetensors" and tmp.parent == tmp_path
        tmp.write_text("partial")
        raise RuntimeError("interrupted")
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["weights.safetensors"]


def test_videos_and_frame_folders_are_readable_by_others(tmp_path: Path) -> None:
    frames = np.zeros((2, 16, 16, 3), dtype=np.uint8)
    video = write_video(frames, tmp_path / "out.gif")
    folder = write_video(frames, tmp_path / "frames")
    assert stat.S_IMODE(video.stat().st_mode) == 0o666 & ~_umask()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~_umask()
