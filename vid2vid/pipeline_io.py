"""Input and output conversion of :class:`~vid2vid.pipeline.Vid2VidPipeline`.

Inputs (label/instance ids, continuous maps, real frames) arrive as tensors, numpy arrays, PIL
images, paths, folders or video files and leave as batched tensors in the library's conventions:
ids ``(B, T, H, W)`` int64, frames ``(B, T, C, H, W)`` float in ``[-1, 1]`` (continuous input maps:
in the model's input range). Outputs leave as the
pipeline's ``[0, 1]`` frames in the requested type (``"pt"``, ``"np"``, ``"pil"``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from vid2vid.pipeline_output import Vid2VidPipelineOutput
from vid2vid.validation import check_finite

__all__ = [
    "id_clip",
    "image_clip",
    "read_map_file",
    "streamed_frame",
    "float_frames",
    "int_ids",
    "read_label_items",
    "format_output",
    "frames_to_uint8",
    "pil_image_type",
    "is_frame_list",
]


def pil_image_type() -> type | None:
    """``PIL.Image.Image`` (``None`` if pillow is missing)."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        return None
    return Image.Image


def is_frame_list(value: object) -> bool:
    """Whether ``value`` is a non-empty list of PIL images and/or paths (one clip, frame by frame)."""
    pil = pil_image_type()
    return (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and all(isinstance(v, (str, os.PathLike)) or (pil is not None and isinstance(v, pil)) for v in value)
    )


