"""Read reference fixtures of the original implementation, full or compact, and find them.

A *fixture set* (``nvidia-vid2vid``, ``nvidia-vid2vid-train``, ``nvidia-vid2vid-test``, ...) is a
folder of *cases*: sub-folders holding a ``config.json`` (the original's options plus ``kind`` and
file names), an ``io.safetensors`` (inputs fed to the original and the outputs it produced) and
the original's weights (``*.pth``). Every replay (``convert/parity.py``, the training-step and
test-path replays) reads cases through this module, so the storage details live in one place.

Two copies of a set exist:

- the *full* set, as the original produced it (next to a checkout in ``../shared/fixtures`` or
  wherever ``$VID2VID_FIXTURES`` points);
- a *compact* copy carried in the repository (``tests/fixtures/<set>``) so that a fresh clone
  proves parity on its own. :func:`compact_fixture_case` makes it: fewer generated windows,
  integer tensors in the smallest integer dtype that holds their values, float32 tensors as
  float16 only where every value is exactly representable, weights copied byte for byte.
  :func:`read_fixture_tensors` undoes the storage dtypes, so a replay sees exactly the values
  of the full set (int64 ids, float32 values).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor

__all__ = [
    "FIXTURES_ENV",
    "FixtureCase",
    "compact_fixture_case",
    "find_fixture_set",
    "fixture_cases",
    "read_fixture_tensors",
]

FIXTURES_ENV = "VID2VID_FIXTURES"
"""Environment variable: a folder holding full fixture sets (``<folder>/nvidia-vid2vid/...``)."""

_COMPACT_KEY = "vid2vid.compact"  # safetensors metadata: JSON {"key": "original dtype"}
_INT_DTYPES = (torch.uint8, torch.int16, torch.int32, torch.int64)


def read_fixture_tensors(path: str | os.PathLike[str]) -> dict[str, Tensor]:
    """Every tensor of a fixture's ``io.safetensors``, in the dtypes the original used.

    Compact files record each narrowed tensor's original dtype in their metadata; those tensors
    are widened back (exactly: narrowing only happened where no value changes).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not a readable safetensors file or its metadata is malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"fixture tensors not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as err:  # noqa: BLE001 - re-raised with the file name
        raise ValueError(f"cannot read {path} as safetensors: {err}") from err
    if _COMPACT_KEY not in metadata:
        return tensors
    try:
        original = json.loads(metadata[_COMPACT_KEY])
        dtypes = {k: getattr(torch, v) for k, v in original.items()}
    except (ValueError, TypeError, AttributeError) as err:
        raise ValueError(f"{path}: malformed {_COMPACT_KEY!r} metadata: {err}") from err
    return {k: t.to(dtypes[k]) if k in dtypes else t for k, t in tensors.items()}


@dataclass(frozen=True)
class FixtureCase:
    """One case of a fixture set.

    Attributes:
        folder: the case folder.
        config: its ``config.json`` (the original's option names plus ``kind`` and file names).
    """

    folder: Path
    config: dict[str, Any] = field(repr=False)

    @classmethod
    def read(cls, folder: str | os.PathLike[str]) -> FixtureCase:
        """Read the case in ``folder`` (its ``config.json`` must hold a JSON object)."""
        folder = Path(folder)
        path = folder / "config.json"
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as err:
            raise FileNotFoundError(f"fixture config not found: {path}") from err
        except (ValueError, UnicodeDecodeError) as err:
            raise ValueError(f"{path} is not valid UTF-8 JSON: {err}") from err
        if not isinstance(config, dict):
            raise ValueError(f"{path} must hold a JSON object")
        return cls(folder, config)

    @property
    def name(self) -> str:
        """The case's folder name (e.g. ``g_city_s2_d2``)."""
        return self.folder.name

    @property
    def kind(self) -> str:
        """The ``kind`` entry of the config (``""`` when the set does not use one)."""
        return str(self.config.get("kind", ""))

    def tensors(self, filename: str = "io.safetensors") -> dict[str, Tensor]:
        """The case's tensors (see :func:`read_fixture_tensors`)."""
        return read_fixture_tensors(self.folder / filename)

    def weight_paths(self) -> list[Path]:
        """The weight files the config lists under ``weights``, in order.

        Raises:
            ValueError: the config lists none.
            FileNotFoundError: a listed file is missing.
        """
        names = self.config.get("weights")
        if not names or not isinstance(names, list):
            raise ValueError(f"{self.folder / 'config.json'} lists no weight files ('weights')")
        paths = [self.folder / str(n) for n in names]
        for p in paths:
            if not p.is_file():
                raise FileNotFoundError(f"fixture {self.name}: weight file not found: {p}")
        return paths


