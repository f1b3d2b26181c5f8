"""``vid2vid train`` on the synthetic face and pose sets, end to end at toy size."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from vid2vid.cli.main import main
from vid2vid.data import FaceDataset, PoseDataset
from vid2vid.data.synthetic import make_synthetic_dataset
from vid2vid.model_folder import load_model_folder
from vid2vid.training import TrainConfig
from vid2vid.training.trainer import Vid2VidTrainer

TINY = [
    "--set", "generator.ngf=8", "--set", "generator.n_downsample=2", "--set", "generator.n_blocks=2",
    "--set", "ndf=8", "--set", "ndf_max=8", "--set", "num_D=1", "--set", "n_layers_D=2",
    "--set", "n_frames_total=4", "--set", "max_frames_per_gpu=2", "--set", "batch_size=1",
    "--set", "vgg_weights=none", "--set", "num_workers=0", "--set", "tensorboard=false",
    "--set", "save_every=1000", "--set", "log_every=1",
]  # fmt: skip


@pytest.fixture(scope="module")
def face_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_synthetic_dataset(tmp_path_factory.mktemp("faces"), 2, 8, (96, 96), seed=0, kind="face")


@pytest.fixture(scope="module")
def pose_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_synthetic_dataset(tmp_path_factory.mktemp("poses"), 2, 8, (128, 64), seed=0, kind="pose")


def test_face_model_trains_from_the_cli(face_root: Path, tmp_path: Path, capsys) -> None:
    ckpt = tmp_path / "face"
    args = ["train", "--preset", "face_512", "--dataroot", str(face_root), "--checkpoint-dir", str(ckpt),
            "--max-iters", "3", "--no-progress", "--device", "cpu", "--set", "load_size=32", *TINY]  # fmt: skip
    assert main(args) == 0
    assert "finished: step 3" in capsys.readouterr().out
    model = load_model_folder(ckpt / "latest" / "model")
    assert model.generator.config.label_nc == 0 and model.generator.config.input_nc == 15
    # FaceDataset feeds the original's unnormalised face maps: the folder must say so for the pipeline
    assert model.input_range == (0.0, 1.0)


def test_pose_model_trains_from_the_cli(pose_root: Path, tmp_path: Path, capsys) -> None:
    ckpt = tmp_path / "pose"
    args = ["train", "--preset", "pose_256", "--dataroot", str(pose_root), "--checkpoint-dir", str(ckpt),
            "--max-iters", "3", "--no-progress", "--device", "cpu", "--set", "load_size=64",
            "--set", "fine_size=64", "--set", "max_t_step=1", "--set", "flow_source=cache", *TINY]  # fmt: skip
    assert main(args) == 0
    assert "finished: step 3" in capsys.readouterr().out
    model = load_model_folder(ckpt / "latest" / "model")
    assert model.generator.config.input_nc == 6 and model.generator.config.no_first_frame
    assert model.input_range == (-1.0, 1.0)


def test_face_losses_are_finite_and_use_the_ground_truth_flow(face_root: Path, tmp_path: Path) -> None:
    from vid2vid.nn import presets

    config = TrainConfig(
        generator=presets.face_512(ngf=8, n_downsample=2, n_blocks=2),
        dataset_mode="face",
        dataroot=str(face_root),
        load_size=32,
        ndf=8, ndf_max=8, num_D=1, n_layers_D=2,
        n_frames_total=4, max_frames_per_gpu=2, max_iters=4, niter=2, niter_decay=0,
        vgg_weights="none", num_workers=0, tensorboard=False, progress=False, log_every=1,
        checkpoint_dir=str(tmp_path / "ckpt"), device="cpu",
    )  # fmt: skip
    trainer = Vid2VidTrainer(config)
    assert isinstance(trainer.dataset, FaceDataset) and trainer.dataset.load_flow
    result = trainer.train()
    records = trainer.logger.records
    assert result.global_step == 4 and len(records) == 4
    assert all(math.isfinite(v) for r in records for v in r.values())
    assert records[0]["F_Flow"] > 0  # the flow head is trained against the cached ground truth


def test_dataset_selection_errors(face_root: Path, pose_root: Path, tmp_path: Path) -> None:
    from vid2vid.nn import presets
    from vid2vid.training.trainer import build_clip_dataset

    base = dict(ndf=8, num_workers=0, checkpoint_dir=str(tmp_path), device="cpu")
    bad_nc = TrainConfig(
        generator=presets.face_512(input_nc=3), dataset_mode="face", dataroot=str(face_root), **base
    )
    with pytest.raises(ValueError, match="15 channels"):
        build_clip_dataset(bad_nc, 3, 4, load_flow=True)
    bad_mode = TrainConfig(
        generator=presets.pose_256(),
        dataset_mode="pose",
        dataroot=str(pose_root),
        resize_mode="scale_width",
        **base,
    )
    with pytest.raises(ValueError, match="not a pose mode"):
        build_clip_dataset(bad_mode, 3, 4, load_flow=True)
    edges_only = TrainConfig(
        generator=presets.face_512(input_nc=1),
        dataset_mode="face",
        dataroot=str(face_root),
        load_size=32,
        **base,
    )
    face = build_clip_dataset(edges_only, 3, 4, load_flow=False)
    assert isinstance(face, FaceDataset) and face.input_nc == 1 and face[0]["inputs"].shape == (3, 1, 32, 32)
    with pytest.raises(ValueError, match="dataset_mode must be one of"):
        TrainConfig(dataset_mode="faces", **base)
    ok = TrainConfig(
        generator=presets.pose_256(), dataset_mode="pose", dataroot=str(pose_root),
        resize_mode="scale_height", load_size=64, max_t_step=1, **base,
    )  # fmt: skip
    dataset = build_clip_dataset(ok, 3, 4, load_flow=True)
    assert isinstance(dataset, PoseDataset) and dataset.input_nc == 6
    sample = dataset[0]
    assert sample["inputs"].shape == (3, 6, 64, 64) and sample["frames"].shape == (3, 3, 64, 64)
    assert sample["flow"].shape == (3, 2, 64, 64) and torch.isfinite(sample["flow"]).all()


def test_clip_dataset_input_range_follows_the_build_inputs_folders(face_root: Path, tmp_path: Path) -> None:
    from vid2vid.cli.build_inputs import build_face_inputs
    from vid2vid.data import ClipDataset

    root = tmp_path / "built"
    for clip in ("a", "b"):
        build_face_inputs(
            face_root / "train_keypoints" / "clip_0000", root / "train_A" / clip, load_size=32,
            frames=face_root / "train_img" / "clip_0000", frames_out=root / "train_B" / clip,
        )  # fmt: skip
    assert ClipDataset(root, label_nc=0, n_frames=2).input_range == (0.0, 1.0)
    info = root / "train_A" / "b" / "inputs.json"
    info.write_text(info.read_text().replace('"unit"', '"symmetric"'))
    with pytest.raises(ValueError, match="mix input ranges"):
        _ = ClipDataset(root, label_nc=0, n_frames=2).input_range
