"""Training checkpoints: everything needed to continue a run exactly, written atomically.

A run's checkpoint is the folder ``<checkpoint_dir>/latest/``::

    train_config.json            the resolved TrainConfig
    trainer_state.json           epoch, position inside the epoch, global step
    model/                       a model folder (vid2vid.model_folder) the pipeline can load
                                 (for the image model: pix2pixHD config.json + model.safetensors)
    discriminators.safetensors   image / temporal discriminator weights (and other trained modules)
    optimizers.pt                optimiser and gradient-scaler state dicts (tensors and numbers)
    rng.pt                       torch (CPU, CUDA), numpy and python ``random`` generator states

It is written into a temporary sibling folder which then replaces ``latest`` by two renames,
keeping the previous checkpoint as ``.latest.old`` until the new one is in place; a run killed
at any moment leaves either ``latest`` or ``.latest.old`` complete (:func:`resolve_checkpoint`
recovers the latter). ``*.pt`` files hold plain state dicts read with ``torch.load(...,
weights_only=True)``; nothing is pickled.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from vid2vid.atomic import atomic_path
from vid2vid.checkpoint import load_state_dict, load_state_dict_strict, read_json, save_state_dict, write_json

__all__ = [
    "LATEST",
    "TrainingProgress",
    "checkpoint_writer",
    "resolve_checkpoint",
    "save_modules",
    "load_modules",
    "save_torch_state",
    "load_torch_state",
    "capture_rng_state",
    "restore_rng_state",
    "write_progress",
    "read_progress",
]

LATEST = "latest"
CONFIG_FILE = "train_config.json"
PROGRESS_FILE = "trainer_state.json"
MODEL_DIR = "model"
DISCRIMINATORS_FILE = "discriminators.safetensors"
OPTIMIZERS_FILE = "optimizers.pt"
RNG_FILE = "rng.pt"


@dataclass
class TrainingProgress:
    """Where a run stands.

    Attributes:
        epoch: current 0-based epoch.
        position: batches of the current epoch already done (by this process's sampler).
        global_step: iterations done in all.
    """

    epoch: int = 0
    position: int = 0
    global_step: int = 0


def write_progress(path: str | os.PathLike[str], progress: TrainingProgress) -> None:
    """Write ``trainer_state.json``."""
    write_json(path, asdict(progress))


def read_progress(path: str | os.PathLike[str]) -> TrainingProgress:
    """Read ``trainer_state.json``."""
    data = read_json(path)
    try:
        return TrainingProgress(int(data["epoch"]), int(data["position"]), int(data["global_step"]))
    except KeyError as err:
        raise ValueError(f"{path} lacks {err}; expected epoch, position and global_step") from err


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


@contextlib.contextmanager
def checkpoint_writer(checkpoint_dir: str | os.PathLike[str], name: str = LATEST) -> Iterator[Path]:
    """Context manager yielding an empty temporary folder that atomically becomes ``<dir>/<name>``.

    Write every file into the yielded folder; on a normal exit it is flushed to disk and swapped
    in (the previous checkpoint is kept as ``.<name>.old`` until the swap is complete). On an
    exception the temporary folder is removed and the previous checkpoint is untouched.
    """
    root = Path(checkpoint_dir)
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(f".{name}.tmp-*"):  # left by runs killed while saving
        shutil.rmtree(stale, ignore_errors=True)
    tmp = root / f".{name}.tmp-{os.getpid()}"
    tmp.mkdir()
    try:
        yield tmp
        _fsync_tree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    final = root / name
    old = root / f".{name}.old"
    if old.exists() and final.exists():
        shutil.rmtree(old)  # a stale backup from an earlier interrupted swap
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    if old.exists():
        shutil.rmtree(old)


def resolve_checkpoint(path: str | os.PathLike[str]) -> Path:
    """The checkpoint folder to resume from.

    ``path`` may be a checkpoint folder (holding ``trainer_state.json``) or a ``checkpoint_dir``
    (its ``latest``; if a run died between the two renames of a save, the kept ``.latest.old``
    is restored as ``latest``).

    Raises:
        FileNotFoundError: when no complete checkpoint is found.
    """
    path = Path(path)
    if (path / PROGRESS_FILE).is_file():
        return path
    latest, old = path / LATEST, path / f".{LATEST}.old"
    if not (latest / PROGRESS_FILE).is_file() and (old / PROGRESS_FILE).is_file():
        if latest.exists():
            shutil.rmtree(latest)
        os.replace(old, latest)
    if (latest / PROGRESS_FILE).is_file():
        return latest
    raise FileNotFoundError(
        f"no training checkpoint in {path}: expected {path / LATEST / PROGRESS_FILE} (or a checkpoint folder)"
    )


def save_modules(path: str | os.PathLike[str], modules: Mapping[str, nn.Module]) -> None:
    """Save several modules' state dicts into one safetensors file (keys ``<name>.<key>``)."""
    state: dict[str, Tensor] = {}
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            state[f"{name}.{key}"] = value
    save_state_dict(state, path)


def load_modules(path: str | os.PathLike[str], modules: Mapping[str, nn.Module]) -> None:
    """Load :func:`save_modules`' file strictly (errors name missing/unexpected tensors)."""
    state = load_state_dict(path)
    for name, module in modules.items():
        prefix = f"{name}."
        own = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        load_state_dict_strict(module, own, f"{path} ({name})")
    known = tuple(f"{name}." for name in modules)
    extra = sorted({k.split(".", 1)[0] for k in state if not k.startswith(known)})
    if extra:
        raise KeyError(f"{path} holds modules {extra} this run does not have")


def save_torch_state(path: str | os.PathLike[str], state: Mapping[str, Any]) -> None:
    """``torch.save`` a dictionary of state dicts (tensors, numbers, strings) atomically."""
    with atomic_path(path) as tmp:
        torch.save(dict(state), tmp)


def load_torch_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read :func:`save_torch_state`'s file with ``torch.load(weights_only=True)``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"training state file not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - re-raised with the file name
        raise ValueError(f"cannot read training state {path}: {err}") from err


def capture_rng_state() -> dict[str, Any]:
    """The state of every random generator training may use (tensors, ints and tuples only)."""
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": np_state[0],
            "keys": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: Mapping[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`."""
    torch.set_rng_state(state["torch"])
    npd = state["numpy"]
    np.random.set_state(
        (
            npd["kind"],
            npd["keys"].numpy().astype(np.uint32),
            npd["pos"],
            npd["has_gauss"],
            npd["cached_gaussian"],
        )
    )
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