def fixture_cases(root: str | os.PathLike[str]) -> list[FixtureCase]:
    """The cases of the fixture set in ``root``, sorted by name (folders with a ``config.json``)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"fixture set not found: {root}")
    return [FixtureCase.read(p) for p in sorted(root.iterdir()) if (p / "config.json").is_file()]


def find_fixture_set(name: str, search: Sequence[str | os.PathLike[str] | None]) -> Path | None:
    """The first ``<folder>/<name>`` that exists, for ``folder`` in ``search`` (``None`` entries skipped).

    Typical ``search`` for the full sets: ``[os.environ.get(FIXTURES_ENV), repo / ".." / "shared" /
    "fixtures"]``; for the compact copies: ``[repo / "tests" / "fixtures"]``.
    """
    for folder in search:
        if folder is None or str(folder) == "":
            continue
        candidate = Path(folder) / name
        if candidate.is_dir():
            return candidate
    return None


def _narrow(t: Tensor) -> Tensor:
    """``t`` in the smallest dtype that holds every value exactly (itself when none does)."""
    if t.dtype in _INT_DTYPES and t.numel():
        lo, hi = int(t.min()), int(t.max())
        for dtype in _INT_DTYPES:
            info = torch.iinfo(dtype)
            if info.min <= lo and hi <= info.max:
                return t.to(dtype)
    if t.dtype == torch.float32 and t.numel() and bool(torch.isfinite(t).all()):
        half = t.to(torch.float16)
        if torch.equal(half.to(torch.float32), t):
            return half
    return t


def _trim_generator_windows(cfg: dict[str, Any], io: dict[str, Tensor], windows: int) -> dict[str, Tensor]:
    """Keep the first ``windows`` generated frames and only the inputs they depend on."""
    tg = int(cfg.get("n_frames_G", 3))
    total = int(io["expected"].shape[0])
    windows = min(windows, total)
    out = dict(io)
    for key in ("labels", "instances", "inputs"):
        if key in out:
            out[key] = out[key][: windows + tg - 1]
    if "real" in out:
        # Only the first tG-1 real frames are read (as the history), and none without first frames.
        out["real"] = out["real"][: tg - 1]
        if cfg.get("no_first_img"):
            del out["real"]
    out["expected"] = out["expected"][:windows]
    return out


def compact_fixture_case(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], *, windows: int = 3
) -> Path:
    """Write a compact copy of the case in ``src`` to ``dst`` (a new folder).

    Args:
        src: a case folder of a full set.
        dst: the folder to create.
        windows: generated windows kept for ``vid2vid_generator`` cases (the first ``windows``
            outputs and the ``windows + tG - 1`` input frames they need); with ``windows >= tG``
            later windows run on a history made only of generated frames, as in the full case.

    Returns:
        ``dst``. Its ``config.json`` records what was dropped under ``compacted_from``.
    """
    case = FixtureCase.read(src)
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=False)
    cfg = dict(case.config)
    io = case.tensors()
    if case.kind == "vid2vid_generator" and "expected" in io:
        cfg["compacted_from"] = {"generated_windows": int(io["expected"].shape[0])}
        io = _trim_generator_windows(cfg, io, windows)
        cfg["generated_windows"] = int(io["expected"].shape[0])
    else:
        cfg["compacted_from"] = {}
    narrowed = {k: _narrow(t).contiguous() for k, t in io.items()}
    original = {
        k: str(io[k].dtype).removeprefix("torch.") for k, t in narrowed.items() if t.dtype != io[k].dtype
    }
    save_file(narrowed, str(dst / "io.safetensors"), metadata={_COMPACT_KEY: json.dumps(original)})
    for path in case.weight_paths() if cfg.get("weights") else []:
        shutil.copyfile(path, dst / path.name)
    (dst / "config.json").write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
    return dst
