"""Generator presets mirroring the original NVIDIA/vid2vid scripts (``scripts/{street,face,pose}``).

Each preset is a thin function returning a :class:`SequentialGeneratorConfig` with the
architecture the original's scripts train and test with (the original's defaults: ``ngf=128``,
``n_downsample_G=3``, ``n_blocks=9``, ``n_frames_G=3``; BatchNorm with per-call statistics,
which is our ``instance_affine``). Keyword arguments override any field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vid2vid.nn.sequential_generator import SequentialGeneratorConfig

__all__ = [
    "GENERATOR_PRESETS",
    "generator_preset",
    "street_512",
    "street_1024",
    "street_2048",
    "street_1024_single_gpu",
    "face_512",
    "pose_256",
    "pose_512",
    "pose_1024",
]


def _street(n_scales: int, **overrides: Any) -> SequentialGeneratorConfig:
    base: dict[str, Any] = {
        "label_nc": 35,
        "use_instance": True,
        "use_foreground": True,
        "fg_labels": [26],
        "n_scales": n_scales,
    }
    return SequentialGeneratorConfig(**{**base, **overrides})


def street_512(**overrides: Any) -> SequentialGeneratorConfig:
    """Cityscapes labels → 512×256 street video (``label2city_512``: global network only)."""
    return _street(1, **overrides)


def street_1024(**overrides: Any) -> SequentialGeneratorConfig:
    """Cityscapes labels → 1024×512 (``label2city_1024``: global + one local enhancer)."""
    return _street(2, **overrides)


def street_2048(**overrides: Any) -> SequentialGeneratorConfig:
    """Cityscapes labels → 2048×1024 (``label2city_2048``, the released model: three scales)."""
    return _street(3, **overrides)


def street_1024_single_gpu(**overrides: Any) -> SequentialGeneratorConfig:
    """Cityscapes labels → 1024×512 on one GPU (``label2city_1024_g1``: three scales, two downsamplings)."""
    return _street(3, **{"n_downsample": 2, **overrides})


def face_512(**overrides: Any) -> SequentialGeneratorConfig:
    """Face edge maps (15 channels: edges + distance maps) → 512×512 faces (``edge2face_512``)."""
    return SequentialGeneratorConfig(**{"label_nc": 0, "input_nc": 15, "n_scales": 1, **overrides})


def _pose(n_scales: int, **overrides: Any) -> SequentialGeneratorConfig:
    base: dict[str, Any] = {"label_nc": 0, "input_nc": 6, "n_scales": n_scales, "no_first_frame": True}
    return SequentialGeneratorConfig(**{**base, **overrides})


def pose_256(**overrides: Any) -> SequentialGeneratorConfig:
    """DensePose + OpenPose renderings (6 channels) → 256p dancing video (``pose2body_256p``)."""
    return _pose(1, **overrides)


def pose_512(**overrides: Any) -> SequentialGeneratorConfig:
    """Pose → 512p (``pose2body_512p``: two scales, generates its first frames)."""
    return _pose(2, **overrides)


def pose_1024(**overrides: Any) -> SequentialGeneratorConfig:
    """Pose → 1024p (``pose2body_1024p``: three scales, generates its first frames)."""
    return _pose(3, **overrides)


GENERATOR_PRESETS: dict[str, Callable[..., SequentialGeneratorConfig]] = {
    "street_512": street_512,
    "street_1024": street_1024,
    "street_2048": street_2048,
    "street_1024_single_gpu": street_1024_single_gpu,
    "face_512": face_512,
    "pose_256": pose_256,
    "pose_512": pose_512,
    "pose_1024": pose_1024,
}


def generator_preset(name: str, **overrides: Any) -> SequentialGeneratorConfig:
    """Look up a preset by name; unknown names list the options."""
    if name not in GENERATOR_PRESETS:
        raise ValueError(f"unknown generator preset {name!r}; expected one of {', '.join(GENERATOR_PRESETS)}")
    return GENERATOR_PRESETS[name](**overrides)
