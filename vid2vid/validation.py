"""Checks of untrusted input shared by the library: finite values, typed JSON configs, memory.

Each check raises a ``ValueError`` (``MemoryError`` for sizes) whose message says what was wrong,
where (file, key, tensor name) and what was expected, so that nothing reaches torch's internals
as garbage and nothing produces silently wrong output.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from typing import Any, Union

import torch
from torch import Tensor

__all__ = [
    "resolve_device",
    "check_finite",
    "check_config_dict",
    "available_memory",
    "check_memory",
]


def check_finite(tensor: Tensor, name: str) -> Tensor:
    """Return ``tensor`` if it is not floating point or holds only finite values.

    Raises:
        ValueError: naming ``name``, how many values are NaN/inf and where the first one is.
    """
    if tensor.is_floating_point() or tensor.is_complex():
        bad = ~torch.isfinite(tensor)
        if bool(bad.any()):
            count = int(bad.sum())
            first = tuple(int(i) for i in bad.nonzero()[0].tolist())
            kinds = []
            if bool(torch.isnan(tensor).any()):
                kinds.append("NaN")
            if bool(torch.isinf(tensor).any()):
                kinds.append("inf")
            raise ValueError(
                f"{name} holds {count} non-finite value(s) ({'/'.join(kinds)}; first at index {first}): "
                "expected finite numbers"
            )
    return tensor


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _expected(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_expected(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    if origin in (list, tuple):
        args = typing.get_args(tp)
        return f"a list of {_expected(args[0]).removeprefix('an ').removeprefix('a ')}s" if args else "a list"
    if origin is dict or tp is dict:
        return "an object"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(tp, str(tp))


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """``value`` checked against the annotation ``tp`` (JSON types); ints are accepted for floats."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        errors = []
        for option in typing.get_args(tp):
            try:
                return _coerce(value, option, where)
            except ValueError as err:
                errors.append(err)
        raise ValueError(f"{where}: expected {_expected(tp)}, got {_type_name(value)} {value!r}")
    if tp is type(None):
        if value is None:
            return None
    elif tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ValueError(f"{where}: expected a finite number, got {value!r}")
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif origin in (list, tuple) or tp in (list, tuple):
        if isinstance(value, (list, tuple)):
            args = typing.get_args(tp)
            item = args[0] if args else Any
            items = [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
            return tuple(items) if origin is tuple else items
    elif origin is dict or tp is dict:
        if isinstance(value, dict):
            return value
    else:  # an annotation this checker does not know: leave it to the class
        return value
    raise ValueError(f"{where}: expected {_expected(tp)}, got {_type_name(value)} {value!r}")


def check_config_dict(
    cls: type, data: Any, source: str, *, require_all: bool = True, optional: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Check a JSON object against the fields of the dataclass ``cls`` before building it.

    Args:
        cls: a dataclass whose fields carry JSON-able annotations (int, float, bool, str, lists,
            ``X | None``).
        data: the parsed JSON value.
        source: where it came from, e.g. ``"runs/x/model/config.json: config"``; every message
            starts with it and names the key.
        require_all: a missing field is an error (a saved model folder must say everything;
            defaults would silently build another architecture).
        optional: fields that may be missing even with ``require_all`` (added in later versions).

    Returns:
        The values, type-checked (ints given for float fields become floats).

    Raises:
        ValueError: not an object, unknown keys, missing keys, or a value of the wrong type.
    """
    if not isinstance(data, dict):
        raise ValueError(
            f"{source}: expected a JSON object of {cls.__name__} settings, got {_type_name(data)}"
        )
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"{source}: unknown key(s) {unknown}; {cls.__name__} has {sorted(fields)}")
    if require_all:
        missing = sorted(set(fields) - set(data) - set(optional))
        if missing:
            raise ValueError(f"{source}: missing key(s) {missing} (a saved model must state every setting)")
    return {k: _coerce(v, hints[k], f"{source}.{k}") for k, v in data.items()}


def available_memory(device: torch.device | str = "cpu") -> int | None:
    """Bytes that can still be allocated on ``device`` (``None`` when unknown).

    CPU: ``MemAvailable`` of ``/proc/meminfo`` (Linux) or the physical memory size; CUDA: the
    driver's free memory on that device.
    """
    device = torch.device(device)
    if device.type == "cuda":
        try:
            free, _ = torch.cuda.mem_get_info(device)
            return int(free)
        except (RuntimeError, AssertionError):
            return None
    if device.type != "cpu":
        return None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TiB"


def check_memory(nbytes: int, what: str, device: torch.device | str = "cpu", hint: str = "") -> None:
    """Raise before allocating ``nbytes`` for ``what`` when ``device`` cannot hold it.

    Raises:
        MemoryError: the estimate exceeds the memory available now; the message gives both sizes.
    """
    available = available_memory(device)
    if available is not None and nbytes > available:
        raise MemoryError(
            f"{what} needs about {_human(nbytes)} but only {_human(available)} is available on "
            f"{torch.device(device)}" + (f"; {hint}" if hint else "")
        )


def resolve_device(device: str | torch.device | None, default: str = "cpu") -> torch.device:
    """``device`` as a ``torch.device`` (``None``: ``default``; ``"auto"``: CUDA when available).

    Raises:
        ValueError: an unknown device string, CUDA asked for on a machine or torch build without
            it, or a CUDA index beyond the visible devices; the message says what to use instead.
    """
    if device is None:
        device = default
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device {device!r} is not a device: use 'cpu', 'cuda', 'cuda:N' or 'auto'"
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            why = "this torch build has no CUDA" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise ValueError(
                f"device {str(device)!r} requested but CUDA is not available ({why}); use device='cpu'"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {str(device)!r}: only {torch.cuda.device_count()} CUDA device(s) are visible"
            )
    return dev
