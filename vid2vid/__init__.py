"""vid2vid: video-to-video synthesis (Wang et al., NeurIPS 2018) on modern PyTorch.

The public surface is deliberately small:

- ``vid2vid.Vid2VidPipeline``: load a model (local folder or Hub), synthesise and stream videos.
- ``vid2vid.Pix2PixHDPipeline``: image-to-image synthesis with a pix2pixHD model (single images or
  clips frame by frame); ``Vid2VidPipeline.from_pretrained`` returns one for image-model folders.
- ``vid2vid.DEMO_MODEL``: the bundled demo model folder (offline quick start).
- ``vid2vid.nn``: the networks (generators, discriminators, instance feature encoder).
- ``vid2vid.flow``: backward warping, flow confidence, flow colouring, flow estimators.
- ``vid2vid.data``: label encoding, datasets and video I/O.
- ``vid2vid.convert``: conversion of the original NVIDIA/vid2vid checkpoints.

``import vid2vid`` stays light: the pipeline (and torch) are imported on first access.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "DEMO_MODEL", "Vid2VidPipeline", "Vid2VidPipelineOutput", "Pix2PixHDPipeline"]

DEMO_MODEL: str = str(Path(__file__).resolve().parent / "assets" / "demo")
"""The small demo model shipped in the package (a model folder, offline, CPU-friendly).

Trained on the procedural street scenes of ``vid2vid make-synthetic`` at 128x64 (35 label ids,
instance maps, starts from zeros)::

    pipe = Vid2VidPipeline.from_pretrained(vid2vid.DEMO_MODEL, device="cpu")
"""

_LAZY = {
    "Vid2VidPipeline": "vid2vid.pipeline",
    "Vid2VidPipelineOutput": "vid2vid.pipeline_output",
    "Pix2PixHDPipeline": "vid2vid.pipelines.image",
}

if TYPE_CHECKING:  # pragma: no cover
    from vid2vid.pipeline import Vid2VidPipeline
    from vid2vid.pipeline_output import Vid2VidPipelineOutput
    from vid2vid.pipelines.image import Pix2PixHDPipeline


def __getattr__(name: str) -> Any:
    """Import the pipeline on first access (PEP 562)."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'vid2vid' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
