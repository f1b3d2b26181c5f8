"""Shared machinery of the face and pose training datasets (vid2vid §4: edge → face, pose → body).

Both read the original's layout, one folder per clip, and draw the generator input of every
sampled frame from its landmarks / keypoints (so that the training augmentations, which change
the drawing, can be applied per sample as in the original):

    <root>/{phase}_img/<clip>/*            RGB frames (or a video file <clip>.mp4)
    <root>/{phase}_<source>/<clip>/*       per-frame keypoint files (faces: landmark .txt;
                                           poses: OpenPose JSON, DensePose IUV PNGs)
    <root>/{phase}_flow/<clip>.safetensors optional reference flow of the full-size frames

This module holds clip discovery and validation, the sampling of frame windows (one sample per
clip, or the original pose dataset's sampling of clips in proportion to their length), seeded
per-sample randomness, and the geometric transform of cached full-size flow into a sample's
crop. :class:`~vid2vid.data.face_dataset.FaceDataset` and
:class:`~vid2vid.data.pose_dataset.PoseDataset` supply the per-frame drawing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from vid2vid.data.flow_cache import flow_cache_path, load_flow_cache, read_flow_cache_shape
from vid2vid.data.io import VIDEO_SUFFIXES, list_frame_files, natural_sort_key, read_frames, video_info
from vid2vid.data.sampling import EpochSampling

__all__ = ["KeypointClip", "KeypointVideoDataset", "FlowCrop", "transform_flow"]


@dataclass(frozen=True)
class KeypointClip:
    """One validated clip: name, frame source, per-frame source files by kind, length, size ``(H, W)``."""

    name: str
    frames: Path
    sources: dict[str, tuple[Path, ...]]
    flow: Path | None
    length: int
    size: tuple[int, int]


@dataclass(frozen=True)
class FlowCrop:
    """How a sample's maps were cut from the full frame, to apply to flow: resize the full frame to
    ``resize`` ``(H, W)`` (``None``: no resize), then take rows ``top:top+height`` and columns
    ``left:left+width`` (zero outside), then resize to ``out`` ``(H, W)``, then flip when ``flip``."""

    resize: tuple[int, int] | None
    top: int
    left: int
    height: int
    width: int
    out: tuple[int, int]
    flip: bool = False


def _resize_flow(flow: Tensor, conf: Tensor, size: tuple[int, int]) -> tuple[Tensor, Tensor]:
    height, width = flow.shape[-2:]
    if (height, width) == tuple(size):
        return flow, conf
    scale = torch.tensor([size[1] / width, size[0] / height], dtype=flow.dtype).view(1, 2, 1, 1)
    shrink = size[0] < height or size[1] < width
    flow = F.interpolate(flow, size=size, mode="bilinear", align_corners=False, antialias=shrink) * scale
    # a pixel is trusted only when every source pixel it mixes is: min-pool the confidence
    conf = -F.adaptive_max_pool2d(-conf, size) if shrink else F.interpolate(conf, size=size, mode="nearest")
    return flow, conf


def transform_flow(flow: Tensor, confidence: Tensor, crop: FlowCrop) -> tuple[Tensor, Tensor]:
    """Full-size backward flow ``(T, 2, H, W)`` and confidence ``(T, 1, H, W)`` → the sample's crop.

    Displacements are rescaled with the resizes (x by the width ratio, y by the height ratio) and
    negated in x under a flip; pixels outside the source frame get flow 0 and confidence 0.
    """
    if crop.resize is not None:
        flow, confidence = _resize_flow(flow, confidence, crop.resize)
    t, _, height, width = flow.shape
    out_flow = flow.new_zeros((t, 2, crop.height, crop.width))
    out_conf = confidence.new_zeros((t, 1, crop.height, crop.width))
    y0, y1 = max(crop.top, 0), min(crop.top + crop.height, height)
    x0, x1 = max(crop.left, 0), min(crop.left + crop.width, width)
    if y0 < y1 and x0 < x1:
        dst = (slice(y0 - crop.top, y1 - crop.top), slice(x0 - crop.left, x1 - crop.left))
        out_flow[:, :, dst[0], dst[1]] = flow[:, :, y0:y1, x0:x1]
        out_conf[:, :, dst[0], dst[1]] = confidence[:, :, y0:y1, x0:x1]
    out_flow, out_conf = _resize_flow(out_flow, out_conf, crop.out)
    if crop.flip:
        out_flow = out_flow.flip(-1) * torch.tensor([-1.0, 1.0], dtype=out_flow.dtype).view(1, 2, 1, 1)
        out_conf = out_conf.flip(-1)
    return out_flow.contiguous(), out_conf.contiguous()


def _frame_source(folder: Path, clip: str) -> tuple[Path, int, tuple[int, int]]:
    """The clip's frames (a folder or a video file) with length and size ``(H, W)``."""
    from PIL import Image

    if folder.is_dir():
        files = list_frame_files(folder)
        if not files:
            raise ValueError(f"clip {clip!r}: frame folder {folder} holds no images")
        with Image.open(files[0]) as image:
            width, height = image.size
        return folder, len(files), (height, width)
    length, width, height = video_info(folder)
    return folder, length, (height, width)


