"""Synthetic street clips: determinism, label/instance conventions, exact ground-truth flow, writer, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from vid2vid.cli.main import main
from vid2vid.data.flow_cache import load_flow_cache
from vid2vid.data.io import list_frame_files, read_frames, read_label_frames
from vid2vid.data.synthetic import (
    SYNTHETIC_ESTIMATOR,
    SYNTHETIC_LABEL_NC,
    SYNTHETIC_LABELS,
    colorize_labels,
    make_synthetic_dataset,
    render_synthetic_clip,
    synthetic_clip_seed,
)
from vid2vid.flow import flow_confidence, flow_warp

STUFF = {7, 8, 11, 17, 20, 21, 23}


def to_tensor(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 127.5 - 1


def test_render_shapes_dtypes_and_determinism():
    clip = render_synthetic_clip(4, 64, 32, seed=3)
    assert clip["labels"].shape == (4, 32, 64) and clip["labels"].dtype == np.int64
    assert clip["instances"].shape == (4, 32, 64) and clip["instances"].dtype == np.int64
    assert clip["frames"].shape == (4, 32, 64, 3) and clip["frames"].dtype == np.uint8
    assert clip["flow"].shape == (4, 2, 32, 64) and clip["flow"].dtype == np.float32
    assert clip["confidence"].shape == (4, 1, 32, 64)
    assert not clip["flow"][0].any() and not clip["confidence"][0].any()
    again = render_synthetic_clip(4, 64, 32, seed=3)
    for key in clip:
        np.testing.assert_array_equal(clip[key], again[key])
    other = render_synthetic_clip(4, 64, 32, seed=4)
    assert not np.array_equal(clip["frames"], other["frames"])
    with pytest.raises(ValueError, match="n_frames"):
        render_synthetic_clip(0, 64, 32, seed=0)


def test_label_and_instance_conventions():
    ids = {label.id for label in SYNTHETIC_LABELS}
    assert {7, 8, 11, 17, 21, 23, 24, 26} <= ids and max(ids) < SYNTHETIC_LABEL_NC == 35
    seen = set()
    for seed in range(3):
        clip = render_synthetic_clip(3, 96, 48, seed=seed)
        labels, instances = clip["labels"], clip["instances"]
        seen |= set(np.unique(labels).tolist())
        assert set(np.unique(labels).tolist()) <= ids
        things = (labels == 24) | (labels == 26)
        # Cityscapes: things carry class * 1000 + k, stuff carries the class id.
        np.testing.assert_array_equal(instances[things] // 1000, labels[things])
        np.testing.assert_array_equal(instances[~things], labels[~things])
        assert len(np.unique(instances[labels == 26])) >= 2  # several cars
    assert {7, 8, 11, 23, 24, 26} <= seen
    assert colorize_labels(np.array([[26]])).tolist() == [[[0, 0, 142]]]


def test_texture_moves_with_the_scene():
    """Frames are a function of layout and position: colour differs by class, not by frame index."""
    clip = render_synthetic_clip(2, 128, 64, seed=0)
    frames, labels = clip["frames"].astype(np.float64), clip["labels"]
    sky = frames[labels == 23].mean(axis=0)
    road = frames[labels == 7].mean(axis=0)
    assert sky[2] > sky[0] + 40  # blue sky
    assert np.abs(road - road.mean()).max() < 10 and road.mean() < 110  # grey asphalt


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ground_truth_flow_is_exact(seed):
    """Warping frame t-1 with the GT flow reproduces frame t wherever the GT marks it valid."""
    clip = render_synthetic_clip(6, 128, 64, seed=seed)
    frames = to_tensor(clip["frames"])
    flow = torch.from_numpy(clip["flow"][1:])
    valid = torch.from_numpy(clip["confidence"][1:]) > 0
    assert flow.abs().max() > 0.5  # there is motion to get right
    assert valid.float().mean() > 0.85  # few occluded / out-of-frame / class-edge pixels

    def error(f: torch.Tensor) -> float:
        warped = flow_warp(frames[:-1], f)
        return float((warped - frames[1:]).abs().mean(dim=1, keepdim=True)[valid].mean() * 127.5)

    exact = error(flow)
    # In 0-255 levels; measured 0.3-1.4: what is left is bilinear resampling of the texture.
    assert exact < 1.6
    # The GT flow is the best flow to sub-pixel precision: a quarter pixel off in any direction
    # is worse (measured >= 1.2x), and no motion at all is much worse.
    for shift in ([0.25, 0.0], [-0.25, 0.0], [0.0, 0.25], [0.0, -0.25]):
        assert exact * 1.1 < error(flow + torch.tensor(shift).view(1, 2, 1, 1))
    assert exact < 0.7 * error(torch.zeros_like(flow))
    # The library's photometric confidence (threshold 0.02) accepts the GT flow almost everywhere.
    assert flow_confidence(frames[1:], frames[:-1], flow).mean() > 0.9


def test_ground_truth_flow_invalid_where_things_occlude():
    """Pixels a moving car uncovers have no source in the previous frame: confidence 0 there."""
    clip = render_synthetic_clip(6, 128, 64, seed=1)
    labels, confidence = clip["labels"], clip["confidence"][:, 0]
    uncovered = (labels[:-1] == 26) & (labels[1:] != 26)  # car at t-1, background at t
    assert uncovered.sum() > 10
    assert confidence[1:][uncovered].mean() < 0.2


def test_make_synthetic_dataset_layout(tmp_path):
    root = make_synthetic_dataset(
        tmp_path / "syn", n_clips=2, n_frames=3, size=(64, 32), seed=7, phase="test"
    )
    for side in ("test_A", "test_B", "test_inst"):
        assert sorted(p.name for p in (root / side).iterdir()) == ["clip_0000", "clip_0001"]
        assert [p.name for p in list_frame_files(root / side / "clip_0001")] == [
            "00000.png",
            "00001.png",
            "00002.png",
        ]
    with Image.open(root / "test_A" / "clip_0000" / "00000.png") as image:
        assert image.mode == "L"
    with Image.open(root / "test_inst" / "clip_0000" / "00000.png") as image:
        assert image.mode.startswith("I")  # 16-bit
    expected = render_synthetic_clip(3, 64, 32, seed=synthetic_clip_seed(7, 1))
    np.testing.assert_array_equal(read_label_frames(root / "test_A" / "clip_0001"), expected["labels"])
    np.testing.assert_array_equal(read_label_frames(root / "test_inst" / "clip_0001"), expected["instances"])
    np.testing.assert_array_equal(read_frames(root / "test_B" / "clip_0001"), expected["frames"])
    flow, confidence, meta = load_flow_cache(root / "test_flow" / "clip_0001.safetensors")
    assert meta["estimator"] == SYNTHETIC_ESTIMATOR
    torch.testing.assert_close(flow, torch.from_numpy(expected["flow"]), atol=2e-3, rtol=1e-3)
    assert torch.equal(confidence, torch.from_numpy(expected["confidence"]))
    info = json.loads((root / "synthetic_test.json").read_text())
    assert info["label_nc"] == 35 and info["size"] == [64, 32] and info["n_clips"] == 2
    assert not [p for p in root.rglob(".*")]  # no temporary files left behind


def test_make_synthetic_cli(tmp_path, capsys):
    out = tmp_path / "cli"
    argv = ["make-synthetic", "--out", str(out), "--clips", "2", "--frames", "3", "--size", "64x32"]
    assert main([*argv, "--seed", "1", "--quiet"]) == 0
    assert "wrote 2 street clips x 3 frames of 64x32" in capsys.readouterr().out
    assert len(list((out / "train_flow").glob("*.safetensors"))) == 2
    assert read_frames(out / "train_B" / "clip_0000").shape == (3, 32, 64, 3)
    with pytest.raises(SystemExit) as exit_info:
        main(["make-synthetic", "--out", str(out), "--size", "64by32"])
    assert exit_info.value.code == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err
    assert main(["make-synthetic", "--out", str(out), "--size", "8x8", "--quiet"]) == 2
    assert "at least 16x16" in capsys.readouterr().err
