"""VideoEvaluator: the ground truth is the floor of every temporal metric; spread over clips; size matching."""

from __future__ import annotations

import math
import statistics

import pytest
import torch

from vid2vid.data.synthetic import render_synthetic_clip
from vid2vid.metrics import VideoEvaluator
from vid2vid.metrics.report import json_safe


def _clip(seed: int, t: int = 6) -> dict[str, torch.Tensor]:
    c = render_synthetic_clip(t, 64, 32, seed)
    frames = torch.from_numpy(c["frames"]).permute(0, 3, 1, 2).float() / 127.5 - 1
    return {"frames": frames, "flow": torch.from_numpy(c["flow"]), "valid": torch.from_numpy(c["confidence"])}


def test_ground_truth_scores_the_floor() -> None:
    c = _clip(0)
    ev = VideoEvaluator(flow_estimator=None)
    res = ev.add("gt", c["frames"], c["frames"], c["flow"], c["valid"])
    means = res.means()
    assert means["psnr"] == math.inf and means["ssim"] == pytest.approx(1.0)
    assert means["flicker"] == 0.0 and means["change_ratio"] == pytest.approx(1.0)
    # exact flow on the rendered frames: only uint8 rounding and shading changes remain
    assert means["warp_error"] < 2e-4
    assert res.reference_flow == "ground truth"
    assert math.isnan(res.per_frame["warp_error"][0]) and len(res.per_frame["warp_error"]) == 6


def test_a_flickering_copy_is_worse_on_every_temporal_metric() -> None:
    c = _clip(1)
    sign = torch.tensor([(-1.0) ** k for k in range(6)]).view(6, 1, 1, 1)
    ev = VideoEvaluator()
    gt = ev.add("gt", c["frames"], c["frames"], c["flow"], c["valid"]).means()
    fl = ev.add(
        "flicker", (c["frames"] + 0.1 * sign).clamp(-1, 1), c["frames"], c["flow"], c["valid"]
    ).means()
    assert fl["warp_error"] > gt["warp_error"] + 5e-3
    assert fl["flicker"] > 0.05 and fl["change_ratio"] > 1.5
    assert fl["psnr"] < 30


def test_summary_spread_is_over_clip_means() -> None:
    ev = VideoEvaluator()
    means = []
    for seed in range(3):
        c = _clip(seed)
        noisy = (c["frames"] + 0.05 * (seed + 1) * torch.randn_like(c["frames"])).clamp(-1, 1)
        means.append(ev.add(f"c{seed}", noisy, c["frames"], c["flow"], c["valid"]).means())
    s = ev.summary()
    assert s["clips"] == 3 and s["frames"] == 18
    for m in ("psnr", "ssim", "warp_error", "flicker"):
        vals = [x[m] for x in means]
        assert s["metrics"][m]["mean"] == pytest.approx(statistics.mean(vals))
        assert s["metrics"][m]["std"] == pytest.approx(statistics.stdev(vals))
        assert s["metrics"][m]["min"] == min(vals) and s["metrics"][m]["n"] == 3


def test_skip_frames_and_resizing_the_ground_truth() -> None:
    c = _clip(2)
    ev = VideoEvaluator(skip_frames=2)
    small = torch.nn.functional.interpolate(c["frames"], size=(16, 32), mode="bilinear", antialias=True)
    res = ev.add("small", small, c["frames"], c["flow"], c["valid"])
    assert res.frames == 4 and len(res.per_frame["psnr"]) == 4
    assert res.means()["psnr"] > 35  # the same video, resized the same way
    with pytest.raises(ValueError, match="ground-truth frames"):
        ev.add("bad", c["frames"], c["frames"][:3])


def test_without_ground_truth_only_the_warp_error_on_estimated_flow() -> None:
    c = _clip(3)

    def zero_flow(frame: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        return torch.zeros(frame.shape[0], 2, *frame.shape[-2:])

    res = VideoEvaluator(flow_estimator=zero_flow, flow_estimator_name="zero").add("v", c["frames"])
    assert set(res.per_frame) == {"warp_error"} and "on the video itself" in res.reference_flow
    f = (c["frames"] + 1) / 2
    assert res.per_frame["warp_error"][1] == pytest.approx(float((f[1] - f[0]).pow(2).mean()), rel=1e-5)


def test_json_safe() -> None:
    assert json_safe({"a": [math.inf, -math.inf, math.nan, 1.0]}) == {"a": ["inf", "-inf", "nan", 1.0]}
