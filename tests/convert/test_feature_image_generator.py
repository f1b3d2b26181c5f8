"""Face first-frame generator (the original's Global_with_z / Local_with_z): conversion and parity.

No reference fixture of the original holds these networks, so the expected outputs come from a
literal re-statement of the original's layer lists, written here from its description (plain
``nn.Sequential`` stacks with the original's key layout, ``InstanceNorm2d`` tracking running
statistics, run in training mode as its test loop does). It shares no code with
``vid2vid.nn.FeatureImageGenerator``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from vid2vid.convert import ConversionError
from vid2vid.convert.original import (
    convert_feature_image_generator,
    convert_original,
    infer_image_generator_config,
)
from vid2vid.nn import FeatureImageGenerator, FeatureImageGeneratorConfig


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


def _pool(x: torch.Tensor, times: int) -> torch.Tensor:
    for _ in range(times):
        x = nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
    return x


class _OriginalWithZ(nn.Module):
    """Global_with_z (n_local = 0) or Local_with_z (n_local >= 1), key layout of the original."""

    def __init__(
        self, in_nc: int, out_nc: int, nz: int, ngf: int, d: int, nb: int, n_local: int, nbl: int
    ) -> None:
        super().__init__()
        self.d, self.n_local = d, n_local
        g = ngf * 2**n_local
        down = [nn.ReflectionPad2d(3), nn.Conv2d(in_nc + nz, g, 7), _norm(g), nn.ReLU(True)]
        for i in range(d):
            down += [nn.Conv2d(g * 2**i, g * 2 ** (i + 1), 3, 2, 1), _norm(g * 2 ** (i + 1)), nn.ReLU(True)]
        self.model_downsample = nn.Sequential(*down)
        deep = g * 2**d
        self.model_resnet = nn.Sequential(*[_Res(deep + nz) for _ in range(nb)])
        up = []
        for i in range(d):
            cin = g * 2 ** (d - i) + (2 * nz if i == 0 else 0)
            cout = g * 2 ** (d - i) // 2
            up += [nn.ConvTranspose2d(cin, cout, 3, 2, 1, output_padding=1), _norm(cout), nn.ReLU(True)]
        self.model_upsample = nn.Sequential(*up)
        if n_local == 0:
            self.model_upsample_conv = nn.Sequential(
                nn.ReflectionPad2d(3), nn.Conv2d(ngf + nz, out_nc, 7), nn.Tanh()
            )
        for n in range(1, n_local + 1):
            w = ngf * 2 ** (n_local - n)
            cin = in_nc + (nz if n == n_local else 0)
            setattr(self, f"model{n}_1", nn.Sequential(
                nn.ReflectionPad2d(3), nn.Conv2d(cin, w, 7), _norm(w), nn.ReLU(True),
                nn.Conv2d(w, 2 * w, 3, 2, 1), _norm(2 * w), nn.ReLU(True),
            ))  # fmt: skip
            width = 2 * w + (nz if n == 1 else 0)
            setattr(self, f"model{n}_2", nn.Sequential(
                *[_Res(width) for _ in range(nbl)],
                nn.ConvTranspose2d(width, w, 3, 2, 1, output_padding=1), _norm(w), nn.ReLU(True),
            ))  # fmt: skip
        if n_local:
            self.model_final = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(ngf + nz, out_nc, 7), nn.Tanh())

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        if self.n_local == 0:
            zd = _pool(z, self.d)
            h = self.model_downsample(torch.cat([x, z], 1))
            h = self.model_resnet(torch.cat([h, zd], 1))
            h = self.model_upsample(torch.cat([h, zd], 1))
            return self.model_upsample_conv(torch.cat([h, z], 1))
        xs = [x] + [_pool(x, k) for k in range(1, self.n_local + 1)]
        z_local = _pool(z, self.n_local)
        z_global = _pool(z_local, self.d)
        h = self.model_downsample(torch.cat([xs[-1], z_local], 1))
        h = self.model_resnet(torch.cat([h, z_global], 1))
        h = self.model_upsample(torch.cat([h, z_global], 1))
        for n in range(1, self.n_local + 1):
            xi = xs[self.n_local - n]
            if n == self.n_local:
                xi = torch.cat([xi, z], 1)
            h = getattr(self, f"model{n}_1")(xi) + h
            if n == 1:
                h = torch.cat([h, z_local], 1)
            h = getattr(self, f"model{n}_2")(h)
        return self.model_final(torch.cat([h, z], 1))


@pytest.mark.parametrize("n_local", [0, 1])
def test_converted_with_z_generator_matches_the_original_layout(n_local: int) -> None:
    torch.manual_seed(n_local)
    ref = _OriginalWithZ(5, 3, 4, 4, 2, 2, n_local, 2).train()
    x, z = torch.rand(1, 5, 32, 32), torch.randn(1, 4, 32, 32)
    with torch.no_grad():
        expected = ref(x, z)
    sd = ref.state_dict()
    cfg = infer_image_generator_config(sd)
    assert cfg == FeatureImageGeneratorConfig(
        input_nc=5, feature_nc=4, output_nc=3, ngf=4, n_downsample=2, n_blocks=2,
        n_local_enhancers=n_local, n_blocks_local=2 if n_local else 3,
    )  # fmt: skip
    ours = convert_feature_image_generator(sd, cfg).eval()
    with torch.no_grad():
        out = ours(x, z)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)
    # The features matter at every level: a change of z inside the image changes the output.
    with torch.no_grad():
        assert (ours(x, z + 0.5) - out).abs().max() > 1e-3
    module, config = convert_original("pix2pixhd_with_features", {}, [sd])
    assert isinstance(module, FeatureImageGenerator) and config == cfg.to_dict()


def test_with_z_conversion_errors() -> None:
    ref = _OriginalWithZ(5, 3, 4, 4, 2, 2, 0, 2)
    sd = ref.state_dict()
    cfg = infer_image_generator_config(sd)
    broken = dict(sd)
    del broken["model_resnet.1.conv_block.5.weight"]
    with pytest.raises(ConversionError, match=r"model_resnet\.1\.conv_block\.5\.weight"):
        convert_feature_image_generator(broken, cfg)
    with pytest.raises(ConversionError, match="not a pix2pixHD image generator"):
        infer_image_generator_config({"foo.weight": torch.zeros(1)})
    gen = FeatureImageGenerator(cfg)
    with pytest.raises(ValueError, match="needs instance features"):
        gen(torch.rand(1, 5, 32, 32))
    with pytest.raises(ValueError, match="not divisible by 4"):
        gen(torch.rand(1, 5, 30, 32), torch.rand(1, 4, 30, 32))


# ---------------------------------------------------------------------------- face model, end to end


def _original_encoder(in_nc: int, out_nc: int, ngf: int, d: int) -> nn.Module:
    """pix2pixHD's Encoder layout (``model.*``), without its instance pooling."""
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_nc, ngf, 7), _norm(ngf), nn.ReLU(True)]
    for i in range(d):
        layers += [
            nn.Conv2d(ngf * 2**i, ngf * 2 ** (i + 1), 3, 2, 1),
            _norm(ngf * 2 ** (i + 1)),
            nn.ReLU(True),
        ]
    for i in range(d):
        c = ngf * 2 ** (d - i)
        layers += [nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1), _norm(c // 2), nn.ReLU(True)]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_nc, 7), nn.Tanh()]
    module = nn.Module()
    module.model = nn.Sequential(*layers)
    return module


def test_face_model_converts_with_encoder_and_features_and_runs_as_the_original(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    """``vid2vid convert`` of a face model with edge2face_single G + E + features.npy; the first frame
    equals the original's recipe: E(real) pooled per part → nearest training image → Global_with_z."""
    import json

    import numpy as np
    from safetensors.torch import load_file

    from vid2vid.cli.main import main
    from vid2vid.pipeline import Vid2VidPipeline

    torch.manual_seed(5)
    src = fixtures_dir / "g_face_s1_d3"
    nz, n_parts, n_train = 4, 7, 6
    ref_g = _OriginalWithZ(15, 3, nz, 4, 3, 1, 0, 3).train()
    ref_e = _original_encoder(3, nz, 4, 3).train()
    torch.save(ref_g.state_dict(), tmp_path / "latest_net_G.pth")
    torch.save(ref_e.state_dict(), tmp_path / "latest_net_E.pth")
    rng = np.random.default_rng(0)
    features = {k: rng.normal(size=(n_train, nz + 1)).astype(np.float32) for k in range(n_parts)}
    np.save(tmp_path / "features.npy", features, allow_pickle=True)
    out = tmp_path / "face"
    argv = ["convert", "--weights", str(src / "latest_net_G0.pth"), "--options", str(src / "config.json")]
    argv += ["--set", "dataset_mode=face", "--first-frame-weights", str(tmp_path / "latest_net_G.pth")]
    argv += ["--first-frame-encoder", str(tmp_path / "latest_net_E.pth")]
    argv += ["--first-frame-features", str(tmp_path / "features.npy"), "--out", str(out)]
    assert main(argv) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["first_frame"] == "image_generator" and config["input_range"] == [0.0, 1.0]
    pipe = Vid2VidPipeline.from_pretrained(out)
    assert pipe.feature_choice == "nearest" and pipe.first_frame_input == "labels"
    torch.testing.assert_close(pipe.feature_clusters["class_3"], torch.from_numpy(features[3][:, :-1]))

    io = load_file(src / "io.safetensors")
    parts = torch.zeros(io["inputs"].shape[0], 64, 128, dtype=torch.long)
    for k in range(1, n_parts):  # nested rectangles: every part present
        parts[:, 4 * k : 64 - 4 * k, 8 * k : 128 - 8 * k] = k
    real = io["real"][:2]
    result = pipe(
        io["inputs"], instances=parts, first_frames=real, first_frames_range=(-1, 1), progress=False
    )
    assert result.frames.shape == (io["inputs"].shape[0], 3, 64, 128)
    with torch.no_grad():
        for j in range(2):
            encoded = ref_e.model(real[j : j + 1])
            ori = torch.stack([encoded[0][:, parts[j] == k].mean(dim=1) for k in range(n_parts)])  # (7, nz)
            rows = torch.stack([torch.from_numpy(features[k][:, :nz]) for k in range(n_parts)])  # (7, N, nz)
            best = int(((rows - ori[:, None]) ** 2).sum(dim=(0, 2)).argmin())
            z = torch.zeros(1, nz, 64, 128)
            for k in range(n_parts):
                z[0][:, parts[j] == k] = torch.from_numpy(features[k][best, :nz])[:, None]
            want = ref_g(io["inputs"][j : j + 1], z)
            torch.testing.assert_close(result.frames[j] * 2 - 1, want[0], atol=2e-5, rtol=0)
