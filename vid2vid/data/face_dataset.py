"""Edge → face training data, drawn per sample from facial landmarks as the original (vid2vid §4).

Layout (the original's ``face_dataset.py``; ``vid2vid make-synthetic --kind face`` writes it)::

    <root>/{phase}_keypoints/<clip>/*.txt   68 landmarks per frame, ``x,y`` lines (or .json / .npy)
    <root>/{phase}_img/<clip>/*             RGB frames (or <clip>.mp4)
    <root>/{phase}_flow/<clip>.safetensors  optional reference flow of the full-size frames

A sample takes ``n_frames`` frames of a clip (random start and stride), crops them to the face box
of the sample's first frame, resizes to ``load_size`` wide and draws the inputs exactly as the
original (:func:`vid2vid.data.face.build_face_clip`): 15 channels in ``[0, 1]`` (not
``[-1, 1]``: the original feeds face maps unnormalised). Augmentations, each switchable:

- ``flip`` (default on, as the original): the whole sample mirrored left-right;
- ``random_scale_points`` (the original's ``--random_scale_points``): the facial parts moved and
  scaled per sample (ratios in [0.9, 1.1], shifts up to 5 px) before drawing;
- ``crop_jitter`` (ours, default 0): the face box moved and rescaled by up to this fraction.
"""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import Tensor

from vid2vid.data.face import (
    FACE_INPUT_NC,
    build_face_clip,
    face_crop_box,
    random_point_scaling,
    read_face_landmarks,
)
from vid2vid.data.keypoint_dataset import FlowCrop, KeypointClip, KeypointVideoDataset

__all__ = ["FaceDataset"]

_LANDMARK_SUFFIXES = (".txt", ".json", ".npy")


def _to_tensor(frames: np.ndarray) -> Tensor:
    """``(T, H, W, 3)`` uint8 → ``(T, 3, H, W)`` float32 ``(x / 255 - 0.5) / 0.5`` (the original's ops)."""
    return (
        torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div(255).sub(0.5).div(0.5)
    )


class FaceDataset(KeypointVideoDataset):
    """Edge → face clips (see the module docstring for the layout and augmentations).

    Args:
        root, phase: dataset root and folder prefix.
        n_frames, max_t_step, load_flow, seed: see :class:`~vid2vid.data.keypoint_dataset.KeypointVideoDataset`.
        load_size: output width (the crop is square, so also the height; a multiple of 32).
        add_dist_map: 15 input channels (edges + 14 distance maps); ``False``: the edge map only.
        canny: add Canny edges of the frame outside the face (the original's default).
        flip, random_scale_points, crop_jitter: the augmentations.

    A sample is a dict: ``"inputs"`` ``(T, C, h, w)`` float32 in ``[0, 1]``; ``"frames"``
    ``(T, 3, h, w)`` float32 in ``[-1, 1]``; ``"part_labels"`` ``(T, h, w)`` int64 (0 background,
    1 face, 2 eyebrows, 3 nose, 4 eyes, 5 mouth, 6 inner mouth); ``"crop_box"`` ``(4,)`` int64
    (left, top, right, bottom in the source frames); with ``load_flow`` ``"flow"`` ``(T, 2, h, w)``
    and ``"flow_confidence"`` ``(T, 1, h, w)`` (frame 0: zero); ``"clip"``, ``"start"``, ``"t_step"``.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        phase: str = "train",
        n_frames: int = 8,
        max_t_step: int = 1,
        load_size: int = 512,
        add_dist_map: bool = True,
        canny: bool = True,
        flip: bool = True,
        random_scale_points: bool = False,
        crop_jitter: float = 0.0,
        load_flow: bool = False,
        seed: int | None = None,
    ) -> None:
        if load_size < 32:
            raise ValueError(f"load_size must be >= 32, got {load_size}")
        if not 0.0 <= crop_jitter < 0.5:
            raise ValueError(f"crop_jitter must be in [0, 0.5), got {crop_jitter}")
        self.load_size = load_size
        self.add_dist_map = add_dist_map
        self.canny = canny
        self.flip = flip
        self.random_scale_points = random_scale_points
        self.crop_jitter = crop_jitter
        super().__init__(
            root,
            phase,
            {"landmarks": ("keypoints", _LANDMARK_SUFFIXES, True)},
            n_frames=n_frames,
            max_t_step=max_t_step,
            sample_by_length=False,
            load_flow=load_flow,
            seed=seed,
        )

    @property
    def input_nc(self) -> int:
        """Input channels: 15 with distance maps, else 1."""
        return FACE_INPUT_NC if self.add_dist_map else 1

    @property
    def input_range(self) -> tuple[float, float]:
        """Value range of ``"inputs"``: ``(0, 1)`` (the original feeds face maps unnormalised)."""
        return (0.0, 1.0)

    def _sample(
        self, clip: KeypointClip, indices: list[int], rng: np.random.Generator, train: bool
    ) -> dict[str, Tensor | str | int]:
        files = clip.sources["landmarks"]
        try:
            landmarks = [read_face_landmarks(files[i]) for i in indices]
        except ValueError as err:
            raise ValueError(f"clip {clip.name!r}: {err}") from err
        frames = self._read_frames(clip, indices)
        box = face_crop_box(landmarks[0], clip.size)
        scaling = None
        flip = False
        if train:
            box = box.jittered(rng, self.crop_jitter, clip.size)
            if self.random_scale_points:
                scaling = random_point_scaling(rng)
            flip = self.flip and bool(rng.random() > 0.5)
        built = build_face_clip(
            landmarks, list(frames), clip.size, self.load_size, self.add_dist_map, self.canny, box, scaling
        )
        inputs = torch.from_numpy(built.inputs).float().div(255)
        target = _to_tensor(built.frames)
        labels = torch.from_numpy(built.labels.astype(np.int64))
        if flip:
            inputs, target, labels = inputs.flip(-1), target.flip(-1), labels.flip(-1)
        sample: dict[str, Tensor | str | int] = {
            "inputs": inputs.contiguous(),
            "frames": target.contiguous(),
            "part_labels": labels.contiguous(),
            "crop_box": torch.tensor([box.left, box.top, box.right, box.bottom]),
        }
        crop = FlowCrop(
            None, box.top, box.left, box.size[0], box.size[1], tuple(built.inputs.shape[-2:]), flip
        )
        sample.update(self._flow(clip, indices, crop))
        return sample
