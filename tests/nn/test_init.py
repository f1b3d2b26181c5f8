"""The original's weight initialisation (pix2pixHD / vid2vid ``weights_init``)."""

from __future__ import annotations

import torch

from vid2vid.nn import MultiScaleDiscriminator, SequentialGenerator, SequentialGeneratorConfig
from vid2vid.nn.init import init_weights_original


def test_convs_normal_002_norms_normal_1_002_norm_biases_zero() -> None:
    g = SequentialGenerator(SequentialGeneratorConfig(label_nc=8, ngf=16, n_downsample=2))
    biases_before = {n: p.clone() for n, p in g.named_parameters() if n.endswith("conv.bias")}
    init_weights_original(g)
    convs = torch.cat(
        [
            m.weight.detach().flatten()
            for m in g.modules()
            if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d)
        ]
    )
    norms = [m for m in g.modules() if isinstance(m, torch.nn.InstanceNorm2d) and m.weight is not None]
    assert convs.numel() > 10_000
    assert abs(float(convs.mean())) < 1e-3 and abs(float(convs.std()) - 0.02) < 1e-3
    weights = torch.cat([m.weight.detach().flatten() for m in norms])
    assert abs(float(weights.mean()) - 1.0) < 5e-3 and abs(float(weights.std()) - 0.02) < 5e-3
    assert all(torch.equal(m.bias, torch.zeros_like(m.bias)) for m in norms)
    # convolution biases keep PyTorch's default, as in the original
    after = dict(g.named_parameters())
    assert all(torch.equal(after[n], b) for n, b in biases_before.items())


def test_discriminator_batchnorm_is_initialised_too() -> None:
    d = init_weights_original(MultiScaleDiscriminator(12, ndf=8, n_layers=3, num_D=2, norm="batch"))
    bns = [m for m in d.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and all(abs(float(m.weight.mean()) - 1) < 0.05 and float(m.bias.abs().max()) == 0 for m in bns)
