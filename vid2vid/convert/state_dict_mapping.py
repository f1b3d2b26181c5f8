"""Strict, explicit re-keying of a foreign state dict onto one of our modules.

A :class:`StateDictMapping` is filled with one call per layer of the source network
(``conv``, ``norm``, ``residual_block``); :meth:`StateDictMapping.load_into` then checks that
every source tensor was used or deliberately dropped, that every tensor of the target module
was provided, and that shapes agree, raising one error that names every offending key.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

__all__ = ["StateDictMapping", "ConversionError"]

_BN_STATS = ("running_mean", "running_var", "num_batches_tracked")


class ConversionError(ValueError):
    """A source checkpoint does not match the module it is converted into."""


def _shorten(items: list[str], limit: int = 12) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", ... and {len(items) - limit} more" if len(items) > limit else "")


class StateDictMapping:
    """Collects ``source key → target key`` pairs for one source state dict.

    Args:
        source: the original state dict (``name → tensor``).
        source_name: where it came from (a file name), used in error messages.
    """

    def __init__(self, source: Mapping[str, Tensor], source_name: str = "checkpoint") -> None:
        self.source = dict(source)
        self.source_name = source_name
        self.target: dict[str, Tensor] = {}
        self.used: set[str] = set()
        self.missing: list[str] = []
        #: source key → target key of every mapped tensor
        self.pairs: dict[str, str] = {}

    # ------------------------------------------------------------- primitives
    def take(self, src: str, dst: str) -> None:
        """Map one tensor ``src`` → ``dst``."""
        if src not in self.source:
            self.missing.append(src)
            return
        if dst in self.target:
            raise ConversionError(f"target key {dst!r} mapped twice (second source: {src!r})")
        self.target[dst] = self.source[src]
        self.used.add(src)
        self.pairs[src] = dst

    def drop(self, src: str, required: bool = True) -> None:
        """Consume ``src`` without using it (e.g. unused running statistics)."""
        if src in self.source:
            self.used.add(src)
        elif required:
            self.missing.append(src)

    # ----------------------------------------------------------------- layers
    def conv(self, src: str, dst: str) -> None:
        """A (transposed) convolution with bias: ``src.weight/bias`` → ``dst.weight/bias``."""
        self.take(f"{src}.weight", f"{dst}.weight")
        self.take(f"{src}.bias", f"{dst}.bias")

    def norm(self, src: str, dst: str, src_norm: str, dst_norm: str) -> None:
        """A normalisation layer, converted between norm types.

        ``src_norm`` is the original's (``batch`` = BatchNorm2d with affine and running stats,
        ``instance`` = InstanceNorm2d without affine, running stats tracked but unused, or
        ``none``); ``dst_norm`` is ours (see :func:`vid2vid.nn.norm.make_norm`). Running
        statistics are carried over only into ``batch``; elsewhere they are dropped, because the
        original computed its outputs with per-call statistics.
        """
        if src_norm == "none":
            if dst_norm != "none":
                raise ConversionError(f"cannot convert a norm-free layer {src!r} into norm {dst_norm!r}")
            return
        if src_norm == "batch":
            if dst_norm == "batch":
                for name in ("weight", "bias", *_BN_STATS):
                    self.take(f"{src}.{name}", f"{dst}.{name}")
            elif dst_norm == "instance_affine":
                self.take(f"{src}.weight", f"{dst}.weight")
                self.take(f"{src}.bias", f"{dst}.bias")
                for name in _BN_STATS:
                    self.drop(f"{src}.{name}")
            else:
                raise ConversionError(
                    f"BatchNorm layer {src!r} can become 'batch' or 'instance_affine', not {dst_norm!r}"
                )
            return
        if src_norm == "instance":
            if dst_norm != "instance":
                raise ConversionError(
                    f"InstanceNorm layer {src!r} (no affine) can only become 'instance', not {dst_norm!r}"
                )
            for name in _BN_STATS:  # present when the original tracked running stats
                self.drop(f"{src}.{name}", required=False)
            return
        raise ConversionError(f"unknown source norm {src_norm!r}")

    def conv_norm(self, src_conv: str, src_norm_key: str, dst: str, src_norm: str, dst_norm: str) -> None:
        """A ``ConvNormAct``/``UpConvNormAct`` block: ``dst.conv`` and ``dst.norm``."""
        self.conv(src_conv, f"{dst}.conv")
        self.norm(src_norm_key, f"{dst}.norm", src_norm, dst_norm)

    def residual_block(self, src: str, dst: str, src_norm: str, dst_norm: str) -> None:
        """The original's ``ResnetBlock`` (reflection padding: ``conv_block.{1,2,5,6}``) → :class:`ResidualBlock`."""
        self.conv(f"{src}.conv_block.1", f"{dst}.conv1")
        self.norm(f"{src}.conv_block.2", f"{dst}.norm1", src_norm, dst_norm)
        self.conv(f"{src}.conv_block.5", f"{dst}.conv2")
        self.norm(f"{src}.conv_block.6", f"{dst}.norm2", src_norm, dst_norm)

    # ------------------------------------------------------------------ apply
    def load_into(self, module: nn.Module, prefix: str = "") -> None:
        """Copy the mapped tensors into ``module`` (keys under ``prefix``), strictly.

        Raises:
            ConversionError: naming source keys that were missing or never used, target keys
                that were not provided, and shape mismatches.
        """
        problems: list[str] = []
        if self.missing:
            problems.append(
                f"keys expected but missing in {self.source_name}: {_shorten(sorted(self.missing))}"
            )
        unused = sorted(set(self.source) - self.used)
        if unused:
            problems.append(
                f"unexpected keys in {self.source_name} (not part of this architecture): {_shorten(unused)}"
            )
        own = {k[len(prefix) :]: v for k, v in module.state_dict().items() if k.startswith(prefix)}
        not_provided = sorted(set(own) - set(self.target))
        if not_provided:
            problems.append(f"module tensors not provided by {self.source_name}: {_shorten(not_provided)}")
        extra = sorted(set(self.target) - set(own))
        if extra:
            problems.append(f"mapped keys that the module does not have: {_shorten(extra)}")
        mismatched = [
            f"{key}: checkpoint {tuple(self.target[key].shape)} vs module {tuple(own[key].shape)}"
            for key in sorted(set(own) & set(self.target))
            if own[key].shape != self.target[key].shape
        ]
        if mismatched:
            problems.append(f"shape mismatches ({self.source_name}): {_shorten(mismatched, 6)}")
        if problems:
            raise ConversionError(
                "checkpoint does not match the architecture (check the options used to build it):\n- "
                + "\n- ".join(problems)
            )
        with torch.no_grad():
            state = module.state_dict()
            for key, value in self.target.items():
                state[prefix + key].copy_(value)
