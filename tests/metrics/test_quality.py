"""PSNR and SSIM against closed forms and an independent loop implementation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vid2vid.metrics import psnr, ssim


def test_psnr_identical_is_infinite() -> None:
    x = torch.rand(2, 3, 8, 8) * 2 - 1
    assert torch.isinf(psnr(x, x)).all()


@pytest.mark.parametrize("shift", [0.2, 0.02, 1.0])
def test_psnr_of_a_constant_shift(shift: float) -> None:
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    expected = 10 * math.log10(2.0**2 / shift**2)
    torch.testing.assert_close(psnr(x + shift, x), torch.full((3,), expected), rtol=0, atol=1e-4)
    # [0, 1] data: range 1
    assert psnr((x + 1) / 2 + shift / 2, (x + 1) / 2, data_range=1.0)[0].item() == pytest.approx(
        expected, abs=1e-4
    )


def test_psnr_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="same shape"):
        psnr(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 5))
    with pytest.raises(ValueError, match="float"):
        psnr(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), torch.zeros(1, 3, 4, 4, dtype=torch.uint8))


def test_ssim_identical_is_one() -> None:
    x = torch.rand(2, 3, 20, 24) * 2 - 1
    torch.testing.assert_close(ssim(x, x), torch.ones(2))


def test_ssim_of_constant_images_is_the_luminance_term() -> None:
    a, b = 0.3, 0.7  # in [0, 1]
    x = torch.full((1, 3, 16, 16), 2 * a - 1)
    y = torch.full((1, 3, 16, 16), 2 * b - 1)
    c1 = 0.01**2
    expected = (2 * a * b + c1) / (a * a + b * b + c1)  # variances are 0: the structure term is C2/C2
    assert ssim(x, y).item() == pytest.approx(expected, rel=1e-5)


def _ssim_loops(x: np.ndarray, y: np.ndarray) -> float:
    """Straightforward SSIM of one (H, W) channel pair in [0, 1]: explicit windows, Gaussian weights."""
    k = np.arange(11) - 5.0
    g = np.exp(-(k**2) / (2 * 1.5**2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = 0.01**2, 0.03**2
    vals = []
    for i in range(x.shape[0] - 10):
        for j in range(x.shape[1] - 10):
            px, py = x[i : i + 11, j : j + 11], y[i : i + 11, j : j + 11]
            mx, my = (w * px).sum(), (w * py).sum()
            vx, vy = (w * (px - mx) ** 2).sum(), (w * (py - my) ** 2).sum()
            cxy = (w * (px - mx) * (py - my)).sum()
            vals.append(((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2)))
    return float(np.mean(vals))


def test_ssim_matches_an_explicit_window_loop() -> None:
    x = torch.rand(1, 3, 14, 17) * 2 - 1
    y = (x + 0.3 * torch.randn_like(x)).clamp(-1, 1)
    xs, ys = ((x + 1) / 2).double().numpy()[0], ((y + 1) / 2).double().numpy()[0]
    expected = np.mean([_ssim_loops(xs[c], ys[c]) for c in range(3)])
    assert ssim(x, y).item() == pytest.approx(expected, abs=1e-6)


def test_ssim_needs_the_window() -> None:
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(torch.zeros(1, 3, 8, 32), torch.zeros(1, 3, 8, 32))
