"""``vid2vid evaluate`` on a tiny model and on a folder of videos (offline, random weights)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from vid2vid.cli.main import main
from vid2vid.data.synthetic import make_synthetic_dataset
from vid2vid.model_folder import save_model_folder
from vid2vid.nn.sequential_generator import SequentialGenerator, SequentialGeneratorConfig

OFF = ["--lpips", "off", "--fid", "off", "--fvd", "off", "--quiet", "--device", "cpu"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    make_synthetic_dataset(root, n_clips=2, n_frames=5, size=(64, 32), seed=3, phase="test")
    return root


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    cfg = SequentialGeneratorConfig(
        label_nc=35,
        use_instance=True,
        ngf=4,
        n_downsample=2,
        n_blocks=1,
        n_blocks_local=1,
        no_first_frame=True,
    )
    folder = tmp_path_factory.mktemp("model") / "tiny"
    return save_model_folder(folder, SequentialGenerator(cfg), first_frame="zeros")


def test_evaluates_a_model(
    data: Path, model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    assert main(["evaluate", "--model", str(model), "--data", str(data), "--out", str(out), *OFF]) == 0
    report = json.loads((out / "report.json").read_text())
    # 5 label frames per clip; the model starts from zeros: outputs from frame n_frames_G - 1 = 2 on
    assert report["summary"]["clips"] == 2 and report["summary"]["frames"] == 6
    assert set(report["summary"]["metrics"]) == {
        "psnr",
        "ssim",
        "warp_error",
        "flicker",
        "change_ratio",
        "tof",
    }
    assert [c["reference_flow"] for c in report["clips"]] == ["ground truth"] * 2
    assert len(report["clips"][0]["per_frame"]["psnr"]) == 3
    assert set(report["meta"]["skipped"]) >= {"lpips", "fid", "fvd", "tlp"}
    assert (out / "curves.png").stat().st_size > 0 and (out / "strip.png").stat().st_size > 0
    md = (out / "summary.md").read_text()
    assert "| PSNR (dB) ↑ |" in md and "strip.png" in md
    assert "psnr" in capsys.readouterr().out


def test_evaluates_videos_made_elsewhere(data: Path, tmp_path: Path) -> None:
    # the ground truth itself, as "videos made elsewhere": the floor of every metric
    videos = tmp_path / "videos"
    shutil.copytree(data / "test_B", videos)
    out = tmp_path / "report"
    assert main(["evaluate", "--videos", str(videos), "--data", str(data), "--out", str(out), *OFF]) == 0
    m = json.loads((out / "report.json").read_text())["summary"]["metrics"]
    assert m["psnr"]["mean"] == "inf" and m["ssim"]["mean"] == pytest.approx(1.0)
    assert m["flicker"]["mean"] == 0.0 and m["tof"]["mean"] == 0.0 and m["warp_error"]["mean"] < 1e-3


def test_evaluates_videos_without_ground_truth(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["evaluate", "--videos", str(data / "test_B"), "--out", str(out), *OFF]) == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report["summary"]["metrics"]) == {"warp_error"}


def test_errors_are_messages(
    data: Path,
    model: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert main(["evaluate", "--model", str(model), "--out", str(tmp_path / "r"), *OFF]) == 2
    assert "--model needs --data" in capsys.readouterr().err
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(model),
                "--data",
                str(data),
                "--phase",
                "val",
                "--out",
                str(tmp_path / "r"),
                *OFF,
            ]
        )
        == 2
    )
    assert "val_A" in capsys.readouterr().err
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    args = [
        "evaluate",
        "--model",
        str(model),
        "--data",
        str(data),
        "--out",
        str(tmp_path / "r"),
        "--quiet",
        "--lpips",
        "on",
        "--fid",
        "off",
        "--fvd",
        "off",
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "alexnet-owt-7be5be79.pth" in err and "hub/checkpoints" in err
