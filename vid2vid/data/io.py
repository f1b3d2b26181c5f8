"""Video and frame-folder I/O: the uint8 ``(T, H, W, 3)`` boundary of the library (design §1, §5).

Everything inside the library works on float tensors; files come in and go out here. A "video"
is either a video file (decoded with PyAV) or a folder of images sorted by name with a natural
sort (``frame2`` before ``frame10``), as in the original data layout. Label and instance maps are
single-channel PNGs (8 or 16 bit); they cannot come from video files, whose lossy compression
would corrupt the ids.

Writes are atomic: a temporary file (or folder) is written next to the target and moved into
place with ``os.replace``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from vid2vid.atomic import apply_umask, atomic_path

__all__ = [
    "VIDEO_SUFFIXES",
    "IMAGE_SUFFIXES",
    "natural_sort_key",
    "is_video_file",
    "list_frame_files",
    "read_image",
    "read_label_image",
    "read_frames",
    "read_label_frames",
    "video_info",
    "write_frames",
    "write_label_frames",
    "write_video",
]

VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".avi", ".mov", ".webm", ".mkv", ".gif")
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp")
_PNG_COMPRESSION = 1  # fast zlib level: frame folders are written often, read back once

_DIGITS = re.compile(r"(\d+)")


def natural_sort_key(name: str) -> tuple:
    """Sort key that orders embedded numbers numerically: ``frame2`` < ``frame10``."""
    parts = _DIGITS.split(name)
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in parts)


def is_video_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a video file by its suffix (one of :data:`VIDEO_SUFFIXES`)."""
    path = Path(path)
    return path.suffix.lower() in VIDEO_SUFFIXES and not path.is_dir()


def list_frame_files(folder: str | os.PathLike) -> list[Path]:
    """Image files (:data:`IMAGE_SUFFIXES`) directly inside ``folder``, natural-sorted by name.

    Hidden files (names starting with ``.``) are ignored. Raises ``FileNotFoundError`` when
    ``folder`` is not a directory; returns an empty list when it holds no images.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"frame folder {folder} does not exist or is not a directory")
    files = [
        p
        for p in folder.iterdir()
        if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()
    ]
    return sorted(files, key=lambda p: natural_sort_key(p.name))


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read one image as ``(H, W, 3)`` uint8 RGB (grey and palette images are expanded)."""
    from PIL import Image

    path = Path(path)
    try:
        with Image.open(path) as image:
            if image.mode in ("I;16", "I;16B", "I", "F"):
                raise ValueError(f"image {path} is a {image.mode} (16/32-bit) image, expected 8-bit RGB")
            return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
    except FileNotFoundError:
        raise FileNotFoundError(f"image {path} does not exist") from None
    except ValueError:
        raise
    except Exception as err:  # PIL raises many types for corrupt files
        raise ValueError(f"cannot read image {path}: {err}") from err


def read_label_image(path: str | os.PathLike) -> np.ndarray:
    """Read a single-channel label/instance map (8 or 16-bit PNG) as ``(H, W)`` int64 ids.

    Palette images give their palette indices. An RGB(A) image is accepted only when its three
    colour channels are equal (a grey image saved as RGB); otherwise ``ValueError``.
    """
    from PIL import Image

    path = Path(path)
    try:
        with Image.open(path) as image:
            mode = image.mode
            array = np.asarray(image)
    except FileNotFoundError:
        raise FileNotFoundError(f"label image {path} does not exist") from None
    except Exception as err:
        raise ValueError(f"cannot read label image {path}: {err}") from err
    if mode == "1":
        array = array.astype(np.uint8)
    if mode == "F" or array.dtype.kind == "f":
        raise ValueError(
            f"label image {path} holds floating-point values (mode {mode}), expected integer ids"
        )
    if array.ndim == 3:
        if mode == "LA":
            array = array[..., 0]
        elif array.shape[2] in (3, 4):
            rgb = array[..., :3]
            if not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2])):
                raise ValueError(
                    f"label image {path} is a colour {mode} image with differing channels; expected a "
                    "single-channel (grey, 8 or 16-bit) PNG of class/instance ids"
                )
            array = rgb[..., 0]
        else:
            raise ValueError(f"label image {path} has unsupported shape {array.shape} (mode {mode})")
    return array.astype(np.int64)


