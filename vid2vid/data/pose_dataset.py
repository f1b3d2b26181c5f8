"""Pose → body training data, drawn per sample from OpenPose / DensePose as the original (vid2vid §4).

Layout (the original's ``pose_dataset.py``; ``vid2vid make-synthetic --kind pose`` writes it)::

    <root>/{phase}_openpose/<clip>/*_keypoints.json   OpenPose BODY_25 (+ face, hands) per frame
    <root>/{phase}_densepose/<clip>/*.png             DensePose IUV per frame (optional)
    <root>/{phase}_img/<clip>/*                       RGB frames (or <clip>.mp4)
    <root>/{phase}_flow/<clip>.safetensors            optional reference flow of the full-size frames

Inputs are drawn exactly as the original (:func:`vid2vid.data.pose.pose_input_uint8`), in
``[-1, 1]``: 6 channels (DensePose V, U, I then the OpenPose rendering) or 3 (one of them).
Augmentations, each switchable:

- ``random_drop_prob`` (the original's default 0.05): each limb, each hand, the face and each
  DensePose part is left out with this probability;
- ``remove_face_labels``: blank the DensePose head and jitter the OpenPose head and face;
- ``resize_mode`` with ``load_size`` / ``fine_size``: the original's random crop (x around the
  centre, y within the top eighth) at a fixed (``scale_height_and_crop``) or random
  (``random_scale_height_and_crop``) scale, then the central half of the columns (``center_crop``);
- ``sample_by_length`` (the original): clips are drawn in proportion to their length, and an epoch
  has one sample per frame window.

Never flipped: left and right limbs have their own colours, so a mirrored body would be a new pose.
"""

from __future__ import annotations

import os

import numpy as np
from torch import Tensor

from vid2vid.data.face_dataset import _to_tensor
from vid2vid.data.io import read_image
from vid2vid.data.keypoint_dataset import FlowCrop, KeypointClip, KeypointVideoDataset
from vid2vid.data.pose import decode_pose_input, pose_geometry, pose_input_uint8, read_openpose

__all__ = ["PoseDataset", "POSE_RESIZE_MODES"]

POSE_RESIZE_MODES: tuple[str, ...] = (
    "scale_height",
    "scale_height_and_crop",
    "random_scale_height_and_crop",
    "none_and_crop",
)


class PoseDataset(KeypointVideoDataset):
    """Pose → body clips (see the module docstring for the layout and augmentations).

    Args:
        root, phase: dataset root and folder prefix.
        n_frames, max_t_step, load_flow, seed: see :class:`~vid2vid.data.keypoint_dataset.KeypointVideoDataset`.
        inputs: ``"both"`` (DensePose + OpenPose, 6 channels), ``"openpose"`` or ``"densepose"`` (3).
        resize_mode: one of :data:`POSE_RESIZE_MODES` for training samples (whole clips from
            :meth:`load_clip` always use ``"scale_height"`` as the original's test time).
        load_size, fine_size: target / largest height and crop height (see
            :func:`vid2vid.data.pose.pose_geometry`).
        center_crop: keep the central half of the columns (the original always does).
        random_drop_prob, remove_face_labels, basic_point_only: see :func:`vid2vid.data.pose.render_openpose`.
        sample_by_length: draw clips in proportion to their length (the original).

    A sample is a dict: ``"inputs"`` ``(T, C, h, w)`` float32 in ``[-1, 1]``; ``"frames"``
    ``(T, 3, h, w)`` float32 in ``[-1, 1]``; with ``load_flow`` ``"flow"`` and ``"flow_confidence"``;
    ``"clip"``, ``"start"``, ``"t_step"``.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        phase: str = "train",
        n_frames: int = 8,
        max_t_step: int = 1,
        inputs: str = "both",
        resize_mode: str = "scale_height_and_crop",
        load_size: int = 512,
        fine_size: int = 512,
        center_crop: bool = True,
        random_drop_prob: float = 0.05,
        remove_face_labels: bool = False,
        basic_point_only: bool = False,
        sample_by_length: bool = True,
        load_flow: bool = False,
        seed: int | None = None,
    ) -> None:
        if inputs not in ("both", "openpose", "densepose"):
            raise ValueError(f"inputs must be 'both', 'openpose' or 'densepose', got {inputs!r}")
        if resize_mode not in POSE_RESIZE_MODES:
            raise ValueError(
                f"resize_mode must be one of {POSE_RESIZE_MODES} for pose data, got {resize_mode!r}"
            )
        if not 0.0 <= random_drop_prob < 1.0:
            raise ValueError(f"random_drop_prob must be in [0, 1), got {random_drop_prob}")
        self.inputs = inputs
        self.resize_mode = resize_mode
        self.load_size = load_size
        self.fine_size = fine_size
        self.center_crop = center_crop
        self.random_drop_prob = random_drop_prob
        self.remove_face_labels = remove_face_labels
        self.basic_point_only = basic_point_only
        sources = {}
        if inputs in ("both", "openpose"):
            sources["openpose"] = ("openpose", (".json",), True)
        if inputs in ("both", "densepose"):
            sources["densepose"] = ("densepose", (".png",), True)
        super().__init__(
            root,
            phase,
            sources,
            n_frames=n_frames,
            max_t_step=max_t_step,
            sample_by_length=sample_by_length,
            load_flow=load_flow,
            seed=seed,
        )

    @property
    def input_nc(self) -> int:
        """Input channels: 6 with both sources, else 3."""
        return 6 if self.inputs == "both" else 3

    @property
    def input_range(self) -> tuple[float, float]:
        """Value range of ``"inputs"``: ``(-1, 1)`` (the original normalises pose renderings)."""
        return (-1.0, 1.0)

    def _sample(
        self, clip: KeypointClip, indices: list[int], rng: np.random.Generator, train: bool
    ) -> dict[str, Tensor | str | int]:
        mode = self.resize_mode if train else "scale_height"
        geometry = pose_geometry(clip.size, self.load_size, self.fine_size, mode, self.center_crop, rng)
        drop = self.random_drop_prob if train else 0.0
        remove_face = self.remove_face_labels and train
        frames = self._read_frames(clip, indices)
        maps, targets = [], []
        for k, i in enumerate(indices):
            try:
                people = read_openpose(clip.sources["openpose"][i]) if "openpose" in clip.sources else None
                iuv = read_image(clip.sources["densepose"][i]) if "densepose" in clip.sources else None
                maps.append(
                    pose_input_uint8(
                        people, geometry, clip.size, iuv, self.basic_point_only, drop, remove_face, rng
                    )
                )
            except ValueError as err:
                raise ValueError(f"clip {clip.name!r}, frame {i}: {err}") from err
            targets.append(geometry.apply(frames[k], "bicubic"))
        inputs = decode_pose_input(np.stack(maps), densepose="densepose" in clip.sources)
        sample: dict[str, Tensor | str | int] = {"inputs": inputs, "frames": _to_tensor(np.stack(targets))}
        sample.update(self._flow(clip, indices, self._flow_crop(geometry)))
        return sample

    @staticmethod
    def _flow_crop(geometry) -> FlowCrop:  # type: ignore[no-untyped-def]
        height, width = geometry.resize
        top, left = 0, 0
        if geometry.crop is not None and (width > geometry.crop[1] or height > geometry.crop[0]):
            top, left = geometry.top, geometry.left
            height, width = min(height - top, geometry.crop[0]), min(width - left, geometry.crop[1])
        if geometry.center_crop:
            bs = int(width * 0.25) // 32 * 32
            left, width = left + width // 2 - bs, 2 * bs
        return FlowCrop(geometry.resize, top, left, height, width, (height, width))
