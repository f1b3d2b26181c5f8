"""Run a converted network on a reference fixture of the original and measure the difference.

A fixture folder (see ``tests/fixtures/nvidia-vid2vid/README.md``; full or compact copy, read
through :mod:`vid2vid.reference_fixtures`) holds the original's
weights (``*.pth``), its options (``config.json``, the original's flag names plus ``kind``,
``weights`` and frame size) and ``io.safetensors`` with the inputs fed and the outputs it
produced. :func:`check_fixture` converts the weights, replays the inputs with the original's
protocol and returns the largest absolute difference.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from vid2vid.convert.original import convert_original, load_original_state_dict
from vid2vid.data.labels import one_hot
from vid2vid.reference_fixtures import FixtureCase

__all__ = ["ParityResult", "check_fixture", "run_fixture"]


@dataclass
class ParityResult:
    """Outcome of :func:`check_fixture`.

    Attributes:
        name: fixture folder name.
        kind: network kind.
        max_abs_diff: largest absolute difference over every compared value.
        n_values: number of compared values.
    """

    name: str
    kind: str
    max_abs_diff: float
    n_values: int


def run_fixture(
    folder: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Convert the fixture's network and run it on the fixture's inputs.

    Args:
        folder: the fixture folder.
        device: where to run the converted network (outputs come back on the CPU).

    Returns:
        ``(ours, expected)``: dictionaries of output tensors with the same keys.
    """
    case = FixtureCase.read(folder)
    cfg = case.config
    expected_io = case.tensors()
    io = {k: v.to(device) for k, v in expected_io.items()}
    paths = case.weight_paths()
    state_dicts = [load_original_state_dict(p) for p in paths]
    kind = case.kind
    model, _ = convert_original(kind, cfg, state_dicts, source_names=[p.name for p in paths])
    model.to(device).train()  # the original computed every fixture with per-call normalisation statistics
    with torch.no_grad():
        if kind == "vid2vid_generator":
            clip = {k: io[k][None] for k in ("labels", "instances", "inputs") if k in io}
            inputs = model.encode_inputs(clip.get("labels"), clip.get("instances"), clip.get("inputs"))
            tg = model.config.n_frames_G
            first = None if cfg.get("no_first_img") else io["real"][None, : tg - 1]
            out = model.generate(inputs, first_frames=first)
            return {"expected": out.image[0].cpu()}, {"expected": expected_io["expected"]}
        if kind in ("pix2pixhd_global", "pix2pixhd_local"):
            return {"expected": model(one_hot(io["labels"], int(cfg["input_nc"]))).cpu()}, {
                "expected": expected_io["expected"]
            }
        if kind == "multiscale_patch_discriminator":
            features = model(io["input"])
            ours = {
                f"scale{i}.layer{j}": f.cpu() for i, scale in enumerate(features) for j, f in enumerate(scale)
            }
            return ours, {k: expected_io[k] for k in ours}
        if kind == "instance_feature_encoder":
            return {"expected": model(io["image"], io["instances"]).cpu()}, {
                "expected": expected_io["expected"]
            }
    raise ValueError(f"fixture {folder} has unknown kind {kind!r}")


def check_fixture(folder: str | os.PathLike[str], device: str | torch.device = "cpu") -> ParityResult:
    """Largest absolute difference between our converted network (run on ``device``) and the original."""
    folder = Path(folder)
    ours, expected = run_fixture(folder, device)
    missing = sorted(set(expected) - set(ours))
    if missing:
        raise ValueError(f"fixture {folder.name}: outputs not produced: {missing}")
    diff = 0.0
    count = 0
    for key, ref in expected.items():
        if ours[key].shape != ref.shape:
            raise ValueError(
                f"fixture {folder.name}: {key} has shape {tuple(ours[key].shape)}, expected {tuple(ref.shape)}"
            )
        diff = max(diff, float((ours[key].float() - ref.float()).abs().max()))
        count += ref.numel()
    return ParityResult(folder.name, FixtureCase.read(folder).kind, diff, count)
