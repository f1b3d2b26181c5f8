"""Bad input gets a clear error naming what and where, never NaN video or a deep traceback."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from vid2vid.cli.main import main
from vid2vid.data.flow_cache import load_flow_cache
from vid2vid.data.io import read_frames
from vid2vid.model_folder import load_model_folder, save_model_folder
from vid2vid.nn import ImageGenerator, SequentialGenerator
from vid2vid.pipeline import Vid2VidPipeline, frames_to_uint8
from vid2vid.training import TrainConfig
from vid2vid.validation import check_config_dict, check_finite


def _generator(**kw: object) -> SequentialGenerator:
    args: dict = dict(label_nc=4, use_instance=False, ngf=8, n_downsample=2, n_blocks=2, n_frames_G=3)
    args.update(kw)
    return SequentialGenerator(**args).eval()


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    return save_model_folder(tmp_path / "model", _generator(), first_frame="zeros")


def _edit_config(folder: Path, edit) -> None:
    path = folder / "config.json"
    cfg = json.loads(path.read_text())
    edit(cfg)
    path.write_text(json.dumps(cfg))


# ---------------------------------------------------------------------------- float inputs
def test_check_finite_names_the_tensor_and_the_first_bad_index() -> None:
    t = torch.zeros(2, 3)
    t[1, 2] = float("nan")
    with pytest.raises(
        ValueError, match=r"weights holds 1 non-finite value\(s\) \(NaN; first at index \(1, 2\)\)"
    ):
        check_finite(t, "weights")
    check_finite(torch.ones(3), "fine")
    check_finite(torch.ones(3, dtype=torch.int64), "ints")


def test_nan_first_frames_and_continuous_inputs_are_refused() -> None:
    pipe = Vid2VidPipeline(_generator(), first_frame="real")
    labels = torch.randint(0, 4, (4, 32, 64))
    first = torch.rand(2, 3, 32, 64)
    first[1, 0, 5, 5] = float("nan")
    with pytest.raises(ValueError, match="first_frames.*non-finite.*NaN"):
        pipe(labels, first_frames=first, progress=False)
    cont = Vid2VidPipeline(_generator(label_nc=0, input_nc=2), first_frame="zeros")
    inputs = torch.rand(4, 2, 32, 64)
    inputs[2, 1, 0, 0] = float("inf")
    with pytest.raises(ValueError, match="labels.*non-finite.*inf"):
        cont(inputs, progress=False)


def test_save_video_refuses_nan_and_out_of_range_frames(tmp_path: Path) -> None:
    frames = torch.rand(3, 3, 8, 8)
    frames[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN/inf"):
        frames_to_uint8(frames)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\].*\(x \+ 1\) / 2"):
        frames_to_uint8(torch.rand(3, 3, 8, 8) * 2 - 1)
    ok = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    assert np.array_equal(frames_to_uint8(ok), ok)  # uint8 frames are written as they are


# ---------------------------------------------------------------------------- model folder
def test_config_values_are_type_checked_naming_file_and_key(folder: Path) -> None:
    _edit_config(folder, lambda c: c["config"].__setitem__("ngf", "8"))
    with pytest.raises(ValueError, match=r"config\.json: config\.ngf: expected an integer, got a string '8'"):
        load_model_folder(folder)


def test_missing_config_key_is_an_error_not_a_default(folder: Path) -> None:
    _edit_config(folder, lambda c: c["config"].pop("ngf"))
    with pytest.raises(ValueError, match=r"config\.json: config: missing key\(s\) \['ngf'\]"):
        load_model_folder(folder)


def test_bool_is_not_an_int_and_lists_are_checked(folder: Path) -> None:
    _edit_config(folder, lambda c: c["config"].__setitem__("n_blocks", True))
    with pytest.raises(ValueError, match=r"config\.n_blocks: expected an integer, got a boolean"):
        load_model_folder(folder)
    _edit_config(
        folder,
        lambda c: (c["config"].__setitem__("n_blocks", 2), c["config"].__setitem__("fg_labels", ["26"])),
    )
    with pytest.raises(ValueError, match=r"config\.fg_labels"):
        load_model_folder(folder)


def test_non_utf8_config_names_the_file(folder: Path) -> None:
    (folder / "config.json").write_bytes(b'{"model_type": "\xff\xfe"}')
    with pytest.raises(ValueError, match=r"config\.json is not UTF-8"):
        load_model_folder(folder)


def test_first_frame_config_without_its_key_names_the_file(tmp_path: Path) -> None:
    torch.manual_seed(0)
    gen = _generator()
    image = ImageGenerator(input_nc=gen.config.frame_nc, ngf=4, n_downsample=2, n_blocks=1).eval()
    folder = save_model_folder(tmp_path / "m", gen, first_frame="image_generator", image_generator=image)
    sub = folder / "first_frame" / "config.json"
    data = json.loads(sub.read_text())
    data.pop("config")
    sub.write_text(json.dumps(data))
    with pytest.raises(KeyError, match=r"first_frame/config\.json has no 'config' entry"):
        load_model_folder(folder)


def test_weights_are_checked_for_finiteness_and_dtype(folder: Path) -> None:
    weights = load_file(folder / "model.safetensors")
    key = next(k for k, v in weights.items() if v.is_floating_point() and v.dim() == 4)
    bad = dict(weights)
    bad[key] = weights[key].clone()
    bad[key].view(-1)[3] = float("inf")
    save_file(bad, folder / "model.safetensors")
    with pytest.raises(ValueError, match=rf"model\.safetensors: tensor {key} holds 1 non-finite"):
        load_model_folder(folder)
    bad[key] = weights[key].to(torch.int32)
    save_file(bad, folder / "model.safetensors")
    with pytest.raises(ValueError, match=rf"wrong dtype.*{key}: torch\.int32"):
        load_model_folder(folder)


def test_check_config_dict_accepts_ints_for_floats_and_rejects_nan() -> None:
    from dataclasses import dataclass

    @dataclass
    class C:
        rate: float = 1.0
        name: str | None = None

    assert check_config_dict(C, {"rate": 2, "name": None}, "c.json") == {"rate": 2.0, "name": None}
    with pytest.raises(ValueError, match=r"c\.json\.rate: expected a finite number"):
        check_config_dict(C, {"rate": math.nan, "name": "x"}, "c.json")
    with pytest.raises(ValueError, match=r"c\.json: unknown key\(s\) \['rat'\]"):
        check_config_dict(C, {"rat": 1}, "c.json", require_all=False)


# ---------------------------------------------------------------------------- data
def test_flow_cache_with_bad_values_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "clip.safetensors"
    flow = torch.zeros(3, 2, 4, 4, dtype=torch.float16)
    conf = torch.ones(3, 1, 4, 4, dtype=torch.uint8)
    save_file({"flow": flow, "confidence": conf * 2}, str(path))
    with pytest.raises(ValueError, match="confidence must be 0 or 1.*2.0"):
        load_flow_cache(path)
    flow[1, 0, 2, 2] = float("nan")
    save_file({"flow": flow, "confidence": conf}, str(path))
    with pytest.raises(ValueError, match="clip.safetensors: flow holds 1 non-finite"):
        load_flow_cache(path)


def test_corrupt_video_error_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 500)
    with pytest.raises(ValueError, match=r"cannot read video .*broken\.mp4"):
        read_frames(bad)


def test_train_config_rejects_nan_and_wrong_types() -> None:
    with pytest.raises(ValueError, match="lr must be a finite number, got nan"):
        TrainConfig(lr=float("nan"))
    with pytest.raises(ValueError, match="save_every must be int, got str '5x'"):
        TrainConfig(save_every="5x")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- memory
def test_sizes_that_cannot_fit_fail_up_front(monkeypatch: pytest.MonkeyPatch) -> None:
    import vid2vid.validation as validation

    monkeypatch.setattr(validation, "available_memory", lambda device="cpu": 1 << 20)  # 1 MiB
    pipe = Vid2VidPipeline(_generator(), first_frame="zeros")
    with pytest.raises(MemoryError, match=r"needs about .* but only 1\.0 MiB is available.*stream"):
        pipe(torch.randint(0, 4, (100, 32, 64)), progress=False)  # 2.4 MiB of output


def test_cli_bad_model_folder_is_one_line(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit_config(folder, lambda c: c["config"].__setitem__("ngf", "8"))
    labels = tmp_path / "labels"
    labels.mkdir()
    from PIL import Image

    Image.fromarray(np.zeros((32, 64), np.uint8)).save(labels / "0.png")
    code = main(
        [
            "synthesize",
            "--model",
            str(folder),
            "--labels",
            str(labels),
            "--out",
            str(tmp_path / "o.mp4"),
            "--device",
            "cpu",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "config.ngf" in err
    shutil.rmtree(folder)


def test_cuda_without_cuda_in_the_python_api(monkeypatch: pytest.MonkeyPatch) -> None:
    import vid2vid

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available.*use device='cpu'"):
        Vid2VidPipeline.from_pretrained(vid2vid.DEMO_MODEL, device="cuda")
    with pytest.raises(ValueError, match="'gpu' is not a device"):
        Vid2VidPipeline.from_pretrained(vid2vid.DEMO_MODEL, device="gpu")


class _NotAStateDict:
    pass


def test_cli_refused_pickle_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil = tmp_path / "latest_net_G0.pth"
    torch.save({"model": _NotAStateDict()}, evil)  # a pickle weights_only=True refuses
    code = main(["convert", "--weights", str(evil), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "latest_net_G0.pth" in err and "weights_only" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
