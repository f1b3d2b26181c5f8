"""Warp error, flicker, change ratio, tLP and tOF against known motions and flickering copies."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vid2vid.metrics import (
    LPIPS,
    flicker,
    temporal_change_ratio,
    temporal_flow_difference,
    temporal_lpips,
    warp_error,
)
from vid2vid.metrics.warp_error import in_frame_mask


def _panning_clip(t: int = 5, h: int = 24, w: int = 40, v: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """A random texture moving right by ``v`` pixels per frame, and its exact backward flow (-v, 0)."""
    g = torch.Generator().manual_seed(1)
    tex = torch.rand(3, h, w + v * t, generator=g) * 2 - 1
    frames = torch.stack(
        [tex[:, :, v * (t - k) : v * (t - k) + w] for k in range(t)]
    )  # frame k: tex shifted by k*v
    flow = torch.zeros(t, 2, h, w)
    flow[1:, 0] = -v
    return frames, flow


def test_exact_motion_has_zero_warp_error_and_wrong_motion_does_not() -> None:
    frames, flow = _panning_clip()
    err = warp_error(frames, flow)
    assert err.shape == (4,)
    torch.testing.assert_close(err, torch.zeros(4), atol=1e-12, rtol=0)
    # zero flow: the error is the plain frame difference (everything is inside the frame)
    f = ((frames + 1) / 2).double().numpy()
    expected = [np.mean((f[k] - f[k - 1]) ** 2) for k in range(1, 5)]
    np.testing.assert_allclose(warp_error(frames, torch.zeros_like(flow)).numpy(), expected, rtol=1e-5)


def test_a_flickering_copy_has_the_squared_offset_as_warp_error() -> None:
    frames, flow = _panning_clip()
    a = 0.1
    sign = torch.tensor([(-1.0) ** k for k in range(5)]).view(5, 1, 1, 1)
    err = warp_error(frames + a * sign, flow)
    # consecutive frames differ by 2a along the motion; in [0, 1] units that is a: error a^2
    torch.testing.assert_close(err, torch.full((4,), a**2), atol=1e-7, rtol=1e-5)


def test_masks_exclude_pixels() -> None:
    frames, flow = _panning_clip()
    # pixels whose source is outside the frame: the first v=2 columns
    m = in_frame_mask(flow[1:])
    assert m[:, 0, :, :2].sum() == 0 and m[:, 0, :, 2:].min() == 1
    bad = frames.clone()
    bad[1:, :, :5, :] = 1.0  # damage the top 5 rows of frames 1..4
    valid = torch.ones(5, 1, 24, 40)
    valid[:, :, :6] = 0
    torch.testing.assert_close(warp_error(bad, flow, valid)[1:], torch.zeros(3), atol=1e-12, rtol=0)
    assert (warp_error(bad, flow)[1:] > 0).all()
    assert torch.isnan(warp_error(frames, flow, torch.zeros(5, 1, 24, 40))).all()


def test_flicker_and_change_ratio_of_known_videos() -> None:
    frames, _ = _panning_clip()
    torch.testing.assert_close(flicker(frames, frames), torch.zeros(4))
    torch.testing.assert_close(temporal_change_ratio(frames, frames), torch.ones(4))
    a = 0.06
    sign = torch.tensor([(-1.0) ** k for k in range(5)]).view(5, 1, 1, 1)
    # the mean brightness jumps by 2a in [-1, 1] units, i.e. by a in [0, 1] units, every frame
    torch.testing.assert_close(flicker(frames + a * sign, frames), torch.full((4,), a), atol=1e-6, rtol=0)
    frozen = frames[:1].expand(5, -1, -1, -1)
    torch.testing.assert_close(temporal_change_ratio(frozen, frames), torch.zeros(4))
    with pytest.raises(ValueError, match="at least 2 frames"):
        flicker(frames[:1], frames[:1])


def test_temporal_lpips() -> None:
    lpips = LPIPS(weights=None)
    frames = torch.rand(4, 3, 40, 40) * 2 - 1
    torch.testing.assert_close(temporal_lpips(frames, frames, lpips), torch.zeros(3))
    frozen = frames[:1].expand(4, -1, -1, -1)
    # LPIPS(x, x) = 0, so tLP of a frozen video is the ground truth's own perceptual change
    torch.testing.assert_close(temporal_lpips(frozen, frames, lpips), lpips(frames[1:], frames[:-1]))


def test_temporal_flow_difference_with_a_known_estimator() -> None:
    def estimator(frame: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        # "flow" = (mean of frame - mean of prev) in both components
        d = (frame - prev).mean(dim=(1, 2, 3)).view(-1, 1, 1, 1)
        return d.expand(-1, 2, *frame.shape[-2:])

    target = torch.zeros(3, 3, 8, 8) + torch.tensor([0.0, 0.2, 0.4]).view(3, 1, 1, 1)
    pred = torch.zeros(3, 3, 8, 8) + torch.tensor([0.0, 0.5, 0.5]).view(3, 1, 1, 1)
    # per frame: flows (0.5, 0) vs (0.2, 0.2) in both components → EPE = sqrt(2) * |difference|
    expected = torch.tensor([0.3, 0.2]) * 2**0.5
    torch.testing.assert_close(temporal_flow_difference(pred, target, estimator), expected)
    torch.testing.assert_close(temporal_flow_difference(target, target, estimator), torch.zeros(2))