def int_ids(value: Tensor | np.ndarray, name: str) -> Tensor:
    """An integer tensor/array → int64 tensor; floats, bools and complex are errors naming ``name``."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iub":
            raise ValueError(
                f"{name} must hold integer ids (int64), got a numpy array of dtype {value.dtype}"
            )
        value = torch.from_numpy(np.ascontiguousarray(value).astype(np.int64, copy=False))
    if value.dtype.is_floating_point or value.is_complex() or value.dtype == torch.bool:
        raise ValueError(
            f"{name} must hold integer ids (int64), got dtype {value.dtype}; convert with .long() if the "
            "values are ids"
        )
    return value.long()


def read_label_items(items: Sequence[Any], name: str) -> Tensor:
    """Single-channel PIL images or label PNG paths → ``(T, H, W)`` int64."""
    from vid2vid.data.io import read_label_image

    maps = []
    for i, item in enumerate(items):
        if isinstance(item, (str, os.PathLike)):
            array = read_label_image(item)
        else:
            array = np.asarray(item)
            if array.ndim != 2:
                raise ValueError(
                    f"{name} image {i} has shape {array.shape} (mode {item.mode}); expected a single-channel "
                    "label image (mode L, I or P)"
                )
        maps.append(array.astype(np.int64))
    if len({m.shape for m in maps}) != 1:
        raise ValueError(f"{name} images differ in size: {sorted({m.shape for m in maps})}")
    return torch.from_numpy(np.stack(maps))


def id_clip(value: Any, name: str) -> tuple[Tensor, bool]:
    """Label or instance clip(s) → ``(B, T, H, W)`` int64 and whether a batch was given."""
    if isinstance(value, (str, os.PathLike)):
        from vid2vid.data.io import read_label_frames

        return torch.from_numpy(read_label_frames(value)).unsqueeze(0), False
    if is_frame_list(value):
        return read_label_items(value, name).unsqueeze(0), False
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (Tensor, np.ndarray)) for v in value):
        clips = [int_ids(v, name) for v in value]
        if any(c.dim() != 3 for c in clips) or len({tuple(c.shape) for c in clips}) != 1:
            raise ValueError(
                f"a list of {name} clips must hold (T, H, W) clips of one shape, got "
                f"{[tuple(c.shape) for c in clips]}"
            )
        return torch.stack(clips), True
    if isinstance(value, (Tensor, np.ndarray)):
        tensor = int_ids(value, name)
        if tensor.dim() == 3:
            return tensor.unsqueeze(0), False
        if tensor.dim() == 4:
            return tensor, True
        raise ValueError(
            f"{name} must be (T, H, W) or (B, T, H, W) integer ids, got shape {tuple(tensor.shape)}"
        )
    raise ValueError(
        f"{name}: expected a (T, H, W) / (B, T, H, W) int tensor or array, a list of label images or "
        f"paths, or a folder of label PNGs; got {type(value).__name__}"
    )


def float_frames(
    tensor: Tensor,
    name: str,
    channels: int,
    value_range: tuple[float, float] = (0.0, 1.0),
    target_range: tuple[float, float] = (-1.0, 1.0),
) -> Tensor:
    """Channels-first float in ``value_range`` or channels-last uint8 → channels-first float in ``target_range``.

    Floats are mapped linearly from ``value_range`` onto ``target_range`` (left bit-exact when the
    two ranges are equal); uint8 maps ``[0, 255]`` onto ``target_range``. Floats outside
    ``value_range`` (by more than 1e-3) are an error naming ``name``.
    """
    t_lo, t_hi = target_range
    if tensor.dtype == torch.uint8:
        if tensor.shape[-1] != channels:
            raise ValueError(
                f"uint8 {name} must be channels-last (..., H, W, {channels}), got {tuple(tensor.shape)}"
            )
        values = tensor.movedim(-1, -3).float()
        if (t_lo, t_hi) == (-1.0, 1.0):
            return values / 127.5 - 1.0
        return values / 255.0 * (t_hi - t_lo) + t_lo
    lo, hi = value_range
    span = f"[{lo:g}, {hi:g}]"
    if not tensor.dtype.is_floating_point:
        raise ValueError(f"{name} must be float in {span} or uint8 in [0, 255], got dtype {tensor.dtype}")
    if tensor.shape[-3] != channels:
        raise ValueError(
            f"float {name} must be channels-first (..., {channels}, H, W), got {tuple(tensor.shape)}"
        )
    check_finite(tensor, f"float {name}")
    if tensor.numel() and (float(tensor.min()) < lo - 1e-3 or float(tensor.max()) > hi + 1e-3):
        raise ValueError(
            f"float {name} must lie in {span}, got values in "
            f"[{float(tensor.min()):.3g}, {float(tensor.max()):.3g}]"
        )
    if (lo, hi) == (t_lo, t_hi):
        return tensor.float()
    return (tensor.float() - lo) / (hi - lo) * (t_hi - t_lo) + t_lo


def _is_npy(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike)) and str(value).lower().endswith(".npy")


def read_map_file(path: str | os.PathLike[str]) -> np.ndarray:
    """One ``.npy`` input map (``(C, H, W)`` or a clip ``(T, C, H, W)``, any float dtype) → float32.

    Read with ``allow_pickle=False``: only plain arrays are accepted.
    """
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise ValueError(f"cannot read input maps from {path}: {err}") from err
    if array.dtype.kind != "f" or array.ndim not in (3, 4):
        raise ValueError(
            f"{path}: input maps must be a float (C, H, W) or (T, C, H, W) array, got {array.dtype} {array.shape}"
        )
    return array.astype(np.float32)


def _npy_clip(path: Path) -> np.ndarray | None:
    """A ``.npy`` clip file or a folder of per-frame ``.npy`` maps → ``(T, C, H, W)``; ``None`` otherwise."""
    if path.is_file() and _is_npy(path):
        array = read_map_file(path)
        return array if array.ndim == 4 else array[None]
    if path.is_dir():
        from vid2vid.data.io import natural_sort_key

        files = sorted(
            (p for p in path.iterdir() if _is_npy(p) and not p.name.startswith(".")),
            key=lambda p: natural_sort_key(p.name),
        )
        if files:
            maps = [read_map_file(p) for p in files]
            if any(m.ndim != 3 for m in maps) or len({m.shape for m in maps}) != 1:
                raise ValueError(f"the .npy maps in {path} must all be (C, H, W) of one shape")
            return np.stack(maps)
    return None


def _built_input_maps(path: Path, name: str, value_range: tuple[float, float]) -> Tensor | None:
    """A ``vid2vid build-inputs`` folder (uint8 ``.npy`` + ``inputs.json``) decoded as the training data
    decodes it → ``(T, C, H, W)`` float32 in its recorded range; ``None`` for other paths.

    Raises:
        ValueError: the folder's range (faces ``[0, 1]``, poses ``[-1, 1]``) is not ``value_range``
            (the model's input range): maps built for another kind of model.
    """
    from vid2vid.data.input_maps import decoded_range, is_input_map_folder, read_input_info, read_input_maps

    if not (path.is_dir() and is_input_map_folder(path)):
        return None
    decoded = decoded_range(read_input_info(path))
    if tuple(float(v) for v in value_range) != decoded:
        raise ValueError(
            f"{name} ({path}): these build-inputs maps decode to [{decoded[0]:g}, {decoded[1]:g}] but the model "
            f"was trained on inputs in [{value_range[0]:g}, {value_range[1]:g}]: build the maps for this kind of "
            "model (build-inputs face for face models, pose for pose models)"
        )
    return read_input_maps(path)


def image_clip(
    value: Any,
    name: str,
    channels: int,
    value_range: tuple[float, float] = (0.0, 1.0),
    target_range: tuple[float, float] = (-1.0, 1.0),
) -> tuple[Tensor, bool]:
    """RGB/continuous clip(s) → ``(B, T, C, H, W)`` float in ``target_range`` and whether a batch was given.

    Float tensors/arrays are expected in ``value_range``; images, folders and videos are uint8
    (see :func:`float_frames`).
    """
    ranges = (value_range, target_range)
    if isinstance(value, (str, os.PathLike)):
        built = _built_input_maps(Path(value), name, value_range)
        if built is not None:
            return float_frames(built, f"{name} ({value})", channels, *ranges).unsqueeze(0), False
        maps = _npy_clip(Path(value))
        if maps is not None:  # continuous input maps stored losslessly, e.g. by `vid2vid build-inputs`
            return float_frames(torch.from_numpy(maps), f"{name} ({value})", channels, *ranges).unsqueeze(
                0
            ), False
        from vid2vid.data.io import read_frames

        frames = torch.from_numpy(read_frames(value))
        return float_frames(frames, f"{name} ({value})", channels, *ranges).unsqueeze(0), False
    if is_frame_list(value) and all(_is_npy(v) for v in value):
        maps = [read_map_file(v) for v in value]
        if any(m.ndim != 3 for m in maps) or len({m.shape for m in maps}) != 1:
            raise ValueError(f"{name}: the .npy maps must all be (C, H, W) of one shape")
        return float_frames(torch.from_numpy(np.stack(maps)), name, channels, *ranges).unsqueeze(0), False
    if is_frame_list(value):
        from vid2vid.data.io import read_image

        arrays = [
            read_image(v) if isinstance(v, (str, os.PathLike)) else np.asarray(v.convert("RGB"))
            for v in value
        ]
        if len({a.shape for a in arrays}) != 1:
            raise ValueError(f"{name} images differ in size: {sorted({a.shape for a in arrays})}")
        return float_frames(torch.from_numpy(np.stack(arrays)), name, channels, *ranges).unsqueeze(0), False
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (Tensor, np.ndarray)) for v in value):
        clips = [image_clip(v, name, channels, *ranges)[0][0] for v in value]
        if len({tuple(c.shape) for c in clips}) != 1:
            raise ValueError(
                f"a list of {name} clips must share one shape, got {[tuple(c.shape) for c in clips]}"
            )
        return torch.stack(clips), True
    if isinstance(value, (Tensor, np.ndarray)):
        tensor = torch.from_numpy(np.ascontiguousarray(value)) if isinstance(value, np.ndarray) else value
        frames = float_frames(tensor, name, channels, *ranges)
        if frames.dim() == 4:
            return frames.unsqueeze(0), False
        if frames.dim() == 5:
            return frames, True
        raise ValueError(
            f"{name} must be a clip (T, ...) or a batch of clips (B, T, ...), got {tuple(tensor.shape)}"
        )
    raise ValueError(
        f"{name}: expected a tensor/array, a list of images or paths, a folder of frames or a video file; "
        f"got {type(value).__name__}"
    )


def streamed_frame(
    value: Any,
    name: str,
    kind: str,
    channels: int,
    value_range: tuple[float, float] = (0.0, 1.0),
    target_range: tuple[float, float] = (-1.0, 1.0),
) -> tuple[Tensor, bool]:
    """One streamed frame → ``(B, 1, ...)`` (ids ``(B, 1, H, W)``, images ``(B, 1, C, H, W)``), batched?

    Image frames: floats in ``value_range``, uint8 in ``[0, 255]``, both mapped onto ``target_range``.
    """
    pil = pil_image_type()
    single = isinstance(value, (str, os.PathLike)) or (pil is not None and isinstance(value, pil))
    if kind == "ids":
        if single:
            return read_label_items([value], name).unsqueeze(0), False
        tensor = int_ids(value, name) if isinstance(value, (Tensor, np.ndarray)) else None
        if tensor is None or tensor.dim() not in (2, 3):
            shape = None if tensor is None else tuple(tensor.shape)
            raise ValueError(f"a streamed {name} frame must be (H, W) or (B, H, W) integer ids, got {shape}")
        return tensor.reshape(-1, 1, *tensor.shape[-2:]), tensor.dim() == 3
    if single:
        return image_clip([value], name, channels, value_range, target_range)[0], False
    if not isinstance(value, (Tensor, np.ndarray)):
        raise ValueError(
            f"a streamed {name} frame must be a tensor, array, PIL image or path, got {type(value).__name__}"
        )
    tensor = torch.from_numpy(np.ascontiguousarray(value)) if isinstance(value, np.ndarray) else value
    frame = float_frames(tensor, name, channels, value_range, target_range)
    if frame.dim() not in (3, 4):
        raise ValueError(
            f"a streamed {name} frame must be (C, H, W) or (B, C, H, W), got {tuple(tensor.shape)}"
        )
    return frame.reshape(-1, 1, *frame.shape[-3:]), frame.dim() == 4


def frames_to_uint8(output: Vid2VidPipelineOutput | Any, clip_index: int | None = None) -> np.ndarray:
    """One clip of pipeline frames (any output type) → ``(T, H, W, 3)`` uint8."""
    frames = output.frames if isinstance(output, Vid2VidPipelineOutput) else output
    pil = pil_image_type()
    if isinstance(frames, list):
        nested = bool(frames) and isinstance(frames[0], list)
        if nested:
            if len(frames) > 1 and clip_index is None:
                raise ValueError(f"the output holds {len(frames)} clips: pass clip_index")
            frames = frames[clip_index or 0]
        if not frames or not all(pil is not None and isinstance(f, pil) for f in frames):
            raise ValueError("expected a list of PIL images")
        return np.stack([np.asarray(f.convert("RGB")) for f in frames])
    if isinstance(frames, Tensor):
        if frames.dim() == 5:
            frames = _pick_clip(frames, clip_index)
        if frames.dim() != 4 or frames.shape[1] != 3:
            raise ValueError(f"expected frames (T, 3, H, W) in [0, 1], got {tuple(frames.shape)}")
        array = frames.detach().float().cpu().permute(0, 2, 3, 1).numpy()
    elif isinstance(frames, np.ndarray):
        if frames.ndim == 5:
            frames = _pick_clip(frames, clip_index)
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"expected frames (T, H, W, 3) in [0, 1], got {frames.shape}")
        array = frames
    else:
        raise ValueError(f"cannot write frames of type {type(frames).__name__}")
    if array.dtype == np.uint8:
        return array
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"frames must be float in [0, 1] or uint8, got dtype {array.dtype}")
    if array.size and not np.isfinite(array).all():
        raise ValueError(
            f"frames hold {int((~np.isfinite(array)).sum())} NaN/inf value(s): refusing to write a broken video"
        )
    if array.size and (array.min() < -1e-3 or array.max() > 1 + 1e-3):
        raise ValueError(
            f"frames must lie in [0, 1], got values in [{float(array.min()):.3g}, {float(array.max()):.3g}] "
            "(frames in [-1, 1]? map them with (x + 1) / 2)"
        )
    return np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)


def _pick_clip(frames: Any, clip_index: int | None) -> Any:
    if frames.shape[0] > 1 and clip_index is None:
        raise ValueError(f"the output holds {frames.shape[0]} clips: pass clip_index")
    return frames[clip_index or 0]


def format_output(
    frames: Tensor,
    flows: Tensor | None,
    weights: Tensor | None,
    output_type: str,
    batched: bool,
    first_index: int = 0,
) -> Vid2VidPipelineOutput:
    """``(B, T, 3, H, W)`` float in [0, 1] → the requested output type (batch axis dropped if not batched)."""
    if not batched:
        frames = frames[0]
        flows = None if flows is None else flows[0]
        weights = None if weights is None else weights[0]
    if output_type == "pt":
        return Vid2VidPipelineOutput(frames, flows, weights, first_index=first_index)
    array = frames.cpu().movedim(-3, -1).numpy()
    flows_np = None if flows is None else flows.cpu().numpy()
    weights_np = None if weights is None else weights.cpu().numpy()
    if output_type == "np":
        return Vid2VidPipelineOutput(array, flows_np, weights_np, first_index=first_index)
    from PIL import Image

    uint8 = np.round(array * 255.0).astype(np.uint8)
    if batched:
        images: Any = [[Image.fromarray(f) for f in clip] for clip in uint8]
    else:
        images = [Image.fromarray(f) for f in uint8]
    return Vid2VidPipelineOutput(images, flows_np, weights_np, first_index=first_index)
