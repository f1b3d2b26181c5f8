"""The pipeline and ``vid2vid synthesize`` = the original's test.py, on its reference fixtures.

- ``nvidia-vid2vid-test/tp_city_singleG``: street inference with the single-image first-frame
  generator (``--use_single_G``), carried in ``tests/fixtures`` (a fresh clone needs no ../shared).
- ``nvidia-vid2vid/g_*``: the generator fixtures through the pipeline, inputs in the original's
  ranges (face maps in [0, 1], pose in [-1, 1]; real first frames in [-1, 1] as given).

Generated frames are recurrent and the fixtures' random networks amplify float rounding, so a
path (Python API, CLI, stream) is checked against the reference replay on this machine
(``_assert_reproduces``: same kernels, within 1e-5) and the replay against the original by
``check_pipeline_fixture`` (exact on the fixture's machine, window by window elsewhere).
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from vid2vid.cli.main import main
from vid2vid.convert.original import load_original_state_dict, read_original_options
from vid2vid.convert.original_model import convert_original_model
from vid2vid.convert.pipeline_parity import check_pipeline_fixture, run_pipeline_fixture
from vid2vid.model_folder import load_model_folder
from vid2vid.pipeline import Vid2VidPipeline

REPO = Path(__file__).resolve().parents[1]
TEST_PATH_ENV = "VID2VID_TEST_PATH_FIXTURES"


def _test_path_root() -> Path:
    """``$VID2VID_TEST_PATH_FIXTURES``, else the copy in tests/fixtures (never skipped when absent)."""
    root = Path(os.environ.get(TEST_PATH_ENV, REPO / "tests" / "fixtures" / "nvidia-vid2vid-test"))
    if not (root / "tp_city_singleG").is_dir():
        raise FileNotFoundError(f"test-path fixtures not found at {root}; set {TEST_PATH_ENV}")
    return root


# Every case folder present is replayed (other fixtures made by the same protocol included).
CITY_CASES = sorted(
    p.name for p in (_test_path_root() / "tp_city_singleG").iterdir() if (p / "config.json").is_file()
)


@pytest.fixture(scope="module")
def city_root() -> Path:
    return _test_path_root() / "tp_city_singleG"


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float((a.float() - b.float()).abs().max())


_REPLAYS: dict[Path, tuple[dict[str, torch.Tensor], bool]] = {}


def _replay(folder: Path) -> tuple[dict[str, torch.Tensor], bool]:
    """The reference replay's frames (``[-1, 1]``) on this machine, and whether they equal the
    original's free-running (as on the machine that made the fixture); its parity is asserted."""
    if folder not in _REPLAYS:
        result = check_pipeline_fixture(folder)
        assert result.passed, result.summary()
        _REPLAYS[folder] = (run_pipeline_fixture(folder)[0], result.exact)
    return _REPLAYS[folder]


def _assert_reproduces(frames: torch.Tensor, folder: Path) -> None:
    """``frames`` (``(N, 3, H, W)`` in ``[-1, 1]``, the generated frames) are what the original
    generates: equal to the reference replay on this machine, which reproduces the original."""
    ours, exact = _replay(folder)
    assert _max_diff(frames, ours["expected"]) <= 1e-5
    if exact:
        expected = load_file(folder / "io.safetensors")["expected"]
        assert _max_diff(frames, expected) <= 1e-5


def _assert_uint8_reproduces(frames_u8: torch.Tensor, folder: Path) -> None:
    """``(N, H, W, 3)`` uint8 frames within one level of test.py's ``util.tensor2im`` of the replay
    (of the original's own uint8 frames where the replay is exact)."""
    ours, exact = _replay(folder)
    reference = (((ours["expected"] + 1) / 2 * 255).clamp(0, 255)).to(torch.uint8).permute(0, 2, 3, 1)
    if exact:
        reference = load_file(folder / "io.safetensors")["expected_uint8"]
    assert int((frames_u8.int() - reference.int()).abs().max()) <= 1


def test_city_cases_hold_both_single_g_forms() -> None:
    assert {"single512_s1", "single2048local_s2"} <= set(CITY_CASES)  # global and local-enhancer forms


