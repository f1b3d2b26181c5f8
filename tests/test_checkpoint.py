"""Checkpoint files and the model folder: atomic writes, strict loads, round trips."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vid2vid.checkpoint import load_module_weights, save_module_weights, write_json
from vid2vid.model_folder import load_model_folder, save_model_folder
from vid2vid.nn import ImageGenerator, SequentialGenerator


def _tiny_generator() -> SequentialGenerator:
    return SequentialGenerator(label_nc=4, use_instance=True, ngf=4, n_downsample=1, n_blocks=2, n_scales=2)


def test_model_folder_round_trip_gives_identical_outputs(tmp_path: Path) -> None:
    gen = _tiny_generator()
    image_gen = ImageGenerator(input_nc=4, ngf=4, n_downsample=1, n_blocks=1)
    clusters = {"class_2": torch.randn(3, 5)}
    save_model_folder(
        tmp_path / "m",
        gen,
        first_frame="image_generator",
        image_generator=image_gen,
        feature_clusters=clusters,
        labels={"names": ["a", "b", "c", "d"], "colors": [[0, 0, 0]] * 4},
        metadata={"license": "MIT"},
    )
    assert not list((tmp_path / "m").rglob("*.tmp"))
    loaded = load_model_folder(tmp_path / "m")
    assert loaded.first_frame == "image_generator" and loaded.labels["names"][2] == "c"
    assert loaded.metadata["license"] == "MIT"
    assert torch.equal(loaded.feature_clusters["class_2"], clusters["class_2"])
    labels = torch.randint(0, 4, (1, 3, 8, 8))
    inst = torch.randint(0, 2, (1, 3, 8, 8))
    gen.eval()
    with torch.no_grad():
        x = gen.encode_inputs(labels, inst)
        assert torch.equal(gen.generate(x).image, loaded.generator.generate(x).image)
        probe = torch.rand(1, 4, 8, 8)
        assert torch.equal(image_gen(probe), loaded.image_generator(probe))


def test_strict_loading_names_missing_and_unexpected_tensors(tmp_path: Path) -> None:
    gen = _tiny_generator()
    path = save_module_weights(gen, tmp_path / "w.safetensors")
    other = SequentialGenerator(label_nc=4, use_instance=True, ngf=4, n_downsample=1, n_blocks=2, n_scales=1)
    with pytest.raises(KeyError, match=r"unexpected tensors \['scales\.1\."):
        load_module_weights(other, path)
    wider = SequentialGenerator(label_nc=4, use_instance=True, ngf=8, n_downsample=1, n_blocks=2, n_scales=2)
    with pytest.raises(ValueError, match="wrong shape"):
        load_module_weights(wider, path)
    with pytest.raises(FileNotFoundError, match="weights file not found"):
        load_module_weights(gen, tmp_path / "nope.safetensors")


def test_model_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="model folder not found"):
        load_model_folder(tmp_path / "missing")
    write_json(tmp_path / "x" / "config.json", {"model_type": "something_else"})
    with pytest.raises(ValueError, match="model_type is 'something_else'"):
        load_model_folder(tmp_path / "x")
    with pytest.raises(ValueError, match="no first-frame image generator"):
        save_model_folder(tmp_path / "y", _tiny_generator(), first_frame="image_generator")
    folder = save_model_folder(tmp_path / "z", _tiny_generator())
    (folder / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ValueError, match="cannot read .* as safetensors"):
        load_model_folder(folder)
