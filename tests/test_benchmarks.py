"""The speed benchmarks' ``--smoke`` modes run in the suite, so that they cannot rot."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"


def load_benchmark(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, f"bench_{name}", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_gpu_check_smoke_writes_every_section(
    tmp_path: Path, fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gpu_check = load_benchmark("gpu_check", monkeypatch)
    out = tmp_path / "report"
    assert gpu_check.main(["--smoke", "--out", str(out), "--fixtures", str(fixtures_dir), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["errors"] == {}
    assert report["mode"] == "smoke" and report["device"]["device"] == "cpu"
    # parity: the two smoke fixtures, converted and replayed through the device-aware path
    parity = report["parity"]
    assert parity["all_pass"] and [r["fixture"] for r in parity["fixtures"]] == [
        "d_multiscale_3",
        "e_instance_encoder",
    ]
    assert all(r["max_abs_diff"] <= 1e-4 and r["values"] > 0 for r in parity["fixtures"])
    # precision: bf16 against fp32 on the trained demo model, per frame
    bf16 = report["precision"]["dtypes"]["bfloat16"]
    assert len(bf16["mean_abs_per_frame"]) == 4 and bf16["finite"]
    assert 0 < bf16["mean_abs"] < 0.05
    # speed: every size x dtype x mode has a row; eager rows measured, CUDA-only rows say so
    rows = report["speed"]["rows"]
    assert len(rows) == 2 * 2 * 4
    eager = [r for r in rows if r["mode"] == "eager" and r["status"] == "ok"]
    assert eager and all(
        r["frames_per_s"] > 0 and r["gflop_per_frame"] > 0 and r["peak_mib"] > 0 for r in eager
    )
    assert all(r["max_abs_vs_eager"] == 0.0 for r in eager)
    assert all(r["status"] == "not run (CUDA only)" for r in rows if r["mode"] == "cuda_graphs")
    # pipeline: every frame went through decode -> pipeline -> encode
    pipe = report["pipeline"]
    assert pipe["encoded_frames"] == 6 and pipe["end_to_end_fps"] > 0 and pipe["video_bytes"] > 0
    # training: one iteration with finite losses
    assert report["train"]["iterations"] == 1 and report["train"]["losses_finite"]
    md = (out / "report.md").read_text()
    for heading in ("## Parity", "## Half precision", "## Generator step", "## Pipeline", "## Training"):
        assert heading in md


def test_gpu_check_records_a_failing_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gpu_check = load_benchmark("gpu_check", monkeypatch)
    out = tmp_path / "report"
    code = gpu_check.main(
        [
            "--smoke",
            "--out",
            str(out),
            "--fixtures",
            str(tmp_path / "missing"),
            "--sections",
            "parity",
            "--quiet",
        ]
    )
    assert code == 1
    report = json.loads((out / "report.json").read_text())
    assert "reference fixtures not found" in report["errors"]["parity"]
    assert gpu_check.main(["--smoke", "--out", str(out), "--sections", "nonsense", "--quiet"]) == 2


def test_compare_versions_smoke_checks_bit_identity(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compare = load_benchmark("compare_versions", monkeypatch)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the baseline's temp folder is added to it
    try:
        assert compare.main(["--smoke"]) == 0
    finally:
        for name in [m for m in sys.modules if m == "vid2vid_base" or m.startswith("vid2vid_base.")]:
            del sys.modules[name]
    printed = capsys.readouterr().out
    rows = [line for line in printed.splitlines() if line.startswith("| 64x32 S=2 ngf=8 |")]
    assert len(rows) == 2  # generate and stream
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[6] == "yes"  # bit-identical to the baseline (this tree)
        assert float(cells[9]) < 1e-3  # label_gather stays close
