"""Fréchet distance, FID and FVD against closed forms (random feature networks, no downloads)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn

from vid2vid.metrics import (
    FrechetInceptionDistance,
    FrechetVideoDistance,
    GaussianStatistics,
    I3DFeatures,
    InceptionFeatures,
    frechet_distance,
)
from vid2vid.metrics.fvd import clip_windows


def test_identical_gaussians_are_at_distance_zero() -> None:
    a = torch.randn(6, 6, dtype=torch.float64)
    s = a @ a.T + 0.1 * torch.eye(6, dtype=torch.float64)
    mu = torch.randn(6, dtype=torch.float64)
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-9)


def test_one_dimension_is_mean_and_std_differences() -> None:
    d = frechet_distance(
        torch.tensor([1.0]), torch.tensor([[4.0]]), torch.tensor([-2.0]), torch.tensor([[9.0]])
    )
    assert d == pytest.approx((1 + 2) ** 2 + (2 - 3) ** 2)


def test_commuting_covariances_reduce_to_eigenvalues() -> None:
    q, _ = torch.linalg.qr(torch.randn(5, 5, dtype=torch.float64))
    a = torch.tensor([0.5, 1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    b = torch.tensor(
        [4.0, 0.1, 2.0, 1.0, 0.0], dtype=torch.float64
    )  # singular on purpose: sqrt(0 + rounding)
    mu1, mu2 = torch.randn(5, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
    expected = float((mu1 - mu2).pow(2).sum() + (a.sqrt() - b.sqrt()).pow(2).sum())
    d = frechet_distance(mu1, q @ torch.diag(a) @ q.T, mu2, q @ torch.diag(b) @ q.T)
    assert d == pytest.approx(expected, rel=1e-7)


def test_non_commuting_2x2_against_the_trace_formula() -> None:
    # for a 2x2 matrix M with non-negative eigenvalues: tr sqrt(M) = sqrt(tr M + 2 sqrt(det M))
    s1 = torch.tensor([[2.0, 0.8], [0.8, 1.0]], dtype=torch.float64)
    s2 = torch.tensor([[1.0, -0.3], [-0.3, 3.0]], dtype=torch.float64)
    m = s1 @ s2
    tr_sqrt = math.sqrt(float(torch.trace(m)) + 2 * math.sqrt(float(torch.det(m))))
    expected = 1.0**2 + float(torch.trace(s1) + torch.trace(s2)) - 2 * tr_sqrt
    d = frechet_distance(torch.tensor([1.0, 0.0]), s1, torch.tensor([0.0, 0.0]), s2)
    assert d == pytest.approx(expected, rel=1e-10)


def test_running_statistics_equal_torch_cov() -> None:
    x = torch.randn(50, 4, dtype=torch.float64) * torch.tensor([1.0, 2.0, 3.0, 0.5], dtype=torch.float64) + 3
    stats = GaussianStatistics(4)
    for chunk in x.split(7):
        stats.update(chunk)
    torch.testing.assert_close(stats.mean, x.mean(dim=0))
    torch.testing.assert_close(stats.covariance, torch.cov(x.T))
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        stats.update(torch.zeros(3, 5))


def test_sampled_gaussians_approach_the_closed_form() -> None:
    g = torch.Generator().manual_seed(0)
    n = 20000
    x = torch.randn(n, 3, generator=g, dtype=torch.float64)
    y = torch.randn(n, 3, generator=g, dtype=torch.float64) * 2 + torch.tensor(
        [1.0, 0.0, 0.0], dtype=torch.float64
    )
    sx, sy = GaussianStatistics(3), GaussianStatistics(3)
    sx.update(x)
    sy.update(y)
    # N(0, I) vs N((1,0,0), 4I): 1 + 3 * (1 - 2)^2 = 4
    assert sx.distance(sy) == pytest.approx(4.0, abs=0.1)


class _MeanColour(nn.Module):
    """Features = mean colour per channel (so the distance is known in closed form)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=tuple(range(2, x.dim()))) if x.dim() == 4 else x.mean(dim=(1, 3, 4))


