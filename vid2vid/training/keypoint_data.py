"""The face / pose training datasets described by a :class:`~vid2vid.training.TrainConfig`.

``dataset_mode="face"`` builds a :class:`~vid2vid.data.FaceDataset`, ``"pose"`` a
:class:`~vid2vid.data.PoseDataset`, with the config's augmentation settings; their input
channels must match the generator's ``input_nc``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vid2vid.data.face import FACE_INPUT_NC
from vid2vid.data.face_dataset import FaceDataset
from vid2vid.data.keypoint_dataset import KeypointVideoDataset
from vid2vid.data.pose_dataset import POSE_RESIZE_MODES, PoseDataset

if TYPE_CHECKING:
    from vid2vid.training.config import TrainConfig

__all__ = ["build_keypoint_dataset"]


def build_keypoint_dataset(
    config: TrainConfig, n_frames: int, size_multiple: int, load_flow: bool
) -> KeypointVideoDataset:
    """The seeded face or pose dataset of ``config`` (``dataset_mode`` ``"face"`` or ``"pose"``)."""
    if not config.dataroot:
        raise ValueError("no dataset: set dataroot (--dataroot) to a face or pose dataset folder")
    gen = config.generator
    if gen.label_nc != 0:
        raise ValueError(
            f"dataset_mode={config.dataset_mode!r} gives continuous input maps: set generator.label_nc=0 "
            f"(got {gen.label_nc})"
        )
    if config.dataset_mode == "face":
        if gen.input_nc not in (FACE_INPUT_NC, 1):
            raise ValueError(
                f"face inputs have {FACE_INPUT_NC} channels (edges + distance maps) or 1 (edges only); "
                f"generator.input_nc is {gen.input_nc}"
            )
        if config.load_size % size_multiple:
            raise ValueError(
                f"face crops are load_size={config.load_size} px square, which the generator needs divisible "
                f"by {size_multiple}"
            )
        return FaceDataset(
            config.dataroot,
            phase=config.phase,
            n_frames=n_frames,
            max_t_step=config.max_t_step,
            load_size=config.load_size,
            add_dist_map=gen.input_nc == FACE_INPUT_NC,
            canny=not config.no_canny_edge,
            flip=config.flip,
            random_scale_points=config.random_scale_points,
            crop_jitter=config.face_crop_jitter,
            load_flow=load_flow,
            seed=config.seed,
        )
    if config.dataset_mode == "pose":
        if gen.input_nc not in (3, 6):
            raise ValueError(
                f"pose inputs have 6 channels (DensePose + OpenPose) or 3 (one of them); generator.input_nc is "
                f"{gen.input_nc}"
            )
        if config.resize_mode not in POSE_RESIZE_MODES:
            raise ValueError(
                f"resize_mode={config.resize_mode!r} is not a pose mode; use one of {POSE_RESIZE_MODES}"
            )
        inputs = "both" if gen.input_nc == 6 else ("densepose" if config.densepose_only else "openpose")
        return PoseDataset(
            config.dataroot,
            phase=config.phase,
            n_frames=n_frames,
            max_t_step=config.max_t_step,
            inputs=inputs,
            resize_mode=config.resize_mode,
            load_size=config.load_size,
            fine_size=config.fine_size,
            center_crop=config.pose_center_crop,
            random_drop_prob=config.random_drop_prob,
            remove_face_labels=config.remove_face_labels,
            basic_point_only=config.basic_point_only,
            sample_by_length=config.pose_sample_by_length,
            load_flow=load_flow,
            seed=config.seed,
        )
    raise ValueError(f"dataset_mode must be 'face' or 'pose' here, got {config.dataset_mode!r}")
