"""Parity with the original NVIDIA/vid2vid: every reference fixture, converted, within 1e-4."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from vid2vid.cli.main import main
from vid2vid.convert import (
    ConversionError,
    convert_original,
    infer_generator_options,
    load_original_state_dict,
    read_original_options,
)
from vid2vid.convert.parity import check_fixture, run_fixture
from vid2vid.model_folder import load_model_folder

FIXTURE_NAMES = [
    "d_multiscale_3",
    "d_temporal_2",
    "e_instance_encoder",
    "g_city_s1_d2_noflow",
    "g_city_s1_d3",
    "g_city_s2_d2",
    "g_city_s3_d2",
    "g_face_s1_d3",
    "g_pose_s2_d2_nofirst",
    "p2phd_global_d3",
    "p2phd_local_d3",
]


def test_every_fixture_is_covered(fixtures_dir: Path) -> None:
    found = sorted(p.name for p in fixtures_dir.iterdir() if (p / "config.json").is_file())
    assert found == sorted(FIXTURE_NAMES)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_parity_with_original(fixtures_dir: Path, name: str) -> None:
    result = check_fixture(fixtures_dir / name)
    assert result.n_values > 0
    assert result.max_abs_diff <= 1e-4, f"{name}: max |ours - original| = {result.max_abs_diff}"


def test_parity_is_sensitive_to_the_weights(fixtures_dir: Path) -> None:
    """A perturbed weight must show up: the parity check cannot pass by construction."""
    folder = fixtures_dir / "g_city_s2_d2"
    cfg = json.loads((folder / "config.json").read_text())
    sds = [load_original_state_dict(folder / w) for w in cfg["weights"]]
    sds[1]["model_final_flow.1.bias"] = sds[1]["model_final_flow.1.bias"] + 0.05
    model, _ = convert_original("vid2vid_generator", cfg, sds)
    ours, expected = run_fixture(folder)
    # run_fixture used the untouched weights: equal; the perturbed model must differ.
    assert torch.allclose(ours["expected"], expected["expected"], atol=1e-4)
    with torch.no_grad():
        from safetensors.torch import load_file

        io = load_file(folder / "io.safetensors")
        inputs = model.encode_inputs(io["labels"][None], io["instances"][None])
        out = model.generate(inputs, io["real"][None, :2]).image[0]
    assert (out - expected["expected"]).abs().max() > 1e-3


def _generator_fixture(fixtures_dir: Path, name: str) -> tuple[dict, list[dict]]:
    folder = fixtures_dir / name
    cfg = json.loads((folder / "config.json").read_text())
    return cfg, [load_original_state_dict(folder / w) for w in cfg["weights"]]


def test_missing_key_is_named(fixtures_dir: Path) -> None:
    cfg, sds = _generator_fixture(fixtures_dir, "g_city_s1_d2_noflow")
    del sds[0]["model_down_img.4.weight"]
    with pytest.raises(ConversionError, match=r"missing.*model_down_img\.4\.weight"):
        convert_original("vid2vid_generator", cfg, sds)


def test_unexpected_key_is_named(fixtures_dir: Path) -> None:
    cfg, sds = _generator_fixture(fixtures_dir, "g_city_s1_d2_noflow")
    sds[0]["extra_layer.weight"] = torch.zeros(3)
    with pytest.raises(ConversionError, match=r"unexpected keys.*extra_layer\.weight"):
        convert_original("vid2vid_generator", cfg, sds)


def test_wrong_options_are_reported_as_options(fixtures_dir: Path) -> None:
    cfg, sds = _generator_fixture(fixtures_dir, "g_city_s1_d3")
    wrong = {**cfg, "ngf": 16, "use_instance": False}
    with pytest.raises(ConversionError) as err:
        convert_original("vid2vid_generator", wrong, sds)
    message = str(err.value)
    assert "ngf=16 but the weights say 8" in message
    assert "weights expect 36" in message


def test_infer_generator_options(fixtures_dir: Path) -> None:
    _, sds = _generator_fixture(fixtures_dir, "g_city_s3_d2")
    inferred = infer_generator_options(sds)
    assert inferred == {
        "ngf": 8,
        "n_downsample_G": 2,
        "n_blocks": 9,
        "n_blocks_local": 3,
        "n_scales_spatial": 3,
        "fg": True,
        "no_flow": False,
        "norm": "batch",
        "n_frames_G": 3,
        "frame_nc": 36,
    }


def test_discriminator_scale_order_is_reversed(fixtures_dir: Path) -> None:
    """The original's ``scale{num_D-1}`` weights process the full-resolution input."""
    folder = fixtures_dir / "d_multiscale_3"
    cfg = json.loads((folder / "config.json").read_text())
    sd = load_original_state_dict(folder / "net_D.pth")
    model, _ = convert_original("multiscale_patch_discriminator", cfg, [sd])
    assert torch.equal(model.scales[0].layers[0].conv.weight, sd["scale2_layer0.0.weight"])
    assert torch.equal(model.scales[2].layers[0].conv.weight, sd["scale0_layer0.0.weight"])


def test_read_original_opt_txt(tmp_path: Path) -> None:
    opt = tmp_path / "opt.txt"
    opt.write_text(
        "------------ Options -------------\n"
        "fg: True\nfg_labels: [26]\nlabel_nc: 35\nn_scales_spatial: 3\nname: label2city_2048\n"
        "ngf: 128\nnorm: batch\nuse_instance: True\nlr: 0.0002\n"
        "-------------- End ----------------\n"
    )
    options = read_original_options(opt)
    assert options["fg"] is True and options["fg_labels"] == [26] and options["ngf"] == 128
    assert options["lr"] == pytest.approx(2e-4) and options["name"] == "label2city_2048"


def test_convert_cli_writes_a_loadable_model_folder(fixtures_dir: Path, tmp_path: Path) -> None:
    src = fixtures_dir / "g_city_s2_d2"
    ckpt = tmp_path / "checkpoints"
    ckpt.mkdir()
    for name in ("latest_net_G0.pth", "latest_net_G1.pth"):
        shutil.copy(src / name, ckpt / name)
    out = tmp_path / "converted"
    code = main(
        [
            "convert",
            "--weights",
            str(ckpt),
            "--options",
            str(src / "config.json"),
            "--out",
            str(out),
            "--verify",
            str(src),
        ]
    )
    assert code == 0
    folder = load_model_folder(out)
    assert folder.generator.config.n_scales == 2 and folder.first_frame == "real"
    assert "CC BY-NC-SA 4.0" in folder.metadata["license"]
    # The saved weights reproduce the original's outputs.
    from safetensors.torch import load_file

    io = load_file(src / "io.safetensors")
    with torch.no_grad():
        inputs = folder.generator.encode_inputs(io["labels"][None], io["instances"][None])
        out_frames = folder.generator.generate(inputs, io["real"][None, :2]).image[0]
    assert (out_frames - io["expected"]).abs().max() <= 1e-4


def test_convert_cli_reports_bad_options(
    fixtures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = fixtures_dir / "g_city_s1_d3"
    code = main(["convert", "--weights", str(src / "latest_net_G0.pth"), "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert "ngf=128 but the weights say 8" in err
    assert not (tmp_path / "x").exists()
