"""FrameDataset: every frame of every clip once per epoch, seeded, the clip dataset's frames."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vid2vid.data import ClipDataset, FrameDataset
from vid2vid.data.synthetic import make_synthetic_dataset


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_synthetic_dataset(
        tmp_path_factory.mktemp("frames"), n_clips=3, n_frames=5, size=(64, 32), seed=0
    )


def clips(root: Path, flip: bool) -> ClipDataset:
    return ClipDataset(
        root,
        label_nc=35,
        n_frames=1,
        use_instance=True,
        load_size=64,
        fine_size=64,
        size_divisor=8,
        flip=flip,
        seed=3,
    )


def test_index_maps_to_every_frame_of_every_clip(root: Path) -> None:
    frames = FrameDataset(clips(root, flip=False))
    assert len(frames) == 15 and frames.n_clips == 3
    for i in range(len(frames)):
        sample = frames[i]
        c, t = divmod(i, 5)
        whole = frames.clips.load_clip(c)
        assert sample["clip"] == whole["clip"] and sample["start"] == t
        assert sample["frames"].shape == (1, 3, 32, 64)
        assert torch.equal(sample["frames"][0], whole["frames"][t])
        assert torch.equal(sample["labels"][0], whole["labels"][t])
        assert torch.equal(sample["instances"][0], whole["instances"][t])
    with pytest.raises(IndexError, match="out of range for 15 frames"):
        frames[15]
    with pytest.raises(ValueError, match="single frames"):
        frames.set_n_frames(2)


def test_augmentation_is_seeded_per_epoch_and_frame(root: Path) -> None:
    frames = FrameDataset(clips(root, flip=True))
    plain = [frames.clips.load_clip(i // 5)["frames"][i % 5] for i in range(15)]
    first = [frames[i]["frames"][0] for i in range(15)]
    assert all(
        torch.equal(a, frames[i]["frames"][0]) for i, a in enumerate(first)
    )  # same epoch, same samples
    flips = [torch.equal(a, p.flip(-1)) and not torch.equal(a, p) for a, p in zip(first, plain, strict=True)]
    assert all(torch.equal(a, p) or f for a, p, f in zip(first, plain, flips, strict=True))
    assert 0 < sum(flips) < 15  # each frame draws its own flip
    frames.set_epoch(1)
    second = [frames[i]["frames"][0] for i in range(15)]
    assert any(not torch.equal(a, b) for a, b in zip(first, second, strict=True))  # a new epoch draws anew
