"""The ``vid2vid`` command line: help, version, sub-command registry."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vid2vid import __version__
from vid2vid.cli.main import COMMAND_MODULES, build_parser, main


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
