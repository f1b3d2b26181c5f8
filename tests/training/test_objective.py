"""The vid2vid objective: loss terms and weights, temporal windows, flow composition."""

from __future__ import annotations

import pytest
import torch

from vid2vid.flow import flow_warp
from vid2vid.losses import FlowLoss, WarpLoss
from vid2vid.training.objective import (
    IMAGE_LOSS_NAMES,
    FrameBatch,
    TemporalWindows,
    Vid2VidObjective,
    compose_flows,
)


def _objective(**kw) -> Vid2VidObjective:
    args = dict(ndf=4, ndf_max=4, n_layers_D=2, num_D=1, norm_D="instance", n_frames_D=3, n_scales_temporal=2)
    args.update(kw)
    return Vid2VidObjective(5, 3, **args)


def _batch(n: int = 2, h: int = 16, w: int = 16, requires_grad: bool = True) -> FrameBatch:
    g = torch.Generator().manual_seed(0)

    def r(*shape):
        return torch.rand(*shape, generator=g) * 2 - 1

    fake = r(n, 3, h, w).requires_grad_(requires_grad)
    flow = (r(n, 2, h, w) * 2).requires_grad_(requires_grad)
    return FrameBatch(
        real=r(n, 3, h, w),
        fake=fake,
        raw=r(n, 3, h, w).requires_grad_(requires_grad),
        inputs=r(n, 5, h, w),
        real_prev=r(n, 3, h, w),
        fake_prev=r(n, 3, h, w),
        flow=flow,
        weight=torch.rand(n, 1, h, w, generator=g).requires_grad_(requires_grad),
        flow_ref=r(n, 2, h, w) * 2,
        conf_ref=(torch.rand(n, 1, h, w, generator=g) > 0.3).float(),
    )


def test_image_losses_terms_and_weights() -> None:
    b = _batch()
    obj = _objective(n_scales_spatial=2, lambda_F=10.0, lambda_T=7.0)
    losses = obj.image_losses(b)
    assert tuple(losses.terms) == IMAGE_LOSS_NAMES
    expected_flow = FlowLoss()(b.flow, b.flow_ref, b.conf_ref) * 10.0 / 2
    assert torch.allclose(losses.terms["F_Flow"], expected_flow)
    expected_fwarp = WarpLoss()(b.real_prev, b.flow, b.real, b.conf_ref) * 7.0
    assert torch.allclose(losses.terms["F_Warp"], expected_fwarp)
    warped = flow_warp(b.fake_prev, b.flow_ref)
    expected_gwarp = ((b.fake - warped) * b.conf_ref).abs().mean() * 7.0
    assert torch.allclose(losses.terms["G_Warp"], expected_gwarp)
    assert losses.terms["W"] == 0  # only without first frames
    assert losses.terms["G_VGG"] == 0  # no VGG module
    total = sum(losses.terms[k] for k in ("G_GAN", "G_GAN_Feat", "G_VGG", "G_Warp", "F_Flow", "F_Warp", "W"))
    assert torch.allclose(losses.generator, total)
    assert torch.allclose(losses.discriminator, (losses.terms["D_real"] + losses.terms["D_fake"]) / 2)


def test_gradients_reach_the_right_tensors() -> None:
    b = _batch()
    obj = _objective(no_first_frame=True)
    losses = obj.image_losses(b)
    assert losses.terms["W"] > 0
    losses.generator.backward()
    assert b.fake.grad is not None and b.raw.grad is not None and b.flow.grad is not None
    assert b.weight.grad is not None
    # the discriminator's loss does not reach the generator's outputs
    b2 = _batch()
    obj.image_losses(b2).discriminator.backward()
    assert b2.fake.grad is None and b2.raw.grad is None


def test_no_flow_model_has_zero_flow_terms() -> None:
    b = _batch()
    b.flow = None
    b.weight = None
    losses = _objective().image_losses(b)
    assert losses.terms["F_Flow"] == 0 and losses.terms["F_Warp"] == 0 and losses.terms["W"] == 0
    assert losses.terms["G_Warp"] > 0


