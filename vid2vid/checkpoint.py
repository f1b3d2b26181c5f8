"""Checkpoint files: safetensors weights + JSON configs, written atomically, loaded strictly.

Every checkpoint in this library is a folder: ``config.json`` plus one ``*.safetensors`` file
per network. Nothing is pickled.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from vid2vid.atomic import atomic_path, atomic_write_text
from vid2vid.validation import check_finite

__all__ = [
    "write_json",
    "read_json",
    "save_state_dict",
    "load_state_dict",
    "load_module_weights",
    "load_state_dict_strict",
    "save_module_weights",
]


def write_json(path: str | os.PathLike[str], data: Mapping[str, Any]) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    return atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a JSON object, with a clear error when the file is missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not UTF-8 text (byte {err.start}): expected a UTF-8 JSON file") from err
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object")
    return data


def save_state_dict(
    state_dict: Mapping[str, Tensor], path: str | os.PathLike[str], metadata: Mapping[str, str] | None = None
) -> Path:
    """Save tensors to a safetensors file atomically (tensors are made contiguous, on CPU)."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state_dict.items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=dict(metadata) if metadata else None)
    return Path(path)


def load_state_dict(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> dict[str, Tensor]:
    """Read a safetensors file, with a clear error when it is missing or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    try:
        return load_file(str(path), device=str(device))
    except Exception as err:  # noqa: BLE001 - re-raised with the file name
        raise ValueError(f"cannot read {path} as safetensors: {err}") from err


def save_module_weights(
    module: nn.Module, path: str | os.PathLike[str], metadata: Mapping[str, str] | None = None
) -> Path:
    """Save ``module.state_dict()`` to ``path`` (safetensors, atomic)."""
    return save_state_dict(module.state_dict(), path, metadata)


def load_state_dict_strict(module: nn.Module, state: Mapping[str, Tensor], source: str) -> nn.Module:
    """Copy ``state`` into ``module``, requiring exactly the module's tensors with its shapes.

    Args:
        module: the module to fill.
        state: tensors by state-dict key.
        source: where ``state`` came from (a file name), for the error messages.

    Raises:
        KeyError: naming every missing and unexpected tensor.
        ValueError: naming every tensor whose shape differs.
    """
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        raise KeyError(
            f"{source} does not match {type(module).__name__}: missing tensors {missing}, unexpected tensors {unexpected}"
        )
    wrong = [
        f"{k}: file {tuple(state[k].shape)} vs module {tuple(own[k].shape)}"
        for k in own
        if own[k].shape != state[k].shape
    ]
    if wrong:
        raise ValueError(f"{source} has tensors of the wrong shape for {type(module).__name__}: {wrong}")
    wrong_dtype = [
        f"{k}: {state[k].dtype} (expected floating point)"
        for k in own
        if own[k].is_floating_point() and not state[k].is_floating_point()
    ]
    if wrong_dtype:
        raise ValueError(
            f"{source} has tensors of the wrong dtype for {type(module).__name__}: {wrong_dtype}"
        )
    for k in own:
        check_finite(state[k], f"{source}: tensor {k}")
    module.load_state_dict(dict(state), strict=True)
    return module


def load_module_weights(module: nn.Module, path: str | os.PathLike[str]) -> nn.Module:
    """Load a safetensors file into ``module`` strictly (see :func:`load_state_dict_strict`)."""
    return load_state_dict_strict(module, load_state_dict(path), str(path))
