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
