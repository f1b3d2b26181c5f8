"""The evaluation study's recipe (scripts/study_train.py, scripts/study_evaluate.py) runs end to end (--smoke)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_study_recipe_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train, evaluate = _load("study_train"), _load("study_evaluate")
    assert train.main(["--work", str(tmp_path), "--smoke"]) == 0
    for variant in train.VARIANTS:
        assert (tmp_path / "runs" / f"{variant}-s0" / "latest" / "model" / "config.json").is_file()
    no_flow = json.loads((tmp_path / "runs" / "no_flow-s0" / "latest" / "model" / "config.json").read_text())
    assert no_flow["config"]["no_flow"] is True
    assert evaluate.main(["--work", str(tmp_path)]) == 0
    table = json.loads((tmp_path / "study.json").read_text())
    assert list(table) == ["full", "image", "no_flow", "no_temporal_d", "ground_truth", "paired_vs_full"]
    assert set(table["paired_vs_full"]) == {"image", "no_flow", "no_temporal_d", "ground_truth"}
    assert table["ground_truth"]["metrics"]["flicker"]["mean"] == 0.0
    # the per-frame baseline was synthesised frame by frame into a videos folder
    assert len(list((tmp_path / "videos" / "image-s0" / "clip_0000").glob("*.png"))) == 6
    assert (tmp_path / "study_curves.png").is_file() and (tmp_path / "study_strip.png").is_file()
    assert "(b) per-frame image model" in capsys.readouterr().out


def test_only_the_no_temporal_d_variant_drops_the_temporal_discriminator(tmp_path: Path) -> None:
    train = _load("study_train")
    train.make_data(tmp_path / "data", train.SMOKE_DATA)
    full = train.train("full", tmp_path, seed=0, iters=2, train_clips=2)
    ablated = train.train("no_temporal_d", tmp_path, seed=0, iters=2, train_clips=2)
    assert "G_T_GAN0" in full.last_losses and "D_T_real0" in full.last_losses
    assert not any(k.startswith(("G_T_", "D_T_")) for k in ablated.last_losses)
    assert "F_Flow" in ablated.last_losses  # the rest of the objective is unchanged
