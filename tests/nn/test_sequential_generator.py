"""SequentialGenerator: shapes, state handling, gradients, input validation."""

from __future__ import annotations

import json

import pytest
import torch

from vid2vid.nn import GeneratorState, SequentialGenerator, SequentialGeneratorConfig

TINY = {"ngf": 8, "n_downsample": 2, "n_blocks": 3, "n_blocks_local": 1}

CONFIGS = {
    "street_2scales_fg": dict(
        label_nc=6, use_instance=True, n_scales=2, use_foreground=True, fg_labels=[4], **TINY
    ),
    "pose_continuous": dict(label_nc=0, input_nc=6, n_scales=1, no_first_frame=True, **TINY),
    "face_noflow": dict(label_nc=0, input_nc=3, use_instance=True, no_flow=True, **TINY),
    "three_scales_tg4": dict(label_nc=5, n_scales=3, n_frames_G=4, **{**TINY, "ngf": 16}),
}


def make_clip(
    cfg: SequentialGeneratorConfig, batch: int = 2, length: int = 4, height: int = 32, width: int = 64
):
    g = torch.Generator().manual_seed(1)
    labels = instances = inputs = None
    if cfg.label_nc > 0:
        labels = torch.randint(0, cfg.label_nc, (batch, length, height, width), generator=g)
    else:
        inputs = torch.rand(batch, length, cfg.input_nc, height, width, generator=g) * 2 - 1
    if cfg.use_instance:
        instances = torch.randint(0, 3, (batch, length, height, width), generator=g)
    return labels, instances, inputs


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_generate_shapes_and_ranges(name: str) -> None:
    model = SequentialGenerator(**CONFIGS[name])
    cfg = model.config
    labels, instances, inputs = make_clip(cfg, length=cfg.n_frames_G + 2)
    x = model.encode_inputs(labels, instances, inputs)
    assert x.shape == (2, cfg.n_frames_G + 2, cfg.frame_nc, 32, 64) and x.dtype == torch.float32
    with torch.no_grad():
        out = model.generate(x)
    assert out.image.shape == (2, 3, 3, 32, 64)
    assert out.raw.shape == (2, 3, 3, 32, 64)
    assert out.image.abs().max() <= 1.0
    if cfg.no_flow:
        assert out.flow is None and out.weight is None
    else:
        assert out.flow.shape == (2, 3, 2, 32, 64)
        assert out.weight.shape == (2, 3, 1, 32, 64)
        assert 0.0 <= float(out.weight.min()) and float(out.weight.max()) <= 1.0
    assert [tuple(s.shape[-2:]) for s in out.scale_images] == [
        (32 // 2**s, 64 // 2**s) for s in range(cfg.n_scales)
    ]


def test_generate_equals_manual_steps_and_state_is_not_mutated() -> None:
    model = SequentialGenerator(**CONFIGS["street_2scales_fg"])
    labels, instances, _ = make_clip(model.config, batch=1, length=5)
    x = model.encode_inputs(labels, instances)
    first = torch.rand(1, 2, 3, 32, 64) * 2 - 1
    with torch.no_grad():
        clip = model.generate(x, first)
        state = model.init_state(first)
        before = [h.clone() for h in state.history]
        frames = []
        for i in range(3):
            out, new_state = model.step(x[:, i : i + 3], state)
            assert all(torch.equal(a, b) for a, b in zip(state.history, before, strict=True))
            assert not new_state.is_first
            state, before = new_state, [h.clone() for h in new_state.history]
            frames.append(out.image)
    assert torch.equal(torch.stack(frames, 1), clip.image)
    # The newest history entry of each scale is that scale's last output.
    assert torch.equal(state.history[0][:, -1], clip.scale_images[0][:, -1])
    assert torch.equal(state.history[1][:, -1], clip.scale_images[1][:, -1])


def test_first_frame_of_a_no_first_frame_model_is_the_hallucinated_image() -> None:
    model = SequentialGenerator(**CONFIGS["pose_continuous"])
    _, _, inputs = make_clip(model.config, batch=1, length=4)
    x = model.encode_inputs(inputs=inputs)
    with torch.no_grad():
        state = model.init_state(batch_size=1, height=32, width=64)
        assert torch.count_nonzero(state.history[0]) == 0
        out0, state = model.step(x[:, :3], state)
        out1, _ = model.step(x[:, 1:4], state)
    assert torch.equal(out0.image, out0.raw)  # no warping on the first step
    assert not torch.equal(out1.image, out1.raw)  # afterwards the warped frame is blended in


def test_gradients_reach_every_parameter() -> None:
    """Over two steps: a coarse scale's output heads act on the finest output through its history."""
    model = SequentialGenerator(**CONFIGS["street_2scales_fg"])
    labels, instances, _ = make_clip(model.config, batch=1, length=4)
    labels[:, :, :16] = 4  # foreground class present
    x = model.encode_inputs(labels, instances)
    state = model.init_state(torch.rand(1, 2, 3, 32, 64) * 2 - 1)
    loss = torch.zeros(())
    for i in range(2):
        out, state = model.step(x[:, i : i + 3], state)
        loss = (
            loss + out.image.square().mean() + out.raw.mean() + out.flow.square().mean() + out.weight.mean()
        )
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"no gradient for {missing}"
    dead = [n for n, p in model.named_parameters() if p.dim() > 1 and float(p.grad.abs().max()) == 0.0]
    assert not dead, f"zero gradient for weights {dead}"


def test_detach_coarse_trains_only_the_finest_scale() -> None:
    model = SequentialGenerator(**CONFIGS["street_2scales_fg"])
    labels, instances, _ = make_clip(model.config, batch=1, length=3)
    labels[:, -1, :16] = 4
    x = model.encode_inputs(labels, instances)
    state = model.init_state(torch.rand(1, 2, 3, 32, 64) * 2 - 1)
    out, _ = model.step(x, state, detach_coarse=True)
    (out.image.mean() + out.flow.mean()).backward()
    assert all(p.grad is None for p in model.scales[0].parameters())
    assert any(p.grad is not None and p.grad.abs().max() > 0 for p in model.scales[1].parameters())


def test_float64_follows_the_input() -> None:
    model = SequentialGenerator(**CONFIGS["pose_continuous"]).double()
    _, _, inputs = make_clip(model.config, batch=1, length=3)
    x = model.encode_inputs(inputs=inputs).double()
    with torch.no_grad():
        out = model.generate(x)
    assert out.image.dtype == torch.float64 and out.flow.dtype == torch.float64


def test_size_not_divisible_names_the_multiple() -> None:
    model = SequentialGenerator(**CONFIGS["street_2scales_fg"])  # 2**(2 + 2 - 1) = 8
    labels, instances, _ = make_clip(model.config, batch=1, length=3, height=36, width=64)
    x = model.encode_inputs(labels, instances)
    with pytest.raises(ValueError, match=r"36x64 .*not divisible by 8"):
        model.generate(x)


def test_input_validation_messages() -> None:
    model = SequentialGenerator(**CONFIGS["street_2scales_fg"])
    labels, instances, _ = make_clip(model.config, batch=1, length=3)
    with pytest.raises(ValueError, match="use_instance=True"):
        model.encode_inputs(labels)
    bad = labels.clone()
    bad[0, 0, 0, 0] = 6
    with pytest.raises(ValueError, match=r"class id 6, outside \[0, 6\)"):
        model.encode_inputs(bad, instances)
    x = model.encode_inputs(labels, instances)
    with pytest.raises(ValueError, match="window must be"):
        model(x[:, :2], model.init_state(batch_size=1, height=32, width=64).history)
    with pytest.raises(ValueError, match=r"history\[1\] must be"):
        model(x, [torch.zeros(1, 2, 3, 32, 64), torch.zeros(1, 2, 3, 32, 64)])
    with pytest.raises(ValueError, match="first_frames must be"):
        model.init_state(torch.zeros(1, 3, 3, 32, 64))


def test_config_round_trip_and_validation() -> None:
    cfg = SequentialGeneratorConfig(**CONFIGS["street_2scales_fg"])
    again = SequentialGeneratorConfig.from_dict(json.loads(cfg.to_json()))
    assert again == cfg
    assert cfg.size_multiple == 8 and cfg.frame_nc == 7
    with pytest.raises(ValueError, match=r"unknown SequentialGeneratorConfig keys: \['ngff'\]"):
        SequentialGeneratorConfig.from_dict({"ngff": 3})
    with pytest.raises(ValueError, match="fg_labels"):
        SequentialGeneratorConfig(label_nc=5, use_foreground=True, fg_labels=[7])
    with pytest.raises(ValueError, match="unknown norm"):
        SequentialGeneratorConfig(norm="group")
    with pytest.raises(ValueError, match="n_frames_G must be >= 2"):
        SequentialGeneratorConfig(n_frames_G=1)


def test_generator_state_advance_drops_the_oldest() -> None:
    history = [torch.arange(2.0).view(1, 2, 1, 1, 1).expand(1, 2, 3, 2, 2).clone()]
    state = GeneratorState(history)
    new = state.advance([torch.full((1, 3, 2, 2), 7.0)])
    assert new.history[0][0, :, 0, 0, 0].tolist() == [1.0, 7.0]
    assert state.history[0][0, :, 0, 0, 0].tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="expected 1 scale images"):
        state.advance([])


def test_presets_match_the_original_scripts() -> None:
    from vid2vid.nn import GENERATOR_PRESETS, generator_preset

    street = generator_preset("street_2048")
    assert (street.label_nc, street.use_instance, street.use_foreground, street.n_scales, street.ngf) == (
        35,
        True,
        True,
        3,
        128,
    )
    assert street.size_multiple == 32
    pose = generator_preset("pose_1024", ngf=8)
    assert (pose.label_nc, pose.input_nc, pose.no_first_frame, pose.ngf) == (0, 6, True, 8)
    assert generator_preset("face_512").frame_nc == 15
    assert len(GENERATOR_PRESETS) == 8
    with pytest.raises(ValueError, match="unknown generator preset 'street_4096'"):
        generator_preset("street_4096")