class KeypointVideoDataset(EpochSampling, Dataset):
    """Base of :class:`~vid2vid.data.face_dataset.FaceDataset` and :class:`~vid2vid.data.pose_dataset.PoseDataset`.

    Args:
        root, phase: dataset root and folder prefix.
        sources: ``{kind: (folder suffix, file suffixes, required)}`` of the per-frame files.
        n_frames: frames per sample.
        max_t_step: largest temporal stride between a sample's frames (drawn per sample).
        sample_by_length: ``len(dataset)`` = number of frame windows of the initial ``n_frames``
            (the original's ``len - n_frames_G + 1`` per clip) and each index draws a clip with
            probability proportional to its number of windows (the original pose dataset);
            otherwise one sample per clip and epoch, index = clip.
        load_flow: read ``{phase}_flow/<clip>.safetensors`` (needs ``max_t_step == 1``).
        seed: with a seed, sample ``i`` of epoch ``e`` is a deterministic function of ``(seed, e, i)``.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        phase: str,
        sources: dict[str, tuple[str, tuple[str, ...], bool]],
        n_frames: int = 8,
        max_t_step: int = 1,
        sample_by_length: bool = False,
        load_flow: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if n_frames < 1:
            raise ValueError(f"n_frames must be >= 1, got {n_frames}")
        if max_t_step < 1:
            raise ValueError(f"max_t_step must be >= 1, got {max_t_step}")
        if load_flow and max_t_step > 1:
            raise ValueError(
                f"load_flow=True needs max_t_step=1 (got {max_t_step}): cached flow links consecutive frames"
            )
        self.root = Path(root)
        self.phase = phase
        self.max_t_step = max_t_step
        self.sample_by_length = sample_by_length
        self.load_flow = load_flow
        self.seed = seed
        self.epoch = 0
        if not self.root.is_dir():
            raise FileNotFoundError(f"dataset root {self.root} does not exist")
        self.clips: list[KeypointClip] = self._discover(sources)
        self._by_name = {clip.name: i for i, clip in enumerate(self.clips)}
        self.n_frames = n_frames
        self.set_n_frames(n_frames)
        # fixed for the dataset's life (the sampler is sized once): frame windows of the initial length,
        # as the original counts len - n_frames_G + 1 per clip
        self._n_windows = int(self._windows().sum())

    # ------------------------------------------------------------------ discovery
    def _discover(self, sources: dict[str, tuple[str, tuple[str, ...], bool]]) -> list[KeypointClip]:
        img_dir = self.root / f"{self.phase}_img"
        if not img_dir.is_dir():
            raise FileNotFoundError(
                f"frame folder {img_dir} does not exist (expected {self.phase}_img/<clip>/)"
            )
        frames: dict[str, Path] = {}
        for path in sorted(img_dir.iterdir()):
            if path.name.startswith("."):
                continue
            if path.is_dir() or path.suffix.lower() in VIDEO_SUFFIXES:
                frames[path.stem if path.is_file() else path.name] = path
        if not frames:
            raise ValueError(f"{img_dir} holds no clips (one sub-folder or video per clip)")
        folders: dict[str, Path | None] = {}
        for kind, (suffix, _, required) in sources.items():
            folder = self.root / f"{self.phase}_{suffix}"
            if not folder.is_dir():
                if required:
                    raise FileNotFoundError(f"{kind} folder {folder} does not exist")
                folders[kind] = None
                continue
            folders[kind] = folder
        clips = []
        for name, frame_path in frames.items():
            source, length, size = _frame_source(frame_path, name)
            files: dict[str, tuple[Path, ...]] = {}
            for kind, (_, suffixes, _) in sources.items():
                folder = folders[kind]
                if folder is None:
                    continue
                clip_dir = folder / name
                if not clip_dir.is_dir():
                    raise ValueError(f"clip {name!r}: {kind} folder {clip_dir} does not exist")
                found = sorted(
                    (
                        p
                        for p in clip_dir.iterdir()
                        if p.suffix.lower() in suffixes and not p.name.startswith(".")
                    ),
                    key=lambda p: natural_sort_key(p.name),
                )
                if len(found) != length:
                    raise ValueError(
                        f"clip {name!r}: {clip_dir} has {len(found)} {'/'.join(suffixes)} files but {frame_path} has "
                        f"{length} frames; every frame needs one"
                    )
                files[kind] = tuple(found)
            flow = None
            if self.load_flow:
                flow = flow_cache_path(self.root, self.phase, name)
                shape, _ = read_flow_cache_shape(flow)
                if shape[0] != length or tuple(shape[2:]) != size:
                    raise ValueError(
                        f"clip {name!r}: flow cache {flow} holds {shape[0]} frames of {shape[3]}x{shape[2]} but the clip "
                        f"has {length} frames of {size[1]}x{size[0]}"
                    )
            clips.append(
                KeypointClip(name=name, frames=source, sources=files, flow=flow, length=length, size=size)
            )
        return clips

    # ------------------------------------------------------------------ sampling
    @property
    def clip_names(self) -> list[str]:
        """Clip names, sorted."""
        return [clip.name for clip in self.clips]

    def _windows(self) -> np.ndarray:
        return np.array([max(1, clip.length - self.n_frames + 1) for clip in self.clips])

    def __len__(self) -> int:
        """Clips, or frame windows (of the initial ``n_frames``) in all clips with ``sample_by_length``."""
        return self._n_windows if self.sample_by_length else len(self.clips)

    def _pick(self, index: int, rng: np.random.Generator) -> tuple[KeypointClip, list[int], int]:
        n = self.n_frames
        if self.sample_by_length:
            windows = self._windows()
            clip = self.clips[int(rng.choice(len(self.clips), p=windows / windows.sum()))]
        else:
            clip = self.clips[index % len(self.clips)]
        if self.cap_per_clip:
            n = min(n, clip.length)
        max_step = 1 if n == 1 else max(1, min(self.max_t_step, (clip.length - 1) // (n - 1)))
        t_step = int(rng.integers(1, max_step + 1))
        offset_max = max(1, clip.length - (n - 1) * t_step)
        start = index % offset_max if self.sample_by_length else int(rng.integers(0, offset_max))
        return clip, [start + i * t_step for i in range(n)], t_step

    def __getitem__(self, index: int) -> dict[str, Tensor | str | int]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"sample index {index} out of range for {len(self)} samples")
        index = index % len(self)
        rng = self._rng(index)
        clip, indices, t_step = self._pick(index, rng)
        sample = self._sample(clip, indices, rng, train=True)
        sample.update({"clip": clip.name, "start": indices[0], "t_step": t_step})
        return sample

    def load_clip(self, clip: str | int) -> dict[str, Tensor | str | int]:
        """A whole clip as the original's test-time dataset forms it (no augmentation)."""
        if isinstance(clip, str):
            if clip not in self._by_name:
                raise KeyError(
                    f"no clip named {clip!r} in {self.root} ({self.phase}); have {self.clip_names[:5]}"
                )
            info = self.clips[self._by_name[clip]]
        else:
            info = self.clips[clip]
        sample = self._sample(info, list(range(info.length)), np.random.default_rng(0), train=False)
        sample.update({"clip": info.name, "start": 0, "t_step": 1})
        return sample

    # ------------------------------------------------------------------ per-subclass
    def _sample(
        self, clip: KeypointClip, indices: list[int], rng: np.random.Generator, train: bool
    ) -> dict[str, Tensor | str | int]:
        raise NotImplementedError

    def _read_frames(self, clip: KeypointClip, indices: list[int]) -> np.ndarray:
        try:
            return read_frames(clip.frames, indices)
        except (ValueError, IndexError) as err:
            raise ValueError(f"clip {clip.name!r}: {err}") from err

    def _flow(self, clip: KeypointClip, indices: list[int], crop: FlowCrop) -> dict[str, Tensor]:
        if clip.flow is None:
            return {}
        flow, conf, _ = load_flow_cache(clip.flow, indices[0], indices[-1] + 1)
        flow[0] = 0.0  # the sample's first frame has no previous frame inside the sample
        conf[0] = 0.0
        flow, conf = transform_flow(flow, conf, crop)
        return {"flow": flow, "flow_confidence": conf}
