"""Safe reading of the original's instance-feature file (``features.npy``) without unpickling code.

pix2pixHD / vid2vid save the per-class features of the training set as a ``.npy`` file holding a
pickled dictionary ``{label: array (N, feat_num + 1)}``: one row per training image (or cluster),
the last column being the instance's area ratio. ``np.load(..., allow_pickle=True)`` would run
arbitrary pickled code; :func:`read_original_features` parses the ``.npy`` header itself and
unpickles with an allow-list (numpy array reconstruction only), in the spirit of
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import importlib
import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["read_original_features", "features_from_mapping"]

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can only rebuild numpy arrays, dtypes and scalars (plus plain containers)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: the feature file may only hold numpy arrays"
            )
        if module.startswith("numpy.core"):  # numpy 2 moved numpy.core to numpy._core
            try:
                return getattr(importlib.import_module(module.replace("numpy.core", "numpy._core", 1)), name)
            except ImportError:  # pragma: no cover - numpy 1
                pass
        return getattr(importlib.import_module(module), name)


def _load_npy_object(path: Path) -> Any:
    raw = path.read_bytes()
    stream = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    except ValueError as err:
        raise ValueError(f"{path} is not a .npy file: {err}") from err
    if dtype.hasobject:
        try:
            obj = _ArrayOnlyUnpickler(stream, encoding="latin1").load()
        except (pickle.UnpicklingError, EOFError, TypeError, ValueError) as err:
            raise ValueError(f"cannot read {path}: {err}") from err
        array = np.asarray(obj)
        return array.item() if array.shape == () else array
    count = int(np.prod(shape)) if shape else 1
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=stream.tell())
    return data.reshape(shape)


def features_from_mapping(features: Any, drop_last_column: bool = True) -> dict[str, Tensor]:
    """``{label: (N, F [+ 1]) array}`` → ``{"class_<label>": (N, F) float32 tensor}``.

    Args:
        features: mapping from integer class labels to 2-D arrays.
        drop_last_column: drop the original's trailing area-ratio column.
    """
    if not isinstance(features, dict) or not features:
        raise ValueError(
            f"expected a non-empty dictionary {{label: (N, F) array}}, got {type(features).__name__}"
        )
    out: dict[str, Tensor] = {}
    for label, rows in features.items():
        array = np.asarray(rows, dtype=np.float32)
        if array.ndim != 2 or array.shape[1] < (2 if drop_last_column else 1):
            raise ValueError(
                f"features of class {label} must be a 2-D array (N, F + 1), got shape {array.shape}"
            )
        if drop_last_column:
            array = array[:, :-1]
        out[f"class_{int(label)}"] = torch.from_numpy(np.ascontiguousarray(array))
    return out


def read_original_features(path: str | os.PathLike[str], drop_last_column: bool = True) -> dict[str, Tensor]:
    """Read the original's ``features.npy`` → ``{"class_<label>": (N, F) float32}``.

    Only numpy arrays can be rebuilt from the file (anything else is refused); the trailing
    area-ratio column is dropped, as the original does before using the rows.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"feature file not found: {path}")
    return features_from_mapping(_load_npy_object(path), drop_last_column)