def _read_image_folder(
    folder: Path, indices: Sequence[int] | None, reader: Callable[[Path], np.ndarray], what: str
) -> np.ndarray:
    files = list_frame_files(folder)
    if not files:
        raise ValueError(f"{what} folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    if indices is not None:
        for i in indices:
            if not 0 <= i < len(files):
                raise IndexError(f"frame index {i} out of range for {folder} ({len(files)} frames)")
        files = [files[i] for i in indices]
    frames = [reader(f) for f in files]
    first = frames[0].shape
    for f, frame in zip(files, frames, strict=True):
        if frame.shape != first:
            raise ValueError(
                f"frame {f} has size {frame.shape[1]}x{frame.shape[0]} but {files[0].name} in the same "
                f"folder has {first[1]}x{first[0]} (all frames of a clip must share one size)"
            )
    return np.stack(frames)


def _read_video_file(path: Path, indices: Sequence[int] | None) -> np.ndarray:
    import av

    if not path.is_file():
        raise FileNotFoundError(f"video {path} does not exist")
    wanted = None if indices is None else sorted(set(int(i) for i in indices))
    last = None if wanted is None else (wanted[-1] if wanted else -1)
    frames: dict[int, np.ndarray] = {}
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError(f"cannot read video {path}: it has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for i, frame in enumerate(container.decode(stream)):
                if last is not None and i > last:
                    break
                if wanted is None or i in wanted:
                    frames[i] = frame.to_ndarray(format="rgb24")
    except av.error.FFmpegError as err:  # some are ValueErrors too (InvalidDataError): name the file
        raise ValueError(f"cannot read video {path}: {err}") from err
    except ValueError:
        raise
    except Exception as err:  # decoder and OS errors
        raise ValueError(f"cannot read video {path}: {err}") from err
    if not frames and (indices is None or len(indices) > 0):
        raise ValueError(f"cannot read video {path}: no frames could be decoded")
    order = range(len(frames)) if indices is None else indices
    for i in order:
        if i not in frames:
            raise IndexError(f"frame index {i} out of range for video {path} ({len(frames)} frames decoded)")
    return np.stack([frames[i] for i in order]).astype(np.uint8, copy=False)


def read_frames(path: str | os.PathLike, indices: Sequence[int] | None = None) -> np.ndarray:
    """Read a video file or a folder of images as RGB frames.

    Args:
        path: a video file (:data:`VIDEO_SUFFIXES`, decoded with PyAV) or a folder of images
            (:data:`IMAGE_SUFFIXES`, natural-sorted by name).
        indices: optional frame indices to read (in this order); default all frames.

    Returns:
        ``(T, H, W, 3)`` uint8 RGB.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: unreadable/corrupt file (the message names it), no frames, or frames of a
            folder that differ in size.
    """
    path = Path(path)
    if path.is_dir():
        return _read_image_folder(path, indices, read_image, "frame")
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return _read_video_file(path, indices)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist (expected a video file or a folder of frames)")
    raise ValueError(
        f"{path} is neither a folder of frames nor a video file with a known suffix "
        f"({', '.join(VIDEO_SUFFIXES)})"
    )


def read_label_frames(path: str | os.PathLike, indices: Sequence[int] | None = None) -> np.ndarray:
    """Read a folder of single-channel label or instance PNGs as ``(T, H, W)`` int64 ids.

    Label maps stored in video files are refused (``ValueError``): lossy codecs change the ids.
    """
    path = Path(path)
    if path.suffix.lower() in VIDEO_SUFFIXES and not path.is_dir():
        raise ValueError(
            f"label/instance maps cannot be read from the video file {path}: lossy video compression "
            "corrupts class ids. Store them as a folder of single-channel PNGs."
        )
    if not path.exists():
        raise FileNotFoundError(f"label folder {path} does not exist")
    if not path.is_dir():
        raise ValueError(f"{path} is not a folder of label PNGs")
    return _read_image_folder(path, indices, read_label_image, "label")


def video_info(path: str | os.PathLike) -> tuple[int, int, int]:
    """``(n_frames, width, height)`` of a video file or a frame folder, reading as little as possible.

    For a folder only the first image's header is read. For a video file the container's frame
    count is used when present, else the video is decoded to count its frames.
    """
    from PIL import Image

    path = Path(path)
    if path.is_dir():
        files = list_frame_files(path)
        if not files:
            raise ValueError(f"frame folder {path} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        try:
            with Image.open(files[0]) as image:
                width, height = image.size
        except Exception as err:
            raise ValueError(f"cannot read image {files[0]}: {err}") from err
        return len(files), width, height
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist (expected a video file or a folder of frames)")
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError(f"cannot read video {path}: it has no video stream")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            count = int(stream.frames or 0)
            if count <= 0 or path.suffix.lower() == ".gif":
                count = sum(1 for _ in container.decode(stream))
    except av.error.FFmpegError as err:  # some are ValueErrors too (InvalidDataError): name the file
        raise ValueError(f"cannot read video {path}: {err}") from err
    except ValueError:
        raise
    except Exception as err:
        raise ValueError(f"cannot read video {path}: {err}") from err
    if count <= 0:
        raise ValueError(f"cannot read video {path}: no frames could be decoded")
    return count, width, height


def _check_frames(frames: np.ndarray) -> np.ndarray:
    if hasattr(frames, "detach"):  # a torch tensor slipped in: be explicit about what we want
        raise ValueError("frames must be a numpy uint8 array (T, H, W, 3), got a torch tensor; use .numpy()")
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (T, H, W, 3) RGB, got shape {frames.shape}")
    if frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 in [0, 255], got dtype {frames.dtype}")
    if frames.shape[0] == 0 or frames.shape[1] == 0 or frames.shape[2] == 0:
        raise ValueError(f"cannot write an empty video (frames shape {frames.shape})")
    return frames


def _write_png(path: Path, image: np.ndarray) -> None:
    import cv2

    if image.ndim == 3:
        image = image[..., ::-1]  # RGB -> BGR for OpenCV
    if not cv2.imwrite(
        str(path), np.ascontiguousarray(image), [cv2.IMWRITE_PNG_COMPRESSION, _PNG_COMPRESSION]
    ):
        raise OSError(f"could not write image {path}")


def _replace_folder(tmp: Path, folder: Path) -> None:
    """Move the finished temporary folder ``tmp`` to ``folder`` (replacing a previous frame folder)."""
    if folder.exists():
        if not folder.is_dir():
            raise ValueError(f"{folder} exists and is not a folder; refusing to replace it with frames")
        others = [p for p in folder.iterdir() if p.suffix.lower() not in IMAGE_SUFFIXES or p.is_dir()]
        if others:
            raise ValueError(
                f"{folder} already exists and holds files other than images ({others[0].name}); "
                "refusing to replace it"
            )
        trash = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.old-"))
        os.replace(folder, trash / "old")
        os.replace(tmp, folder)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, folder)


def _write_folder(images: Sequence[np.ndarray], folder: Path) -> Path:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.tmp-"))
    apply_umask(tmp, directory=True)  # mkdtemp makes 0o700 folders
    try:
        for i, image in enumerate(images):
            _write_png(tmp / f"{i:05d}.png", image)
        _replace_folder(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def write_frames(frames: np.ndarray, folder: str | os.PathLike) -> Path:
    """Write ``(T, H, W, 3)`` uint8 RGB frames as ``folder/00000.png, 00001.png, ...``.

    The frames go to a temporary sibling folder that then replaces ``folder`` (a previous folder
    of images there is replaced; one holding other files is refused). Returns ``folder``.
    """
    frames = _check_frames(frames)
    return _write_folder(list(frames), Path(folder))


def write_label_frames(labels: np.ndarray, folder: str | os.PathLike, bit_depth: int | None = None) -> Path:
    """Write ``(T, H, W)`` integer ids as single-channel PNGs.

    ``bit_depth`` is 8 or 16; by default 8 when all ids are below 256, else 16. Same atomic
    folder replacement as :func:`write_frames`. Returns ``folder``.
    """
    labels = np.asarray(labels)
    if labels.ndim != 3 or labels.shape[0] == 0:
        raise ValueError(f"label maps must be a non-empty (T, H, W) array, got shape {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise ValueError(f"label maps must hold integer ids, got dtype {labels.dtype}")
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high > 65535:
        raise ValueError(f"label ids must lie in [0, 65535] to fit a 16-bit PNG, got [{low}, {high}]")
    if bit_depth is None:
        bit_depth = 8 if high < 256 else 16
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth}")
    if bit_depth == 8 and high > 255:
        raise ValueError(f"label ids up to {high} do not fit an 8-bit PNG; use bit_depth=16")
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    return _write_folder(list(labels.astype(dtype)), Path(folder))


def _pick_codec(suffix: str, codec: str | None) -> str:
    import av

    def available(name: str) -> bool:
        try:
            av.codec.Codec(name, "w")
        except Exception:
            return False
        return True

    if codec is not None:
        if not available(codec):
            raise ValueError(f"video codec {codec!r} is not available in this PyAV/FFmpeg build")
        return codec
    candidates = ("libvpx-vp9", "libvpx") if suffix == ".webm" else ("libx264", "mpeg4")
    for name in candidates:
        if available(name):
            return name
    raise ValueError(f"none of the codecs {candidates} is available to write {suffix} files")


def _write_encoded(frames: np.ndarray, path: Path, fps: float, codec: str | None) -> None:
    import av

    codec_name = _pick_codec(path.suffix.lower(), codec)
    # yuv420p subsamples chroma 2x2: pad odd sizes to even by repeating the last row/column.
    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
    if pad_h or pad_w:
        frames = np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    rate = _fps_fraction(fps)
    with av.open(str(path), mode="w", format=_container_format(path.suffix.lower())) as container:
        stream = container.add_stream(codec_name, rate=rate)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        if codec_name == "libx264":
            stream.options = {"crf": "17", "preset": "medium"}
        elif codec_name == "mpeg4":
            stream.options = {"qscale": "2"}
            stream.bit_rate = 8_000_000
        for frame in frames:
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            for packet in stream.encode(video_frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _container_format(suffix: str) -> str:
    return {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".avi": "avi", ".webm": "webm"}[suffix]


def _fps_fraction(fps: float) -> Fraction:
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return Fraction(fps).limit_denominator(1001)


def _write_gif(frames: np.ndarray, path: Path, fps: float) -> None:
    from PIL import Image

    duration = max(10, round(1000.0 / _fps_fraction(fps)))
    images = [Image.fromarray(frame) for frame in frames]
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=duration, loop=0)


def write_video(
    frames: np.ndarray, path: str | os.PathLike, fps: float = 15.0, codec: str | None = None
) -> Path:
    """Write ``(T, H, W, 3)`` uint8 RGB frames to a video file, a GIF or a folder of PNGs.

    Args:
        frames: ``(T, H, W, 3)`` uint8 RGB, ``T >= 1``.
        path: ``.mp4`` / ``.mov`` / ``.mkv`` / ``.avi`` (H.264 ``libx264``, ``yuv420p``, CRF 17;
            falls back to ``mpeg4`` when libx264 is missing), ``.webm`` (VP9), ``.gif`` (palette
            preview, lossy colours), or a path without suffix: a folder of numbered PNGs.
            ``yuv420p`` needs even sizes, so an odd width/height is padded to even by repeating the
            last column/row: the file is then one pixel wider/taller than ``frames``.
        fps: frames per second.
        codec: an FFmpeg encoder name to use instead of the default.

    Returns:
        The written path. The file is written to a temporary name in the same folder and moved
        into place with ``os.replace``, so a failed write never leaves a partial file.
    """
    frames = _check_frames(frames)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == "":
        return _write_folder(list(frames), path)
    if suffix not in VIDEO_SUFFIXES:
        raise ValueError(
            f"cannot write {path}: unknown suffix {suffix!r}; use one of {', '.join(VIDEO_SUFFIXES)} "
            "or a path without suffix for a folder of PNGs"
        )
    _fps_fraction(fps)
    with atomic_path(path) as tmp:
        if suffix == ".gif":
            _write_gif(frames, tmp, fps)
        else:
            _write_encoded(frames, tmp, fps, codec)
    return path
