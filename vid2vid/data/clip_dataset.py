"""Training/test clips in the original vid2vid data layout (design §5; vid2vid §4 training).

Layout under ``root`` (one entry per clip, matched by name)::

    {phase}_A/<clip>/*.png       label ids, single-channel 8/16-bit PNGs (or, with label_nc=0,
                                 continuous RGB-like input maps: frames or a video file)
    {phase}_B/<clip>/*  or  {phase}_B/<clip>.mp4      RGB frames (any image format or video)
    {phase}_inst/<clip>/*.png    instance ids (optional, use_instance=True)
    {phase}_flow/<clip>.safetensors   reference flow cache (optional, load_flow=True)

Frames of a folder are sorted by name with a natural sort. Everything is validated when the
dataset is built, with errors that name the clip and file, so a training run never dies on
epoch 3 because of one bad PNG.

A training sample is a random window of ``n_frames`` frames of one clip (index = clip), taken
with a random temporal stride in ``[1, max_t_step]``, with one random geometric augmentation
(:mod:`vid2vid.data.transforms`) applied to every frame, map and flow of the window.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, default_collate

from vid2vid.data.flow_cache import flow_cache_path, load_flow_cache, read_flow_cache_shape
from vid2vid.data.input_maps import (
    is_input_map_folder,
    list_input_map_files,
    read_input_info,
    read_input_maps,
)
from vid2vid.data.io import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    list_frame_files,
    read_frames,
    read_label_frames,
    read_label_image,
    video_info,
)
from vid2vid.data.sampling import EpochSampling, check_sample_length
from vid2vid.data.transforms import (
    AugmentParams,
    GeometryConfig,
    apply_to_confidence,
    apply_to_flow,
    apply_to_images,
    apply_to_labels,
    check_geometry,
    inference_params,
    sample_augment_params,
)

__all__ = ["ClipDataset", "ClipInfo", "check_sample_length", "collate_clips", "frames_to_tensor"]


def frames_to_tensor(frames: np.ndarray) -> Tensor:
    """``(T, H, W, 3)`` uint8 → ``(T, 3, H, W)`` float32 in ``[-1, 1]``."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


@dataclass(frozen=True)
class ClipInfo:
    """One validated clip: its name, sources, length and frame size ``(W, H)``."""

    name: str
    frames: Path  # folder or video file of RGB frames ({phase}_B)
    inputs: Path | None  # folder of label PNGs, or continuous maps ({phase}_A)
    instances: Path | None  # folder of instance PNGs ({phase}_inst)
    flow: Path | None  # flow cache file ({phase}_flow)
    length: int
    size: tuple[int, int]


