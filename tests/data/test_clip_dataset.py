"""ClipDataset: validation errors, sampling, augmentation consistency (labels, frames, flow), videos."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from vid2vid.data.clip_dataset import ClipDataset
from vid2vid.data.flow_cache import save_flow_cache
from vid2vid.data.io import write_video
from vid2vid.data.synthetic import make_synthetic_dataset, render_synthetic_clip, synthetic_clip_seed
from vid2vid.data.transforms import (
    AugmentParams,
    GeometryConfig,
    apply_to_confidence,
    apply_to_flow,
    apply_to_images,
    apply_to_labels,
    sample_augment_params,
)
from vid2vid.flow import flow_warp

W, H, T, SEED = 64, 32, 6, 5
PLAIN = {"resize_mode": "none", "size_divisor": 16, "flip": False}


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory) -> Path:
    return make_synthetic_dataset(
        tmp_path_factory.mktemp("syn"), n_clips=3, n_frames=T, size=(W, H), seed=SEED
    )


@pytest.fixture
def root(synthetic_root, tmp_path) -> Path:
    """A private copy of the synthetic dataset that a test may break."""
    return Path(shutil.copytree(synthetic_root, tmp_path / "data"))


def expected_clip(index: int) -> dict[str, np.ndarray]:
    return render_synthetic_clip(T, W, H, seed=synthetic_clip_seed(SEED, index))


def to_tensor(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 127.5 - 1


# ---------------------------------------------------------------------------------------- samples


def test_sample_shapes_dtypes_ranges_and_values(synthetic_root):
    ds = ClipDataset(synthetic_root, n_frames=4, use_instance=True, load_flow=True, seed=0, **PLAIN)
    assert len(ds) == 3 and ds.clip_names == ["clip_0000", "clip_0001", "clip_0002"]
    sample = ds[1]
    assert sample["clip"] == "clip_0001"
    assert sample["labels"].shape == (4, H, W) and sample["labels"].dtype == torch.int64
    assert sample["instances"].shape == (4, H, W) and sample["instances"].dtype == torch.int64
    assert sample["frames"].shape == (4, 3, H, W) and sample["frames"].dtype == torch.float32
    assert sample["flow"].shape == (4, 2, H, W) and sample["flow"].dtype == torch.float32
    assert sample["flow_confidence"].shape == (4, 1, H, W)
    assert -1.0 <= sample["frames"].min() and sample["frames"].max() <= 1.0
    assert 0 <= sample["labels"].min() and sample["labels"].max() < 35
    # Exactly the rendered clip at the sampled window; the window's first frame has no flow.
    start, gt = sample["start"], expected_clip(1)
    window = slice(start, start + 4)
    assert torch.equal(sample["labels"], torch.from_numpy(gt["labels"][window]))
    assert torch.equal(sample["instances"], torch.from_numpy(gt["instances"][window]))
    torch.testing.assert_close(sample["frames"], to_tensor(gt["frames"][window]))
    assert not sample["flow"][0].any() and not sample["flow_confidence"][0].any()
    torch.testing.assert_close(
        sample["flow"][1:], torch.from_numpy(gt["flow"][window][1:]), atol=2e-3, rtol=1e-3
    )
    assert set(sample["flow_confidence"].unique().tolist()) <= {0.0, 1.0}


def test_seeded_sampling_is_reproducible_and_epoch_dependent(synthetic_root):
    kwargs = {"n_frames": 2, "seed": 3, "resize_mode": "crop", "fine_size": 32, "size_divisor": 16}
    a, b = ClipDataset(synthetic_root, **kwargs), ClipDataset(synthetic_root, **kwargs)
    starts = []
    for epoch in range(6):
        a.set_epoch(epoch)
        b.set_epoch(epoch)
        sa, sb = a[0], b[0]
        assert sa["start"] == sb["start"] and torch.equal(sa["frames"], sb["frames"])
        starts.append((sa["start"], float(sa["frames"].sum())))
    assert len(set(starts)) > 1


def test_temporal_stride(synthetic_root):
    ds = ClipDataset(synthetic_root, n_frames=3, max_t_step=4, seed=0, **PLAIN)
    gt = expected_clip(0)
    steps = set()
    for epoch in range(12):
        ds.set_epoch(epoch)
        sample = ds[0]
        step, start = sample["t_step"], sample["start"]
        steps.add(step)
        assert 1 <= step <= 2  # capped so that 3 frames fit in 6: (6 - 1) // 2 = 2
        indices = [start + i * step for i in range(3)]
        assert indices[-1] < T
        assert torch.equal(sample["labels"], torch.from_numpy(gt["labels"][indices]))
    assert steps == {1, 2}


def test_set_n_frames(synthetic_root):
    ds = ClipDataset(synthetic_root, n_frames=2, **PLAIN)
    assert ds[0]["frames"].shape[0] == 2
    ds.set_n_frames(5)
    assert ds[2]["frames"].shape[0] == 5 and ds[2]["labels"].shape[0] == 5
    with pytest.raises(ValueError, match=r"clip_0000.*has 6 frames, fewer than n_frames=7"):
        ds.set_n_frames(7)
    assert ds.n_frames == 5
    # the original caps each clip by its own length: shorter clips come whole
    ds.set_n_frames(9, min_frames=3)
    assert ds[0]["frames"].shape[0] == 6 and ds[0]["labels"].shape[0] == 6
    with pytest.raises(ValueError, match="fewer than n_frames=7"):
        ds.set_n_frames(9, min_frames=7)


def test_collate_clips_cuts_every_temporal_tensor_to_the_shortest(synthetic_root):
    from vid2vid.data.clip_dataset import collate_clips

    ds = ClipDataset(synthetic_root, n_frames=2, **PLAIN)
    long, short = ds[0], ds[1]
    ds.set_n_frames(4)
    long = ds[0]
    batch = collate_clips([long, short])
    assert batch["frames"].shape[:2] == (2, 2) and batch["labels"].shape[:2] == (2, 2)
    assert torch.equal(batch["frames"][0], long["frames"][:2])


def test_load_clip_whole_and_deterministic(synthetic_root):
    ds = ClipDataset(
        synthetic_root,
        n_frames=2,
        use_instance=True,
        load_flow=True,
        resize_mode="scale_width",
        load_size=96,
        size_divisor=16,
    )
    clip = ds.load_clip("clip_0002")
    assert clip["frames"].shape == (T, 3, 48, 96) and clip["labels"].shape == (T, 48, 96)
    assert clip["flow"].shape == (T, 2, 48, 96) and clip["start"] == 0
    by_index = ds.load_clip(2)
    assert torch.equal(by_index["frames"], clip["frames"]) and torch.equal(by_index["flow"], clip["flow"])
    with pytest.raises(KeyError, match="no clip named 'nope'"):
        ds.load_clip("nope")


def test_dataloader_batches(synthetic_root):
    ds = ClipDataset(synthetic_root, n_frames=3, use_instance=True, load_flow=True, seed=0, **PLAIN)
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert batch["frames"].shape == (2, 3, 3, H, W)
    assert batch["labels"].shape == (2, 3, H, W) and batch["flow"].shape == (2, 3, 2, H, W)
    assert batch["clip"] == ["clip_0000", "clip_0001"]


def test_continuous_inputs(root):
    shutil.rmtree(root / "train_A")
    shutil.copytree(root / "train_B", root / "train_A")
    ds = ClipDataset(root, label_nc=0, n_frames=2, seed=1, **PLAIN)
    sample = ds[0]
    assert "labels" not in sample
    assert sample["inputs"].shape == (2, 3, H, W) and sample["inputs"].dtype == torch.float32
    assert torch.equal(sample["inputs"], sample["frames"])


def test_video_file_in_place_of_frame_folder(root):
    frames = expected_clip(1)["frames"]
    shutil.rmtree(root / "train_B" / "clip_0001")
    write_video(frames, root / "train_B" / "clip_0001.mp4")
    ds = ClipDataset(root, n_frames=T, **PLAIN)
    clip = ds.load_clip("clip_0001")
    assert clip["frames"].shape == (T, 3, H, W)
    # Tiny, detailed 64x32 frames are the worst case for H.264 4:2:0 (chroma at half resolution):
    # measured 5.2-6.5/255 mean on these clips (2.8/255 at 256x128; even lossless CRF 0 gives 4.2).
    assert (clip["frames"] - to_tensor(frames)).abs().mean() * 127.5 < 8
    assert (clip["frames"] - to_tensor(frames[::-1].copy())).abs().mean() * 127.5 > 8


# ----------------------------------------------------------------------------------- augmentation


def test_flip_mirrors_labels_and_negates_flow_x():
    gt = render_synthetic_clip(3, 128, 64, seed=0)
    labels, flow = torch.from_numpy(gt["labels"]), torch.from_numpy(gt["flow"])
    params = AugmentParams(input_size=(128, 64), resize=(128, 64), crop=(0, 0, 128, 64), flip=True)
    assert torch.equal(apply_to_labels(labels, params), labels.flip(-1))
    flipped = apply_to_flow(flow, params)
    assert torch.equal(flipped[:, 0], -flow[:, 0].flip(-1))
    assert torch.equal(flipped[:, 1], flow[:, 1].flip(-1))


@pytest.mark.parametrize(
    "params",
    [
        AugmentParams((128, 64), (128, 64), (0, 0, 128, 64), True),  # flip
        AugmentParams((128, 64), (96, 48), (8, 4, 80, 40), False),  # shrink + crop
        AugmentParams((128, 64), (192, 96), (16, 8, 160, 80), True),  # enlarge + crop + flip
        AugmentParams((128, 64), (176, 48), (0, 0, 176, 48), False),  # anisotropic
    ],
)
def test_augmented_flow_still_reconstructs_augmented_frames(params):
    gt = render_synthetic_clip(6, 128, 64, seed=1)
    frames = apply_to_images(to_tensor(gt["frames"]), params)
    flow = apply_to_flow(torch.from_numpy(gt["flow"]), params)
    valid = apply_to_confidence(torch.from_numpy(gt["confidence"]), params)[1:] > 0
    assert frames.shape[-2:] == flow.shape[-2:] == (params.crop[3], params.crop[2])
    assert valid.float().mean() > 0.6  # resampling dilates the invalid areas by about a pixel

    def error(f: torch.Tensor) -> float:
        warped = flow_warp(frames[:-1], f[1:])
        return float((warped - frames[1:]).abs().mean(dim=1, keepdim=True)[valid].mean() * 127.5)

    exact = error(flow)
    assert exact < 1.0  # measured 0.3-0.7 on this clip
    # Forgetting to scale or to negate the vectors is clearly worse.
    factors = torch.tensor([params.resize[0] / 128, params.resize[1] / 64]).view(1, 2, 1, 1)
    wrong = (
        flow / factors if params.resize != (128, 64) else flow * torch.tensor([-1.0, 1.0]).view(1, 2, 1, 1)
    )
    assert exact * 1.3 < error(wrong)
    assert exact * 3 < error(torch.zeros_like(flow))


def test_dataset_samples_keep_flow_consistent(synthetic_root):
    """Random scale, crop and flip through the dataset: every sample's flow reconstructs its frames."""
    ds = ClipDataset(
        synthetic_root,
        n_frames=4,
        load_flow=True,
        resize_mode="random_scale",
        load_size=96,
        fine_size=64,
        size_divisor=16,
        flip=True,
        seed=0,
    )
    for epoch in range(4):
        ds.set_epoch(epoch)
        for sample in ds:
            frames, flow, valid = sample["frames"], sample["flow"], sample["flow_confidence"][1:] > 0
            assert frames.shape == (4, 3, 32, 64) and flow.shape == (4, 2, 32, 64)
            warped = flow_warp(frames[:-1], flow[1:])
            error = (warped - frames[1:]).abs().mean(dim=1, keepdim=True)[valid].mean() * 127.5
            still = (frames[:-1] - frames[1:]).abs().mean(dim=1, keepdim=True)[valid].mean() * 127.5
            assert error < 2.5 and error < still


