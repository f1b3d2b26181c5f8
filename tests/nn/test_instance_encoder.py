"""Instance-wise average pooling and the instance feature encoder."""

from __future__ import annotations

import pytest
import torch

from vid2vid.nn import InstanceFeatureEncoder, instance_average_pool


def _loop_reference(features: torch.Tensor, instances: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(features)
    for b in range(features.shape[0]):
        for i in instances[b].unique():
            mask = instances[b] == i
            for c in range(features.shape[1]):
                out[b, c][mask] = features[b, c][mask].mean()
    return out


def test_pooling_is_constant_per_instance_and_matches_a_loop() -> None:
    g = torch.Generator().manual_seed(3)
    features = torch.randn(2, 4, 16, 24, generator=g)
    instances = torch.randint(0, 5, (2, 16, 24), generator=g) * 1000 + 7  # sparse, large ids
    instances[1] = 26001  # one instance covering the whole image
    pooled = instance_average_pool(features, instances)
    assert torch.allclose(pooled, _loop_reference(features, instances), atol=1e-6)
    for b in range(2):
        for i in instances[b].unique():
            values = pooled[b][:, instances[b] == i]
            assert torch.allclose(values, values[:, :1].expand_as(values))
    # Per-batch segments: equal ids in different images are different instances.
    assert torch.allclose(
        pooled[1], features[1].mean(dim=(1, 2), keepdim=True).expand_as(pooled[1]), atol=1e-6
    )


def test_pooling_errors() -> None:
    with pytest.raises(ValueError, match="same size"):
        instance_average_pool(torch.rand(1, 3, 4, 4), torch.zeros(1, 5, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="integer ids"):
        instance_average_pool(torch.rand(1, 3, 4, 4), torch.zeros(1, 4, 4))


def test_encoder_output_and_gradients() -> None:
    enc = InstanceFeatureEncoder(input_nc=3, output_nc=3, ngf=4, n_downsample=2)
    image = torch.rand(1, 3, 16, 16, requires_grad=True)
    instances = torch.zeros(1, 16, 16, dtype=torch.long)
    instances[:, :, 8:] = 1
    out = enc(image, instances)
    assert out.shape == (1, 3, 16, 16)
    assert torch.unique(out[0, 0]).numel() <= 2
    out.sum().backward()
    assert image.grad is not None and all(p.grad is not None for p in enc.parameters())
    with pytest.raises(ValueError, match="divisible by 4"):
        enc(torch.rand(1, 3, 10, 16), instances[:, :10])
