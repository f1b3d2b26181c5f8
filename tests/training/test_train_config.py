"""TrainConfig: file round trips, overrides, presets, the train CLI's resolution of settings."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from vid2vid.cli.train import register, resolve_config
from vid2vid.nn import SequentialGenerator
from vid2vid.training import PRESETS, TrainConfig, apply_overrides, get_preset, load_config, save_config


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["train", *argv])


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_config_file_round_trip(tmp_path: Path, suffix: str) -> None:
    config = apply_overrides(TrainConfig(), ["lr=1e-4", "generator.ngf=32", "generator.fg_labels=[24,26]"])
    path = save_config(config, tmp_path / f"cfg{suffix}")
    again = load_config(path)
    assert again == config
    assert again.generator.ngf == 32 and again.generator.fg_labels == [24, 26] and again.lr == 1e-4


def test_overrides_parse_values_and_reject_unknown_keys() -> None:
    config = apply_overrides(TrainConfig(), ["TTUR=true", "max_iters=7", "vgg_weights=null", "amp=bf16"])
    assert (
        config.TTUR is True and config.max_iters == 7 and config.vgg_weights is None and config.amp == "bf16"
    )
    with pytest.raises(ValueError, match="unknown setting 'lrr'"):
        apply_overrides(TrainConfig(), ["lrr=1"])
    with pytest.raises(ValueError, match="generator has"):
        apply_overrides(TrainConfig(), ["generator.nope=1"])
    with pytest.raises(ValueError, match="key=value"):
        apply_overrides(TrainConfig(), ["lr"])
    with pytest.raises(ValueError, match="amp must be one of"):
        apply_overrides(TrainConfig(), ["amp=fp8"])


def test_bad_config_files_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("lr: 1\nbogus: 2\n")
    with pytest.raises(ValueError, match="bogus"):
        load_config(bad)
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "missing.yaml")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_build(name: str) -> None:
    config = get_preset(name)
    assert config.to_dict() == TrainConfig.from_dict(config.to_dict()).to_dict()
    small = apply_overrides(config, {"generator.ngf": 8})  # the architecture builds (at a small width)
    generator = SequentialGenerator(small.generator)
    assert len(generator.scales) == config.generator.n_scales


def test_preset_values_follow_the_original_scripts() -> None:
    s1024 = get_preset("street_1024")
    assert (s1024.generator.n_scales, s1024.num_D, s1024.niter_fix_global, s1024.lr) == (2, 3, 10, 1e-4)
    assert s1024.generator.use_foreground and s1024.generator.use_instance
    s2048 = get_preset("street_2048")
    assert (s2048.generator.n_scales, s2048.num_D, s2048.niter, s2048.niter_decay, s2048.lr) == (
        3,
        4,
        5,
        5,
        5e-5,
    )
    pose = get_preset("pose_256")
    assert pose.generator.no_first_frame and pose.generator.input_nc == 6 and pose.max_t_step == 4
    assert not pose.flip and not get_preset("pose_512").flip  # the original never flips pose data
    face = get_preset("face_512")
    assert face.generator.label_nc == 0 and face.generator.input_nc == 15 and face.n_frames_total == 12
    with pytest.raises(ValueError, match="available"):
        get_preset("street_4096")


def test_cli_resolves_preset_file_set_and_flags(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("lr: 0.001\ngenerator:\n  ngf: 16\n")
    args = _parse(
        [
            "--preset",
            "street_512",
            "--config",
            str(cfg),
            "--set",
            "niter=3",
            "--batch-size",
            "2",
            "--amp",
            "fp16",
        ]
    )
    config, resume = resolve_config(args)
    assert resume is None
    assert config.lr == 0.001 and config.generator.ngf == 16  # file over preset
    assert config.generator.use_foreground  # preset kept where the file is silent
    assert config.niter == 3 and config.batch_size == 2 and config.amp == "fp16"
    args = _parse(["--config", str(cfg), "--vgg-weights", "random", "--no-progress"])
    config, _ = resolve_config(args)
    assert (
        config.vgg_weights is None and config.progress is False and config.generator.use_foreground is False
    )


def test_yaml_exponent_floats_are_numbers(tmp_path: Path) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text("lr: 1e-4\nlambda_T: 5\n")
    config = load_config(path)
    assert config.lr == 1e-4 and isinstance(config.lambda_T, float)
    path.write_text("lr: fast\n")
    with pytest.raises(ValueError, match="lr must be a number"):
        load_config(path)


def test_presets_chain_by_checkpoint_path() -> None:
    assert get_preset("street_512").checkpoint_dir == "checkpoints/street_512"
    assert get_preset("street_1024").load_pretrain == "checkpoints/street_512/latest/model"
    assert get_preset("street_2048").load_pretrain == "checkpoints/street_1024/latest/model"
    assert get_preset("pose_512").load_pretrain == "checkpoints/pose_256/latest/model"
