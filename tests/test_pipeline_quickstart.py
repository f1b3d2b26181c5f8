"""What a new user's first hour touches: the public demo model, run folders, repr, training size."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

import vid2vid
from vid2vid import Vid2VidPipeline
from vid2vid.model_folder import save_model_folder
from vid2vid.nn import SequentialGenerator


def _generator() -> SequentialGenerator:
    torch.manual_seed(0)
    return SequentialGenerator(label_nc=4, ngf=8, n_downsample=2, n_blocks=2, no_first_frame=True).eval()


def test_demo_model_is_public_and_records_its_training_size() -> None:
    pipe = Vid2VidPipeline.from_pretrained(vid2vid.DEMO_MODEL, device="cpu")
    assert pipe.training_size == (128, 64)
    text = repr(pipe)
    assert "label_nc=35" in text and "use_instance=True" in text and "first_frame='zeros'" in text
    assert "trained at 128x64" in text


@pytest.mark.parametrize("given", ["run", "run/latest", "run/latest/model"])
def test_run_and_checkpoint_folders_load_their_model(tmp_path: Path, given: str) -> None:
    save_model_folder(tmp_path / "run" / "latest" / "model", _generator(), first_frame="zeros")
    pipe = Vid2VidPipeline.from_pretrained(tmp_path / given)
    assert pipe.config.label_nc == 4


def test_synthesising_at_another_size_than_training_warns(tmp_path: Path) -> None:
    folder = save_model_folder(
        tmp_path / "m",
        _generator(),
        first_frame="zeros",
        metadata={"training": {"size": {"width": 64, "height": 32}}},
    )
    pipe = Vid2VidPipeline.from_pretrained(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipe(torch.randint(0, 4, (3, 32, 64)), progress=False)  # the training size: silent
    with pytest.warns(UserWarning, match="128x64 frames with a model trained on 64x32"):
        pipe(torch.randint(0, 4, (3, 64, 128)), progress=False)


def test_trainer_records_training_size() -> None:
    from vid2vid.training.trainer import training_frame_size

    class _Clip:
        size = (256, 128)

    class _Dataset:
        clips = [_Clip()]

    from vid2vid.data.transforms import GeometryConfig

    ds = _Dataset()
    ds.geometry = GeometryConfig(resize_mode="scale_width", load_size=128, fine_size=128, size_divisor=32)  # type: ignore[attr-defined]
    assert training_frame_size(ds) == {"width": 128, "height": 64}


def test_model_card_snippet_matches_the_model_inputs() -> None:
    from vid2vid.pipeline import _model_card

    card = _model_card(Vid2VidPipeline.from_pretrained(vid2vid.DEMO_MODEL))
    assert (
        "out = pipe(labels, instances=instances)" in card
        and "(T, 64, 128) int64 class ids in [0, 35)" in card
    )
    real = Vid2VidPipeline(_generator(), first_frame="real")
    card = _model_card(real)
    assert "out = pipe(labels, first_frames=first_frames)" in card and "(2, 3, H, W)" in card
