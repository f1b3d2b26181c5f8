"""Fixtures of the training tests: a tiny synthetic dataset and a tiny configuration."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vid2vid.data.synthetic import make_synthetic_dataset
from vid2vid.nn import SequentialGeneratorConfig
from vid2vid.training import TrainConfig


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 synthetic clips of 12 frames, 64x32, with ground-truth flow."""
    root = tmp_path_factory.mktemp("synthetic")
    return make_synthetic_dataset(root, n_clips=4, n_frames=12, size=(64, 32), seed=0)


def _tiny_config(root: Path, checkpoint_dir: Path, **changes: Any) -> TrainConfig:
    """A tiny vid2vid run on the synthetic dataset (ngf 8, n_downsample 2, 64x32 frames)."""
    generator = dict(label_nc=35, use_instance=True, ngf=8, n_downsample=2, n_blocks=2, n_blocks_local=1)
    generator.update(changes.pop("generator", {}))
    settings: dict[str, Any] = dict(
        generator=SequentialGeneratorConfig(**generator),
        ndf=8,
        ndf_max=8,
        num_D=1,
        n_layers_D=2,
        n_frames_D=3,
        n_scales_temporal=2,
        dataroot=str(root),
        resize_mode="scale_width",
        load_size=64,
        fine_size=64,
        num_workers=0,
        n_frames_total=4,
        max_frames_per_gpu=2,
        niter=2,
        niter_decay=2,
        niter_step=2,
        vgg_weights="none",
        checkpoint_dir=str(checkpoint_dir),
        save_every=1000,
        log_every=1,
        image_every=1000,
        progress=False,
        tensorboard=False,
    )
    settings.update(changes)
    return TrainConfig(**settings)


@pytest.fixture
def make_config(synthetic_root: Path, tmp_path: Path) -> Callable[..., TrainConfig]:
    """Factory of tiny configs: ``make_config(name="run", **changes)`` checkpoints into ``tmp_path/name``."""

    def factory(name: str = "run", **changes: Any) -> TrainConfig:
        return _tiny_config(synthetic_root, tmp_path / name, **changes)

    return factory
