"""Replay the original's face / pose input-construction fixtures with our builders.

A fixture case folder (protocol: ``fixtures/nvidia-vid2vid-test/tp_{face,pose}_inputs/README.md``)
holds the original's options (``config.json``), the per-frame source files it read (landmark
``.txt`` / OpenPose JSON, DensePose PNGs, frames) and what its test-time dataset produced
(``io.safetensors``, or ``io.npz`` in the copy shipped with our tests). :func:`replay_input_fixture`
rebuilds those tensors from the source files with the options of ``config.json`` and returns ours
next to the expected ones; nothing in it is specific to one case.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["InputReplay", "load_fixture_tensors", "replay_input_fixture", "FACE_KIND", "POSE_KIND"]

FACE_KIND = "vid2vid_test_face_inputs"
POSE_KIND = "vid2vid_test_pose_inputs"


@dataclass
class InputReplay:
    """Our tensors and the original's for one fixture case (same keys, same shapes when they match)."""

    name: str
    kind: str
    ours: dict[str, np.ndarray] = field(default_factory=dict)
    expected: dict[str, np.ndarray] = field(default_factory=dict)

    def max_abs_diff(self) -> dict[str, float]:
        """Largest absolute difference per tensor (``inf`` when the shapes differ)."""
        out = {}
        for key, ref in self.expected.items():
            if key not in self.ours:
                continue
            mine = self.ours[key]
            if mine.shape != ref.shape:
                out[key] = float("inf")
            else:
                out[key] = float(np.abs(mine.astype(np.float64) - ref.astype(np.float64)).max(initial=0.0))
        return out


def load_fixture_tensors(folder: str | os.PathLike) -> dict[str, np.ndarray]:
    """The expected tensors of a case: ``io.safetensors`` (the fixture) or ``io.npz`` (our copy)."""
    folder = Path(folder)
    if (folder / "io.safetensors").is_file():
        from safetensors.numpy import load_file

        return load_file(str(folder / "io.safetensors"))
    if (folder / "io.npz").is_file():
        with np.load(folder / "io.npz", allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    raise FileNotFoundError(f"fixture case {folder} has neither io.safetensors nor io.npz")


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _files(folder: Path, config: dict[str, Any], key: str) -> list[Path]:
    return [folder / rel for rel in config.get("files", {}).get(key, [])]


def _check_supported(options: dict[str, Any], supported: dict[str, Any], kind: str) -> None:
    for name, value in supported.items():
        if name in options and options[name] != value:
            raise ValueError(f"{kind} fixture uses {name}={options[name]!r}; the replay supports {value!r}")


def _replay_face(folder: Path, config: dict[str, Any]) -> dict[str, np.ndarray]:
    import torch

    from vid2vid.data.face import ORIGINAL_POINT_SCALING, build_face_clip, canny_edges, read_face_landmarks

    options = config["options"]
    _check_supported(options, {"resize_or_crop": "scaleWidth", "isTrain": False}, "face")
    landmarks = [read_face_landmarks(p) for p in _files(folder, config, "keypoints")]
    frames = [_read_rgb(p) for p in _files(folder, config, "images")]
    if not landmarks or len(landmarks) != len(frames):
        raise ValueError(f"fixture {folder}: config.json must list as many keypoint files as images")
    clip = build_face_clip(
        landmarks,
        frames,
        load_size=int(options["loadSize"]),
        add_dist_map=not options.get("no_dist_map", False),
        canny=not options.get("no_canny_edge", False),
        point_scaling=ORIGINAL_POINT_SCALING if options.get("random_scale_points", False) else None,
    )
    frames_t = torch.from_numpy(clip.frames).permute(0, 3, 1, 2).float().div(255).sub(0.5).div(0.5)
    return {
        "A_uint8": clip.inputs,
        "inst": clip.labels.astype(np.float32),
        "B": frames_t.numpy(),
        "canny_full": np.stack([canny_edges(f).astype(np.uint8) for f in frames]),
        "keypoints": np.stack(landmarks).astype(np.int32),
        "crop_box": np.array([clip.box.left, clip.box.top, clip.box.right, clip.box.bottom]),
    }


def _replay_pose(folder: Path, config: dict[str, Any]) -> dict[str, np.ndarray]:
    import torch

    from vid2vid.data.pose import build_pose_frame, pose_geometry, read_openpose, render_openpose

    options = config["options"]
    _check_supported(options, {"resize_or_crop": "scaleHeight", "isTrain": False}, "pose")
    images = _files(folder, config, "images")
    openpose_only = options.get("openpose_only", False)
    densepose_only = options.get("densepose_only", False)
    openpose = [] if densepose_only else _files(folder, config, "openpose")
    densepose = [] if openpose_only else _files(folder, config, "densepose")
    frames = [_read_rgb(p) for p in images]
    if not frames:
        raise ValueError(f"fixture {folder}: config.json lists no images")
    size = frames[0].shape[:2]
    geometry = pose_geometry(size, int(options["loadSize"]), mode="scale_height")
    inputs, targets, drawn = [], [], []
    for t, frame in enumerate(frames):
        people = read_openpose(openpose[t]) if openpose else None
        iuv = _read_rgb(densepose[t]) if densepose else None
        a, b = build_pose_frame(
            people,
            geometry,
            size,
            densepose=iuv,
            frame=frame,
            basic_point_only=options.get("basic_point_only", False),
        )
        inputs.append(a)
        targets.append(b)
        if people is not None:
            drawn.append(render_openpose(people, size, options.get("basic_point_only", False)))
    out = {"A": torch.stack(inputs).numpy(), "B": torch.stack(targets).numpy()}
    if drawn:
        out["openpose_drawn_full"] = np.stack(drawn)
    return out


def replay_input_fixture(folder: str | os.PathLike) -> InputReplay:
    """Rebuild a face or pose input fixture case with our builders.

    Args:
        folder: a case folder with ``config.json`` (``kind`` ``vid2vid_test_face_inputs`` or
            ``vid2vid_test_pose_inputs``) and the files it lists.

    Returns:
        An :class:`InputReplay`; compare with :meth:`InputReplay.max_abs_diff`. Face: ``A_uint8``
        (uint8), ``inst``, ``B``, ``canny_full``; pose: ``A``, ``B``, ``openpose_drawn_full``.
    """
    folder = Path(folder)
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"{folder} is not a fixture case folder (no config.json)")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    kind = config.get("kind")
    if kind == FACE_KIND:
        ours = _replay_face(folder, config)
    elif kind == POSE_KIND:
        ours = _replay_pose(folder, config)
    else:
        raise ValueError(f"fixture {folder}: unknown kind {kind!r}; expected {FACE_KIND} or {POSE_KIND}")
    expected = load_fixture_tensors(folder)
    if kind == FACE_KIND and "crop_box" in config:
        box = config["crop_box"]
        expected["crop_box"] = np.array([box["min_x"], box["min_y"], box["max_x"], box["max_y"]])
    return InputReplay(name=folder.name, kind=kind, ours=ours, expected=expected)
