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
from vid2vid.convert.parity import ParityResult, encode_fixture_inputs, replay_generator_windows

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
    _, ours, expected, _ = _run_pipeline(Path(folder), model_folder)
    return {k: ours[k] for k in expected}, expected


def _run_pipeline(
    folder: Path, model_folder: str | os.PathLike[str] | None
) -> tuple[Any, dict[str, Tensor], dict[str, Tensor], dict[str, Tensor]]:
    """The pipeline, its outputs, the expected ones and the fixture's tensors."""
    options = read_original_options(folder / "config.json")
    cfg = {**options}
    kind = cfg.get("kind")
    if kind not in PIPELINE_FIXTURE_KINDS:
        raise ValueError(f"fixture {folder} has kind {kind!r}; the pipeline replays {PIPELINE_FIXTURE_KINDS}")
    io = load_state_dict(folder / "io.safetensors")
    pipe = _pipeline(folder, cfg, io, None if model_folder is None else Path(model_folder))
    ours = _call(pipe, io, folder)
    expected = {"expected": io["expected"].float()}
    if "first_frames" in io:
        expected["first_frames"] = io["first_frames"].float()
    return pipe, ours, expected, io


def _call(pipe: Any, io: dict[str, Tensor], folder: Path) -> dict[str, Tensor]:
    """Run the pipeline on the fixture's inputs: generated frames ``expected``, plus the
    ``first_frames`` it made or the ``history`` frames it output before them, in ``[-1, 1]``."""
    c = pipe.config
    tg = c.n_frames_G
    kwargs: dict[str, Any] = {"progress": False}
    if "instances" in io:
        kwargs["instances"] = io["instances"].long()
    labels: Any = io["labels"].long() if c.label_nc > 0 else io["inputs"]
    if pipe.first_frame == "real":
        if "real" not in io:
            raise ValueError(f"fixture {folder} starts from real frames but io.safetensors holds no 'real'")
        kwargs["first_frames"] = io["real"][: tg - 1]
        kwargs["first_frames_range"] = (-1.0, 1.0)
    out = pipe(labels, **kwargs)
    frames = out.frames * 2.0 - 1.0
    start = (tg - 1) - out.first_index
    ours = {"expected": frames[start:]}
    if start > 0:
        ours["history"] = frames[:start]
    if "first_frames" in io:
        ours["first_frames"] = frames[: tg - 1]
    return ours


def check_pipeline_fixture(
    folder: str | os.PathLike[str],
    model_folder: str | os.PathLike[str] | None = None,
    replay_windows: bool = False,
) -> ParityResult:
    """Compare the pipeline with the original's test path (frames in ``[-1, 1]``).

    Runs single-threaded, as the fixtures were made: their tiny random networks amplify float
    rounding through the recurrence (a 6e-8 change of a first frame, e.g. from another thread
    count's reduction order, moves later frames by ~5e-3), so the replay keeps the reduction order.
    Where this machine's kernels round differently from the fixture's anyway, the generated
    frames are checked window by window as :func:`vid2vid.convert.parity.check_fixture` does,
    the generated first frames (no recurrence) within the tolerance, and the pipeline against
    our own generator on the same inputs and history (:attr:`ParityResult.self_diff`).
    ``replay_windows=True`` runs those checks even where the free-running replay matches.
    Check :attr:`ParityResult.passed`.
    """
    folder = Path(folder)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            pipe, ours, expected, io = _run_pipeline(folder, model_folder)
        diff, count = 0.0, 0
        for key, ref in expected.items():
            if ours[key].shape != ref.shape:
                raise ValueError(
                    f"fixture {folder.name}: {key} has shape {tuple(ours[key].shape)}, expected {tuple(ref.shape)}"
                )
            diff = max(diff, float((ours[key] - ref).abs().max()))
            count += ref.numel()
        kind = str(read_original_options(folder / "config.json").get("kind"))
        result = ParityResult(folder.name, kind, diff, count)
        if replay_windows or not result.exact:
            _replay_windows(pipe, ours, expected, io, result)
    finally:
        torch.set_num_threads(threads)
    return result


def _replay_windows(
    pipe: Any,
    ours: dict[str, Tensor],
    expected: dict[str, Tensor],
    io: dict[str, Tensor],
    result: ParityResult,
) -> None:
    """Fill ``result``'s per-window replay, first-frame difference and pipeline-vs-generator check."""
    generator = pipe.generator
    tg = generator.config.n_frames_G

    with torch.no_grad():
        if "first_frames" in io:
            original_first: Tensor | None = io["first_frames"][None].float()
            result.other_diff = float((ours["first_frames"].float() - expected["first_frames"]).abs().max())
        elif pipe.first_frame == "real":
            original_first = io["real"][None, : tg - 1].float()
        else:
            original_first = None
        result.windows = replay_generator_windows(
            generator,
            encode_fixture_inputs(generator, io).float(),
            original_first,
            expected["expected"],
            ours["expected"].float(),
        )
    # The pipeline against our generator, free-running from the history the pipeline made, both
    # in float64 (in float32 the [0, 1] output range's rounding alone would be amplified).
    dtype = pipe.dtype
    with torch.inference_mode():
        pipe.to(dtype=torch.float64)
        try:
            own = _call(pipe, io, Path(result.name))
            first = own.get("first_frames", own.get("history"))
            if pipe.first_frame == "real":
                first = io["real"][: tg - 1].double()
            start = None if first is None or pipe.first_frame == "zeros" else first[None]
            mine = generator.generate(
                encode_fixture_inputs(generator, io).double(), first_frames=start
            ).image[0]
            result.self_diff = float((own["expected"] - mine).abs().max())
        finally:
            pipe.to(dtype=dtype)
