"""pix2pixHD ImageGenerator: global and local-enhancer variants."""

from __future__ import annotations

import pytest
import torch

from vid2vid.nn import ImageGenerator, ImageGeneratorConfig


@pytest.mark.parametrize("n_local", [0, 1, 2])
def test_shapes_and_range(n_local: int) -> None:
    model = ImageGenerator(
        input_nc=5, ngf=4, n_downsample=2, n_blocks=2, n_local_enhancers=n_local, n_blocks_local=1
    )
    x = torch.rand(2, 5, 32, 64)
    out = model(x)
    assert out.shape == (2, 3, 32, 64) and out.abs().max() <= 1
    assert len(model.enhancers) == n_local
    # The global network is ngf * 2**n_local wide.
    assert model.global_encoder.stem.conv.out_channels == 4 * 2**n_local


def test_channel_cap() -> None:
    model = ImageGenerator(input_nc=3, ngf=8, n_downsample=3, n_blocks=1, max_channels=16)
    widths = [layer.conv.out_channels for layer in model.global_encoder.down]
    assert widths == [16, 16, 16]
    assert model(torch.rand(1, 3, 16, 16)).shape == (1, 3, 16, 16)


def test_features_are_concatenated_and_get_gradients() -> None:
    model = ImageGenerator(input_nc=6, ngf=4, n_downsample=1, n_blocks=1)
    labels = torch.rand(1, 3, 8, 8)
    features = torch.rand(1, 3, 8, 8, requires_grad=True)
    model(labels, features).mean().backward()
    assert features.grad is not None and features.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r"inputs must be \(B, 6, H, W\)"):
        model(labels)


def test_size_error_and_config_round_trip() -> None:
    cfg = ImageGeneratorConfig(input_nc=3, ngf=4, n_downsample=2, n_local_enhancers=1)
    assert cfg.size_multiple == 8
    assert ImageGeneratorConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="not divisible by 8"):
        ImageGenerator(cfg)(torch.rand(1, 3, 12, 16))
