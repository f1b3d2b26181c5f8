"""Shared steps of the end-to-end examples (``train_street.py``, ``train_face.py``, ``train_pose.py``).

Each example runs the ``vid2vid`` command line in-process, exactly the commands
``docs/training.md`` shows: ``make-synthetic`` (a training set and a held-out test clip) →
``train`` → (face / pose: ``build-inputs``) → ``synthesize`` → an MP4, then prints the held-out
error of the synthesised frames next to a trivial baseline (every pixel the mean colour of the
real held-out frames), so "it learned something" is a number.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import torch

from vid2vid.cli.main import main as vid2vid

__all__ = ["parse_args", "cli", "train", "synthesize", "held_out_error"]


def parse_args(doc: str, argv: list[str] | None, out: str) -> argparse.Namespace:
    """The examples' shared options."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(out), help=f"working folder (default {out})")
    parser.add_argument("--iters", type=int, default=300, help="training iterations (default 300)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--tiny", action="store_true", help="toy size (seconds): the test suite runs this")
    return parser.parse_args(argv)


def cli(*args: str) -> None:
    """Run one ``vid2vid`` command (printed first, as a shell line); raise if it fails."""
    print("$ vid2vid " + shlex.join(args), flush=True)
    status = vid2vid(list(args))
    if status:
        raise SystemExit(f"vid2vid {args[0]} failed with exit status {status}")


def train(preset: str, data: Path, run: Path, iters: int, threads: int, settings: dict[str, object]) -> Path:
    """``vid2vid train --preset ... --set key=value ...``; returns the trained model folder."""
    overrides = [item for key, value in settings.items() for item in ("--set", f"{key}={value}")]
    cli(
        "train", "--preset", preset, "--dataroot", str(data), "--checkpoint-dir", str(run),
        "--max-iters", str(iters), "--device", "cpu", "--threads", str(threads), "--no-progress", *overrides,
    )  # fmt: skip
    return run / "latest" / "model"


def synthesize(model: Path, labels: Path, out: Path, *extra: str) -> Path:
    """``vid2vid synthesize`` to an MP4 and, losslessly, to ``<out>.safetensors``; returns the MP4."""
    cli("synthesize", "--model", str(model), "--labels", str(labels), "--out", str(out), "--device", "cpu",
        "--quiet", *extra)  # fmt: skip
    cli("synthesize", "--model", str(model), "--labels", str(labels), "--out", str(out.with_suffix(".safetensors")),
        "--device", "cpu", "--quiet", *extra)  # fmt: skip
    return out


def held_out_error(synthesised: Path, real_frames: Path) -> tuple[float, float]:
    """Mean ``|synthesised - real|`` (``[0, 1]`` scale) over the synthesised frames, and the same for
    the constant baseline (the real frames' mean colour).

    ``synthesised``: the ``.safetensors`` that ``vid2vid synthesize`` writes (``frames``, ``first_index``);
    ``real_frames``: a folder of the real frames, one per input frame.
    """
    from vid2vid.checkpoint import load_state_dict
    from vid2vid.data.io import read_frames

    out = load_state_dict(synthesised)
    frames, first = out["frames"].float(), int(out["first_index"])
    real = torch.from_numpy(read_frames(real_frames)).permute(0, 3, 1, 2).float().div(255)[first:]
    if real.shape != frames.shape:
        raise ValueError(f"synthesised {tuple(frames.shape)} vs real {tuple(real.shape)} frames")
    baseline = real.mean(dim=(0, 2, 3), keepdim=True).expand_as(real)
    return float((frames - real).abs().mean()), float((baseline - real).abs().mean())


def report(name: str, video: Path, error: float, baseline: float) -> None:
    """Print where the video went and the held-out numbers."""
    print(f"{name}: video {video}")
    print(f"{name}: held-out mean |synthesised - real| = {error:.4f} (mean-colour baseline {baseline:.4f})")
