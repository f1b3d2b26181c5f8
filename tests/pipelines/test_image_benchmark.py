"""benchmarks/image_pipeline.py --smoke runs and prints a result row (so the benchmark cannot rot)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "image_pipeline.py"


def test_image_pipeline_benchmark_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("image_pipeline_benchmark", BENCH)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    assert module.main(["--smoke"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| cpu |")]
    assert len(rows) == 1 and rows[0].endswith("x |")
