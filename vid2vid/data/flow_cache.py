"""On-disk cache of reference optical flow, one safetensors file per clip (vid2vid §3.2 reference flow).

The original computes the reference flow of the flow/warp losses with FlowNet2 on the fly; we
precompute it once (``vid2vid prepare-flow``, or exactly for the synthetic dataset) and store it
next to the data::

    <root>/{phase}_flow/<clip>.safetensors
        "flow"        (T, 2, H, W) float16, pixels, channel 0 = x; backward flow of frame t
                      (``flow_warp(frame[t-1], flow[t]) ≈ frame[t]``); flow[0] = 0 (no frame -1)
        "confidence"  (T, 1, H, W) uint8 in {0, 1}; confidence[0] = 0
        metadata      {"estimator": <name>, "convention": "backward, pixels, channel0=x", ...}

float16 keeps a quarter-pixel accuracy up to displacements of 512 pixels, which is more than
the loss needs and halves the disk footprint.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from vid2vid.atomic import atomic_path
from vid2vid.validation import check_finite

__all__ = [
    "FLOW_CONVENTION",
    "flow_cache_dir",
    "flow_cache_path",
    "save_flow_cache",
    "load_flow_cache",
    "read_flow_cache_shape",
]

FLOW_CONVENTION = "backward, pixels, channel0=x"


def flow_cache_dir(root: str | os.PathLike, phase: str) -> Path:
    """Folder of a phase's flow cache: ``<root>/{phase}_flow``."""
    return Path(root) / f"{phase}_flow"


def flow_cache_path(root: str | os.PathLike, phase: str, clip: str) -> Path:
    """Cache file of one clip: ``<root>/{phase}_flow/<clip>.safetensors``."""
    if not clip or "/" in clip or "\\" in clip:
        raise ValueError(f"clip name must be a plain file name, got {clip!r}")
    return flow_cache_dir(root, phase) / f"{clip}.safetensors"


def _as_tensor(array: np.ndarray | Tensor, what: str) -> Tensor:
    if isinstance(array, Tensor):
        return array.detach().cpu()
    if isinstance(array, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(array))
    raise ValueError(f"{what} must be a numpy array or a torch tensor, got {type(array).__name__}")


def _check_shapes(flow_shape: tuple[int, ...], conf_shape: tuple[int, ...], where: str) -> None:
    if len(flow_shape) != 4 or flow_shape[1] != 2 or flow_shape[0] < 1:
        raise ValueError(f"{where}: flow must be (T, 2, H, W) with T >= 1, got shape {flow_shape}")
    expected = (flow_shape[0], 1, flow_shape[2], flow_shape[3])
    if tuple(conf_shape) != expected:
        raise ValueError(
            f"{where}: confidence must be (T, 1, H, W) = {expected} to match flow, got {conf_shape}"
        )


