"""Data: label encoding, datasets (street clips, faces, poses), video I/O and the shipped synthetic datasets."""

from vid2vid.data.clip_dataset import ClipDataset
from vid2vid.data.face_dataset import FaceDataset
from vid2vid.data.flow_cache import flow_cache_path, load_flow_cache, save_flow_cache
from vid2vid.data.frame_dataset import FrameDataset
from vid2vid.data.io import (
    is_video_file,
    list_frame_files,
    read_frames,
    read_label_frames,
    write_frames,
    write_label_frames,
    write_video,
)
from vid2vid.data.labels import check_label_ids, encode_label_map, instance_edges, one_hot
from vid2vid.data.pose_dataset import PoseDataset
from vid2vid.data.synthetic import (
    SYNTHETIC_KINDS,
    SYNTHETIC_LABEL_NC,
    SYNTHETIC_LABELS,
    make_synthetic_dataset,
    render_face_clip,
    render_pose_clip,
    render_synthetic_clip,
)
from vid2vid.data.transforms import RESIZE_MODES, AugmentParams, GeometryConfig

__all__ = [
    "one_hot",
    "instance_edges",
    "encode_label_map",
    "check_label_ids",
    "ClipDataset",
    "FrameDataset",
    "FaceDataset",
    "PoseDataset",
    "GeometryConfig",
    "AugmentParams",
    "RESIZE_MODES",
    "read_frames",
    "read_label_frames",
    "write_video",
    "write_frames",
    "write_label_frames",
    "is_video_file",
    "list_frame_files",
    "flow_cache_path",
    "save_flow_cache",
    "load_flow_cache",
    "make_synthetic_dataset",
    "render_synthetic_clip",
    "render_face_clip",
    "render_pose_clip",
    "SYNTHETIC_KINDS",
    "SYNTHETIC_LABELS",
    "SYNTHETIC_LABEL_NC",
]
