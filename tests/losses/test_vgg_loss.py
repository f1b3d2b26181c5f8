"""VGG19Features / VGGLoss: shapes, freezing, loss values, downsampling, weight loading, offline error.

Never touches the network: random weights (``weights=None``) or files written to ``tmp_path``.
"""

from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import torchvision

from vid2vid.losses import VGG19_WEIGHTS_ENV, VGG19_WEIGHTS_FILENAME, VGG19Features, VGGLoss

SHALLOW = ("relu1_1", "relu2_1")  # keeps the weight files written by the tests small


@pytest.fixture(scope="module")
def vgg() -> VGG19Features:
    torch.manual_seed(0)
    return VGG19Features(weights=None)


def test_feature_shapes_and_frozen(vgg: VGG19Features) -> None:
    outs = vgg(torch.rand(2, 3, 32, 48) * 2 - 1)
    assert [tuple(o.shape) for o in outs] == [
        (2, 64, 32, 48),
        (2, 128, 16, 24),
        (2, 256, 8, 12),
        (2, 512, 4, 6),
        (2, 512, 2, 3),
    ]
    assert all(not p.requires_grad for p in vgg.parameters())
    vgg.train()
    assert not vgg.training
    assert len(vgg.features) == 30  # truncated after relu5_1 (index 29)


def test_keys_and_shapes_match_torchvision_vgg19(vgg: VGG19Features) -> None:
    with torch.device("meta"):
        reference = torchvision.models.vgg19().state_dict()
    ours = vgg.state_dict()
    assert len(ours) == 26  # 13 convolutions up to relu5_1
    for key, tensor in ours.items():
        assert key in reference, key
        assert reference[key].shape == tensor.shape, key


def test_layer_selection_and_order() -> None:
    torch.manual_seed(0)
    f = VGG19Features(weights=None, layers=("relu2_1", "relu1_2"))
    a, b = f(torch.zeros(1, 3, 16, 16))
    assert a.shape == (1, 128, 8, 8) and b.shape == (1, 64, 16, 16)
    assert len(f.features) == 7
    with pytest.raises(ValueError, match="unknown VGG19 layers \\['conv1_1'\\]"):
        VGG19Features(weights=None, layers=("conv1_1",))
    with pytest.raises(ValueError, match="\\(B, 3, H, W\\)"):
        f(torch.zeros(1, 1, 16, 16))


def test_loss_zero_for_identical_positive_otherwise_and_gradients(vgg: VGGLoss) -> None:
    loss = VGGLoss(vgg)
    torch.manual_seed(1)
    y = torch.rand(1, 3, 32, 32) * 2 - 1
    assert loss(y, y.clone()).item() == 0.0
    x = (torch.rand(1, 3, 32, 32) * 2 - 1).requires_grad_()
    target = y.clone().requires_grad_()
    value = loss(x, target)
    assert value.item() > 0
    value.backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert target.grad is None
    assert all(p.grad is None for p in vgg.parameters())


def test_loss_is_weighted_sum_of_layer_l1(vgg: VGG19Features) -> None:
    torch.manual_seed(2)
    x, y = torch.rand(1, 3, 16, 16) * 2 - 1, torch.rand(1, 3, 16, 16) * 2 - 1
    weights = (1.0, 0.0, 0.0, 0.0, 0.0)
    expected = F.l1_loss(vgg(x)[0], vgg(y)[0]).item()
    assert VGGLoss(vgg, layer_weights=weights)(x, y).item() == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="layer_weights has 2 entries"):
        VGGLoss(vgg, layer_weights=(1.0, 1.0))


def test_downsamples_while_wider_than_max_width(vgg: VGG19Features) -> None:
    torch.manual_seed(3)
    x, y = torch.rand(1, 3, 64, 128) * 2 - 1, torch.rand(1, 3, 64, 128) * 2 - 1
    seen: list[tuple[int, ...]] = []
    handle = vgg.register_forward_pre_hook(lambda _module, args: seen.append(tuple(args[0].shape)))
    try:
        small = VGGLoss(vgg, max_width=32)(x, y)
    finally:
        handle.remove()
    assert seen == [(1, 3, 16, 32), (1, 3, 16, 32)]  # 128 → 64 → 32
    pooled = VGGLoss(vgg, max_width=128)(F.avg_pool2d(x, 4), F.avg_pool2d(y, 4))
    assert small.item() == pytest.approx(pooled.item(), rel=1e-6)
    assert VGGLoss(vgg, max_width=33)(x, y).item() == pytest.approx(small.item(), rel=1e-6)
    assert VGGLoss(vgg, max_width=64)(x, y).item() != pytest.approx(small.item(), rel=1e-3)


def test_too_small_input_is_rejected(vgg: VGG19Features) -> None:
    with pytest.raises(ValueError, match="at least 16×16"):
        vgg(torch.zeros(1, 3, 8, 32))
    shallow = VGG19Features(weights=None, layers=("relu2_1",))
    assert shallow.min_size == 2
    assert shallow(torch.zeros(1, 3, 2, 2))[0].shape == (1, 128, 1, 1)