def save_flow_cache(
    path: str | os.PathLike,
    flow: np.ndarray | Tensor,
    confidence: np.ndarray | Tensor,
    estimator: str,
    extra_metadata: dict[str, str] | None = None,
) -> Path:
    """Write one clip's flow cache atomically (temporary file + ``os.replace``).

    Args:
        path: target ``.safetensors`` file (see :func:`flow_cache_path`).
        flow: ``(T, 2, H, W)`` float backward flow in pixels, channel 0 = x; stored as float16.
            ``flow[0]`` should be zeros (frame 0 has no previous frame).
        confidence: ``(T, 1, H, W)`` in ``{0, 1}`` (bool, integer or float; float values are
            thresholded at 0.5); stored as uint8.
        estimator: name of what produced the flow (e.g. ``"raft_large"``, ``"synthetic-ground-truth"``).
        extra_metadata: more string metadata to store.

    Returns:
        ``path``.
    """
    path = Path(path)
    flow_t = _as_tensor(flow, "flow")
    conf_t = _as_tensor(confidence, "confidence")
    _check_shapes(tuple(flow_t.shape), tuple(conf_t.shape), f"flow cache {path}")
    if not flow_t.dtype.is_floating_point:
        raise ValueError(f"flow cache {path}: flow must be floating point, got dtype {flow_t.dtype}")
    if not torch.isfinite(flow_t).all():
        raise ValueError(f"flow cache {path}: flow holds NaN or infinite values")
    if flow_t.abs().max() > 60000:
        raise ValueError(f"flow cache {path}: flow magnitudes exceed the float16 range")
    if conf_t.dtype.is_floating_point:
        conf_t = conf_t >= 0.5
    elif conf_t.dtype != torch.bool and (conf_t.min() < 0 or conf_t.max() > 1):
        raise ValueError(f"flow cache {path}: confidence must hold values in {{0, 1}}")
    if not estimator:
        raise ValueError("estimator name must be a non-empty string")
    metadata = {"estimator": str(estimator), "convention": FLOW_CONVENTION}
    for key, value in (extra_metadata or {}).items():
        metadata[str(key)] = str(value)
    tensors = {
        "flow": flow_t.to(torch.float16).contiguous(),
        "confidence": conf_t.to(torch.uint8).contiguous(),
    }
    from safetensors.torch import save_file

    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return path


def read_flow_cache_shape(path: str | os.PathLike) -> tuple[tuple[int, int, int, int], dict[str, str]]:
    """Shape ``(T, 2, H, W)`` of a cached flow and its metadata, without reading the tensors."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"flow cache {path} does not exist (run `vid2vid prepare-flow` first)")
    try:
        with safe_open(str(path), framework="pt") as f:
            keys = set(f.keys())
            if not {"flow", "confidence"} <= keys:
                raise ValueError(
                    f"flow cache {path} must hold tensors 'flow' and 'confidence', has {sorted(keys)}"
                )
            flow_shape = tuple(f.get_slice("flow").get_shape())
            conf_shape = tuple(f.get_slice("confidence").get_shape())
            metadata = dict(f.metadata() or {})
    except ValueError:
        raise
    except Exception as err:
        raise ValueError(f"cannot read flow cache {path}: {err}") from err
    _check_shapes(flow_shape, conf_shape, f"flow cache {path}")
    return flow_shape, metadata  # type: ignore[return-value]


def load_flow_cache(
    path: str | os.PathLike, start: int | None = None, stop: int | None = None
) -> tuple[Tensor, Tensor, dict[str, str]]:
    """Read a clip's flow cache.

    Args:
        path: the ``.safetensors`` file.
        start, stop: optional frame range ``[start, stop)`` to read (only that part is loaded).

    Returns:
        ``(flow, confidence, metadata)``: flow ``(T, 2, H, W)`` float32 pixels, confidence
        ``(T, 1, H, W)`` float32 in ``{0, 1}``, metadata a ``dict[str, str]``.
    """
    from safetensors import safe_open

    path = Path(path)
    read_flow_cache_shape(path)  # existence, keys and shapes, with clear messages
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = dict(f.metadata() or {})
            flow = f.get_slice("flow")[start:stop]
            confidence = f.get_slice("confidence")[start:stop]
    except Exception as err:
        raise ValueError(f"cannot read flow cache {path}: {err}") from err
    if metadata.get("convention", FLOW_CONVENTION) != FLOW_CONVENTION:
        raise ValueError(
            f"flow cache {path} uses convention {metadata['convention']!r}, expected {FLOW_CONVENTION!r}"
        )
    flow = check_finite(flow.to(torch.float32), f"flow cache {path}: flow")
    confidence = confidence.to(torch.float32)
    binary = (confidence == 0) | (confidence == 1)
    if not bool(binary.all()):
        bad = confidence[~binary]
        raise ValueError(
            f"flow cache {path}: confidence must be 0 or 1, found {bad.numel()} other value(s) "
            f"(e.g. {float(bad[0])}); recompute it with vid2vid prepare-flow --overwrite"
        )
    return flow, confidence, metadata
