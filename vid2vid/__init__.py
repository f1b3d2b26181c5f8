"""vid2vid: video-to-video synthesis (Wang et al., NeurIPS 2018) on modern PyTorch.

The public surface is deliberately small:

- ``vid2vid.nn``: the networks (generators, discriminators, instance feature encoder).
- ``vid2vid.flow``: backward warping, flow confidence, flow colouring, flow estimators.
- ``vid2vid.data``: label encoding, datasets and video I/O.
- ``vid2vid.convert``: conversion of the original NVIDIA/vid2vid checkpoints.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
