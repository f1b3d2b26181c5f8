"""FeatureMatchingLoss: the original's 4/(n_layers_D+1) · 1/num_D weighting on known tensors."""

from __future__ import annotations

import pytest
import torch

from vid2vid.losses import FeatureMatchingLoss


def _features(values: list[list[float]], shape=(1, 2, 4, 4)) -> list[list[torch.Tensor]]:
    return [[torch.full(shape, v) for v in scale] for scale in values]


def test_weighting_on_constant_features() -> None:
    # 2 scales, n_layers_D = 2 → 3 matched feature maps + 1 prediction per scale.
    fake = _features([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    real = _features([[1.0, 2.0, 3.0, 50.0], [0.5, 0.5, 0.5, -50.0]])
    # Σ |diff| per scale: 6 and 1.5; per-layer weight 4/3, per-scale weight 1/2; predictions ignored.
    expected = (6.0 + 1.5) * (4.0 / 3.0) * 0.5
    assert FeatureMatchingLoss(n_layers_D=2)(fake, real).item() == pytest.approx(expected, rel=1e-6)
    assert FeatureMatchingLoss()(fake, real).item() == pytest.approx(expected, rel=1e-6)


def test_identical_features_give_zero() -> None:
    feats = [[torch.randn(2, 3, 5, 5), torch.randn(2, 1, 4, 4)]]
    assert FeatureMatchingLoss()(feats, feats).item() == 0.0


def test_multiscale_patchgan_structure() -> None:
    # Shapes of the original's 3-scale, n_layers_D = 3 discriminator on a 32×64 input (8 ndf):
    # 4 feature maps + the prediction per scale, widths/resolutions differing per scale.
    shapes = [
        [(2, 8, 17, 33), (2, 16, 9, 17), (2, 32, 5, 9), (2, 64, 6, 10), (2, 1, 7, 11)],
        [(2, 16, 9, 17), (2, 32, 5, 9), (2, 64, 3, 5), (2, 128, 4, 6), (2, 1, 5, 7)],
        [(2, 32, 5, 9), (2, 64, 3, 5), (2, 128, 2, 3), (2, 256, 3, 4), (2, 1, 4, 5)],
    ]
    real = [[torch.randn(s) for s in scale] for scale in shapes]
    fake = [[f + 0.1 for f in scale] for scale in real]
    # Each of 3 scales × 4 matched layers contributes 0.1 · (4/4) · (1/3).
    assert FeatureMatchingLoss(n_layers_D=3)(fake, real).item() == pytest.approx(0.4, rel=1e-5)
    assert FeatureMatchingLoss()(fake, real).item() == pytest.approx(0.4, rel=1e-5)


def test_gradient_reaches_fake_not_real() -> None:
    fake = [[torch.randn(1, 2, 3, 3, requires_grad=True), torch.randn(1, 1, 2, 2, requires_grad=True)]]
    real = [[torch.randn(1, 2, 3, 3, requires_grad=True), torch.randn(1, 1, 2, 2, requires_grad=True)]]
    FeatureMatchingLoss()(fake, real).backward()
    assert fake[0][0].grad is not None and fake[0][0].grad.abs().sum() > 0
    assert fake[0][1].grad is None  # the prediction is not matched
    assert real[0][0].grad is None and real[0][1].grad is None


def test_structure_errors() -> None:
    loss = FeatureMatchingLoss()
    a = _features([[0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="1 scales"):
        loss(a, a + a)
    with pytest.raises(ValueError, match="fake has 3 feature maps but real has 2"):
        loss(a, _features([[0.0, 0.0]]))
    with pytest.raises(ValueError, match="scale 0 layer 1"):
        loss(a, [[a[0][0], torch.zeros(1, 2, 8, 8), a[0][2]]])
    with pytest.raises(ValueError, match="intermediate"):
        loss([[torch.zeros(1, 1, 2, 2)]], [[torch.zeros(1, 1, 2, 2)]])
    with pytest.raises(ValueError, match="implies 5"):
        FeatureMatchingLoss(n_layers_D=3)(a, a)
    with pytest.raises(ValueError, match="list over scales"):
        loss(torch.zeros(1), torch.zeros(1))
