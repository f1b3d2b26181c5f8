"""``prepare_flow`` / ``vid2vid prepare-flow`` on a tiny synthetic dataset, checked against its exact flow."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from torch import Tensor

from vid2vid.cli.main import main
from vid2vid.data.flow_cache import load_flow_cache
from vid2vid.data.io import read_frames, write_video
from vid2vid.data.synthetic import make_synthetic_dataset
from vid2vid.flow import FlowEstimator, flow_confidence, prepare_flow

N_FRAMES = 4
WIDTH, HEIGHT = 128, 64


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """2 synthetic clips; their exact flow is moved to ``gt_flow`` so the cache starts empty."""
    root = tmp_path_factory.mktemp("synthetic")
    make_synthetic_dataset(root, n_clips=2, n_frames=N_FRAMES, size=(WIDTH, HEIGHT), seed=3)
    shutil.move(root / "train_flow", root / "gt_flow")
    return root


def fresh_copy(dataset, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(dataset / "train_B", root / "train_B")
    return root


class CountingZeroFlow(FlowEstimator):
    name = "zero"

    def __init__(self) -> None:
        self.pairs = 0

    def _estimate(self, frame: Tensor, prev_frame: Tensor) -> Tensor:
        self.pairs += frame.shape[0]
        return torch.zeros(frame.shape[0], 2, *frame.shape[-2:])


def test_prepare_flow_with_dis_matches_ground_truth(dataset, tmp_path):
    root = fresh_copy(dataset, tmp_path)
    paths = prepare_flow(root, phase="train", estimator="dis", batch_size=2, progress=False)
    assert [p.name for p in paths] == ["clip_0000.safetensors", "clip_0001.safetensors"]
    assert all(p.parent == root / "train_flow" for p in paths)
    for path in paths:
        flow, confidence, meta = load_flow_cache(path)
        assert flow.shape == (N_FRAMES, 2, HEIGHT, WIDTH) and flow.dtype == torch.float32
        assert confidence.shape == (N_FRAMES, 1, HEIGHT, WIDTH) and confidence.dtype == torch.float32
        assert meta["estimator"] == "dis_medium" and meta["clip"] == path.stem
        assert torch.all(flow[0] == 0) and torch.all(confidence[0] == 0)
        assert set(confidence.unique().tolist()) <= {0.0, 1.0} and confidence[1:].mean() > 0.5

        gt_flow, gt_valid, _ = load_flow_cache(dataset / "gt_flow" / path.name)
        valid = gt_valid[1:]
        epe = ((flow[1:] - gt_flow[1:]).norm(dim=1, keepdim=True) * valid).sum() / valid.sum()
        zero_epe = (gt_flow[1:].norm(dim=1, keepdim=True) * valid).sum() / valid.sum()
        # DIS at 128x64: ~0.15-0.3 px where the exact flow is ~0.5 px on average (see test_estimators).
        assert epe < 0.4 and epe < 0.7 * zero_epe, (path.name, epe, zero_epe)

        # The stored confidence is the photometric check of the stored flow.
        frames = torch.from_numpy(read_frames(root / "train_B" / path.stem)).permute(0, 3, 1, 2).float()
        frames = frames / 127.5 - 1.0
        recomputed = flow_confidence(frames[1:], frames[:-1], flow[1:])
        assert (recomputed == confidence[1:]).float().mean() > 0.99


def test_prepare_flow_skips_cached_clips_unless_overwrite(dataset, tmp_path):
    root = fresh_copy(dataset, tmp_path)
    counter = CountingZeroFlow()
    prepare_flow(root, estimator=counter, batch_size=8, progress=False)
    assert counter.pairs == 2 * (N_FRAMES - 1)
    flow, confidence, meta = load_flow_cache(root / "train_flow" / "clip_0000.safetensors")
    assert meta["estimator"] == "zero" and torch.all(flow == 0)
    prepare_flow(root, estimator=counter, progress=False)
    assert counter.pairs == 2 * (N_FRAMES - 1)  # nothing recomputed
    (root / "train_flow" / "clip_0001.safetensors").unlink()
    prepare_flow(root, estimator=counter, progress=False)
    assert counter.pairs == 3 * (N_FRAMES - 1)  # only the missing clip
    prepare_flow(root, estimator=counter, overwrite=True, progress=False)
    assert counter.pairs == 5 * (N_FRAMES - 1)


def test_prepare_flow_reads_video_clips(dataset, tmp_path):
    root = tmp_path / "videos"
    frames = read_frames(dataset / "train_B" / "clip_0000")
    write_video(frames, root / "train_B" / "walk.mp4")
    counter = CountingZeroFlow()
    (path,) = prepare_flow(root, estimator=counter, progress=False)
    assert path == root / "train_flow" / "walk.safetensors"
    flow, confidence, meta = load_flow_cache(path)
    assert flow.shape == (N_FRAMES, 2, HEIGHT, WIDTH) and meta["source"] == "walk.mp4"


def test_prepare_flow_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="train_B"):
        prepare_flow(tmp_path, progress=False)
    (tmp_path / "train_B" / "short").mkdir(parents=True)
    from PIL import Image

    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "train_B" / "short" / "0.png")
    with pytest.raises(ValueError, match="short.*1 frame"):
        prepare_flow(tmp_path, progress=False)
    with pytest.raises(ValueError, match="'dis', 'raft_small' or 'raft_large'"):
        prepare_flow(tmp_path, estimator="precomputed", progress=False)
    with pytest.raises(ValueError, match="DIS estimator takes no weights"):
        prepare_flow(tmp_path, estimator="dis", weights="x.pth", progress=False)


def test_cli_prepare_flow(dataset, tmp_path, capsys):
    root = fresh_copy(dataset, tmp_path)
    assert main(["prepare-flow", "--root", str(root), "--estimator", "dis", "--batch-size", "3"]) == 0
    assert "2 clip(s)" in capsys.readouterr().out
    assert sorted(p.name for p in (root / "train_flow").iterdir()) == [
        "clip_0000.safetensors",
        "clip_0001.safetensors",
    ]
    assert main(["prepare-flow", "--root", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err
    assert main(["prepare-flow", "--root", str(root), "--weights", "w.pth"]) == 2
    assert "no weights" in capsys.readouterr().err
