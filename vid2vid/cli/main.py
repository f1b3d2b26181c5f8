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

from vid2vid import __version__

# Sub-command modules, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "convert",
    "make_synthetic",
    "prepare_flow",
    "build_inputs",
    "synthesize",
    "demo",
    "train",
    "evaluate",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="vid2vid",
        description="Video-to-video synthesis (Wang et al., NeurIPS 2018) on modern PyTorch.",
    )
    parser.add_argument("--version", action="version", version=f"vid2vid {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"vid2vid.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError, RuntimeError) as err:
        # Library errors carry a message meant for the user: print it, not a traceback.
        print(f"vid2vid {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
