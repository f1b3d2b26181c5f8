"""examples/train_{street,face,pose}.py run end to end at toy size: data → train → synthesize → MP4."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from vid2vid.data.io import read_frames
from vid2vid.model_folder import load_model_folder

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name: str):
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        assert spec.loader is not None
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    return module


# kind → (input channels, input range recorded in the model folder, output frame (H, W))
CASES = {
    "street": (35, None, (32, 64)),
    "face": (15, (0.0, 1.0), (32, 32)),
    "pose": (6, (-1.0, 1.0), (64, 64)),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_example_at_toy_size(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    channels, input_range, size = CASES[kind]
    assert _load(f"train_{kind}").main(["--out", str(tmp_path), "--tiny", "--iters", "2"]) == 0
    printed = capsys.readouterr().out
    model = load_model_folder(tmp_path / "run" / "latest" / "model")
    config = model.generator.config
    assert (config.label_nc if kind == "street" else config.input_nc) == channels
    assert model.input_range == input_range and model.first_frame == "zeros"
    assert model.metadata["training"]["global_step"] == 2
    video = read_frames(tmp_path / f"{kind}.mp4")
    assert video.shape == (8 - 2, *size, 3)  # 8 input frames, the first output is frame n_frames_G - 1
    match = re.search(
        r"held-out mean \|synthesised - real\| = ([0-9.]+) \(mean-colour baseline ([0-9.]+)\)", printed
    )
    assert match is not None, printed
    error, baseline = float(match[1]), float(match[2])
    assert 0 < error < 1 and 0 < baseline < 1