def _saved_weights(tmp_path: Path, name: str, full_model_keys: bool) -> tuple[Path, VGG19Features]:
    torch.manual_seed(4)
    source = VGG19Features(weights=None, layers=SHALLOW)
    state = source.state_dict()  # keys "features.N.weight": torchvision's vgg19 naming
    if full_model_keys:
        state["classifier.6.bias"] = torch.zeros(1000)  # the rest of a torchvision state dict
    else:
        state = {key.removeprefix("features."): value for key, value in state.items()}
    path = tmp_path / name
    torch.save(state, path)
    return path, source


@pytest.mark.parametrize("full_model_keys", [True, False])
def test_weights_file_round_trip(tmp_path: Path, full_model_keys: bool) -> None:
    path, source = _saved_weights(tmp_path, "vgg.pth", full_model_keys)
    torch.manual_seed(123)
    loaded = VGG19Features(weights=path, layers=SHALLOW)
    for key, value in source.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    x = torch.rand(1, 3, 8, 8)
    for a, b in zip(loaded(x), source(x), strict=True):
        assert torch.equal(a, b)
    assert VGG19Features(weights=str(path), layers=SHALLOW).state_dict().keys() == source.state_dict().keys()


def test_weights_file_errors(tmp_path: Path) -> None:
    path, _ = _saved_weights(tmp_path, "vgg.pth", full_model_keys=True)
    # Deeper layers than the file holds: the missing tensors are named.
    with pytest.raises(ValueError, match="features.7.weight, features.7.bias"):
        VGG19Features(weights=path, layers=("relu3_1",))
    state = torch.load(path, weights_only=True)
    del state["features.2.weight"]
    torch.save(state, tmp_path / "partial.pth")
    with pytest.raises(ValueError, match="lack 1 tensors .*features.2.weight"):
        VGG19Features(weights=tmp_path / "partial.pth", layers=SHALLOW)
    state["features.2.weight"] = torch.zeros(64, 64, 1, 1)
    torch.save(state, tmp_path / "wrong.pth")
    with pytest.raises(ValueError, match="features.2.weight has shape \\(64, 64, 1, 1\\)"):
        VGG19Features(weights=tmp_path / "wrong.pth", layers=SHALLOW)
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        VGG19Features(weights=tmp_path / "missing.pth")
    (tmp_path / "garbage.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="garbage.pth"):
        VGG19Features(weights=tmp_path / "garbage.pth")


def _offline(monkeypatch: pytest.MonkeyPatch, torch_home: Path) -> list[str]:
    """Empty torch hub cache, no env override, and a downloader that fails like a dead network."""
    monkeypatch.setenv("TORCH_HOME", str(torch_home))
    monkeypatch.delenv(VGG19_WEIGHTS_ENV, raising=False)
    calls: list[str] = []

    def no_network(url: str, dst: str, *args: object, **kwargs: object) -> None:
        calls.append(url)
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    return calls


def test_default_weights_offline_raises_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _offline(monkeypatch, tmp_path / "torch_home")
    with pytest.raises(RuntimeError) as info:
        VGG19Features()
    message = str(info.value)
    assert calls == ["https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"]
    assert VGG19_WEIGHTS_FILENAME == "vgg19-dcbb9e9d.pth"
    assert "vgg19-dcbb9e9d.pth" in message
    assert str(tmp_path / "torch_home" / "hub" / "checkpoints") in message
    assert VGG19_WEIGHTS_ENV in message and "weights=" in message
    assert "network is unreachable" in message
    # every way out: the cache, the env variable, an explicit file, or training without the term
    assert "--vgg-weights /path/to/file" in message and "--vgg-weights none" in message


def test_default_weights_from_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _offline(monkeypatch, tmp_path / "torch_home")
    checkpoints = tmp_path / "torch_home" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    path, source = _saved_weights(checkpoints, VGG19_WEIGHTS_FILENAME, full_model_keys=True)
    loaded = VGG19Features(layers=SHALLOW)
    assert calls == []
    assert torch.equal(loaded.features[0].weight, source.features[0].weight)


def test_default_weights_from_env_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _offline(monkeypatch, tmp_path / "torch_home")
    path, source = _saved_weights(tmp_path, "my_vgg.pth", full_model_keys=False)
    monkeypatch.setenv(VGG19_WEIGHTS_ENV, str(path))
    loaded = VGG19Features(layers=SHALLOW)
    assert calls == []
    assert torch.equal(loaded.features[2].weight, source.features[2].weight)
    monkeypatch.setenv(VGG19_WEIGHTS_ENV, str(tmp_path / "nope.pth"))
    with pytest.raises(FileNotFoundError, match=f"{VGG19_WEIGHTS_ENV} points to .*nope.pth"):
        VGG19Features(layers=SHALLOW)
