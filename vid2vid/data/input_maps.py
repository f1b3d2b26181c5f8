"""Lossless storage of face / pose generator inputs (what ``vid2vid build-inputs`` writes).

One file per frame, ``<folder>/<stem>.npy``: a ``(C, H, W)`` **uint8** array holding the exact
bytes the original's dataset turns into its network input (``ToTensor`` of PIL images), plus
``<folder>/inputs.json`` describing how to decode them:

- ``"decode": "unit"`` (faces): ``x / 255``, values in ``[0, 1]`` — the original feeds face maps
  without normalising them;
- ``"decode": "symmetric"`` (poses): ``(x / 255 - 0.5) / 0.5`` in ``[-1, 1]``, and for the channels
  listed in ``"densepose_index_channels"`` (DensePose part index I) then
  ``((y · 0.5 + 0.5) · 255 / 24 - 0.5) / 0.5`` = ``I / 12 - 1``.

uint8 is lossless (every value of the original's maps is a uint8 pixel before ``ToTensor``), a
quarter of float32's size, and decodes with the original's own float32 operations, so decoded
maps equal the original's input bit for bit. :class:`~vid2vid.data.ClipDataset` reads these
folders as ``{phase}_A/<clip>`` when ``label_nc == 0``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "INPUT_INFO_FILE",
    "DECODINGS",
    "is_input_map_folder",
    "list_input_map_files",
    "read_input_info",
    "decoded_range",
    "write_input_map",
    "write_input_info",
    "decode_input_maps",
    "read_input_maps",
]

INPUT_INFO_FILE = "inputs.json"
DECODINGS: tuple[str, ...] = ("unit", "symmetric")


def is_input_map_folder(folder: str | os.PathLike) -> bool:
    """True when ``folder`` holds ``inputs.json`` (a ``build-inputs`` output)."""
    return (Path(folder) / INPUT_INFO_FILE).is_file()


def list_input_map_files(folder: str | os.PathLike) -> list[Path]:
    """The ``.npy`` maps of a folder in natural name order."""
    from vid2vid.data.io import natural_sort_key

    folder = Path(folder)
    files = [p for p in folder.iterdir() if p.suffix.lower() == ".npy" and not p.name.startswith(".")]
    return sorted(files, key=lambda p: natural_sort_key(p.name))


def read_input_info(folder: str | os.PathLike) -> dict[str, Any]:
    """``inputs.json`` of a folder, validated (``channels``, ``decode``)."""
    path = Path(folder) / INPUT_INFO_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: not a `vid2vid build-inputs` output folder")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from err
    if info.get("decode") not in DECODINGS:
        raise ValueError(f"{path}: 'decode' must be one of {DECODINGS}, got {info.get('decode')!r}")
    if not isinstance(info.get("channels"), int) or info["channels"] < 1:
        raise ValueError(f"{path}: 'channels' must be a positive integer, got {info.get('channels')!r}")
    return info


def decoded_range(info: dict[str, Any]) -> tuple[float, float]:
    """Value range of the decoded maps of a folder's ``inputs.json``: ``(0, 1)`` for ``"unit"``
    (faces), ``(-1, 1)`` for ``"symmetric"`` (poses)."""
    if info.get("decode") not in DECODINGS:
        raise ValueError(f"'decode' must be one of {DECODINGS}, got {info.get('decode')!r}")
    return (0.0, 1.0) if info["decode"] == "unit" else (-1.0, 1.0)


def write_input_map(path: str | os.PathLike, maps: np.ndarray) -> Path:
    """Write one ``(C, H, W)`` uint8 map atomically."""
    from vid2vid.atomic import atomic_path

    maps = np.asarray(maps)
    if maps.ndim != 3 or maps.dtype != np.uint8:
        raise ValueError(f"input maps must be (C, H, W) uint8, got {maps.shape} {maps.dtype}")
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, np.ascontiguousarray(maps))
    return path


def write_input_info(folder: str | os.PathLike, info: dict[str, Any]) -> Path:
    """Write ``inputs.json`` (must have ``channels`` and ``decode``)."""
    from vid2vid.atomic import atomic_write_text

    if info.get("decode") not in DECODINGS or "channels" not in info:
        raise ValueError(f"input info needs 'channels' and 'decode' in {DECODINGS}, got {info}")
    path = Path(folder) / INPUT_INFO_FILE
    atomic_write_text(path, json.dumps(info, indent=2) + "\n")
    return path


def decode_input_maps(maps: np.ndarray | torch.Tensor, info: dict[str, Any]) -> torch.Tensor:
    """uint8 ``(..., C, H, W)`` → float32 network input (see the module docstring)."""
    tensor = torch.as_tensor(np.asarray(maps))
    if tensor.dtype != torch.uint8:
        raise ValueError(f"input maps must be uint8, got {tensor.dtype}")
    out = tensor.float().div(255)
    if info["decode"] == "symmetric":
        out = out.sub(0.5).div(0.5)
        for c in info.get("densepose_index_channels", []):
            out[..., c, :, :] = ((out[..., c, :, :] * 0.5 + 0.5) * 255 / 24 - 0.5) / 0.5
    return out


def read_input_maps(folder: str | os.PathLike, indices: list[int] | None = None) -> torch.Tensor:
    """Read and decode a ``build-inputs`` folder: ``(T, C, H, W)`` float32 (frames ``indices``)."""
    folder = Path(folder)
    info = read_input_info(folder)
    files = list_input_map_files(folder)
    if not files:
        raise ValueError(f"input map folder {folder} holds no .npy files")
    chosen = files if indices is None else [files[i] for i in indices]
    arrays = []
    for path in chosen:
        array = np.load(path, allow_pickle=False)
        if array.ndim != 3 or array.dtype != np.uint8 or array.shape[0] != info["channels"]:
            raise ValueError(
                f"{path}: expected a ({info['channels']}, H, W) uint8 map as {folder / INPUT_INFO_FILE} says, "
                f"got {array.shape} {array.dtype}"
            )
        arrays.append(array)
    return decode_input_maps(np.stack(arrays), info)
