"""``vid2vid demo`` with the shipped checkpoint, and ``vid2vid synthesize`` on a tiny model folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vid2vid.cli.demo import demo_model_folder
from vid2vid.cli.main import main
from vid2vid.data.io import read_frames


def test_demo_writes_video_and_strip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo.mp4"
    assert main(["demo", "--out", str(out), "--frames", "4", "--quiet"]) == 0
    printed = capsys.readouterr().out
    strip = tmp_path / "demo_strip.png"
    assert f"video: {out}" in printed and f"strip: {strip}" in printed
    frames = read_frames(out)
    assert frames.shape == (4, 64, 128, 3)
    image = np.asarray(Image.open(strip))
    assert image.shape == (4 * 64, 2 * 128, 3)  # rows of labels | output


def test_demo_checkpoint_is_small_and_trained() -> None:
    from vid2vid.data.synthetic import render_synthetic_clip
    from vid2vid.pipeline import Vid2VidPipeline

    folder = demo_model_folder()
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 6_000_000, size
    pipe = Vid2VidPipeline.from_pretrained(folder)
    assert pipe.first_frame == "zeros" and pipe.labels["names"][26] == "car"
    clip = render_synthetic_clip(6, 128, 64, seed=99)
    out = pipe(torch.from_numpy(clip["labels"]), torch.from_numpy(clip["instances"]), progress=False)
    real = torch.from_numpy(clip["frames"]).permute(0, 3, 1, 2).float() / 255.0
    # A trained model reproduces the synthetic street colours; an untrained one is far off (~0.3).
    assert out.first_index == 2 and out.frames.shape[0] == 4
    error = float((out.frames - real[out.first_index :]).abs().mean())
    assert error < 0.15, error


@pytest.mark.parametrize("kind", ["face", "pose"])
def test_face_and_pose_demos_write_video_and_strip(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"{kind}.mp4"
    assert main(["demo", "--kind", kind, "--out", str(out), "--frames", "3", "--quiet"]) == 0
    assert f"video: {out}" in capsys.readouterr().out
    assert read_frames(out).shape == (3, 128, 128, 3)
    strip = np.asarray(Image.open(tmp_path / f"{kind}_strip.png"))
    assert strip.shape == (3 * 128, 2 * 128, 3)  # rows of inputs | output
    assert strip[:, :128].std() > 10 and strip[:, 128:].std() > 10  # drawn inputs, a non-flat output


# kind → (input channels, input range the model was trained on)
KEYPOINT_DEMOS = {"face": (15, (0.0, 1.0)), "pose": (6, (-1.0, 1.0))}


@pytest.mark.parametrize("kind", sorted(KEYPOINT_DEMOS))
def test_face_and_pose_demo_checkpoints_are_small_and_trained(kind: str) -> None:
    from vid2vid.cli.demo import keypoint_inputs
    from vid2vid.nn import SequentialGenerator
    from vid2vid.pipeline import Vid2VidPipeline

    folder = demo_model_folder(kind)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 6_000_000, size
    pipe = Vid2VidPipeline.from_pretrained(folder)
    channels, input_range = KEYPOINT_DEMOS[kind]
    assert pipe.config.input_nc == channels and pipe.config.label_nc == 0
    assert pipe.input_range == input_range and pipe.first_frame == "zeros"
    assert pipe.metadata["training"]["trainer"].startswith("vid2vid.training.Vid2VidTrainer")
    maps, _, real = keypoint_inputs(pipe, kind, 6, seed=99)  # a clip the model never saw
    lo, hi = input_range
    assert float(maps.min()) == lo and float(maps.max()) <= hi  # the range the model was trained on
    out = pipe(maps, progress=False)
    assert out.first_index == 2 and out.frames.shape == (4, 3, 128, 128)
    torch.manual_seed(0)
    fresh = Vid2VidPipeline(
        SequentialGenerator(**pipe.config.to_dict()).eval(), "zeros", input_range=input_range
    )
    error = float((out.frames - real[2:]).abs().mean())
    untrained = float((fresh(maps, progress=False).frames - real[2:]).abs().mean())
    assert error < untrained - 0.01, (error, untrained)


def test_demo_kind_is_checked() -> None:
    with pytest.raises(ValueError, match="demo kind must be one of"):
        demo_model_folder("faces")


def test_synthesize_cli_on_label_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vid2vid.nn import SequentialGenerator
    from vid2vid.pipeline import Vid2VidPipeline

    torch.manual_seed(0)
    gen = SequentialGenerator(label_nc=4, ngf=8, n_downsample=2, n_blocks=1, no_first_frame=True)
    pipe = Vid2VidPipeline(gen.eval(), first_frame="zeros")
    model = pipe.save_pretrained(tmp_path / "model")
    labels = np.random.default_rng(0).integers(0, 4, (5, 32, 64)).astype(np.uint8)
    folder = tmp_path / "labels"
    folder.mkdir()
    for t, lab in enumerate(labels):
        Image.fromarray(lab).save(folder / f"frame_{t:02d}.png")
    out = tmp_path / "frames"  # no suffix: lossless PNG folder
    argv = [
        "synthesize",
        "--model",
        str(model),
        "--labels",
        str(folder),
        "--out",
        str(out),
        "--device",
        "cpu",
    ]
    assert main([*argv, "--quiet"]) == 0
    assert f"wrote 3 frames to {out}" in capsys.readouterr().out  # 5 labels, first output = frame 2
    want = (pipe(torch.from_numpy(labels.astype(np.int64)), progress=False).frames * 255).round().byte()
    np.testing.assert_array_equal(read_frames(out), want.permute(0, 2, 3, 1).numpy())
    assert main([*argv, "--dtype", "float16"]) == 2
    assert "float16 inference is not supported on CPU" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    for t in range(3):
        Image.fromarray(np.full((32, 64), 7, np.uint8)).save(bad / f"{t}.png")
    assert main(["synthesize", "--model", str(model), "--labels", str(bad), "--out", str(out)]) == 2
    assert "class id 7, outside [0, 4)" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["street", "face", "pose"])
def test_shipped_demo_checkpoints_record_their_recipe(kind: str) -> None:
    import importlib.util
    import json

    script = Path(__file__).resolve().parents[1] / "scripts" / "train_demo_model.py"
    spec = importlib.util.spec_from_file_location("train_demo_model", script)
    recipe = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(recipe)
    from vid2vid.training import TrainConfig

    train = recipe.KINDS[kind]["train"]
    config = TrainConfig.from_dict({**train, "dataroot": "data", "checkpoint_dir": "run"})
    meta = json.loads((demo_model_folder(kind) / "config.json").read_text())["training"]
    assert meta["config"] == json.loads(json.dumps(train))  # the shipped weights came from this recipe
    assert meta["dataset"] == "vid2vid make-synthetic " + " ".join(recipe.KINDS[kind]["data"])
    if kind != "street":
        assert config.dataset_mode == kind and config.generator.no_first_frame
        assert meta["global_step"] == config.max_iters
