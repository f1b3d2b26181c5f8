"""Shared test configuration: tiny CPU runs, deterministic seeds, the reference fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]

# The tests use tiny models: a single thread is fastest (thread synchronisation dominates tiny
# convolutions) and does not fight other processes for the cores.
torch.set_num_threads(1)
FIXTURES_ENV = "VID2VID_FIXTURES"


def fixtures_root() -> Path:
    """Reference fixtures of the original implementation: ``$VID2VID_FIXTURES`` or ``../shared/fixtures/nvidia-vid2vid``."""
    return Path(os.environ.get(FIXTURES_ENV, REPO_ROOT.parent / "shared" / "fixtures" / "nvidia-vid2vid"))


@pytest.fixture(autouse=True)
def _deterministic() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    root = fixtures_root()
    if not root.is_dir():
        raise FileNotFoundError(
            f"reference fixtures not found at {root}; set {FIXTURES_ENV} to the nvidia-vid2vid fixtures folder"
        )
    return root