def test_temporal_losses_shapes_and_detach() -> None:
    obj = _objective()
    real = torch.rand(2, 3, 3, 16, 16) * 2 - 1
    fake = (torch.rand(2, 3, 3, 16, 16) * 2 - 1).requires_grad_(True)
    flows = torch.randn(2, 2, 2, 16, 16)
    terms = obj.temporal_losses(1, real, fake, flows)
    assert set(terms.terms) == {"G_T_GAN", "G_T_GAN_Feat", "D_T_real", "D_T_fake"}
    terms.discriminator.backward(retain_graph=True)
    assert fake.grad is None
    assert obj.temporal_d.scales[0].scales[0].layers[0].conv.weight.grad is None  # scale 0 untouched
    terms.generator.backward()
    assert fake.grad is not None


def test_compose_flows_chains_translations_and_matches_warping() -> None:
    f1 = torch.zeros(1, 2, 8, 8)
    f1[:, 0] = 1.0
    f2 = torch.zeros(1, 2, 8, 8)
    f2[:, 1] = 2.0
    total = compose_flows(torch.stack([f1, f2], dim=1))
    assert torch.allclose(total[:, 0], torch.ones(1, 8, 8)) and torch.allclose(
        total[:, 1], torch.full((1, 8, 8), 2.0)
    )
    # a smooth image warped twice ~ warped once by the composed flow (inside the image)
    y, x = torch.meshgrid(torch.linspace(-1, 1, 16), torch.linspace(-1, 1, 16), indexing="ij")
    img = torch.stack([x, y, x * y]).unsqueeze(0)
    g = torch.zeros(1, 2, 16, 16)
    g[:, 0] = 0.5 * torch.sin(y * 3)
    twice = flow_warp(flow_warp(img, g), g)
    once = flow_warp(img, compose_flows(torch.stack([g, g], dim=1)))
    assert torch.allclose(twice[..., 3:-3, 3:-3], once[..., 3:-3, 3:-3], atol=2e-2)


def test_temporal_windows_follow_the_original_skipping() -> None:
    tw = TemporalWindows(n_frames_D=3, n_scales_temporal=2)
    frames = torch.arange(10, dtype=torch.float32).view(1, 10, 1, 1, 1).expand(1, 10, 3, 2, 2)
    flows = torch.arange(10, dtype=torch.float32).view(1, 10, 1, 1, 1).expand(1, 10, 2, 2, 2)

    def ids(t: torch.Tensor) -> list[list[int]]:
        return t[:, :, 0, 0, 0].long().tolist()

    out = tw.add(frames[:, :4], frames[:, :4], flows[:, :4])
    assert ids(out[0][0]) == [[1, 2, 3]] and out[1] is None
    assert ids(out[0][2]) == [[2, 3]]  # unit flows of the window's frames 1..2
    out = tw.add(frames[:, 4:8], frames[:, 4:8], flows[:, 4:8])
    assert ids(out[0][0]) == [[5, 6, 7], [2, 3, 4]]  # windows step back n_frames_D frames
    assert ids(out[1][0]) == [[1, 4, 7]]  # every 3rd frame at scale 1
    assert tw.real.shape[1] == 6  # keeps n_frames_D**(S-1) * (n_frames_D - 1) frames
    # coarse-scale flows chain the unit flows (constant flows: sums)
    assert out[1][2][:, :, 0, 0, 0].tolist() == [[2 + 3 + 4, 5 + 6 + 7]]


def test_temporal_windows_use_a_pair_flow_when_given() -> None:
    calls = []

    def pair_flow(frame: torch.Tensor, prev: torch.Tensor, t: int, t_prev: int) -> torch.Tensor:
        calls.append((float(frame[0, 0, 0, 0]), float(prev[0, 0, 0, 0]), t, t_prev))
        return torch.zeros(frame.shape[0], 2, *frame.shape[-2:])

    tw = TemporalWindows(3, 2, pair_flow=pair_flow)
    frames = torch.arange(10, dtype=torch.float32).view(1, 10, 1, 1, 1).expand(1, 10, 3, 2, 2)
    tw.add(frames[:, :7], frames[:, :7], torch.zeros(1, 7, 2, 2, 2))
    assert calls == [(3.0, 0.0, 3, 0), (6.0, 3.0, 6, 3)]
    # after the buffer was trimmed, positions still count from the start of the sequence
    calls.clear()
    tw.add(frames[:, 7:], frames[:, 7:], torch.zeros(1, 3, 2, 2, 2))
    assert calls == [(6.0, 3.0, 6, 3), (9.0, 6.0, 9, 6)]


@pytest.mark.parametrize("bad", [1])
def test_temporal_windows_need_two_frames(bad: int) -> None:
    with pytest.raises(ValueError):
        _objective(n_frames_D=bad)
