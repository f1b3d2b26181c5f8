"""Procedural datasets with exact ground-truth flow, one per application of the paper (vid2vid §4).

- ``street`` (:mod:`~vid2vid.data.synthetic.street`): layered street scenes with Cityscapes labels
  and instances (the original ``{phase}_A`` / ``{phase}_B`` / ``{phase}_inst`` layout);
- ``face`` (:mod:`~vid2vid.data.synthetic.face`): talking, turning faces with 68 landmarks (the
  original ``{phase}_keypoints`` / ``{phase}_img`` layout, read by :class:`~vid2vid.data.FaceDataset`);
- ``pose`` (:mod:`~vid2vid.data.synthetic.pose`): walking and dancing figures with BODY_25 OpenPose
  JSON and DensePose IUV (``{phase}_openpose`` / ``{phase}_densepose`` / ``{phase}_img``, read by
  :class:`~vid2vid.data.PoseDataset`).

Face and pose share the affine-layer renderer of :mod:`~vid2vid.data.synthetic.common`. Every kind
writes its exact flow cache to ``{phase}_flow``.
"""

from __future__ import annotations

import os
from pathlib import Path

from vid2vid.data.synthetic.face import face_template, make_synthetic_face_dataset, render_face_clip
from vid2vid.data.synthetic.pose import make_synthetic_pose_dataset, render_pose_clip
from vid2vid.data.synthetic.street import (
    SYNTHETIC_ESTIMATOR,
    SYNTHETIC_LABEL_NC,
    SYNTHETIC_LABELS,
    SyntheticLabel,
    colorize_labels,
    render_synthetic_clip,
    synthetic_clip_seed,
)
from vid2vid.data.synthetic.street import make_synthetic_dataset as make_synthetic_street_dataset

__all__ = [
    "SYNTHETIC_KINDS",
    "SyntheticLabel",
    "SYNTHETIC_LABELS",
    "SYNTHETIC_LABEL_NC",
    "SYNTHETIC_ESTIMATOR",
    "render_synthetic_clip",
    "render_face_clip",
    "render_pose_clip",
    "face_template",
    "make_synthetic_dataset",
    "make_synthetic_street_dataset",
    "make_synthetic_face_dataset",
    "make_synthetic_pose_dataset",
    "colorize_labels",
    "synthetic_clip_seed",
]

SYNTHETIC_KINDS: tuple[str, ...] = ("street", "face", "pose")


def make_synthetic_dataset(
    out: str | os.PathLike,
    n_clips: int,
    n_frames: int,
    size: tuple[int, int],
    seed: int,
    phase: str = "train",
    progress: bool = False,
    kind: str = "street",
) -> Path:
    """Write a synthetic dataset of ``kind`` (``"street"``, ``"face"`` or ``"pose"``) with exact flow.

    ``size`` is ``(W, H)``; clip ``i`` is rendered with seed ``[seed, i]``. See the kind's module for
    the layout it writes.
    """
    writers = {
        "street": make_synthetic_street_dataset,
        "face": make_synthetic_face_dataset,
        "pose": make_synthetic_pose_dataset,
    }
    if kind not in writers:
        raise ValueError(f"kind must be one of {SYNTHETIC_KINDS}, got {kind!r}")
    return writers[kind](
        out, n_clips=n_clips, n_frames=n_frames, size=size, seed=seed, phase=phase, progress=progress
    )