@pytest.mark.parametrize("case", CITY_CASES)
def test_street_single_g_pipeline_equals_test_py(city_root: Path, case: str) -> None:
    """Python API: convert the original's checkpoints, run the pipeline on the label/instance maps."""
    folder = city_root / case
    cfg = json.loads((folder / "config.json").read_text())
    io = load_file(folder / "io.safetensors")
    single = cfg["single_G"]["file"]
    gen_files = [w for w in cfg["weights"] if w != single]
    converted = convert_original_model(
        cfg["options"],
        [load_original_state_dict(folder / w) for w in gen_files],
        first_frame_state_dict=load_original_state_dict(folder / single),
        first_frame_name=single,
    )
    assert converted.first_frame == "image_generator" and converted.first_frame_input == "labels"
    assert converted.image_generator.config.input_nc == 35  # one-hot labels, no instance-edge channel
    pipe = Vid2VidPipeline.from_model_folder(converted)
    out = pipe(io["labels"].numpy(), io["instances"].numpy(), progress=False)
    tg = cfg["options"]["n_frames_G"]
    frames = out.frames * 2 - 1
    assert out.first_index == 0 and frames.shape == (cfg["frames"], 3, cfg["height"], cfg["width"])
    assert _max_diff(frames[: tg - 1], io["first_frames"]) <= 1e-5
    _assert_reproduces(frames[tg - 1 :], folder)
    # test.py's uint8 frames: util.tensor2im truncates; ours agree up to one level at boundaries.
    ours_u8 = ((out.frames[tg - 1 :] * 255).clamp(0, 255)).to(torch.uint8).permute(0, 2, 3, 1)
    _assert_uint8_reproduces(ours_u8, folder)


@pytest.mark.parametrize("case", CITY_CASES)
def test_street_single_g_replay(city_root: Path, case: str) -> None:
    result = check_pipeline_fixture(city_root / case)
    assert result.n_values > 0 and result.passed, result.summary()
    if not result.exact:  # the generated first frames have no recurrence: within 1e-5 anywhere
        assert result.other_diff <= 1e-5 and result.self_diff is not None and result.self_diff <= 1e-9


@pytest.mark.parametrize("case", CITY_CASES)
def test_street_single_g_window_replay(city_root: Path, case: str) -> None:
    """The checks of a CPU that rounds unlike the fixture's machine, run on any machine: teacher-
    forced windows, first frames within 1e-5, the pipeline equal to our generator in float64."""
    result = check_pipeline_fixture(city_root / case, replay_windows=True)
    assert result.passed, result.summary()
    assert len(result.windows) == load_file(city_root / case / "io.safetensors")["expected"].shape[0]
    assert result.other_diff <= 1e-5 and result.self_diff is not None and result.self_diff <= 1e-9
    assert result.windows[0].strict  # the first window's history is the original's first frames


def test_street_single_g_replay_is_sensitive(city_root: Path) -> None:
    """Feeding the single-image generator the instance-edge channel too (the bug this fixes) is caught."""
    folder = city_root / "single512_s1"
    cfg = json.loads((folder / "config.json").read_text())
    io = load_file(folder / "io.safetensors")
    converted = convert_original_model(
        cfg["options"],
        [load_original_state_dict(folder / "latest_net_G0.pth")],
        first_frame_state_dict=load_original_state_dict(folder / "latest_net_G_512.pth"),
    )
    pipe = Vid2VidPipeline.from_model_folder(converted)
    with torch.inference_mode():
        enc = pipe.generator.encode_inputs(io["labels"][None, :1].long(), io["instances"][None, :1].long())
        with_edges = pipe.image_generator(enc[:, 0, :35] + enc[:, 0, 35:36])  # edges leak into the labels
    assert _max_diff(with_edges[0], io["first_frames"][0]) > 1e-3


def _write_maps(io: dict, tmp: Path) -> tuple[Path, Path]:
    labels, inst = tmp / "test_A", tmp / "test_inst"
    labels.mkdir()
    inst.mkdir()
    for t in range(io["labels"].shape[0]):
        Image.fromarray(io["labels"][t].numpy()).save(labels / f"frame{t:04d}.png")
        Image.fromarray(io["instances"][t].numpy().astype(np.uint16)).save(inst / f"frame{t:04d}.png")
    return labels, inst


