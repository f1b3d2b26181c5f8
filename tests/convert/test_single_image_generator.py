"""The original's street single-image generators (label2city_single 512 / 1024 / 2048 forms).

The 512 (global, 3 downsamplings) and 2048 (local enhancer) forms are checked against the
original's own outputs in tests/test_pipeline_parity.py; the 1024 form (global, 4
downsamplings) has no fixture, so its expected output comes from the original's layer list
re-stated here (``GlobalGenerator``: ``model.*`` keys), independent of our modules.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from vid2vid.convert.original import (
    convert_image_generator,
    infer_image_generator_config,
    load_original_state_dict,
)
from vid2vid.convert.original_model import convert_original_model
from vid2vid.data.labels import one_hot
from vid2vid.nn import ImageGeneratorConfig
from vid2vid.pipeline import Vid2VidPipeline
from vid2vid.reference_fixtures import read_fixture_tensors


def _norm(c: int) -> nn.Module:
    return nn.InstanceNorm2d(c, affine=False, track_running_stats=True)


class _Res(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), _norm(c), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), _norm(c),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


def _original_global(in_nc: int, ngf: int, d: int, n_blocks: int) -> nn.Module:
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_nc, ngf, 7), _norm(ngf), nn.ReLU(True)]
    for i in range(d):
        layers += [
            nn.Conv2d(ngf * 2**i, ngf * 2 ** (i + 1), 3, 2, 1),
            _norm(ngf * 2 ** (i + 1)),
            nn.ReLU(True),
        ]
    layers += [_Res(ngf * 2**d) for _ in range(n_blocks)]
    for i in range(d):
        c = ngf * 2 ** (d - i)
        layers += [nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1), _norm(c // 2), nn.ReLU(True)]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
    module = nn.Module()
    module.model = nn.Sequential(*layers)
    return module


def test_1024_form_global_with_4_downsamplings(fixtures_dir: Path) -> None:
    torch.manual_seed(0)
    ref = _original_global(35, 2, 4, 2).train()
    sd = ref.state_dict()
    cfg = infer_image_generator_config(sd)
    assert cfg == ImageGeneratorConfig(input_nc=35, ngf=2, n_downsample=4, n_blocks=2, n_local_enhancers=0)
    labels = torch.randint(0, 35, (1, 64, 128))
    with torch.no_grad():
        want = ref.model(one_hot(labels, 35))
        got = convert_image_generator(sd, cfg)(one_hot(labels, 35))
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)

    # Bundled with a street generator (36-channel frames: labels + instance edges): the pipeline
    # feeds it the 35 label channels, one frame at a time, as test.py --use_single_G.
    src = fixtures_dir / "g_city_s1_d2_noflow"  # a carried street generator (35 labels + instances)
    options = json.loads((src / "config.json").read_text())
    io = read_fixture_tensors(src / "io.safetensors")
    folder = convert_original_model(
        options, [load_original_state_dict(src / "latest_net_G0.pth")], first_frame_state_dict=sd
    )
    assert folder.first_frame == "image_generator" and folder.first_frame_input == "labels"
    pipe = Vid2VidPipeline.from_model_folder(folder)
    out = pipe(io["labels"], io["instances"], progress=False)
    with torch.no_grad():
        first = torch.cat([ref.model(one_hot(io["labels"][j : j + 1], 35)) for j in range(2)])
    torch.testing.assert_close(out.frames[:2] * 2 - 1, first, atol=1e-5, rtol=0)
    assert out.frames.shape[0] == io["labels"].shape[0]
