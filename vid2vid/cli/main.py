"""Entry point of the ``vid2vid`` console script.

Every sub-command lives in its own module of ``vid2vid.cli`` and exposes
``register(subparsers) -> None``, which adds an ``argparse`` sub-parser whose
``func`` default takes the parsed namespace and returns an exit code. Heavy imports
(torch, av, ...) happen inside the command functions so that ``vid2vid --help``
stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from vid2vid import __version__
from vid2vid.cli.common import HelpFormatter, add_common_arguments, apply_threads, check_device, cli_words

# Sub-command modules, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "convert",
    "make_synthetic",
    "prepare_flow",
    "build_inputs",
    "synthesize",
    "bundle",
    "demo",
    "train",
    "verify_training",
    "evaluate",
)


class CLIParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (the usage is in ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every registered sub-command."""
    parser = CLIParser(
        prog="vid2vid",
        description="Video-to-video synthesis (Wang et al., NeurIPS 2018) on modern PyTorch.",
    )
    parser.add_argument("--version", action="version", version=f"vid2vid {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"vid2vid.cli.{name}")
        module.register(subparsers)
    for sub in leaf_parsers(parser).values():  # every command computes: --threads and --debug everywhere
        add_common_arguments(sub)
    return parser


def leaf_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parsers that run a command (``"build-inputs face"``, ``"train"``, ...), by their words."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                sub.formatter_class = HelpFormatter
                nested = leaf_parsers(sub)
                found.update({f"{name} {k}": v for k, v in nested.items()} if nested else {name: sub})
    return found


def error_line(err: BaseException) -> str:
    """``err`` as one line for the terminal (the type named when the message alone would not say)."""
    if isinstance(err, KeyError) and len(err.args) == 1:
        text = str(err.args[0])
    elif isinstance(err, OSError) and err.strerror and err.filename:
        text = f"{err.strerror}: {err.filename}"
    else:
        text = str(err)
    text = " ".join(text.split())
    expected = (ValueError, OSError, KeyError, RuntimeError, MemoryError, ImportError)
    if not text:
        text = type(err).__name__
    elif not isinstance(err, expected):
        text = f"{type(err).__name__}: {text}"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        if getattr(args, "device", None) is not None:
            check_device(args.device)
        apply_threads(args)
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        if getattr(args, "debug", False):
            raise
        print(f"vid2vid {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - every error is one line unless --debug
        if getattr(args, "debug", False):
            raise
        # Library errors carry a message meant for the user: print it, not a traceback.
        message = cli_words(error_line(err))
        print(f"vid2vid {args.command}: error: {message} (--debug shows the traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
