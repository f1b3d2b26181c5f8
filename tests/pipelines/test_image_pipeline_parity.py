"""Converted original pix2pixHD generators (global and local) reproduce the original through the pipeline.

The path a user takes: ``vid2vid convert --kind pix2pixhd_*`` writes an image-model folder,
``Vid2VidPipeline.from_pretrained`` loads it (as a :class:`Pix2PixHDPipeline`) and synthesises
the fixture's label maps, one clip frame by frame and each map as a single image. The expected
outputs are the original's (see the fixtures' README).

Fixtures come from two places: the copies carried in ``tests/fixtures/p2phd`` (their weights are
redrawn from a recipe and must match the original file's SHA-256, so a fresh clone still checks
parity), and every ``p2phd_*`` folder of the full reference set when it is present
(``$VID2VID_FIXTURES`` or ``../shared/fixtures/nvidia-vid2vid``).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from vid2vid import Pix2PixHDPipeline, Vid2VidPipeline
from vid2vid.cli.main import main

CARRIED = Path(__file__).resolve().parents[1] / "fixtures" / "p2phd"
ROOT = Path(__file__).resolve().parents[2]


def _weights_module():
    spec = importlib.util.spec_from_file_location("p2phd_weights", CARRIED / "weights.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _shared_root() -> Path:
    import os

    return Path(os.environ.get("VID2VID_FIXTURES", ROOT.parent / "shared" / "fixtures" / "nvidia-vid2vid"))


CARRIED_NAMES = sorted(p.name for p in CARRIED.glob("p2phd_*") if (p / "config.json").is_file())
SHARED_NAMES = sorted(p.name for p in _shared_root().glob("p2phd_*") if (p / "config.json").is_file())


def test_the_repository_carries_the_global_and_local_fixtures() -> None:
    kinds = {json.loads((CARRIED / n / "config.json").read_text())["kind"] for n in CARRIED_NAMES}
    assert kinds == {"pix2pixhd_global", "pix2pixhd_local"}
    size = sum(f.stat().st_size for f in CARRIED.rglob("*") if f.is_file())
    assert size < 600_000, f"the carried copy grew to {size} bytes"


def _materialise(fixture: Path, tmp: Path) -> tuple[Path, dict]:
    """A folder laid out like a reference fixture: config.json, io.safetensors, the .pth weights."""
    cfg = json.loads((fixture / "config.json").read_text())
    (weights_file,) = cfg["weights"]
    if (fixture / weights_file).is_file():
        return fixture, cfg
    w = _weights_module()
    spec = json.loads((fixture / "weights.json").read_text())
    state = w.redraw_state_dict(spec["recipe"])
    assert w.state_dict_sha256(state) == spec["sha256"], "the redrawn weights are not the original's"
    out = tmp / fixture.name
    out.mkdir()
    torch.save(state, out / weights_file)  # the original's checkpoint format, read with weights_only=True
    shutil.copy(fixture / "config.json", out / "config.json")
    shutil.copy(fixture / "io.safetensors", out / "io.safetensors")
    return out, cfg


def _replay(fixture: Path, tmp: Path) -> float:
    """Convert with the CLI, synthesise through the pipeline; max |ours - original| over every output."""
    folder, cfg = _materialise(fixture, tmp)
    model_dir = tmp / f"{fixture.name}-model"
    code = main(
        [
            "convert",
            "--kind",
            cfg["kind"],
            "--weights",
            str(folder / cfg["weights"][0]),
            "--options",
            str(folder / "config.json"),
            "--out",
            str(model_dir),
        ]
    )
    assert code == 0
    pipe = Vid2VidPipeline.from_pretrained(model_dir)
    assert isinstance(pipe, Pix2PixHDPipeline)
    assert "CC BY-NC-SA 4.0" in pipe.metadata["license"]
    io = load_file(folder / "io.safetensors")
    labels, expected = io["labels"].long(), io["expected"]
    clip = pipe(labels, progress=False).frames  # (T, 3, H, W) in [0, 1], frame by frame
    assert clip.shape == expected.shape
    diff = float((clip * 2 - 1 - expected).abs().max())
    for t in range(labels.shape[0]):  # each map alone, as a single image
        single = pipe(labels[t]).frames
        assert single.shape == expected.shape[1:]
        diff = max(diff, float((single * 2 - 1 - expected[t]).abs().max()))
    return diff


@pytest.mark.parametrize("name", CARRIED_NAMES)
def test_carried_p2phd_fixture_through_the_pipeline(name: str, tmp_path: Path) -> None:
    diff = _replay(CARRIED / name, tmp_path)
    assert diff <= 1e-4, f"{name}: max |ours - original| = {diff}"


@pytest.mark.parametrize("name", SHARED_NAMES)
def test_shared_p2phd_fixture_through_the_pipeline(name: str, tmp_path: Path) -> None:
    diff = _replay(_shared_root() / name, tmp_path)
    assert diff <= 1e-4, f"{name}: max |ours - original| = {diff}"


@pytest.mark.parametrize("name", [n for n in SHARED_NAMES if n in CARRIED_NAMES])
def test_carried_copy_matches_the_reference_set(name: str) -> None:
    """The copy's recipe redraws the reference weights exactly, and its data are the reference's."""
    shared, carried = _shared_root() / name, CARRIED / name
    w = _weights_module()
    spec = json.loads((carried / "weights.json").read_text())
    original = torch.load(shared / spec["file"], map_location="cpu", weights_only=True)
    assert w.state_dict_sha256(original) == spec["sha256"]
    io_ref, io_copy = load_file(shared / "io.safetensors"), load_file(carried / "io.safetensors")
    assert torch.equal(io_ref["labels"], io_copy["labels"].long())
    assert torch.equal(io_ref["expected"], io_copy["expected"])


def test_parity_replay_detects_a_changed_weight(tmp_path: Path) -> None:
    """The replay is not vacuous: one perturbed weight of the original moves the output past 1e-4."""
    folder, cfg = _materialise(CARRIED / "p2phd_global_d3", tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    state = torch.load(folder / cfg["weights"][0], weights_only=True)
    # (a bias before an instance norm would cancel: perturb the first convolution's weights)
    noise = torch.randn(state["model.1.weight"].shape, generator=torch.Generator().manual_seed(0))
    state["model.1.weight"] = state["model.1.weight"] + 0.01 * noise
    torch.save(state, bad / cfg["weights"][0])
    shutil.copy(folder / "config.json", bad / "config.json")
    shutil.copy(folder / "io.safetensors", bad / "io.safetensors")
    assert _replay(bad, tmp_path / "run") > 1e-3