def test_sample_augment_params_modes():
    rng = np.random.default_rng(0)
    cases = {
        ("resize_and_crop", 80, 48): (48, 48),
        ("scale_width", 128, 48): (128, 64),
        ("scale_height", 48, 48): (96, 48),
        ("scale_width_and_crop", 96, 32): (32, 32),
        ("random_scale", 96, 64): (64, 32),
        ("crop", 0, 32): (32, 32),
        ("none", 0, 0): (64, 32),
    }
    for (mode, load, fine), out in cases.items():
        geometry = GeometryConfig(
            resize_mode=mode, load_size=max(load, 1), fine_size=max(fine, 1), size_divisor=16
        )
        for _ in range(5):
            params = sample_augment_params((64, 32), geometry, flip=True, rng=rng)
            assert params.output_size == out, mode
            x, y, w, h = params.crop
            assert 0 <= x and x + w <= params.resize[0] and 0 <= y and y + h <= params.resize[1]
    flips = [
        sample_augment_params((64, 32), GeometryConfig("none", 1, 1, 16), True, rng).flip for _ in range(40)
    ]
    assert 5 < sum(flips) < 35
    assert not any(
        sample_augment_params((64, 32), GeometryConfig("none", 1, 1, 16), False, rng).flip for _ in range(9)
    )
    with pytest.raises(ValueError, match="resize_mode must be one of"):
        GeometryConfig(resize_mode="scaleWidth")


