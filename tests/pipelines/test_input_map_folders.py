"""The pipeline reads `vid2vid build-inputs` folders (uint8 .npy + inputs.json) as the training data does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vid2vid.data.input_maps import write_input_map
from vid2vid.nn import SequentialGenerator
from vid2vid.pipeline import Vid2VidPipeline


def _folder(tmp_path: Path, decode: str, channels: int, n: int = 4) -> tuple[Path, np.ndarray]:
    import json

    folder = tmp_path / decode
    folder.mkdir()
    maps = np.random.default_rng(0).integers(0, 256, (n, channels, 16, 16)).astype(np.uint8)
    for t, m in enumerate(maps):
        write_input_map(folder / f"{t:05d}.npy", m)
    (folder / "inputs.json").write_text(json.dumps({"channels": channels, "decode": decode}))
    return folder, maps


@pytest.mark.parametrize(("decode", "input_range"), [("unit", (0.0, 1.0)), ("symmetric", (-1.0, 1.0))])
def test_build_inputs_folder_is_decoded_to_the_model_range(
    tmp_path: Path, decode: str, input_range: tuple[float, float]
) -> None:
    torch.manual_seed(0)
    gen = SequentialGenerator(label_nc=0, input_nc=3, ngf=4, n_downsample=1, n_blocks=1, no_first_frame=True)
    pipe = Vid2VidPipeline(gen.eval(), first_frame="zeros", input_range=input_range)
    folder, maps = _folder(tmp_path, decode, 3)
    # independent decoding: unit x/255, symmetric (x/255 - 0.5)/0.5 (no DensePose index channel here)
    decoded = torch.from_numpy(maps).float() / 255
    if decode == "symmetric":
        decoded = (decoded - 0.5) / 0.5
    want = pipe(decoded, progress=False).frames
    got = pipe(str(folder), progress=False).frames
    torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_build_inputs_folder_of_the_other_range_is_refused(tmp_path: Path) -> None:
    gen = SequentialGenerator(label_nc=0, input_nc=3, ngf=4, n_downsample=1, n_blocks=1, no_first_frame=True)
    pipe = Vid2VidPipeline(gen.eval(), first_frame="zeros", input_range=(-1.0, 1.0))
    folder, _ = _folder(tmp_path, "unit", 3)
    with pytest.raises(
        ValueError, match=r"decode to \[0, 1\] but the model was trained on inputs in \[-1, 1\]"
    ):
        pipe(str(folder), progress=False)
