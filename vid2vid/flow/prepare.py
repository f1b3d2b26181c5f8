"""Precompute the reference flow of a dataset split (vid2vid paper §3.2, design notes §3).

For every clip of ``<root>/{phase}_B`` (a folder of frames or a video file), computes the
backward flow of each frame onto the previous one with a reference estimator, its photometric
confidence (:func:`vid2vid.flow.flow_confidence`), and stores both in the flow cache
``<root>/{phase}_flow/<clip>.safetensors`` (:mod:`vid2vid.data.flow_cache`), which training then
reads with :class:`~vid2vid.flow.precomputed.PrecomputedFlow`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from vid2vid.flow.confidence import DEFAULT_CONFIDENCE_THRESHOLD, flow_confidence
from vid2vid.flow.estimator import FlowEstimator
from vid2vid.flow.factory import get_flow_estimator

__all__ = ["prepare_flow", "list_clips", "clip_flow"]


def list_clips(frames_dir: str | Path) -> list[tuple[str, Path]]:
    """Clips of a ``{phase}_B`` folder: ``(name, path)`` sorted by name.

    A clip is a sub-folder (name = folder name) or a video file (name = file stem). Hidden
    entries are ignored.
    """
    from vid2vid.data.io import is_video_file, natural_sort_key

    frames_dir = Path(frames_dir)
    if not frames_dir.is_dir():
        raise FileNotFoundError(
            f"{frames_dir} does not exist: expected a folder of clips (frame folders or videos)"
        )
    clips: dict[str, Path] = {}
    for entry in sorted(frames_dir.iterdir(), key=lambda p: natural_sort_key(p.name)):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            name = entry.name
        elif is_video_file(entry):
            name = entry.stem
        else:
            continue
        if name in clips:
            raise ValueError(
                f"{frames_dir} holds two clips named {name!r}: {clips[name].name} and {entry.name}"
            )
        clips[name] = entry
    return list(clips.items())


def clip_flow(
    frames: np.ndarray,
    estimator: FlowEstimator,
    batch_size: int = 8,
    device: str | torch.device = "cpu",
    threshold: float = DEFAULT_CONFIDENCE_THRESHOLD,
) -> tuple[Tensor, Tensor]:
    """Reference flow of one clip.

    Args:
        frames: ``(T, H, W, 3)`` uint8 RGB.
        estimator: the flow estimator.
        batch_size: frame pairs per estimator call.
        device: where frames are put before the estimator and the confidence run.
        threshold: photometric-confidence threshold (see :func:`~vid2vid.flow.flow_confidence`).

    Returns:
        ``flow`` ``(T, 2, H, W)`` float32 on CPU (``flow[0] = 0``, ``flow[t]`` the backward flow of
        frame t onto t-1) and ``confidence`` ``(T, 1, H, W)`` float32 in ``{0, 1}`` (``confidence[0] = 0``).
    """
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    n_frames, height, width = frames.shape[:3]
    flow = torch.zeros(n_frames, 2, height, width)
    confidence = torch.zeros(n_frames, 1, height, width)
    for start in range(1, n_frames, batch_size):
        stop = min(start + batch_size, n_frames)
        # frames start-1 .. stop-1 → pairs (t, t-1) for t in [start, stop)
        chunk = torch.from_numpy(np.ascontiguousarray(frames[start - 1 : stop])).to(device)
        chunk = chunk.permute(0, 3, 1, 2).float() / 127.5 - 1.0
        current, previous = chunk[1:], chunk[:-1]
        pair_flow = estimator(current, previous)
        flow[start:stop] = pair_flow.cpu()
        confidence[start:stop] = flow_confidence(current, previous, pair_flow, threshold).cpu()
    return flow, confidence


def prepare_flow(
    root: str | Path,
    phase: str = "train",
    estimator: str | FlowEstimator = "dis",
    device: str | torch.device = "cpu",
    batch_size: int = 8,
    overwrite: bool = False,
    weights: str | Path | None = None,
    progress: bool = True,
) -> list[Path]:
    """Compute and cache the reference flow of every clip of ``<root>/{phase}_B``.

    Args:
        root: dataset root.
        phase: split, e.g. ``"train"``.
        estimator: ``"dis"``, ``"raft_small"``, ``"raft_large"`` or a ready
            :class:`~vid2vid.flow.estimator.FlowEstimator`.
        device: device of the RAFT network and of the confidence computation.
        batch_size: frame pairs per estimator call.
        overwrite: recompute clips whose cache file already exists.
        weights: RAFT weights (path, or ``None`` for torchvision's default weights); ignored by DIS.
        progress: show a tqdm progress bar over clips.

    Returns:
        The cache file of every clip (computed now or already present), in clip order.
    """
    from tqdm.auto import tqdm

    from vid2vid.data.flow_cache import flow_cache_path, save_flow_cache
    from vid2vid.data.io import read_frames

    _check_estimator_args(estimator, weights)
    root = Path(root)
    clips = list_clips(root / f"{phase}_B")
    if not clips:
        raise ValueError(f"{root / f'{phase}_B'} holds no clips (sub-folders of frames or video files)")
    todo = [
        (name, path) for name, path in clips if overwrite or not flow_cache_path(root, phase, name).is_file()
    ]
    if todo:
        flow_estimator = _build_estimator(estimator, device, weights)
        for name, path in tqdm(todo, desc=f"flow {phase}", unit="clip", disable=not progress):
            frames = read_frames(path)
            if len(frames) < 2:
                raise ValueError(f"clip {path} has {len(frames)} frame(s): flow needs at least 2")
            flow, confidence = clip_flow(frames, flow_estimator, batch_size=batch_size, device=device)
            save_flow_cache(
                flow_cache_path(root, phase, name),
                flow,
                confidence,
                estimator=flow_estimator.name,
                extra_metadata={"clip": name, "source": path.name},
            )
    return [flow_cache_path(root, phase, name) for name, _ in clips]


def _check_estimator_args(estimator: str | FlowEstimator, weights: str | Path | None) -> None:
    """Refuse bad estimator names / weights before any work (even when every clip is cached)."""
    if isinstance(estimator, FlowEstimator):
        return
    if estimator not in ("dis", "raft_small", "raft_large"):
        raise ValueError(
            f"prepare_flow computes flow with 'dis', 'raft_small' or 'raft_large', got {estimator!r}"
        )
    if estimator == "dis" and weights is not None:
        raise ValueError("the DIS estimator takes no weights; --weights is for raft_small/raft_large")


def _build_estimator(
    estimator: str | FlowEstimator, device: str | torch.device, weights: str | Path | None
) -> FlowEstimator:
    if isinstance(estimator, FlowEstimator):
        return estimator
    if estimator == "dis":
        built = get_flow_estimator("dis")
    else:
        built = get_flow_estimator(
            estimator, weights="default" if weights is None else weights, device=device
        )
    assert isinstance(built, FlowEstimator)
    return built