@pytest.mark.parametrize("case", CITY_CASES)
def test_street_single_g_cli_convert_and_synthesize(
    city_root: Path, case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``vid2vid convert --first-frame-weights`` then ``vid2vid synthesize`` on PNG folders."""
    folder = city_root / case
    cfg = json.loads((folder / "config.json").read_text())
    io = load_file(folder / "io.safetensors")
    single = cfg["single_G"]["file"]
    ckpt = tmp_path / "checkpoints" / "label2city"
    ckpt.mkdir(parents=True)
    for w in cfg["weights"]:
        if w != single:
            shutil.copy(folder / w, ckpt / w)
    model = tmp_path / "model"
    argv = ["convert", "--weights", str(ckpt), "--options", str(folder / "config.json")]
    argv += ["--first-frame-weights", str(folder / single), "--out", str(model), "--verify", str(folder)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "first frames: " + single in printed and "parity on " + case in printed
    loaded = load_model_folder(model)
    assert loaded.first_frame == "image_generator" and loaded.first_frame_input == "labels"
    assert "CC BY-NC-SA 4.0" in loaded.metadata["license"]
    assert single in loaded.metadata["converted_from"]["files"]

    labels, inst = _write_maps(io, tmp_path)
    out = tmp_path / "frames.safetensors"
    cmd = ["synthesize", "--model", str(model), "--labels", str(labels), "--instances", str(inst)]
    cmd += ["--threads", "1"]  # the replay's reduction order
    assert main([*cmd, "--out", str(out), "--device", "cpu", "--quiet"]) == 0
    frames = load_file(out)["frames"] * 2 - 1
    tg = cfg["options"]["n_frames_G"]
    assert _max_diff(frames[: tg - 1], io["first_frames"]) <= 1e-5
    _assert_reproduces(frames[tg - 1 :], folder)
    pngs = tmp_path / "pngs"
    assert main([*cmd, "--out", str(pngs), "--device", "cpu", "--quiet"]) == 0
    from vid2vid.data.io import read_frames

    _assert_uint8_reproduces(torch.from_numpy(read_frames(pngs)[tg - 1 :]), folder)


# ------------------------------------------------------------------ generator fixtures, through the pipeline


def test_every_generator_fixture_through_the_pipeline(fixtures_dir: Path) -> None:
    """Every ``vid2vid_generator`` fixture (other ones made by the same protocol included)."""
    names = sorted(
        p.name
        for p in fixtures_dir.iterdir()
        if (p / "config.json").is_file()
        and json.loads((p / "config.json").read_text()).get("kind") == "vid2vid_generator"
    )
    assert {"g_face_s1_d3", "g_pose_s2_d2_nofirst"} <= set(names)
    results = [check_pipeline_fixture(fixtures_dir / name) for name in names]
    bad = [r.summary() for r in results if not (r.n_values > 0 and r.passed)]
    assert not bad, bad


def _converted(fixtures_dir: Path, name: str, **overrides: object) -> tuple[Vid2VidPipeline, dict, dict]:
    folder = fixtures_dir / name
    cfg = json.loads((folder / "config.json").read_text())
    options = {**cfg, **overrides}
    converted = convert_original_model(
        options, [load_original_state_dict(folder / w) for w in cfg["weights"]]
    )
    return Vid2VidPipeline.from_model_folder(converted), cfg, load_file(folder / "io.safetensors")


def test_face_model_takes_its_maps_in_0_1(fixtures_dir: Path, tmp_path: Path) -> None:
    pipe, cfg, io = _converted(fixtures_dir, "g_face_s1_d3", dataset_mode="face")
    assert pipe.input_range == (0.0, 1.0) and pipe.first_frame == "real"
    out = pipe(io["inputs"], first_frames=io["real"][:2], first_frames_range=(-1, 1), progress=False)
    assert _max_diff(out.frames[:2] * 2 - 1, io["real"][:2]) < 1e-6  # the given frames, output as they are
    _assert_reproduces(out.frames[2:] * 2 - 1, fixtures_dir / "g_face_s1_d3")
    # The range is recorded in the folder and survives save/load.
    folder = pipe.save_pretrained(tmp_path / "face")
    assert json.loads((folder / "config.json").read_text())["input_range"] == [0.0, 1.0]
    assert Vid2VidPipeline.from_pretrained(folder).input_range == (0.0, 1.0)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        pipe(io["inputs"] * 2 - 1, first_frames=io["real"][:2], first_frames_range=(-1, 1), progress=False)


def test_pose_model_takes_its_maps_in_minus1_1(fixtures_dir: Path) -> None:
    pipe, cfg, io = _converted(fixtures_dir, "g_pose_s2_d2_nofirst", dataset_mode="pose")
    assert pipe.input_range == (-1.0, 1.0) and pipe.first_frame == "zeros"
    maps = io["inputs"]  # random maps in [0, 1]: a valid [-1, 1] input, fed unchanged
    with pytest.warns(UserWarning, match=r"trained with input maps in \[-1, 1\]"):
        out = pipe(maps, progress=False)
    # No padding: the first output is frame n_frames_G - 1, as test.py with no_first_img.
    assert out.first_index == 2 and out.frames.shape[0] == maps.shape[0] - 2
    _assert_reproduces(out.frames * 2 - 1, fixtures_dir / "g_pose_s2_d2_nofirst")
    negative = pipe(maps * 2 - 1, progress=False)  # pose maps in [-1, 1] are accepted as they are
    assert negative.frames.shape == out.frames.shape
    with pytest.warns(UserWarning, match="every value given is >= 0"):
        streamed = torch.stack(list(pipe.stream(iter(maps))))
    _assert_reproduces(streamed * 2 - 1, fixtures_dir / "g_pose_s2_d2_nofirst")


def test_run_pipeline_fixture_returns_every_generated_frame(fixtures_dir: Path, city_root: Path) -> None:
    ours, expected = run_pipeline_fixture(city_root / "single512_s1")
    assert set(ours) == set(expected) == {"expected", "first_frames"}
    ours, expected = run_pipeline_fixture(fixtures_dir / "g_pose_s2_d2_nofirst")
    assert set(ours) == {"expected"} and ours["expected"].shape == expected["expected"].shape


def test_conversion_needs_the_input_range_of_continuous_models(fixtures_dir: Path, tmp_path: Path) -> None:
    folder = fixtures_dir / "g_face_s1_d3"
    argv = [
        "convert",
        "--weights",
        str(folder / "latest_net_G0.pth"),
        "--options",
        str(folder / "config.json"),
    ]
    assert main([*argv, "--out", str(tmp_path / "x")]) == 2
    assert main([*argv, "--input-range", "0", "1", "--out", str(tmp_path / "face")]) == 0
    assert load_model_folder(tmp_path / "face").input_range == (0.0, 1.0)
    assert main([*argv, "--set", "dataset_mode=pose", "--out", str(tmp_path / "pose")]) == 0
    assert load_model_folder(tmp_path / "pose").input_range == (-1.0, 1.0)
    options = read_original_options(folder / "config.json")
    with pytest.raises(ValueError, match="dataset_mode"):
        convert_original_model(options, [load_original_state_dict(folder / "latest_net_G0.pth")])


def test_first_frame_model_of_a_no_first_img_model_is_refused(fixtures_dir: Path, city_root: Path) -> None:
    folder = city_root / "single512_s1"
    cfg = json.loads((folder / "config.json").read_text())
    with pytest.raises(ValueError, match="no_first_img"):
        convert_original_model(
            {**cfg["options"], "no_first_img": True},
            [load_original_state_dict(folder / "latest_net_G0.pth")],
            first_frame_state_dict=load_original_state_dict(folder / "latest_net_G_512.pth"),
        )


def _npy_folder(frames: torch.Tensor, folder: Path) -> Path:
    folder.mkdir()
    for t, frame in enumerate(frames):
        np.save(folder / f"{t:05d}.npy", frame.numpy())
    return folder


def test_face_and_pose_models_through_vid2vid_synthesize(fixtures_dir: Path, tmp_path: Path) -> None:
    """Continuous maps as .npy folders (lossless), real first frames in [-1, 1] as they are."""
    for name, extra in (
        ("g_face_s1_d3", ["--input-range", "0", "1"]),
        ("g_pose_s2_d2_nofirst", ["--set", "dataset_mode=pose"]),
    ):
        src = fixtures_dir / name
        cfg = json.loads((src / "config.json").read_text())
        io = load_file(src / "io.safetensors")
        weights = [str(src / w) for w in cfg["weights"]]
        model = tmp_path / f"{name}_model"
        assert (
            main(
                [
                    "convert",
                    "--weights",
                    *weights,
                    "--options",
                    str(src / "config.json"),
                    *extra,
                    "--out",
                    str(model),
                ]
            )
            == 0
        )
        maps = _npy_folder(io["inputs"], tmp_path / f"{name}_maps")
        out = tmp_path / f"{name}.safetensors"
        argv = [
            "synthesize",
            "--model",
            str(model),
            "--labels",
            str(maps),
            "--out",
            str(out),
            "--device",
            "cpu",
            "--threads",
            "1",
            "--quiet",
        ]
        if not cfg["no_first_img"]:
            real = _npy_folder(io["real"][:2], tmp_path / f"{name}_real")
            argv += ["--first-frames", str(real), "--first-frames-range", "-1", "1"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # random [0, 1] maps given to the [-1, 1] pose model
            assert main(argv) == 0
        result = load_file(out)
        start = 2 - int(result["first_index"])
        _assert_reproduces(result["frames"][start:] * 2 - 1, src)
