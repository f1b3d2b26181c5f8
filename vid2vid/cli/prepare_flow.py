"""``vid2vid prepare-flow``: precompute the reference flow of a dataset split.

Writes ``<root>/{phase}_flow/<clip>.safetensors`` for every clip of ``<root>/{phase}_B``
(see :func:`vid2vid.flow.prepare.prepare_flow`).
"""

from __future__ import annotations

import argparse

from vid2vid.cli.common import add_device_argument, check_device

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``prepare-flow`` sub-command."""
    parser = subparsers.add_parser(
        "prepare-flow",
        help="compute reference optical flow for a dataset split",
        description=(
            "Compute the backward optical flow between consecutive frames of every clip of "
            "<root>/<phase>_B and cache it in <root>/<phase>_flow/<clip>.safetensors."
        ),
    )
    parser.add_argument("--root", required=True, help="dataset root (holds <phase>_B)")
    parser.add_argument("--phase", default="train", help="dataset split (default: train)")
    parser.add_argument(
        "--estimator",
        default="dis",
        choices=("dis", "raft_small", "raft_large"),
        help="flow estimator: dis (CPU, no weights; default), raft_small, raft_large (GPU advised)",
    )
    parser.add_argument(
        "--weights",
        default=None,
        help="RAFT weights file (default: torchvision's weights, from the env var / torch hub cache)",
    )
    add_device_argument(parser)
    parser.add_argument(
        "--batch-size", type=int, default=8, help="frame pairs per estimator call (default: 8)"
    )
    parser.add_argument("--overwrite", action="store_true", help="recompute clips that are already cached")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``prepare-flow``; returns the exit code."""
    from vid2vid.flow.prepare import prepare_flow

    paths = prepare_flow(
        args.root,
        phase=args.phase,
        estimator=args.estimator,
        device=check_device(args.device),
        batch_size=args.batch_size,
        overwrite=args.overwrite,
        weights=args.weights,
    )
    print(f"flow cache: {len(paths)} clip(s) in {paths[0].parent}")
    return 0
