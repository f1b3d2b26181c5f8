"""examples/image_to_image.py runs end to end at toy size: train, per-frame synthesis, bundle, labels-only."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from vid2vid.image_model_folder import load_image_model
from vid2vid.model_folder import load_model_folder

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "image_to_image.py"


def test_image_to_image_example_at_toy_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("image_to_image_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    module.main(["--out", str(tmp_path), "--tiny", "--iters", "4"])
    out = capsys.readouterr().out
    assert "per-frame baseline: mean |synthesised - real|" in out
    assert "labels-only vid2vid" in out
    image = load_image_model(tmp_path / "image" / "latest" / "model")
    assert image.label_nc == 35 and image.use_instance
    bundled = load_model_folder(tmp_path / "labels_only")
    assert bundled.first_frame == "image_generator"
    assert len(list((tmp_path / "per_frame").glob("*.png"))) == 8
    assert len(list((tmp_path / "labels_only_video").glob("*.png"))) == 8
    assert (tmp_path / "per_frame.mp4").stat().st_size > 0
