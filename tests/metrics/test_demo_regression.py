"""Metric regression check of the shipped demo model (``vid2vid/assets/demo``).

``vid2vid evaluate`` runs the demo model on two held-out synthetic clips (``make-synthetic``
seed 1, never seen in training) and each clip's metrics are compared with the numbers recorded
in ``vid2vid/assets/demo/evaluation.json``. The check is one-sided: a change that makes any
metric worse by more than its tolerance fails; improvements pass (re-record them). Tolerances
are noise bounds: the pipeline is deterministic on CPU, so they only have to absorb float
rounding across platforms and OpenCV versions (DIS flow for tOF), far below what a real
regression costs (a broken warp or occlusion mask moves PSNR by dB and the warp error by 2x).

Re-record after an intended change (e.g. a retrained demo model)::

    VID2VID_RECORD_DEMO_METRICS=1 python -m pytest -q tests/metrics/test_demo_regression.py
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from vid2vid.atomic import atomic_write_text
from vid2vid.cli.main import main
from vid2vid.data.synthetic import make_synthetic_dataset

DEMO = Path(__file__).resolve().parents[2] / "vid2vid" / "assets" / "demo"
RECORD = DEMO / "evaluation.json"
PROTOCOL = {"clips": 2, "frames": 10, "size": [128, 64], "seed": 1, "phase": "test", "flow": "dis"}
# metric: (direction, absolute tolerance, relative tolerance); direction +1: higher is better
TOLERANCE: dict[str, tuple[int, float, float]] = {
    "psnr": (+1, 0.05, 0.0),
    "ssim": (+1, 0.002, 0.0),
    "warp_error": (-1, 1e-5, 0.03),
    "flicker": (-1, 5e-5, 0.05),
    "tof": (-1, 0.005, 0.05),
}


def _evaluate(tmp: Path) -> dict[str, dict[str, float]]:
    data = make_synthetic_dataset(
        tmp / "data",
        n_clips=PROTOCOL["clips"],
        n_frames=PROTOCOL["frames"],
        size=tuple(PROTOCOL["size"]),
        seed=PROTOCOL["seed"],
        phase=PROTOCOL["phase"],
    )
    out = tmp / "report"
    args = [
        "evaluate",
        "--model",
        str(DEMO),
        "--data",
        str(data),
        "--phase",
        PROTOCOL["phase"],
        "--out",
        str(out),
        "--device",
        "cpu",
        "--flow",
        PROTOCOL["flow"],
        "--lpips",
        "off",
        "--fid",
        "off",
        "--fvd",
        "off",
        "--quiet",
    ]
    assert main(args) == 0
    report = json.loads((out / "report.json").read_text())
    return {c["name"]: {k: c["mean"][k] for k in TOLERANCE} for c in report["clips"]}


def test_demo_metrics_do_not_regress(tmp_path: Path) -> None:
    measured = _evaluate(tmp_path)
    if os.environ.get("VID2VID_RECORD_DEMO_METRICS") == "1":
        record = {"protocol": PROTOCOL, "tolerance": TOLERANCE, "clips": measured}
        atomic_write_text(RECORD, json.dumps(record, indent=1) + "\n")
        pytest.skip(f"recorded {RECORD}")
    record = json.loads(RECORD.read_text())
    assert record["protocol"] == PROTOCOL, "the protocol changed: re-record (see the module docstring)"
    assert set(measured) == set(record["clips"])
    worse = []
    for clip, metrics in record["clips"].items():
        for name, ref in metrics.items():
            sign, atol, rtol = TOLERANCE[name]
            value = measured[clip][name]
            allowed = atol + rtol * abs(ref)
            if not math.isfinite(value) or sign * (ref - value) > allowed:
                worse.append(f"{clip} {name}: {value:.6g} vs recorded {ref:.6g} (tolerance {allowed:.2g})")
    assert not worse, "the demo model got worse:\n" + "\n".join(worse)
