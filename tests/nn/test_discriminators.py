"""PatchGAN, multi-scale and temporal discriminators."""

from __future__ import annotations

import pytest
import torch

from vid2vid.nn import MultiScaleDiscriminator, PatchDiscriminator, TemporalDiscriminator


def test_patch_discriminator_layers() -> None:
    d = PatchDiscriminator(input_nc=4, ndf=4, n_layers=3, norm="instance")
    feats = d(torch.rand(2, 4, 32, 64))
    assert len(feats) == 5
    assert [f.shape[1] for f in feats] == [4, 8, 16, 32, 1]
    # kernel 4, padding 2: strided layers give ⌊n/2⌋ + 1, stride-1 layers grow by 1.
    assert [tuple(f.shape[-2:]) for f in feats] == [(17, 33), (9, 17), (5, 9), (6, 10), (7, 11)]


def test_multiscale_widths_and_pooling() -> None:
    d = MultiScaleDiscriminator(input_nc=3, ndf=8, n_layers=2, num_D=3, norm="batch", ndf_max=16)
    assert [s.layers[0].conv.out_channels for s in d.scales] == [8, 16, 16]
    out = d(torch.rand(2, 3, 32, 32))
    assert len(out) == 3 and all(len(o) == 4 for o in out)
    assert out[1][0].shape[-1] == 9 and out[2][0].shape[-1] == 5  # input pooled once, twice
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        d(torch.rand(2, 4, 32, 32))


def test_temporal_discriminator_inputs() -> None:
    d = TemporalDiscriminator(n_frames_D=3, ndf=4, n_layers=2, num_D=1, norm="instance", n_scales_temporal=2)
    assert d.scales[0].input_nc == 3 * 3 + 2 * 2
    assert [d.frame_stride(s) for s in range(2)] == [1, 3]
    frames = torch.rand(2, 3, 3, 16, 16)
    flows = torch.rand(2, 2, 2, 16, 16) * 20
    out = d(frames, flows, temporal_scale=1)
    assert out[0][-1].shape[:2] == (2, 1)
    # Flows enter divided by 20: scaling the flow and flow_scale inversely gives the same result.
    d2 = TemporalDiscriminator(n_frames_D=3, ndf=4, n_layers=2, num_D=1, norm="instance", flow_scale=1.0)
    d2.load_state_dict(d.state_dict())
    assert torch.allclose(d2(frames, flows / 20, 0)[0][-1], d(frames, flows, 0)[0][-1], atol=1e-6)
    with pytest.raises(ValueError, match="flows must be"):
        d(frames, flows[:, :1], 0)
    with pytest.raises(ValueError, match="temporal_scale"):
        d(frames, flows, 2)


def test_gradients_reach_inputs() -> None:
    d = MultiScaleDiscriminator(input_nc=3, ndf=4, n_layers=2, num_D=2, norm="instance")
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    sum(o[-1].mean() for o in d(x)).backward()
    assert x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in d.parameters())


def test_temporal_discriminator_old_keyword_is_deprecated() -> None:
    with pytest.warns(DeprecationWarning, match="n_scales_temporal"):
        d = TemporalDiscriminator(
            n_frames_D=3, ndf=4, n_layers=2, num_D=1, norm="instance", n_temporal_scales=3
        )
    assert len(d.scales) == 3
