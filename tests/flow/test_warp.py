"""Backward warping, flow confidence and flow colouring."""

from __future__ import annotations

import pytest
import torch

from vid2vid.flow import FlowWarp, flow_confidence, flow_to_color, flow_warp


def test_zero_flow_is_identity() -> None:
    image = torch.randn(2, 3, 17, 23)
    out = FlowWarp()(image, torch.zeros(2, 2, 17, 23))
    assert torch.allclose(out, image, atol=1e-5)


@pytest.mark.parametrize(("dx", "dy"), [(2, 0), (0, -3), (1, 2)])
def test_integer_flow_is_a_shift(dx: int, dy: int) -> None:
    image = torch.randn(1, 2, 20, 30, dtype=torch.float64)
    flow = torch.zeros(1, 2, 20, 30, dtype=torch.float64)
    flow[:, 0], flow[:, 1] = dx, dy
    out = flow_warp(image, flow)
    # out[y, x] = image[y + dy, x + dx], borders clamped.
    ys = torch.arange(20).add(dy).clamp(0, 19)
    xs = torch.arange(30).add(dx).clamp(0, 29)
    expected = image[:, :, ys][:, :, :, xs]
    assert torch.allclose(out, expected, atol=1e-9)


def test_warp_convention_reconstructs_a_moving_frame() -> None:
    prev = torch.zeros(1, 1, 10, 10)
    prev[..., 4, 4] = 1.0
    frame = torch.zeros(1, 1, 10, 10)
    frame[..., 4, 6] = 1.0  # the dot moved 2 px to the right
    flow = torch.zeros(1, 2, 10, 10)
    flow[:, 0] = -2.0  # each pixel of frame t comes from 2 px to the left in t-1
    assert torch.allclose(flow_warp(prev, flow), frame, atol=1e-6)


def test_grid_cache_and_errors() -> None:
    warp = FlowWarp(max_cached_grids=2)
    for size in [(4, 4), (5, 5), (6, 6)]:
        warp(torch.rand(1, 1, *size), torch.zeros(1, 2, *size))
    assert len(warp._grids) == 2
    assert warp.state_dict() == {}
    with pytest.raises(ValueError, match=r"flow must be \(B, 2, H, W\)"):
        warp(torch.rand(1, 3, 4, 4), torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match="share batch size"):
        warp(torch.rand(1, 3, 4, 4), torch.zeros(1, 2, 4, 5))


def test_warp_gradients_reach_flow_and_image() -> None:
    image = torch.rand(1, 3, 8, 8, requires_grad=True)
    flow = torch.full((1, 2, 8, 8), 0.3, requires_grad=True)
    flow_warp(image, flow).sum().backward()
    assert image.grad.abs().sum() > 0 and flow.grad.abs().sum() > 0


def test_flow_confidence() -> None:
    prev = torch.rand(1, 3, 12, 12) * 2 - 1
    flow = torch.zeros(1, 2, 12, 12)
    flow[:, 0] = 1.0
    frame = flow_warp(prev, flow)
    assert flow_confidence(frame, prev, flow).mean() == 1.0
    corrupted = frame.clone()
    corrupted[..., :4, :] += 0.5  # squared error 3 * 0.25 > 0.02
    conf = flow_confidence(corrupted, prev, flow)
    assert conf.shape == (1, 1, 12, 12)
    assert conf[..., :4, :].sum() == 0 and conf[..., 4:, :].mean() == 1.0


def test_flow_to_color() -> None:
    flow = torch.zeros(2, 8, 8)
    flow[0, :, 4:] = 3.0  # right half moves right
    rgb = flow_to_color(flow)
    assert rgb.shape == (3, 8, 8) and 0 <= float(rgb.min()) and float(rgb.max()) <= 1
    assert torch.allclose(rgb[:, 0, 0], torch.ones(3))  # zero flow is white
    assert not torch.allclose(rgb[:, 0, 7], torch.ones(3))
    left = flow_to_color(-flow)
    assert not torch.allclose(left[:, 0, 7], rgb[:, 0, 7])  # direction changes the hue
    half = flow_to_color(flow, max_magnitude=6.0)
    assert (1 - half[:, 0, 7]).abs().sum() < (1 - rgb[:, 0, 7]).abs().sum()  # less saturated
