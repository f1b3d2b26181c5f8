"""GANLoss: LSGAN / hinge / non-saturating values on hand-computed cases, input forms, errors."""

from __future__ import annotations

import math

import pytest
import torch

from vid2vid.losses import GANLoss, prediction_maps


def _nested(value: float, dtype: torch.dtype = torch.float32) -> list[list[torch.Tensor]]:
    """Two scales of (features..., prediction) like a multi-scale discriminator's output."""
    return [
        [torch.randn(2, 4, 8, 8, dtype=dtype), torch.full((2, 1, 7, 7), value, dtype=dtype)],
        [torch.randn(2, 4, 4, 4, dtype=dtype), torch.full((2, 1, 3, 5), value, dtype=dtype)],
    ]


def test_lsgan_constant_prediction_summed_over_scales() -> None:
    loss = GANLoss("lsgan")
    preds = _nested(0.3)
    # Each scale: mean((0.3 - 1)^2) = 0.49 for real, 0.09 for fake; two scales are summed.
    assert loss(preds, target_is_real=True).item() == pytest.approx(0.98, abs=1e-6)
    assert loss(preds, target_is_real=False).item() == pytest.approx(0.18, abs=1e-6)
    # The generator's loss is the real-target loss; for_discriminator does not change LSGAN.
    assert loss(preds, True, for_discriminator=False).item() == pytest.approx(0.98, abs=1e-6)


def test_lsgan_custom_labels() -> None:
    loss = GANLoss("lsgan", real_label=0.9, fake_label=0.1)
    pred = torch.full((1, 1, 4, 4), 0.5)
    assert loss(pred, True).item() == pytest.approx(0.16, abs=1e-6)
    assert loss(pred, False).item() == pytest.approx(0.16, abs=1e-6)


def test_input_forms_agree() -> None:
    a, b = torch.randn(2, 1, 5, 5), torch.randn(2, 1, 3, 3)
    loss = GANLoss("lsgan")
    nested = loss([[torch.randn(2, 8, 5, 5), a], [b]], True)
    flat = loss([a, b], True)
    single = loss(a, True) + loss(b, True)
    assert nested.item() == pytest.approx(flat.item(), rel=1e-6)
    assert flat.item() == pytest.approx(single.item(), rel=1e-6)
    assert loss(a, True).item() == pytest.approx(((a - 1) ** 2).mean().item(), rel=1e-6)


def test_only_last_entry_of_each_scale_is_scored() -> None:
    preds = _nested(1.0)
    preds[0][0] = torch.full_like(preds[0][0], 100.0)  # an intermediate feature map: ignored
    assert GANLoss("lsgan")(preds, True).item() == 0.0
    assert [tuple(p.shape) for p in prediction_maps(preds)] == [(2, 1, 7, 7), (2, 1, 3, 5)]


def test_hinge_values() -> None:
    x = torch.tensor([-2.0, 0.0, 0.5, 3.0]).view(1, 1, 2, 2)
    loss = GANLoss("hinge")
    # relu(1 - x) = [3, 1, 0.5, 0] → 1.125 ; relu(1 + x) = [0, 1, 1.5, 4] → 1.625 ; -mean(x) = -0.375
    assert loss(x, True).item() == pytest.approx(1.125)
    assert loss(x, False).item() == pytest.approx(1.625)
    assert loss(x, True, for_discriminator=False).item() == pytest.approx(-0.375)
    assert loss([x, x], True, for_discriminator=False).item() == pytest.approx(-0.75)


def test_non_saturating_and_vanilla_alias() -> None:
    x = torch.tensor([-1.0, 0.0, 2.0]).view(1, 1, 1, 3)
    expected_real = -torch.log(torch.sigmoid(x)).mean().item()
    expected_fake = -torch.log(1 - torch.sigmoid(x)).mean().item()
    for mode in ("non_saturating", "vanilla"):
        loss = GANLoss(mode)
        assert loss.mode == "non_saturating"
        assert loss(x, True).item() == pytest.approx(expected_real, rel=1e-6)
        assert loss(x, False).item() == pytest.approx(expected_fake, rel=1e-6)
    assert GANLoss("vanilla")(torch.zeros(1, 1, 2, 2), True).item() == pytest.approx(math.log(2.0), rel=1e-6)


@pytest.mark.parametrize("mode", ["lsgan", "hinge", "non_saturating"])
def test_gradient_reaches_predictions_and_dtype_follows(mode: str) -> None:
    pred = torch.randn(2, 1, 4, 4, dtype=torch.float64, requires_grad=True)
    out = GANLoss(mode)([[torch.randn(2, 3, 4, 4, dtype=torch.float64), pred]], True, for_discriminator=False)
    assert out.dim() == 0 and out.dtype == torch.float64
    out.backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0


def test_errors() -> None:
    with pytest.raises(ValueError, match="unknown GAN loss mode 'wgan'"):
        GANLoss("wgan")
    with pytest.raises(ValueError, match="target_is_real=True"):
        GANLoss("hinge")(torch.zeros(1, 1, 2, 2), False, for_discriminator=False)
    with pytest.raises(ValueError, match="non-empty"):
        GANLoss()([], True)
    with pytest.raises(ValueError, match="scale 1"):
        GANLoss()([[torch.zeros(1, 1, 2, 2)], torch.zeros(1, 1, 2, 2)], True)
    with pytest.raises(ValueError, match="scale 0"):
        GANLoss()([[]], True)