# --------------------------------------------------------------------------------------- validation


def test_error_missing_root_or_folders(tmp_path, root):
    with pytest.raises(FileNotFoundError, match="dataset root"):
        ClipDataset(tmp_path / "nothing", **PLAIN)
    with pytest.raises(FileNotFoundError, match="test_B"):
        ClipDataset(root, phase="test", **PLAIN)
    shutil.rmtree(root / "train_inst")
    ClipDataset(root, n_frames=2, **PLAIN)  # instances are optional ...
    with pytest.raises(FileNotFoundError, match="train_inst"):
        ClipDataset(root, n_frames=2, use_instance=True, **PLAIN)  # ... unless asked for


def test_error_clip_names_differ(root):
    shutil.rmtree(root / "train_B" / "clip_0002")
    with pytest.raises(
        ValueError, match=r"clips differ .*train_A \(3 clips\).*train_B \(2 clips\).*'clip_0002'"
    ):
        ClipDataset(root, n_frames=2, **PLAIN)


def test_error_instance_clip_names_differ(root):
    (root / "train_inst" / "clip_0001").rename(root / "train_inst" / "clip_x")
    with pytest.raises(ValueError, match=r"clips differ .*only in train_A: \['clip_0001'\].*\['clip_x'\]"):
        ClipDataset(root, n_frames=2, use_instance=True, **PLAIN)


