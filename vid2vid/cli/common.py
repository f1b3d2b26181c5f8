"""Options every computing command shares: ``--threads``, ``--device``, ``--debug``.

One definition, so the flags mean the same thing (and have the same defaults) in every command.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

__all__ = [
    "cli_words",
    "add_common_arguments",
    "add_device_argument",
    "apply_threads",
    "check_device",
    "default_threads",
    "positive_int",
]

THREADS_HELP = (
    "torch CPU threads (default: auto = $OMP_NUM_THREADS when set, else the CPUs this process may use "
    "minus the machine's current load, at least 1: a busy machine is not oversubscribed)"
)


def default_threads() -> int:
    """CPU threads that do not oversubscribe the machine.

    ``$OMP_NUM_THREADS`` when set to a positive integer; else the CPUs this process may run on
    (its affinity mask) minus the 1-minute load average of the machine, at least 1.
    """
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    return max(1, min(cpus, round(cpus - load)))


def positive_int(text: str) -> int:
    """``argparse`` type: an integer >= 1 (a clear usage error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _threads(text: str) -> int | str:
    if text == "auto":
        return "auto"
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'auto', got {text!r}") from None


def add_common_arguments(parser: argparse.ArgumentParser, *, threads: bool = True) -> None:
    """Add ``--debug`` (and ``--threads`` for commands that compute) to a sub-command parser."""
    if threads:
        parser.add_argument("--threads", type=_threads, default="auto", metavar="N", help=THREADS_HELP)
    parser.add_argument(
        "--debug", action="store_true", help="on an error, print the full traceback (default: one line)"
    )


def add_device_argument(parser: argparse.ArgumentParser, default: str | None = "auto") -> None:
    """Add ``--device`` (``auto``: CUDA when available, else CPU)."""
    parser.add_argument(
        "--device",
        default=default,
        help="auto, cpu, cuda or cuda:N (default: auto = cuda when available, else cpu)",
    )


def apply_threads(args: argparse.Namespace) -> int | None:
    """Set torch's CPU threads from ``args.threads``; returns the number set (``None``: no flag)."""
    value: Any = getattr(args, "threads", None)
    if value is None:
        return None
    n = default_threads() if value == "auto" else int(value)
    import torch

    torch.set_num_threads(n)
    os.environ.setdefault("OMP_NUM_THREADS", str(n))  # for worker processes started later
    return n


def check_device(name: str | None) -> str:
    """``name`` with ``auto``/``None`` resolved; a clear error when CUDA is asked for without CUDA.

    Raises:
        ValueError: an unknown device string, or ``cuda`` on a machine (or torch build) without CUDA.
    """
    import torch

    if name is None or name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"--device {name!r} is not a device: use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            build = "this torch build has no CUDA" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise ValueError(f"--device {name}: CUDA is not available ({build}); use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(
                f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) visible (cuda:0 ...)"
            )
    return str(device)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps descriptions as written and shows every option's default (unless its help already does)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text.lower() or action.default in (None, False, argparse.SUPPRESS):
            return text
        if action.option_strings or action.nargs in ("?", "*"):
            text += " (default: %(default)s)"
        return text


# Python names in library messages -> the flags a command-line user types.
_CLI_WORDS: tuple[tuple[str, str], ...] = (
    ("do not pass instances", "drop --instances"),
    ("pass first_frames", "give --first-frames"),
    ("first_frame='image_generator'", "--first-frame image_generator"),
    ("first_frame='zeros'", "--first-frame zeros"),
    ("first_frame='real'", "--first-frame real"),
    ("pass instances", "give --instances"),
    ("dtype=torch.bfloat16", "--dtype bfloat16"),
    ("dtype=torch.float16", "--dtype float16"),
    ("dtype=torch.float32", "--dtype float32"),
    ("or torch.float32", "or --dtype float32"),
    ("device='cpu'", "--device cpu"),
    ("device='cuda'", "--device cuda"),
)


def cli_words(message: str) -> str:
    """A library error message with its Python argument names replaced by the CLI's flags."""
    for python, flag in _CLI_WORDS:
        message = message.replace(python, flag)
    return message
