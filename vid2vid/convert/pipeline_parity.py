"""Replay the original's ``test.py`` on a reference fixture through :class:`~vid2vid.pipeline.Vid2VidPipeline`.

:mod:`vid2vid.convert.parity` checks converted networks one by one; this module checks what a
user runs: the converted model folder (generator + first-frame model) through the pipeline, with
inputs as the original's test datasets give them. Two fixture families are understood
(``config.json``'s ``kind``):

- ``vid2vid_test_street_single_G`` (``nvidia-vid2vid-test/tp_city_singleG``): label and instance
  maps → first ``n_frames_G - 1`` frames from the single-image generator (``--use_single_G``) →
  every frame ``test.py`` generates. The weights (``config.json`` ``weights``) are the vid2vid
  generator's ``latest_net_G{s}.pth`` and the single-image generator named in ``single_G.file``.
- ``vid2vid_generator`` (``nvidia-vid2vid/g_*``): the generator fixtures, through the pipeline:
  label ids (+ instances) or continuous ``inputs`` fed in the range they are given in (the
  original's: ``[0, 1]`` face maps, ``[-1, 1]`` pose maps), real first frames (``use_real_img``)
  given in ``[-1, 1]`` unchanged, or zero history (``no_first_img``).

Frames are compared in the original's ``[-1, 1]`` range.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from vid2vid.checkpoint import load_state_dict
from vid2vid.convert.original import load_original_state_dict, original_input_range, read_original_options
from vid2vid.convert.parity import ParityResult

__all__ = ["run_pipeline_fixture", "check_pipeline_fixture", "PIPELINE_FIXTURE_KINDS"]

PIPELINE_FIXTURE_KINDS: tuple[str, ...] = ("vid2vid_test_street_single_G", "vid2vid_generator")


def _data_range(inputs: Tensor) -> tuple[float, float]:
    """The narrowest of the original's two input ranges that holds ``inputs``."""
    return (0.0, 1.0) if float(inputs.min()) >= 0.0 and float(inputs.max()) <= 1.0 else (-1.0, 1.0)


def _pipeline(folder: Path, cfg: dict[str, Any], io: dict[str, Tensor], model_folder: Path | None) -> Any:
    from vid2vid.convert.original_model import convert_original_model
    from vid2vid.pipeline import Vid2VidPipeline

    if model_folder is not None:
        return Vid2VidPipeline.from_pretrained(model_folder)
    options = read_original_options(folder / "config.json")
    single = cfg.get("single_G") or {}
    single_file = single.get("file")
    gen_files = [w for w in cfg["weights"] if w != single_file]
    input_range = None
    if int(options.get("label_nc", 35) or 0) == 0:
        input_range = (
            original_input_range(options) if options.get("dataset_mode") else _data_range(io["inputs"])
        )
    converted = convert_original_model(
        options,
        [load_original_state_dict(folder / w) for w in gen_files],
        source_names=gen_files,
        first_frame_state_dict=load_original_state_dict(folder / single_file) if single_file else None,
        first_frame_name=single_file or "latest_net_G.pth",
        input_range=input_range,
    )
    return Vid2VidPipeline.from_model_folder(converted)


def run_pipeline_fixture(
    folder: str | os.PathLike[str], model_folder: str | os.PathLike[str] | None = None
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Run the fixture's test path through the pipeline.

    Args:
        folder: the fixture folder (``config.json``, ``io.safetensors``, the original's ``.pth``).
        model_folder: an already converted model folder to load instead of converting the
            fixture's weights (e.g. what ``vid2vid convert`` wrote).

    Returns:
        ``(ours, expected)``: ``{"expected": (N, 3, H, W)}`` plus ``{"first_frames": (tG-1, 3, H, W)}``
        when the fixture holds generated first frames, all in ``[-1, 1]``.
    """
    folder = Path(folder)
    options = read_original_options(folder / "config.json")
    cfg = {**options}
    kind = cfg.get("kind")
    if kind not in PIPELINE_FIXTURE_KINDS:
        raise ValueError(f"fixture {folder} has kind {kind!r}; the pipeline replays {PIPELINE_FIXTURE_KINDS}")
    io = load_state_dict(folder / "io.safetensors")
    pipe = _pipeline(folder, cfg, io, None if model_folder is None else Path(model_folder))
    c = pipe.config
    tg = c.n_frames_G
    kwargs: dict[str, Any] = {"progress": False}
    if "instances" in io:
        kwargs["instances"] = io["instances"].long()
    if c.label_nc > 0:
        labels: Any = io["labels"].long()
    else:
        labels = io["inputs"]
    if pipe.first_frame == "real":
        if "real" not in io:
            raise ValueError(f"fixture {folder} starts from real frames but io.safetensors holds no 'real'")
        kwargs["first_frames"] = io["real"][: tg - 1]
        kwargs["first_frames_range"] = (-1.0, 1.0)
    out = pipe(labels, **kwargs)
    frames = out.frames.float() * 2.0 - 1.0
    start = (tg - 1) - out.first_index
    ours = {"expected": frames[start:]}
    expected = {"expected": io["expected"].float()}
    if "first_frames" in io:
        ours["first_frames"] = frames[: tg - 1]
        expected["first_frames"] = io["first_frames"].float()
    return ours, expected


def check_pipeline_fixture(
    folder: str | os.PathLike[str], model_folder: str | os.PathLike[str] | None = None
) -> ParityResult:
    """Largest absolute difference (in ``[-1, 1]``) between the pipeline and the original's test path.

    Runs single-threaded, as the fixtures were made: their tiny random networks amplify float
    rounding through the recurrence (a 6e-8 change of a first frame, e.g. from another thread
    count's reduction order, moves later frames by ~5e-3), so the replay keeps the reduction order.
    """
    folder = Path(folder)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            ours, expected = run_pipeline_fixture(folder, model_folder)
    finally:
        torch.set_num_threads(threads)
    diff, count = 0.0, 0
    for key, ref in expected.items():
        if ours[key].shape != ref.shape:
            raise ValueError(
                f"fixture {folder.name}: {key} has shape {tuple(ours[key].shape)}, expected {tuple(ref.shape)}"
            )
        diff = max(diff, float((ours[key] - ref).abs().max()))
        count += ref.numel()
    return ParityResult(
        folder.name, str(read_original_options(folder / "config.json").get("kind")), diff, count
    )
