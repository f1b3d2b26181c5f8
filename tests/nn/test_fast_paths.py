"""The inference speed-ups: bit-identical ones (norm, fused heads, input window, clip pyramid)
and the optional label-gather path (within float rounding of the convolution)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import vid2vid.nn.label_gather as label_gather_module
from vid2vid.nn import InputWindow, SequentialGenerator, build_pyramid
from vid2vid.nn.composite_generator import CompositeGenerator
from vid2vid.nn.label_gather import one_hot_conv2d
from vid2vid.nn.norm import InstanceNorm2d, make_norm

TINY = {"ngf": 8, "n_downsample": 2, "n_blocks": 2, "n_blocks_local": 1}
STREET = dict(label_nc=6, use_instance=True, n_scales=2, use_foreground=True, fg_labels=[2], **TINY)


def blocky_labels(
    batch: int, length: int, height: int, width: int, label_nc: int, seed: int = 1
) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, label_nc, (batch, length, height // 4, width // 4), generator=g)
    return ids.repeat_interleave(4, -2).repeat_interleave(4, -1)


# ------------------------------------------------------------------------------------------- norm
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("batch", [1, 3])
def test_instance_norm_is_bit_identical_to_torch(affine: bool, batch: int) -> None:
    ours = InstanceNorm2d(5, affine=affine)
    ref = nn.InstanceNorm2d(5, affine=affine)
    if affine:
        with torch.no_grad():
            for p in (ours.weight, ours.bias):
                p.uniform_(-1, 2)
        ref.load_state_dict(ours.state_dict())
    x = torch.randn(batch, 5, 9, 13) * 3 + 1
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = ours(xa), ref(xb)
    assert torch.equal(ya, yb)
    grad = torch.randn_like(ya)
    ya.backward(grad)
    yb.backward(grad)
    assert torch.equal(xa.grad, xb.grad)
    if affine:
        assert torch.equal(ours.weight.grad, ref.weight.grad) and torch.equal(ours.bias.grad, ref.bias.grad)
    cl = x.contiguous(memory_format=torch.channels_last)
    assert torch.equal(ours(cl), ref(cl))
    assert sorted(ours.state_dict()) == sorted(ref.state_dict())


def test_make_norm_uses_the_copy_free_instance_norm() -> None:
    assert isinstance(make_norm("instance_affine", 4), InstanceNorm2d)
    assert isinstance(make_norm("instance", 4), InstanceNorm2d)
    assert list(make_norm("instance_affine", 4).state_dict()) == ["weight", "bias"]
    with pytest.raises(ValueError, match="expected 4 channels"):
        make_norm("instance", 4)(torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match="more than one spatial value"):
        make_norm("instance", 4)(torch.zeros(1, 4, 1, 1))


# ------------------------------------------------------------------------------------ fused heads
@pytest.mark.parametrize("batch", [1, 2])
def test_fused_flow_and_weight_heads_match_the_separate_layers(batch: int) -> None:
    torch.manual_seed(3)
    net = CompositeGenerator(12, 6, ngf=8, n_downsample=1, n_encoder_blocks=1, n_decoder_blocks=1,
                             flow_multiplier=40.0)  # fmt: skip
    features = torch.randn(batch, 8, 16, 24)
    flow, weight = net._fused_flow_weight(features)
    assert torch.equal(flow, net.flow_out(features) * 40.0)
    assert torch.equal(weight, net.weight_out(features))
    # The module's inference path (no autograd) uses it; its training path the separate layers:
    x, prev = torch.randn(batch, 12, 16, 24), torch.rand(batch, 6, 16, 24) * 2 - 1
    with torch.no_grad():
        fast = net(x, prev)
    slow = net(x, prev)
    assert slow.flow.requires_grad
    for a, b in [(fast.image, slow.image), (fast.flow, slow.flow), (fast.weight, slow.weight)]:
        assert torch.equal(a, b.detach())


# ----------------------------------------------------------------------------------- input window
@pytest.mark.parametrize("capacity", [None, 3, 4, 5, 9])
def test_input_window_matches_pooling_the_stacked_window(capacity: int | None) -> None:
    window = InputWindow(3, n_levels=3, capacity=capacity)
    frames = [torch.randn(2, 4, 16, 24) for _ in range(11)]
    for t, frame in enumerate(frames):
        window.push(frame)
        assert len(window) == min(t + 1, 3)
        expected = build_pyramid(torch.stack(frames[max(0, t - 2) : t + 1], dim=1), 3)
        got = window.levels()
        assert len(got) == 3
        for a, b in zip(got, expected, strict=True):
            assert a.shape == b.shape and torch.equal(a, b)
    assert window.full


def test_input_window_repeat_reset_and_errors() -> None:
    window = InputWindow(3, n_levels=2)
    first, second = torch.randn(1, 2, 8, 8), torch.randn(1, 2, 8, 8)
    window.push(first, repeat=2)
    assert len(window) == 2 and not window.full
    window.push(second)
    levels = window.levels()
    assert torch.equal(levels[0], torch.stack([first, first, second], dim=1))
    with pytest.raises(ValueError, match="does not match the window"):
        window.push(torch.randn(1, 2, 16, 16))
    window.reset()
    with pytest.raises(ValueError, match="empty"):
        window.levels()
    window.push(torch.randn(1, 2, 16, 16))  # a new clip may have a new size
    assert window.levels()[1].shape == (1, 1, 2, 8, 8)
    with pytest.raises(ValueError, match="not divisible"):
        InputWindow(2, n_levels=3).push(torch.randn(1, 2, 6, 8))
    with pytest.raises(ValueError, match="capacity"):
        InputWindow(3, capacity=2)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        window.push(torch.randn(2, 16, 16))


def test_step_with_input_window_is_bit_identical_to_a_window_tensor() -> None:
    torch.manual_seed(0)
    model = SequentialGenerator(**STREET).eval()
    labels = blocky_labels(1, 6, 32, 64, 6)
    x = model.encode_inputs(labels, labels % 3)
    window = InputWindow(3, n_levels=2)
    state_a = state_b = model.init_state(torch.rand(1, 2, 3, 32, 64) * 2 - 1)
    with torch.no_grad():
        for t in range(6):
            window.push(x[:, t])
            if t < 2:
                continue
            out_a, state_a = model.step(window, state_a)
            out_b, state_b = model.step(x[:, t - 2 : t + 1], state_b)  # the previous protocol
            assert torch.equal(out_a.image, out_b.image) and torch.equal(out_a.flow, out_b.flow)
    with pytest.raises(ValueError, match="holds 1 frames"):
        w = InputWindow(3, n_levels=2)
        w.push(x[:, 0])
        model.step(w, state_a)
    with pytest.raises(ValueError, match="has 1 levels; this generator has n_scales = 3"):
        w = InputWindow(3, n_levels=1)
        w.push(x[:, 0], repeat=3)
        SequentialGenerator(**{**STREET, "n_scales": 3, "ngf": 16}).step(w, state_a)


def test_generate_is_bit_identical_to_stepping_window_tensors() -> None:
    torch.manual_seed(0)
    model = SequentialGenerator(**{**STREET, "n_scales": 3, "ngf": 16}).eval()
    labels = blocky_labels(2, 5, 32, 64, 6)
    x = model.encode_inputs(labels, labels % 3)
    with torch.no_grad():
        out = model.generate(x)
        state = model.init_state(None, 2, 32, 64)
        for i in range(3):
            ref, state = model.step(x[:, i : i + 3], state)
            assert torch.equal(out.image[:, i], ref.image)
            assert torch.equal(out.weight[:, i], ref.weight)


def test_forward_checks_a_window_pyramid() -> None:
    model = SequentialGenerator(**STREET)
    x = model.encode_inputs(blocky_labels(1, 3, 32, 64, 6), torch.zeros(1, 3, 32, 64, dtype=torch.long))
    history = model.init_state(None, 1, 32, 64).history
    with pytest.raises(ValueError, match="must hold n_scales=2 levels"):
        model([x], history)
    with pytest.raises(ValueError, match="level 1 must be"):
        model([x, x], history)


# ------------------------------------------------------------------------------------ label gather
@pytest.mark.parametrize(
    ("extra_kind", "mode", "batch"),
    [
        ("binary", "reflect", 1),
        ("none", "reflect", 2),
        ("continuous", "reflect", 1),
        ("binary", "replicate", 2),
    ],
)
def test_one_hot_conv2d_equals_the_convolution(extra_kind: str, mode: str, batch: int) -> None:
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(0, 7, (batch, 3, 12, 20), generator=g)
    extra = None
    if extra_kind == "binary":
        extra = (torch.rand(batch, 3, 1, 12, 20, generator=g) > 0.7).float()
    elif extra_kind == "continuous":
        extra = torch.rand(batch, 3, 2, 12, 20, generator=g)
    x = torch.cat(
        [F.one_hot(ids, 7).permute(0, 1, 4, 2, 3).float()] + ([extra] if extra is not None else []), 2
    )
    fan_in = x.shape[1] * x.shape[2] * 49
    weight = (
        torch.randn(10, x.shape[1] * x.shape[2], 7, 7, generator=g) / fan_in**0.5
    )  # PyTorch-like init scale
    bias = torch.randn(10, generator=g)
    expected = F.conv2d(F.pad(x.flatten(1, 2), (3, 3, 3, 3), mode=mode), weight, bias)
    got = one_hot_conv2d(ids, extra, weight, bias, 7, padding_mode=mode)
    assert got.shape == expected.shape and got.is_contiguous()
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_one_hot_conv2d_chunks_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    g = torch.Generator().manual_seed(4)
    ids = torch.randint(0, 5, (1, 2, 16, 8), generator=g)
    weight = torch.randn(4, 10, 3, 3, generator=g)
    whole = one_hot_conv2d(ids, None, weight, None, 5)
    monkeypatch.setattr(label_gather_module, "_CHUNK_ELEMENTS", 50)  # a few rows per chunk
    assert torch.equal(one_hot_conv2d(ids, None, weight, None, 5), whole)
    x = F.one_hot(ids, 5).permute(0, 1, 4, 2, 3).float().flatten(1, 2)
    torch.testing.assert_close(
        whole, F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), weight), atol=1e-5, rtol=0
    )


def test_one_hot_conv2d_errors() -> None:
    ids = torch.zeros(1, 2, 8, 8, dtype=torch.long)
    with pytest.raises(ValueError, match="expected T \\* \\(num_classes \\+ E\\)"):
        one_hot_conv2d(ids, None, torch.zeros(4, 9, 3, 3), None, 5)
    with pytest.raises(ValueError, match="odd size"):
        one_hot_conv2d(ids, None, torch.zeros(4, 10, 2, 2), None, 5)
    with pytest.raises(ValueError, match="int64"):
        one_hot_conv2d(ids.float(), None, torch.zeros(4, 10, 3, 3), None, 5)
    with pytest.raises(ValueError, match="'reflect' or 'replicate'"):
        one_hot_conv2d(ids, None, torch.zeros(4, 10, 3, 3), None, 5, padding_mode="zeros")


def test_label_gather_step_stays_within_float_rounding() -> None:
    torch.manual_seed(0)
    model = SequentialGenerator(**STREET).eval()
    labels = blocky_labels(1, 3, 32, 64, 6)
    x = model.encode_inputs(labels, labels % 3)
    state = model.init_state(torch.rand(1, 2, 3, 32, 64) * 2 - 1)
    stem = model.scales[-1].label_encoder.stem.conv
    with torch.no_grad():
        exact, _ = model.step(x, state)
        fast, _ = model.step(x, state, label_gather=True)
        # The first layer itself: within 1e-5 of the convolution.
        c = model.config
        gathered = one_hot_conv2d(labels, x[:, :, c.label_nc :], stem.weight, stem.bias, c.label_nc)
        torch.testing.assert_close(gathered, stem(x.flatten(1, 2)), atol=1e-5, rtol=0)
    # The frame: the nets' instance norms amplify float rounding (see docs/performance.md).
    torch.testing.assert_close(fast.image, exact.image, atol=1e-4, rtol=0)
    torch.testing.assert_close(fast.flow, exact.flow, atol=1e-3, rtol=0)
    assert not torch.equal(fast.image, exact.image)  # it did take the other path
    with pytest.raises(ValueError, match="label_gather needs a label model"):
        cont = SequentialGenerator(label_nc=0, input_nc=3, **TINY)
        cont.step(torch.zeros(1, 3, 3, 32, 64), cont.init_state(None, 1, 32, 64), label_gather=True)


def test_label_gather_on_a_converted_original_generator(fixtures_dir: Path) -> None:
    """One step on the original's weights: the gather path stays within 1e-4 of the exact path,
    no further than a float64-exact first layer moves it (the float32 noise floor of the net)."""
    from vid2vid.checkpoint import load_state_dict
    from vid2vid.convert import convert_original, load_original_state_dict

    folder = fixtures_dir / "g_city_s2_d2"
    cfg = json.loads((folder / "config.json").read_text())
    model, _ = convert_original(
        "vid2vid_generator", cfg, [load_original_state_dict(folder / w) for w in cfg["weights"]]
    )
    io = load_state_dict(folder / "io.safetensors")
    x = model.encode_inputs(io["labels"][None, :3], io["instances"][None, :3])
    state = model.init_state(io["real"][None, :2])
    conv = model.scales[-1].label_encoder.stem.conv
    with torch.no_grad():
        exact = model.step(x, state)[0].image
        fast = model.step(x, state, label_gather=True)[0].image
        original_forward = conv.forward
        conv.forward = lambda t: F.conv2d(  # type: ignore[method-assign]
            F.pad(t.double(), (3, 3, 3, 3), mode="reflect"), conv.weight.double(), conv.bias.double()
        ).float()
        f64_stem = model.step(x, state)[0].image
        conv.forward = original_forward  # type: ignore[method-assign]
    floor = float((f64_stem - exact).abs().max())
    diff = float((fast - exact).abs().max())
    assert 0 < diff <= 1e-4
    assert diff <= 4 * floor, (diff, floor)
