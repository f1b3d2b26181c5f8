"""Flow, warp and occlusion-mask losses: masked L1 semantics, warping, gradient routing."""

from __future__ import annotations

import pytest
import torch

from vid2vid.flow import flow_warp
from vid2vid.losses import FlowLoss, OcclusionMaskLoss, WarpLoss, masked_l1_loss


def test_masked_l1_known_values() -> None:
    input = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [0.0, 8.0]]]])  # (1, 2, 2, 2)
    target = torch.zeros_like(input)
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])  # (1, 1, 2, 2), broadcast over channels
    # Kept: 1, 4 (channel 0) and 0, 8 (channel 1) → sum 13 over all 8 elements.
    assert masked_l1_loss(input, target, mask).item() == pytest.approx(13 / 8)
    assert masked_l1_loss(input, target, mask.bool()).item() == pytest.approx(13 / 8)
    per_channel = torch.cat([mask, 1 - mask], dim=1)  # (1, 2, 2, 2)
    assert masked_l1_loss(input, target, per_channel).item() == pytest.approx((1 + 4 + 0 + 0) / 8)


def test_masked_l1_errors() -> None:
    x = torch.zeros(1, 3, 4, 4)
    with pytest.raises(ValueError, match="same shape"):
        masked_l1_loss(x, torch.zeros(1, 3, 4, 5), torch.ones(1, 1, 4, 4))
    with pytest.raises(ValueError, match="mask must be"):
        masked_l1_loss(x, x, torch.ones(1, 2, 4, 4))
    with pytest.raises(ValueError, match="mask must be"):
        masked_l1_loss(x, x, torch.ones(1, 1, 4, 3))
    with pytest.raises(ValueError, match="\\(B, C, H, W\\)"):
        masked_l1_loss(torch.zeros(3, 4, 4), torch.zeros(3, 4, 4), torch.ones(1, 1, 4, 4))


def test_flow_loss_value_and_gradients() -> None:
    flow = torch.zeros(2, 2, 3, 4, requires_grad=True)
    flow_ref = torch.full((2, 2, 3, 4), 2.0, requires_grad=True)
    conf = torch.zeros(2, 1, 3, 4)
    conf[:, :, 0, :] = 1  # one row of 4 pixels trusted per image
    loss = FlowLoss()(flow, flow_ref, conf)
    # 2 images × 2 channels × 4 pixels × |0 - 2| over 2·2·3·4 = 48 elements.
    assert loss.item() == pytest.approx(32 / 48)
    loss.backward()
    assert flow.grad is not None and flow.grad[:, :, 0].abs().sum() > 0
    assert flow.grad[:, :, 1:].abs().sum() == 0  # untrusted pixels get no gradient
    assert flow_ref.grad is None
    with pytest.raises(ValueError, match="flow must be \\(B, 2, H, W\\)"):
        FlowLoss()(torch.zeros(1, 3, 3, 4), torch.zeros(1, 3, 3, 4), conf[:1])


def _shifted_pair(shift: int = 2) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """prev, frame with frame(y, x) = prev(y, x + shift), the integer flow, and a mask off the border."""
    torch.manual_seed(0)
    prev = torch.rand(2, 3, 12, 16) * 2 - 1
    frame = torch.zeros_like(prev)
    frame[..., : 16 - shift] = prev[..., shift:]
    flow = torch.zeros(2, 2, 12, 16)
    flow[:, 0] = shift
    conf = torch.zeros(2, 1, 12, 16)
    conf[..., : 16 - shift] = 1
    return prev, frame, flow, conf


def test_warp_loss_zero_for_integer_shift_away_from_border() -> None:
    prev, frame, flow, conf = _shifted_pair()
    assert WarpLoss()(prev, flow, frame, conf).item() < 1e-6
    assert WarpLoss(detach_warped=True)(prev, flow, frame, conf).item() < 1e-6
    # The border columns (clamped samples, zeroed frame) do differ, and a wrong flow costs.
    assert WarpLoss()(prev, flow, frame, torch.ones_like(conf)).item() > 0.01
    assert WarpLoss()(prev, torch.zeros_like(flow), frame, conf).item() > 0.1


def test_warp_loss_matches_masked_l1_of_flow_warp() -> None:
    prev, frame, _, conf = _shifted_pair()
    flow = torch.randn(2, 2, 12, 16) * 3
    expected = masked_l1_loss(flow_warp(prev, flow), frame, conf)
    assert WarpLoss()(prev, flow, frame, conf).item() == pytest.approx(expected.item(), rel=1e-6)


def test_warp_loss_gradient_routing() -> None:
    prev, frame, flow, conf = _shifted_pair()
    flow = (flow + 0.3).requires_grad_()  # off the integer grid so the loss is not flat
    prev = prev.clone().requires_grad_()
    frame = frame.clone().requires_grad_()

    WarpLoss()(prev, flow, frame, conf).backward()  # F_Warp: teaches the flow
    assert flow.grad is not None and flow.grad.abs().sum() > 0
    assert prev.grad is not None and frame.grad is not None

    flow.grad = prev.grad = frame.grad = None
    WarpLoss(detach_warped=True)(prev, flow, frame, conf).backward()  # G_Warp: teaches the frame
    assert flow.grad is None and prev.grad is None
    assert frame.grad is not None and frame.grad.abs().sum() > 0


def test_warp_loss_shape_errors() -> None:
    prev, frame, flow, conf = _shifted_pair()
    with pytest.raises(ValueError, match="prev_frame .* and frame .* must have the same shape"):
        WarpLoss()(prev, flow, frame[:, :, :8], conf)
    with pytest.raises(ValueError, match="flow must be"):
        WarpLoss()(prev, flow[:, :1], frame, conf)


def test_occlusion_mask_loss() -> None:
    weight = torch.full((2, 1, 4, 4), 0.5, requires_grad=True)
    conf = torch.zeros(2, 1, 4, 4)
    conf[:, :, :2] = 1  # half of the pixels trusted
    loss = OcclusionMaskLoss()(weight, conf)
    assert loss.item() == pytest.approx(0.25)
    loss.backward()
    assert weight.grad is not None
    assert torch.all(weight.grad[:, :, :2] > 0) and torch.all(weight.grad[:, :, 2:] == 0)
    assert OcclusionMaskLoss()(torch.zeros(1, 1, 4, 4), torch.ones(1, 1, 4, 4)).item() == 0.0
    with pytest.raises(ValueError, match="weight must be \\(B, 1, H, W\\)"):
        OcclusionMaskLoss()(torch.zeros(1, 3, 4, 4), torch.ones(1, 1, 4, 4))


def test_dtype_follows_input() -> None:
    prev, frame, flow, conf = (t.double() for t in _shifted_pair())
    assert WarpLoss()(prev, flow, frame, conf).dtype == torch.float64
    assert FlowLoss()(flow, flow, conf).dtype == torch.float64
