"""Geometric augmentation of clips: resize, crop and horizontal flip, identical for every frame.

Mirrors the original's ``resize_or_crop`` options (its ``data/base_dataset.py``): one set of
parameters is drawn per training sample and applied to all its frames, label maps, instance maps
and the reference flow, so that labels, frames and motion stay consistent:

* images (frames, continuous input maps): bilinear with antialiasing (area-like when shrinking);
* label and instance maps: nearest neighbour (pixel-centre aligned, ``nearest-exact``);
* flow: the field is resampled bilinearly and its vectors are scaled by the resize factors
  (``W'/W`` for x, ``H'/H`` for y); a crop only crops; a horizontal flip mirrors the field and
  negates its x component;
* flow confidence: resampled and kept only where every contributing pixel was confident.

All functions take ``(T, ...)`` tensors with the spatial dimensions last and follow the input's
device and dtype.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "RESIZE_MODES",
    "AugmentParams",
    "GeometryConfig",
    "sample_augment_params",
    "check_geometry",
    "inference_params",
    "apply_to_images",
    "apply_to_labels",
    "apply_to_flow",
    "apply_to_confidence",
]

RESIZE_MODES: tuple[str, ...] = (
    "resize_and_crop",  # resize to load_size x load_size, random crop fine_size x fine_size
    "scale_width",  # width -> load_size, keep aspect ratio
    "scale_height",  # height -> load_size, keep aspect ratio
    "scale_width_and_crop",  # width -> load_size, random crop fine_size x fine_size
    "random_scale",  # width -> random in [fine_size, load_size], random crop fine_size wide, same aspect
    "crop",  # random crop fine_size x fine_size at the original size
    "none",  # original size (rounded to size_divisor)
)


@dataclass(frozen=True)
class GeometryConfig:
    """How a dataset sizes its samples (JSON-able).

    Attributes:
        resize_mode: one of :data:`RESIZE_MODES`.
        load_size: target size of the resize step (width, height or both, see the modes).
        fine_size: crop size of the cropping modes (and the smallest width of ``random_scale``).
        size_divisor: output width and height are multiples of this (the generator needs
            multiples of ``2 ** (n_downsample + n_scales - 1)``).
    """

    resize_mode: str = "scale_width"
    load_size: int = 1024
    fine_size: int = 512
    size_divisor: int = 32

    def __post_init__(self) -> None:
        if self.resize_mode not in RESIZE_MODES:
            raise ValueError(f"resize_mode must be one of {RESIZE_MODES}, got {self.resize_mode!r}")
        if self.load_size < 1 or self.fine_size < 1 or self.size_divisor < 1:
            raise ValueError(
                f"load_size, fine_size and size_divisor must be positive, got "
                f"{self.load_size}, {self.fine_size}, {self.size_divisor}"
            )
        if self.resize_mode == "random_scale" and self.fine_size > self.load_size:
            raise ValueError(
                f"random_scale draws widths in [fine_size, load_size]: fine_size={self.fine_size} must not "
                f"exceed load_size={self.load_size}"
            )

    def to_dict(self) -> dict:
        """JSON-able dict of the fields."""
        return asdict(self)


@dataclass(frozen=True)
class AugmentParams:
    """Geometric augmentation of one sample: resize to ``resize`` ``(W, H)``, crop ``(x, y, w, h)``, flip."""

    input_size: tuple[int, int]
    resize: tuple[int, int]
    crop: tuple[int, int, int, int]
    flip: bool

    @property
    def output_size(self) -> tuple[int, int]:
        """``(W, H)`` of the augmented sample."""
        return self.crop[2], self.crop[3]


def _round_to(n: float, divisor: int) -> int:
    return max(divisor, int(round(n / divisor)) * divisor)


def _floor_to(n: float, divisor: int, what: str) -> int:
    value = int(n) // divisor * divisor
    if value < divisor:
        raise ValueError(f"{what} {n} is smaller than size_divisor={divisor}")
    return value


def _plan(size: tuple[int, int], geometry: GeometryConfig, random_width: int | None) -> tuple:
    """``(resize (W, H), crop (w, h) or None)`` for an input of ``size`` ``(W, H)``."""
    width, height = size
    if width < 1 or height < 1:
        raise ValueError(f"frame size must be positive, got {width}x{height}")
    mode, load, fine, div = (
        geometry.resize_mode,
        geometry.load_size,
        geometry.fine_size,
        geometry.size_divisor,
    )
    if mode == "resize_and_crop":
        return (load, load), (fine, fine)
    if mode == "scale_width":
        return (_round_to(load, div), _round_to(load * height / width, div)), None
    if mode == "scale_height":
        return (_round_to(load * width / height, div), _round_to(load, div)), None
    if mode == "scale_width_and_crop":
        return (load, max(1, round(load * height / width))), (fine, fine)
    if mode == "random_scale":
        new_w = fine if random_width is None else random_width
        crop_h = fine * height / width
        new_h = max(int(round(new_w * height / width)), _floor_to(crop_h, div, "crop height"))
        return (new_w, new_h), (fine, crop_h)
    if mode == "crop":
        return (width, height), (fine, fine)
    return (_round_to(width, div), _round_to(height, div)), None  # "none"


def _crop_size(
    size: tuple[int, int], resize: tuple[int, int], crop: tuple[float, float], divisor: int
) -> tuple[int, int]:
    crop_w = _floor_to(crop[0], divisor, "crop width (fine_size)")
    crop_h = _floor_to(crop[1], divisor, "crop height")
    if crop_w > resize[0] or crop_h > resize[1]:
        raise ValueError(
            f"a {crop_w}x{crop_h} crop does not fit frames of {size[0]}x{size[1]} resized to "
            f"{resize[0]}x{resize[1]}: lower fine_size or raise load_size"
        )
    return crop_w, crop_h


def sample_augment_params(
    size: tuple[int, int], geometry: GeometryConfig, flip: bool, rng: np.random.Generator
) -> AugmentParams:
    """Draw one sample's augmentation for frames of ``size`` ``(W, H)``.

    The crop position is uniform over the valid range; ``flip`` enables a horizontal flip with
    probability 1/2. Raises ``ValueError`` when the crop cannot fit.
    """
    random_width = None
    if geometry.resize_mode == "random_scale":
        random_width = int(rng.integers(geometry.fine_size, geometry.load_size + 1))
    resize, crop = _plan(size, geometry, random_width)
    if crop is None:
        box = (0, 0, resize[0], resize[1])
    else:
        crop_w, crop_h = _crop_size(size, resize, crop, geometry.size_divisor)
        x = int(rng.integers(0, resize[0] - crop_w + 1))
        y = int(rng.integers(0, resize[1] - crop_h + 1))
        box = (x, y, crop_w, crop_h)
    do_flip = bool(flip and rng.random() < 0.5)
    return AugmentParams(input_size=tuple(size), resize=tuple(resize), crop=box, flip=do_flip)


def check_geometry(size: tuple[int, int], geometry: GeometryConfig) -> tuple[int, int]:
    """Validate that frames of ``size`` ``(W, H)`` can be augmented; returns the output ``(W, H)``."""
    resize, crop = _plan(size, geometry, None)
    if crop is None:
        return resize
    return _crop_size(size, resize, crop, geometry.size_divisor)


def inference_params(size: tuple[int, int], geometry: GeometryConfig) -> AugmentParams:
    """Deterministic geometry for whole-clip inference: the resize step only, no crop, no flip.

    The cropping modes resize as in training (``random_scale``: width ``load_size``) and then,
    instead of cropping, round the resized size to ``size_divisor``.
    """
    div = geometry.size_divisor
    mode = geometry.resize_mode
    if mode == "random_scale":
        resize = (geometry.load_size, geometry.load_size * size[1] / size[0])
    else:
        resize, _ = _plan(size, geometry, None)
    resize = (_round_to(resize[0], div), _round_to(resize[1], div))
    return AugmentParams(input_size=tuple(size), resize=resize, crop=(0, 0, *resize), flip=False)


def _check(tensor: Tensor, params: AugmentParams, dims: int, what: str) -> None:
    if tensor.dim() != dims:
        raise ValueError(f"{what} must have {dims} dimensions, got shape {tuple(tensor.shape)}")
    if (tensor.shape[-1], tensor.shape[-2]) != tuple(params.input_size):
        raise ValueError(
            f"{what} of size {tensor.shape[-1]}x{tensor.shape[-2]} do not match the augmentation's input "
            f"size {params.input_size[0]}x{params.input_size[1]}"
        )


def _crop_flip(tensor: Tensor, params: AugmentParams) -> Tensor:
    x, y, w, h = params.crop
    tensor = tensor[..., y : y + h, x : x + w]
    return tensor.flip(-1) if params.flip else tensor


def _resize_smooth(tensor: Tensor, size: tuple[int, int]) -> Tensor:
    if (tensor.shape[-1], tensor.shape[-2]) == tuple(size):
        return tensor
    return F.interpolate(
        tensor, size=(size[1], size[0]), mode="bilinear", align_corners=False, antialias=True
    )


def apply_to_images(images: Tensor, params: AugmentParams) -> Tensor:
    """``(T, C, H, W)`` float images → ``(T, C, h, w)``, bilinear (antialiased when shrinking).

    Bilinear and its antialiasing filter have non-negative weights, so values stay in the input's range.
    """
    _check(images, params, 4, "images")
    if not images.dtype.is_floating_point:
        raise ValueError(f"images must be floating point, got dtype {images.dtype}")
    return _crop_flip(_resize_smooth(images, params.resize), params)


def apply_to_labels(labels: Tensor, params: AugmentParams) -> Tensor:
    """``(T, H, W)`` integer label or instance ids → ``(T, h, w)``, nearest neighbour, same dtype."""
    _check(labels, params, 3, "label maps")
    if labels.dtype.is_floating_point:
        raise ValueError(f"label maps must be integer ids, got dtype {labels.dtype}")
    out = labels
    if (labels.shape[-1], labels.shape[-2]) != tuple(params.resize):
        # float64 keeps every id (even instance ids like 26003) exact through interpolate.
        resized = F.interpolate(
            labels.unsqueeze(1).to(torch.float64), size=params.resize[::-1], mode="nearest-exact"
        )
        out = resized.squeeze(1).round().to(labels.dtype)
    return _crop_flip(out, params)


def apply_to_flow(flow: Tensor, params: AugmentParams) -> Tensor:
    """``(T, 2, H, W)`` flow in pixels (channel 0 = x) → ``(T, 2, h, w)`` flow of the augmented frames."""
    _check(flow, params, 4, "flow")
    if flow.shape[1] != 2:
        raise ValueError(f"flow must be (T, 2, H, W), got shape {tuple(flow.shape)}")
    out = flow
    if (flow.shape[-1], flow.shape[-2]) != tuple(params.resize):
        out = _resize_smooth(flow, params.resize)
        factors = flow.new_tensor(
            [params.resize[0] / params.input_size[0], params.resize[1] / params.input_size[1]]
        )
        out = out * factors.view(1, 2, 1, 1)
    out = _crop_flip(out, params)
    if params.flip:
        out = torch.cat([-out[:, :1], out[:, 1:]], dim=1)
    return out


def apply_to_confidence(confidence: Tensor, params: AugmentParams) -> Tensor:
    """``(T, 1, H, W)`` float in ``{0, 1}`` → ``(T, 1, h, w)`` in ``{0, 1}``; 1 only where all sources were 1."""
    _check(confidence, params, 4, "flow confidence")
    out = confidence
    if (confidence.shape[-1], confidence.shape[-2]) != tuple(params.resize):
        out = (_resize_smooth(confidence.float(), params.resize) > 0.999).to(confidence.dtype)
    return _crop_flip(out, params)
