"""FaceDataset / PoseDataset: the original's test-time inputs, augmentations, sampling and flow."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from vid2vid.data import FaceDataset, PoseDataset
from vid2vid.data.input_fixtures import load_fixture_tensors
from vid2vid.data.keypoint_dataset import FlowCrop, transform_flow
from vid2vid.data.synthetic import make_synthetic_dataset
from vid2vid.flow import flow_warp

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nvidia-vid2vid-test"


@pytest.fixture(scope="module")
def face_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_synthetic_dataset(tmp_path_factory.mktemp("faces"), 2, 6, (128, 128), seed=3, kind="face")


@pytest.fixture(scope="module")
def pose_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_synthetic_dataset(tmp_path_factory.mktemp("poses"), 2, 6, (256, 128), seed=3, kind="pose")


def _fixture_as_dataset(case: Path, root: Path, folders: dict[str, str]) -> None:
    """Lay a fixture case out as a one-clip dataset of phase "test"."""
    for sub, target in folders.items():
        shutil.copytree(case / sub, root / f"test_{target}" / case.name)


def test_face_dataset_whole_clip_equals_the_original_test_time_inputs(tmp_path: Path) -> None:
    for case in sorted((FIXTURES / "tp_face_inputs").iterdir()):
        if not (case / "config.json").is_file():
            continue
        root = tmp_path / case.name
        _fixture_as_dataset(case, root, {"keypoints": "keypoints", "images": "img"})
        load_size = json.loads((case / "config.json").read_text())["options"]["loadSize"]
        dataset = FaceDataset(root, phase="test", n_frames=3, load_size=load_size)
        clip = dataset.load_clip(case.name)
        expected = load_fixture_tensors(case)
        assert torch.equal(clip["inputs"], torch.from_numpy(expected["A_uint8"]).float().div(255))
        assert torch.equal(clip["part_labels"], torch.from_numpy(expected["inst"]).long())
        assert (clip["frames"] - torch.from_numpy(expected["B"])).abs().max() <= 1e-6


def test_pose_dataset_whole_clip_equals_the_original_test_time_inputs(tmp_path: Path) -> None:
    for case in sorted((FIXTURES / "tp_pose_inputs").iterdir()):
        if not (case / "config.json").is_file():
            continue
        root = tmp_path / case.name
        with_dp = (case / "densepose").is_dir()
        folders = {"openpose": "openpose", "images": "img", **({"densepose": "densepose"} if with_dp else {})}
        _fixture_as_dataset(case, root, folders)
        load_size = json.loads((case / "config.json").read_text())["options"]["loadSize"]
        dataset = PoseDataset(
            root, phase="test", n_frames=3, inputs="both" if with_dp else "openpose", load_size=load_size
        )
        clip = dataset.load_clip(0)
        expected = load_fixture_tensors(case)
        assert torch.equal(clip["inputs"], torch.from_numpy(expected["A"]))
        assert (clip["frames"] - torch.from_numpy(expected["B"])).abs().max() <= 1e-6


def test_face_sample_shapes_ranges_and_determinism(face_root: Path) -> None:
    dataset = FaceDataset(face_root, n_frames=3, load_size=64, load_flow=True, seed=0)
    assert len(dataset) == 2 and dataset.input_nc == 15
    sample = dataset[1]
    assert sample["inputs"].shape == (3, 15, 64, 64) and sample["inputs"].dtype == torch.float32
    assert 0.0 <= sample["inputs"].min() and sample["inputs"].max() <= 1.0  # the original's [0, 1]
    assert (
        sample["frames"].shape == (3, 3, 64, 64)
        and -1 <= sample["frames"].min() <= sample["frames"].max() <= 1
    )
    assert (
        set(sample["part_labels"].unique().tolist()) <= set(range(7)) and (sample["part_labels"] == 4).any()
    )
    assert sample["flow"].shape == (3, 2, 64, 64) and (sample["flow"][0] == 0).all()
    again = dataset[1]
    assert all(torch.equal(sample[k], again[k]) for k in ("inputs", "frames", "flow"))
    dataset.set_epoch(1)
    assert any(
        not torch.equal(
            dataset[i]["frames"], FaceDataset(face_root, n_frames=3, load_size=64, seed=0)[i]["frames"]
        )
        for i in range(2)
    )


def test_face_flip_mirrors_everything_including_the_flow(face_root: Path) -> None:
    plain = FaceDataset(face_root, n_frames=3, load_size=64, flip=False, load_flow=True, seed=1)
    flipping = FaceDataset(face_root, n_frames=3, load_size=64, flip=True, load_flow=True, seed=1)
    seen = set()
    for epoch in range(6):
        plain.set_epoch(epoch)
        flipping.set_epoch(epoch)
        a, b = plain[0], flipping[0]
        if torch.equal(a["inputs"], b["inputs"]):
            seen.add("same")
            continue
        seen.add("flipped")
        assert torch.equal(b["inputs"], a["inputs"].flip(-1)) and torch.equal(
            b["frames"], a["frames"].flip(-1)
        )
        assert torch.equal(b["flow"][:, 0], -a["flow"][:, 0].flip(-1))
        assert torch.equal(b["flow"][:, 1], a["flow"][:, 1].flip(-1))
    assert seen == {"same", "flipped"}


def test_face_point_scaling_and_crop_jitter_are_switchable(face_root: Path) -> None:
    base = FaceDataset(face_root, n_frames=6, load_size=64, flip=False, seed=2)  # whole clips: start 0
    scaled = FaceDataset(face_root, n_frames=6, load_size=64, flip=False, random_scale_points=True, seed=2)
    a, b = base[0], scaled[0]
    assert torch.equal(a["frames"], b["frames"]) and torch.equal(a["part_labels"], b["part_labels"])
    assert not torch.equal(a["inputs"], b["inputs"])  # the curves moved, nothing else
    boxes = set()
    jittered = FaceDataset(face_root, n_frames=6, load_size=64, flip=False, crop_jitter=0.1, seed=2)
    for epoch in range(4):
        base.set_epoch(epoch)
        jittered.set_epoch(epoch)
        assert torch.equal(base[0]["crop_box"], a["crop_box"])  # the original: the first frame's box
        boxes.add(tuple(jittered[0]["crop_box"].tolist()))
    assert len(boxes) > 1


def _warp_error(sample: dict) -> tuple[float, float]:
    frames, flow, conf = sample["frames"], sample["flow"][1:], sample["flow_confidence"][1:] > 0
    warped = flow_warp(frames[:-1], flow)
    err = (warped - frames[1:]).abs().mean(1, keepdim=True)[conf].mean().item()
    still = (frames[:-1] - frames[1:]).abs().mean(1, keepdim=True)[conf].mean().item()
    return err, still


def test_cached_flow_follows_the_crop_and_resize(face_root: Path, pose_root: Path) -> None:
    face = FaceDataset(face_root, n_frames=4, load_size=64, flip=False, load_flow=True, seed=0)[0]
    pose = PoseDataset(pose_root, n_frames=4, resize_mode="scale_height_and_crop", load_size=128,
                       fine_size=96, random_drop_prob=0.0, load_flow=True, seed=0)[0]  # fmt: skip
    for sample in (face, pose):
        assert sample["flow_confidence"][1:].mean() > 0.5
        err, still = _warp_error(sample)
        assert err < 0.6 * still, (err, still)
    # transform_flow by hand: a uniform 2-px shift in x, cropped and halved, is a 1-px shift
    flow = torch.zeros(2, 2, 40, 40)
    flow[:, 0] = 2.0
    conf = torch.ones(2, 1, 40, 40)
    out, c = transform_flow(flow, conf, FlowCrop(None, 5, -4, 20, 20, (10, 10), flip=True))
    assert out.shape == (2, 2, 10, 10) and torch.allclose(out[:, 0, :, :7], torch.tensor(-1.0))
    assert (c[:, :, :, -2:] == 0).all()  # columns that came from outside the frame (left < 0, then flipped)


def test_pose_augmentations_and_no_flip(pose_root: Path) -> None:
    kwargs = dict(n_frames=3, resize_mode="scale_height", load_size=128, seed=4)
    clean = PoseDataset(pose_root, random_drop_prob=0.0, **kwargs)
    dropped = PoseDataset(pose_root, random_drop_prob=0.5, **kwargs)
    assert not hasattr(clean, "flip")
    a, b = clean[0], dropped[0]
    assert a["inputs"].shape == (3, 6, 128, 128) and a["inputs"].min() >= -1 and a["inputs"].max() <= 1
    assert torch.equal(a["frames"], b["frames"])
    drawn_a = (a["inputs"][:, 3:] > -1).any(1)
    drawn_b = (b["inputs"][:, 3:] > -1).any(1)
    assert (drawn_b <= drawn_a).all() and drawn_b.sum() < drawn_a.sum()  # limbs only ever removed
    dp_a, dp_b = (a["inputs"][:, 2] > -1), (b["inputs"][:, 2] > -1)
    assert (dp_b <= dp_a).all()
    no_face = PoseDataset(pose_root, random_drop_prob=0.0, remove_face_labels=True, **kwargs)[0]

    def has_head(x: torch.Tensor) -> bool:
        return bool(((x[:, 2] - (23 / 12 - 1)).abs() < 1e-5).any())

    assert has_head(a["inputs"]) and not has_head(no_face["inputs"])
    openpose = PoseDataset(pose_root, inputs="openpose", random_drop_prob=0.0, **kwargs)
    assert openpose.input_nc == 3 and torch.equal(openpose[0]["inputs"], a["inputs"][:, 3:])


def test_pose_clip_sampling_in_proportion_to_length(pose_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "poses"
    shutil.copytree(pose_root, root)
    for kind, pattern in (("img", "*.png"), ("openpose", "*.json"), ("densepose", "*.png")):
        for path in sorted((root / f"train_{kind}" / "clip_0001").glob(pattern))[3:]:
            path.unlink()  # clip 1 keeps 3 frames, clip 0 has 6
    dataset = PoseDataset(root, n_frames=2, resize_mode="scale_height", load_size=64, seed=0)
    assert len(dataset) == (6 - 2 + 1) + (3 - 2 + 1)  # frame windows, as the original's len
    picks = [dataset._pick(i, np.random.default_rng([0, 0, i]))[0].name for i in range(600)]
    share = picks.count("clip_0000") / len(picks)
    assert abs(share - 5 / 7) < 0.06
    uniform = PoseDataset(
        root, n_frames=2, resize_mode="scale_height", load_size=64, sample_by_length=False, seed=0
    )
    assert len(uniform) == 2


def test_missing_and_mismatched_files_are_reported(face_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "faces"
    shutil.copytree(face_root, root)
    next(iter(sorted((root / "train_keypoints" / "clip_0000").glob("*.txt")))).unlink()
    with pytest.raises(ValueError, match=r"clip 'clip_0000'.*5 .* files but .* 6 frames"):
        FaceDataset(root)
    with pytest.raises(FileNotFoundError, match="test_img"):
        FaceDataset(root, phase="test")
    with pytest.raises(ValueError, match="load_flow=True needs max_t_step=1"):
        PoseDataset(root, max_t_step=2, load_flow=True)


def test_clip_dataset_reads_build_inputs_folders(tmp_path: Path) -> None:
    from vid2vid.cli.build_inputs import build_face_inputs, build_pose_inputs
    from vid2vid.data import ClipDataset

    face_case = FIXTURES / "tp_face_inputs" / "sq256_load64"
    build_face_inputs(face_case / "keypoints", tmp_path / "face" / "test_A" / "c", load_size=64,
                      frames=face_case / "images", frames_out=tmp_path / "face" / "test_B" / "c")  # fmt: skip
    data = ClipDataset(
        tmp_path / "face",
        phase="test",
        label_nc=0,
        n_frames=3,
        resize_mode="none",
        size_divisor=32,
        flip=False,
    )
    clip = data.load_clip("c")
    expected = load_fixture_tensors(face_case)
    assert torch.equal(clip["inputs"], torch.from_numpy(expected["A_uint8"]).float().div(255))  # [0, 1] kept
    pose_case = FIXTURES / "tp_pose_inputs" / "densepose_openpose_240x160_load128"
    build_pose_inputs(pose_case / "openpose", tmp_path / "pose" / "test_A" / "c", load_size=128,
                      densepose=pose_case / "densepose", frames=pose_case / "images",
                      frames_out=tmp_path / "pose" / "test_B" / "c")  # fmt: skip
    pose = ClipDataset(
        tmp_path / "pose",
        phase="test",
        label_nc=0,
        n_frames=3,
        resize_mode="none",
        size_divisor=32,
        flip=False,
    )
    assert torch.equal(pose.load_clip("c")["inputs"], torch.from_numpy(load_fixture_tensors(pose_case)["A"]))
    with pytest.raises(ValueError, match="must not be flipped"):
        ClipDataset(tmp_path / "pose", phase="test", label_nc=0, n_frames=3, resize_mode="none", flip=True)
