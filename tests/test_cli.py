"""The ``vid2vid`` command line: help, version, sub-command registry."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest
import torch

from vid2vid import __version__
from vid2vid.cli.common import default_threads
from vid2vid.cli.main import COMMAND_MODULES, build_parser, leaf_parsers, main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"vid2vid {__version__}"


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert len(commands) == len(COMMAND_MODULES)
    for name in commands:
        assert name in out


def test_module_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vid2vid.cli.main", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "convert" in result.stdout


def test_every_flag_has_help_and_a_shown_default() -> None:
    leaves = leaf_parsers(build_parser())
    assert "train" in leaves and "build-inputs face" in leaves
    for name, sub in leaves.items():
        text = sub.format_help()
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            flag = action.option_strings[0] if action.option_strings else action.dest
            assert action.help, f"{name} {flag} has no help"
            shown = sub._get_formatter()._get_help_string(action) or ""
            if action.option_strings and not action.required and action.default not in (None, False):
                assert "default" in shown.lower(), f"{name} {flag}: default {action.default!r} not shown"
        assert "--threads" in text and "--debug" in text, name


def test_threads_flag_sets_torch_threads_and_rejects_zero(capsys: pytest.CaptureFixture[str]) -> None:
    before = torch.get_num_threads()
    try:
        # fails after the flags are applied (no such model): the threads were set first
        assert (
            main(["synthesize", "--model", "/nonexistent", "--labels", "x", "--out", "y", "--threads", "2"])
            == 2
        )
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    with pytest.raises(SystemExit):
        main(["demo", "--threads", "0"])
    assert "positive integer" in capsys.readouterr().err


def test_default_threads_respects_omp_and_the_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (3.2, 0.0, 0.0))
    assert default_threads() == 1  # 4 CPUs, 3.2 busy: one thread, not four
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 0.0, 0.0))
    assert default_threads() == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (0.4, 0.0, 0.0))
    assert default_threads() == 4


def test_cuda_without_cuda_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["demo", "--device", "cuda", "--out", "never.mp4"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "CUDA is not available" in err and "--device cpu" in err
    assert main(["demo", "--device", "gpu0", "--out", "never.mp4"]) == 2
    assert "not a device" in capsys.readouterr().err


def test_unexpected_errors_are_one_line_and_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    import vid2vid.cli.demo as demo

    def boom(args):
        raise TypeError("unsupported operand\nsecond line")

    monkeypatch.setattr(demo, "run", boom)
    assert main(["demo", "--out", str(tmp_path / "x.mp4")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "TypeError: unsupported operand second line" in err and "--debug" in err
    with pytest.raises(TypeError):
        main(["demo", "--out", str(tmp_path / "x.mp4"), "--debug"])


def test_os_errors_are_one_line(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    # output path under a file, not a directory
    code = main(
        [
            "make-synthetic",
            "--out",
            str(blocker / "sub"),
            "--clips",
            "1",
            "--frames",
            "2",
            "--size",
            "32x16",
            "--quiet",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err and str(blocker) in err


def test_cli_errors_use_cli_words(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    """A model that needs instance maps, run without --instances: the message names the flag."""
    import numpy as np
    from PIL import Image

    from vid2vid import DEMO_MODEL

    labels = tmp_path / "labels"
    labels.mkdir()
    for t in range(3):  # the demo model starts from zeros: at least n_frames_G maps
        Image.fromarray(np.full((64, 128), 7, np.uint8)).save(labels / f"{t}.png")
    code = main(
        [
            "synthesize",
            "--model",
            DEMO_MODEL,
            "--labels",
            str(labels),
            "--out",
            str(tmp_path / "o.mp4"),
            "--device",
            "cpu",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "give --instances" in err and "pass instances" not in err


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["train", "--lr", "fast"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--lr" in err and "vid2vid train --help" in err