def _clip_entries(folder: Path, allow_video: bool, what: str) -> dict[str, Path]:
    """Clips of one side of the layout: sub-folders (and video files when allowed), by name."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{what} folder {folder} does not exist")
    entries: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir():
            name = path.name
        elif path.suffix.lower() in VIDEO_SUFFIXES:
            if not allow_video:
                raise ValueError(
                    f"{what} clip {path} is a video file, but label/instance maps must be folders of "
                    "single-channel PNGs (lossy video corrupts ids)"
                )
            name = path.stem
        else:
            continue  # stray files (README, lists) are not clips
        if name in entries:
            raise ValueError(f"{what} clip {name!r} exists twice: {entries[name]} and {path}")
        entries[name] = path
    if not entries:
        raise ValueError(f"{what} folder {folder} holds no clips (expected one sub-folder or video per clip)")
    return entries


def _compare_names(
    reference: dict[str, Path], other: dict[str, Path], ref_dir: Path, other_dir: Path
) -> None:
    if set(reference) == set(other):
        return
    only_ref = sorted(set(reference) - set(other))
    only_other = sorted(set(other) - set(reference))
    raise ValueError(
        f"clips differ between {ref_dir} ({len(reference)} clips) and {other_dir} ({len(other)} clips): "
        f"only in {ref_dir.name}: {only_ref[:5]}{' ...' if len(only_ref) > 5 else ''}; "
        f"only in {other_dir.name}: {only_other[:5]}{' ...' if len(only_other) > 5 else ''}"
    )


def _folder_sizes(path: Path, clip: str, what: str) -> tuple[int, tuple[int, int]]:
    """Length and common frame size of a folder (reads image headers only)."""
    from PIL import Image

    files = list_frame_files(path)
    if not files:
        raise ValueError(f"clip {clip!r}: {what} folder {path} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    size = None
    for file in files:
        try:
            with Image.open(file) as image:
                file_size = image.size
        except Exception as err:
            raise ValueError(f"clip {clip!r}: cannot read {what} image {file}: {err}") from err
        if size is None:
            size, first = file_size, file
        elif file_size != size:
            raise ValueError(
                f"clip {clip!r}: {what} frame {file} is {file_size[0]}x{file_size[1]} but {first.name} is "
                f"{size[0]}x{size[1]}; all frames of a clip must share one size"
            )
    return len(files), size  # type: ignore[return-value]


def _input_map_sizes(path: Path, clip: str) -> tuple[int, tuple[int, int]]:
    """Length and size of a ``build-inputs`` folder (reads the ``.npy`` headers only)."""
    info = read_input_info(path)
    files = list_input_map_files(path)
    if not files:
        raise ValueError(f"clip {clip!r}: input map folder {path} holds no .npy files")
    size = None
    for file in files:
        array = np.load(file, mmap_mode="r", allow_pickle=False)
        if array.ndim != 3 or array.dtype != np.uint8 or array.shape[0] != info["channels"]:
            raise ValueError(
                f"clip {clip!r}: {file} is {array.shape} {array.dtype}, expected ({info['channels']}, H, W) uint8"
            )
        file_size = (int(array.shape[2]), int(array.shape[1]))
        if size is None:
            size = file_size
        elif file_size != size:
            raise ValueError(
                f"clip {clip!r}: input map {file} is {file_size[0]}x{file_size[1]}, others {size[0]}x{size[1]}"
            )
    return len(files), size  # type: ignore[return-value]


def _source_sizes(path: Path, clip: str, what: str) -> tuple[int, tuple[int, int]]:
    if what == "input" and path.is_dir() and is_input_map_folder(path):
        return _input_map_sizes(path, clip)
    if path.is_dir():
        return _folder_sizes(path, clip, what)
    try:
        length, width, height = video_info(path)
    except ValueError as err:
        raise ValueError(f"clip {clip!r}: {err}") from err
    return length, (width, height)


class ClipDataset(EpochSampling, Dataset):
    """Clips of a vid2vid-layout dataset as training samples or whole clips.

    Args:
        root: dataset root holding ``{phase}_A``, ``{phase}_B`` (and ``{phase}_inst``,
            ``{phase}_flow``).
        phase: ``"train"``, ``"test"``, ... (the folder prefix).
        label_nc: number of label classes (ids must lie in ``[0, label_nc)``), or 0 for
            continuous input maps read from ``{phase}_A``: RGB images (given in ``[-1, 1]``) or
            ``vid2vid build-inputs`` folders (``.npy`` + ``inputs.json``, decoded to the range
            recorded there: faces ``[0, 1]``, poses ``[-1, 1]``).
        n_frames: frames per training sample.
        max_t_step: largest temporal stride between the sample's frames (drawn per sample).
        use_instance: load ``{phase}_inst`` instance maps.
        resize_mode, load_size, fine_size, size_divisor: the geometry, see
            :class:`vid2vid.data.transforms.GeometryConfig`.
        flip: random horizontal flips.
        load_flow: load the reference flow cache ``{phase}_flow/<clip>.safetensors``; needs
            ``max_t_step == 1`` (cached flow links consecutive frames only).
        seed: seed of the sampling; with a seed, sample ``i`` of epoch ``e`` (see
            :meth:`set_epoch`) is a deterministic function of ``(seed, e, i)``. ``None``: fresh
            randomness on every call.

    A sample (``dataset[i]``, ``i`` indexes clips) is a dict:
        ``"labels"`` ``(T, H, W)`` int64 (or ``"inputs"`` ``(T, C, H, W)`` float32 when
        ``label_nc == 0``); ``"instances"`` ``(T, H, W)`` int64 when ``use_instance``;
        ``"frames"`` ``(T, 3, H, W)`` float32 in ``[-1, 1]``; ``"clip"`` name; ``"start"`` first
        frame index; ``"t_step"`` stride; with ``load_flow``: ``"flow"`` ``(T, 2, H, W)``
        float32 pixels (``flow[0] = 0``: no previous frame) and ``"flow_confidence"``
        ``(T, 1, H, W)`` float32 in ``{0, 1}`` (``[0] = 0``).
    """

    def __init__(
        self,
        root: str | os.PathLike,
        phase: str = "train",
        label_nc: int = 35,
        n_frames: int = 8,
        max_t_step: int = 1,
        use_instance: bool = False,
        resize_mode: str = "scale_width",
        load_size: int = 1024,
        fine_size: int = 512,
        size_divisor: int = 32,
        flip: bool = True,
        load_flow: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if label_nc < 0:
            raise ValueError(f"label_nc must be >= 0 (0 = continuous inputs), got {label_nc}")
        if n_frames < 1:
            raise ValueError(f"n_frames must be >= 1, got {n_frames}")
        if max_t_step < 1:
            raise ValueError(f"max_t_step must be >= 1, got {max_t_step}")
        if load_flow and max_t_step > 1:
            raise ValueError(
                f"load_flow=True needs max_t_step=1 (got {max_t_step}): the flow cache links consecutive "
                "frames, so it cannot serve samples whose frames are several steps apart"
            )
        self.root = Path(root)
        self.phase = phase
        self.label_nc = label_nc
        self.max_t_step = max_t_step
        self.use_instance = use_instance
        self.geometry = GeometryConfig(
            resize_mode=resize_mode, load_size=load_size, fine_size=fine_size, size_divisor=size_divisor
        )
        self.flip = flip
        self.load_flow = load_flow
        self.seed = seed
        self.epoch = 0
        if not self.root.is_dir():
            raise FileNotFoundError(f"dataset root {self.root} does not exist")
        self.clips: list[ClipInfo] = self._discover()
        self._by_name = {clip.name: i for i, clip in enumerate(self.clips)}
        self.n_frames = n_frames
        self.set_n_frames(n_frames)

    # ------------------------------------------------------------------ validation

    def _discover(self) -> list[ClipInfo]:
        dir_a = self.root / f"{self.phase}_A"
        dir_b = self.root / f"{self.phase}_B"
        dir_i = self.root / f"{self.phase}_inst"
        frames = _clip_entries(dir_b, allow_video=True, what="frame")
        inputs = _clip_entries(dir_a, allow_video=self.label_nc == 0, what="label")
        _compare_names(inputs, frames, dir_a, dir_b)
        instances = None
        if self.use_instance:
            instances = _clip_entries(dir_i, allow_video=False, what="instance")
            _compare_names(inputs, instances, dir_a, dir_i)
        clips = []
        for name in sorted(frames):
            clips.append(self._validate_clip(name, frames[name], inputs[name], instances and instances[name]))
            path = inputs[name]
            if (
                self.flip
                and path.is_dir()
                and is_input_map_folder(path)
                and read_input_info(path).get("kind") == "pose"
            ):
                raise ValueError(
                    f"clip {name!r}: {path} holds pose inputs, which must not be flipped (left and right limbs "
                    "have their own colours); pass flip=False"
                )
        return clips

    def _validate_clip(self, name: str, frames: Path, inputs: Path, instances: Path | None) -> ClipInfo:
        length, size = _source_sizes(frames, name, "frame")
        sources = [("label" if self.label_nc > 0 else "input", inputs)]
        if instances is not None:
            sources.append(("instance", instances))
        for what, path in sources:
            if what == "input":
                other_length, other_size = _source_sizes(path, name, what)
                other_first = path
            else:
                other_length, other_size, other_first = self._check_label_folder(name, path, what)
            if other_length != length:
                raise ValueError(
                    f"clip {name!r}: {what} maps {path} have {other_length} frames but the frames {frames} "
                    f"have {length}; every clip needs one {what} map per frame"
                )
            if other_size != size:
                raise ValueError(
                    f"clip {name!r}: {what} map {other_first} is {other_size[0]}x{other_size[1]} but the "
                    f"frames in {frames} are {size[0]}x{size[1]}"
                )
        try:
            check_geometry(size, self.geometry)
        except ValueError as err:
            raise ValueError(f"clip {name!r} ({size[0]}x{size[1]}): {err}") from err
        flow = None
        if self.load_flow:
            flow = flow_cache_path(self.root, self.phase, name)
            shape, _ = read_flow_cache_shape(flow)
            if shape[0] != length or (shape[3], shape[2]) != size:
                raise ValueError(
                    f"clip {name!r}: flow cache {flow} holds {shape[0]} frames of {shape[3]}x{shape[2]} but the "
                    f"clip has {length} frames of {size[0]}x{size[1]}; recompute it with `vid2vid prepare-flow`"
                )
        return ClipInfo(
            name=name, frames=frames, inputs=inputs, instances=instances, flow=flow, length=length, size=size
        )

    def _check_label_folder(self, clip: str, folder: Path, what: str) -> tuple[int, tuple[int, int], Path]:
        """Read every map once: readable, one size, ids below ``label_nc`` (labels only)."""
        files = list_frame_files(folder)
        if not files:
            raise ValueError(f"clip {clip!r}: {what} folder {folder} holds no images")
        size = None
        for file in files:
            try:
                ids = read_label_image(file)
            except (ValueError, OSError) as err:
                raise ValueError(f"clip {clip!r}: {err}") from err
            file_size = (ids.shape[1], ids.shape[0])
            if size is None:
                size = file_size
            elif file_size != size:
                raise ValueError(
                    f"clip {clip!r}: {what} map {file} is {file_size[0]}x{file_size[1]} but {files[0].name} is "
                    f"{size[0]}x{size[1]}; all frames of a clip must share one size"
                )
            if what == "label" and ids.size:
                high, low = int(ids.max()), int(ids.min())
                if high >= self.label_nc or low < 0:
                    raise ValueError(
                        f"clip {clip!r}: label map {file} contains class id {high if high >= self.label_nc else low}, "
                        f"outside [0, {self.label_nc}) (label_nc={self.label_nc})"
                    )
        return len(files), size, files[0]  # type: ignore[return-value]

    # ------------------------------------------------------------------ public API

    def __len__(self) -> int:
        """Number of clips (one training sample per clip and epoch)."""
        return len(self.clips)

    @property
    def input_range(self) -> tuple[float, float] | None:
        """Value range of continuous ``"inputs"`` (``label_nc == 0``), ``None`` for label ids.

        ``(-1, 1)`` for RGB-image inputs; the range ``inputs.json`` records for ``vid2vid
        build-inputs`` folders (faces ``(0, 1)``, poses ``(-1, 1)``).

        Raises:
            ValueError: the clips' input folders decode to different ranges.
        """
        if self.label_nc > 0:
            return None
        from vid2vid.data.input_maps import decoded_range, is_input_map_folder, read_input_info

        ranges = set()
        for clip in self.clips:
            if clip.inputs is not None and clip.inputs.is_dir() and is_input_map_folder(clip.inputs):
                ranges.add(decoded_range(read_input_info(clip.inputs)))
            else:
                ranges.add((-1.0, 1.0))
        if len(ranges) > 1:
            raise ValueError(
                f"the clips of {self.root} mix input ranges {sorted(ranges)} (build-inputs folders of faces and "
                "poses, or of faces and RGB images): a model is trained on one range"
            )
        return ranges.pop() if ranges else None

    @property
    def clip_names(self) -> list[str]:
        """Clip names, sorted."""
        return [clip.name for clip in self.clips]

    def _describe_clip(self, clip: ClipInfo) -> str:
        return f"clip {clip.name!r} ({clip.frames})"

    def __getitem__(self, index: int) -> dict[str, Tensor | str | int]:
        if not -len(self.clips) <= index < len(self.clips):
            raise IndexError(f"clip index {index} out of range for {len(self.clips)} clips")
        clip = self.clips[index]
        rng = self._rng(index % len(self.clips))
        n = min(self.n_frames, clip.length) if self.cap_per_clip else self.n_frames
        max_step = 1 if n == 1 else max(1, min(self.max_t_step, (clip.length - 1) // (n - 1)))
        t_step = int(rng.integers(1, max_step + 1))
        start = int(rng.integers(0, clip.length - (n - 1) * t_step))
        indices = [start + i * t_step for i in range(n)]
        params = sample_augment_params(clip.size, self.geometry, self.flip, rng)
        sample = self._load(clip, indices, params)
        sample["t_step"] = t_step
        return sample

    def load_clip(self, clip: str | int) -> dict[str, Tensor | str | int]:
        """A whole clip for inference: every frame, deterministic resize, no crop, no flip.

        Args:
            clip: clip name or index.

        Returns:
            The same keys as a training sample, with ``T`` = the clip's length and the size given
            by :func:`vid2vid.data.transforms.inference_params`.
        """
        if isinstance(clip, str):
            if clip not in self._by_name:
                raise KeyError(
                    f"no clip named {clip!r} in {self.root} ({self.phase}); have {self.clip_names[:5]}..."
                )
            info = self.clips[self._by_name[clip]]
        else:
            info = self.clips[clip]
        params = inference_params(info.size, self.geometry)
        sample = self._load(info, list(range(info.length)), params)
        sample["t_step"] = 1
        return sample

    # ------------------------------------------------------------------ loading

    def _load(
        self, clip: ClipInfo, indices: list[int], params: AugmentParams
    ) -> dict[str, Tensor | str | int]:
        sample: dict[str, Tensor | str | int] = {"clip": clip.name, "start": indices[0]}
        try:
            if self.label_nc > 0:
                labels = torch.from_numpy(read_label_frames(clip.inputs, indices))
                sample["labels"] = apply_to_labels(labels, params)
            elif is_input_map_folder(clip.inputs):  # `vid2vid build-inputs` output: decoded as recorded
                sample["inputs"] = apply_to_images(read_input_maps(clip.inputs, indices), params)
            else:
                inputs = frames_to_tensor(read_frames(clip.inputs, indices))
                sample["inputs"] = apply_to_images(inputs, params)
            if clip.instances is not None:
                instances = torch.from_numpy(read_label_frames(clip.instances, indices))
                sample["instances"] = apply_to_labels(instances, params)
            frames = frames_to_tensor(read_frames(clip.frames, indices))
        except (ValueError, IndexError) as err:
            raise ValueError(f"clip {clip.name!r}: {err}") from err
        sample["frames"] = apply_to_images(frames, params)
        if clip.flow is not None:
            flow, confidence, _ = load_flow_cache(clip.flow, indices[0], indices[-1] + 1)
            flow[0] = 0.0  # the sample's first frame has no previous frame inside the sample
            confidence[0] = 0.0
            sample["flow"] = apply_to_flow(flow, params)
            sample["flow_confidence"] = apply_to_confidence(confidence, params)
        return sample


_TEMPORAL_KEYS = ("frames", "labels", "instances", "inputs", "flow", "flow_confidence")


def collate_clips(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Collate :class:`ClipDataset` samples of possibly different lengths into one batch.

    Clips shorter than the epoch's sequence come whole (``set_n_frames(..., min_frames=...)``);
    every temporal tensor (``frames``, ``labels``, ``instances``, ``inputs``, ``flow``,
    ``flow_confidence``: time first) is cut to the shortest sample's ``T`` before stacking.
    """
    t_min = min(int(s["frames"].shape[0]) for s in samples)
    cut = [{k: (v[:t_min] if k in _TEMPORAL_KEYS else v) for k, v in s.items()} for s in samples]
    return default_collate(cut)
