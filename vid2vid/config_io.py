"""Dictionary and JSON round trips shared by the configuration dataclasses.

:class:`JsonConfig` gives a dataclass ``to_dict``, ``from_dict`` (unknown keys are an error that
names them and the known ones) and ``to_json``; model and training configurations inherit it so
that every ``config.json`` this library writes is read back the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any, TypeVar

__all__ = ["JsonConfig"]

_C = TypeVar("_C", bound="JsonConfig")


class JsonConfig:
    """Mixin for configuration dataclasses: ``to_dict`` / ``from_dict`` / ``to_json``."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dictionary of every field."""
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[_C], data: Mapping[str, Any]) -> _C:
        """Inverse of :meth:`to_dict`; unknown keys are an error naming them."""
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown {cls.__name__} keys: {unknown}; known keys: {sorted(known)}")
        return cls(**dict(data))

    def to_json(self) -> str:
        """The config as an indented JSON string (sorted keys)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)