def test_fid_of_a_brightness_shift_is_the_squared_shift() -> None:
    frames = torch.rand(40, 3, 8, 8) * 1.5 - 1
    fid = FrechetInceptionDistance(_MeanColour(), batch_size=16)
    fid.update(frames, real=True)
    fid.update(frames + 0.1, real=False)  # same covariance, mean moved by 0.1 in each channel
    assert fid.compute() == pytest.approx(3 * 0.1**2, rel=1e-6)
    fid.reset()
    with pytest.raises(ValueError, match="before compute"):
        fid.compute()


def test_fvd_windows_and_a_shift() -> None:
    clips = torch.rand(3, 10, 3, 8, 8) * 1.5 - 1
    assert clip_windows(clips, 4).shape == (6, 4, 3, 8, 8)
    with pytest.raises(ValueError, match="FVD windows need 16"):
        clip_windows(clips, 16)
    fvd = FrechetVideoDistance(_MeanColour(), window=5)
    fvd.update(clips, real=True)
    fvd.update(clips, real=False)
    assert fvd.compute() == pytest.approx(0.0, abs=1e-9)
    fvd.reset()
    fvd.update(clips, real=True)
    fvd.update(clips - 0.2, real=False)
    assert fvd.compute() == pytest.approx(3 * 0.2**2, rel=1e-6)


def test_inception_features_shape_with_random_weights() -> None:
    net = InceptionFeatures(weights=None, size=75)  # Inception's smallest input, to stay fast
    out = net(torch.rand(2, 3, 32, 64) * 2 - 1)
    assert out.shape == (2, 2048) and out.dtype == torch.float32


def test_i3d_loads_a_state_dict_of_the_pytorch_port(tmp_path: Path) -> None:
    ref = I3DFeatures(weights=None, size=32)
    state = {k: v for k, v in ref.model.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert "Mixed_5c.b3b.conv3d.weight" in state and "logits.conv3d.bias" in state
    torch.save(state, tmp_path / "rgb_imagenet.pt")  # files of old PyTorch versions have no BN counters
    loaded = I3DFeatures(weights=tmp_path / "rgb_imagenet.pt", size=32)
    clip = torch.rand(1, 8, 3, 24, 24) * 2 - 1
    out = loaded(clip)
    assert out.shape == (1, 400)
    torch.testing.assert_close(out, ref(clip))


def test_i3d_offline_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("VID2VID_FVD_I3D_WEIGHTS", raising=False)
    with pytest.raises(RuntimeError, match="rgb_imagenet.pt") as err:
        I3DFeatures()
    assert "VID2VID_FVD_I3D_WEIGHTS" in str(err.value) and str(tmp_path) in str(err.value)


def test_i3d_convolutions_use_tensorflow_same_padding() -> None:
    from vid2vid.metrics.i3d import Unit3D

    # TF "SAME": output = ceil(input / stride), total padding split with the smaller half in front
    unit = Unit3D(1, 1, (1, 1, 3), (1, 1, 2), batch_norm=False, relu=False)
    with torch.no_grad():
        unit.conv3d.weight.zero_()
        unit.conv3d.weight[..., 0] = 1.0  # picks the first tap of each window
    six = torch.arange(1.0, 7.0).view(1, 1, 1, 1, 6)  # total padding 1: [1..6, 0]
    torch.testing.assert_close(unit(six).flatten(), torch.tensor([1.0, 3.0, 5.0]))
    seven = torch.arange(1.0, 8.0).view(1, 1, 1, 1, 7)  # total padding 2: [0, 1..7, 0]
    torch.testing.assert_close(unit(seven).flatten(), torch.tensor([0.0, 2.0, 4.0, 6.0]))
    for n in (7, 8, 15, 16):
        assert Unit3D(3, 2, (7, 7, 7), (2, 2, 2))(torch.zeros(1, 3, n, n, n)).shape[-1] == -(-n // 2)