def test_error_clip_lengths_differ(root):
    (root / "train_A" / "clip_0001" / "00005.png").unlink()
    with pytest.raises(
        ValueError, match=r"clip 'clip_0001': label maps .* have 5 frames but the frames .* have 6"
    ):
        ClipDataset(root, n_frames=2, **PLAIN)


def test_error_instance_length_differs(root):
    (root / "train_inst" / "clip_0000" / "00000.png").unlink()
    with pytest.raises(ValueError, match=r"clip 'clip_0000': instance maps .* have 5 frames"):
        ClipDataset(root, n_frames=2, use_instance=True, **PLAIN)


def test_error_unreadable_frame(root):
    (root / "train_B" / "clip_0002" / "00003.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"clip 'clip_0002': cannot read frame image .*00003\.png"):
        ClipDataset(root, n_frames=2, **PLAIN)


def test_error_unreadable_label(root):
    (root / "train_A" / "clip_0000" / "00002.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(ValueError, match=r"clip 'clip_0000': cannot read label image .*00002\.png"):
        ClipDataset(root, n_frames=2, **PLAIN)


def test_error_label_id_out_of_range(root):
    with pytest.raises(
        ValueError, match=r"clip 'clip_0000': label map .*00000\.png contains class id 2\d, outside"
    ):
        ClipDataset(root, label_nc=20, n_frames=2, **PLAIN)


def test_error_colour_label_map(root):
    Image.fromarray(np.full((H, W, 3), (10, 20, 30), np.uint8)).save(
        root / "train_A" / "clip_0001" / "00004.png"
    )
    with pytest.raises(ValueError, match=r"clip 'clip_0001': label image .*00004\.png is a colour RGB image"):
        ClipDataset(root, n_frames=2, **PLAIN)


def test_error_frame_sizes_differ_within_clip(root):
    Image.fromarray(np.zeros((H, W + 2, 3), np.uint8)).save(root / "train_B" / "clip_0001" / "00002.png")
    with pytest.raises(
        ValueError, match=r"clip 'clip_0001': frame frame .*00002\.png is 66x32 but 00000\.png is 64x32"
    ):
        ClipDataset(root, n_frames=2, **PLAIN)


def test_error_label_sizes_differ_within_clip(root):
    Image.fromarray(np.zeros((H + 1, W), np.uint8)).save(root / "train_A" / "clip_0002" / "00001.png")
    with pytest.raises(
        ValueError, match=r"clip 'clip_0002': label map .*00001\.png is 64x33 but 00000\.png is 64x32"
    ):
        ClipDataset(root, n_frames=2, **PLAIN)


def test_error_label_and_frame_sizes_differ(root):
    folder = root / "train_A" / "clip_0000"
    for path in folder.iterdir():
        Image.fromarray(np.zeros((H, W // 2), np.uint8)).save(path)
    with pytest.raises(
        ValueError, match=r"clip 'clip_0000': label map .* is 32x32 but the frames .* are 64x32"
    ):
        ClipDataset(root, n_frames=2, **PLAIN)


def test_error_clip_shorter_than_n_frames(root):
    for name in ("00004.png", "00005.png"):
        for side in ("train_A", "train_B", "train_inst"):
            (root / side / "clip_0002" / name).unlink()
    ClipDataset(root, n_frames=4, **PLAIN)
    with pytest.raises(ValueError, match=r"clip 'clip_0002' .* has 4 frames, fewer than n_frames=5"):
        ClipDataset(root, n_frames=5, **PLAIN)


def test_error_flow_cache(root):
    with pytest.raises(ValueError, match="load_flow=True needs max_t_step=1"):
        ClipDataset(root, n_frames=2, max_t_step=2, load_flow=True, **PLAIN)
    save_flow_cache(
        root / "train_flow" / "clip_0001.safetensors",
        np.zeros((T, 2, H, W // 2)),
        np.zeros((T, 1, H, W // 2)),
        "x",
    )
    with pytest.raises(ValueError, match=r"clip 'clip_0001': flow cache .* holds 6 frames of 32x32"):
        ClipDataset(root, n_frames=2, load_flow=True, **PLAIN)
    (root / "train_flow" / "clip_0001.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match=r"clip_0001\.safetensors does not exist"):
        ClipDataset(root, n_frames=2, load_flow=True, **PLAIN)


def test_error_crop_does_not_fit(root):
    with pytest.raises(ValueError, match=r"clip 'clip_0000' \(64x32\): a 48x48 crop does not fit"):
        ClipDataset(root, n_frames=2, resize_mode="crop", fine_size=48, size_divisor=16)


def test_error_label_video(root):
    shutil.rmtree(root / "train_A" / "clip_0000")
    write_video(np.zeros((T, H, W, 3), np.uint8), root / "train_A" / "clip_0000.mp4")
    with pytest.raises(ValueError, match="must be folders of single-channel PNGs"):
        ClipDataset(root, n_frames=2, **PLAIN)


def test_error_bad_arguments(root):
    with pytest.raises(ValueError, match="label_nc must be >= 0"):
        ClipDataset(root, label_nc=-1, **PLAIN)
    with pytest.raises(ValueError, match="max_t_step must be >= 1"):
        ClipDataset(root, max_t_step=0, **PLAIN)
    with pytest.raises(ValueError, match="resize_mode must be one of"):
        ClipDataset(root, resize_mode="zoom")
