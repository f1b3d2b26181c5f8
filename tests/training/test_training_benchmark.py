"""benchmarks/training.py --smoke runs (so the training benchmark cannot rot)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest


def test_training_benchmark_smoke_prints_seconds_per_iteration(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = Path(__file__).parents[2] / "benchmarks" / "training.py"
    spec = importlib.util.spec_from_file_location("bench_training", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_training", module)
    spec.loader.exec_module(module)
    assert module.main(["--smoke"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line.startswith("tiny")]
    assert len(rows) == 1 and rows[0][1] == "4" and re.fullmatch(r"\d+\.\d{3}", rows[0][2])
    assert float(rows[0][2]) > 0
