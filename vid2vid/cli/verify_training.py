"""``vid2vid verify-training``: replay one training iteration of the original and compare it with ours."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``verify-training`` sub-command."""
    parser = subparsers.add_parser(
        "verify-training",
        help="replay a training-step fixture of the original through our trainer and compare every term",
        description=(
            "Replay one iteration of the original NVIDIA/vid2vid train.py, recorded in a training-step "
            "fixture folder (the original's weights, options, inputs, reference flows, loss terms and "
            "gradient norms), through vid2vid's own trainer (Vid2VidTrainer.train_iteration) and print "
            "each loss term (ours, original, relative difference), the largest output difference and "
            "the worst gradient-norm difference. Exits 1 when anything is out of tolerance: loss terms "
            "1e-5 relative (1e-6 absolute near zero), outputs 1e-5, gradient norms 1e-4 relative. The "
            "replay runs single-threaded, as the fixtures were made (--threads does not apply)."
        ),
    )
    parser.add_argument("fixtures", nargs="+", metavar="FIXTURE_DIR", help="training-step fixture folder(s)")
    parser.add_argument(
        "--vgg-weights",
        help="VGG19 weights for the VGG loss (default: the file the fixture names, else rebuilt from "
        "the recipe in its config.json and checked against its hashes)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Replay every fixture; 0 when all are within tolerance, 1 otherwise."""
    from vid2vid.training.replay import replay_training_fixture

    ok = True
    for folder in args.fixtures:
        report = replay_training_fixture(folder, vgg_weights=args.vgg_weights)
        print(report.format())
        print()
        ok = ok and report.ok
    return 0 if ok else 1
