"""Pix2PixHDPipeline: inputs, outputs, multimodal features, devices/dtypes, save/load, Hub, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from vid2vid import Pix2PixHDPipeline, Vid2VidPipeline
from vid2vid.image_model_folder import load_image_model, save_image_model
from vid2vid.nn import ImageGenerator, InstanceFeatureEncoder
from vid2vid.pipelines.features import InstanceFeatureSampler

LABEL_NC, H, W, FEAT = 5, 16, 32, 2
CLUSTERS = {
    "class_2": torch.tensor([[1.0, -1.0], [0.5, 0.25], [-2.0, 3.0]]),
    "class_3": torch.tensor([[4.0, 4.0]]),
}


def tiny(features: bool = False, encoder: bool = False, **overrides: object) -> Pix2PixHDPipeline:
    torch.manual_seed(0)
    gen = ImageGenerator(input_nc=LABEL_NC + 1 + (FEAT if features else 0), ngf=4, n_downsample=2, n_blocks=1)
    enc_args = dict(input_nc=3, output_nc=FEAT, ngf=4, n_downsample=2)
    return Pix2PixHDPipeline(
        gen,
        label_nc=LABEL_NC,
        use_instance=True,
        encoder=InstanceFeatureEncoder(**enc_args) if encoder else None,
        encoder_args=enc_args if encoder else None,
        feature_clusters=CLUSTERS if features else None,
        metadata={"license": "MIT"},
        **overrides,
    )


def clip(t: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, LABEL_NC, (t, H, W), generator=g)
    labels[:, :8, :16] = 2
    labels[:, 8:, 16:] = 3
    instances = labels.clone()
    instances[:, :8, :8] = 2000  # two cars (class 2) and one class-3 thing
    instances[:, :8, 8:16] = 2001
    instances[:, 8:, 16:] = 3000
    return labels, instances


def by_hand(pipe: Pix2PixHDPipeline, labels: torch.Tensor, instances: torch.Tensor) -> torch.Tensor:
    """One-hot + instance edges built here, the generator called directly: (T, 3, H, W) in [0, 1]."""
    onehot = F.one_hot(labels, LABEL_NC).permute(0, 3, 1, 2).float()
    edge = torch.zeros_like(instances, dtype=torch.bool)
    dx = instances[:, :, 1:] != instances[:, :, :-1]
    dy = instances[:, 1:, :] != instances[:, :-1, :]
    edge[:, :, 1:] |= dx
    edge[:, :, :-1] |= dx
    edge[:, 1:, :] |= dy
    edge[:, :-1, :] |= dy
    with torch.no_grad():
        out = pipe.generator(torch.cat([onehot, edge[:, None].float()], dim=1))
    return (out + 1) / 2


def test_clip_single_batch_and_stream_agree_with_the_generator() -> None:
    pipe = tiny()
    labels, instances = clip(3)
    out = pipe(labels, instances, progress=False)
    assert out.frames.shape == (3, 3, H, W) and out.frames.dtype == torch.float32
    assert out.flows is None and out.weights is None
    torch.testing.assert_close(out.frames, by_hand(pipe, labels, instances))
    single = pipe(labels[1], instances[1]).frames
    torch.testing.assert_close(single, out.frames[1])
    batch = pipe(torch.stack([labels, labels.flip(0)]), torch.stack([instances, instances.flip(0)])).frames
    assert batch.shape == (2, 3, 3, H, W)
    torch.testing.assert_close(batch[0], out.frames)
    torch.testing.assert_close(batch[1], out.frames.flip(0))
    streamed = torch.stack(list(pipe.stream(labels, instances)))
    torch.testing.assert_close(streamed, out.frames)


def test_frames_per_batch_gives_the_same_frames() -> None:
    pipe = tiny(features=True)
    labels, instances = clip(3)
    both_l, both_i = torch.stack([labels, labels.flip(0)]), torch.stack([instances, instances.flip(0)])
    one = pipe(both_l, both_i, seed=5, progress=False).frames
    for n in (2, 3, 8):
        many = pipe(both_l, both_i, seed=5, progress=False, frames_per_batch=n).frames
        torch.testing.assert_close(many, one, atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="frames_per_batch must be a positive integer"):
        pipe(labels, instances, frames_per_batch=0)


def test_output_types_and_input_forms_agree(tmp_path: Path) -> None:
    pipe = tiny()
    labels, instances = clip(2)
    ref = pipe(labels, instances, progress=False).frames
    as_np = pipe(labels.numpy(), instances.numpy(), output_type="np", progress=False).frames
    assert as_np.shape == (2, H, W, 3)
    np.testing.assert_allclose(as_np, ref.permute(0, 2, 3, 1).numpy(), atol=1e-6)
    pil = pipe(labels, instances, output_type="pil", progress=False).frames
    assert len(pil) == 2 and pil[0].size == (W, H)
    # label PNGs: a folder, a list of paths, one path (a single image)
    for name, maps in (("labels", labels), ("inst", instances)):
        (tmp_path / name).mkdir()
        for t, m in enumerate(maps):
            Image.fromarray(m.numpy().astype(np.uint16)).save(tmp_path / name / f"{t:03d}.png")
    from_folder = pipe(tmp_path / "labels", tmp_path / "inst", progress=False).frames
    torch.testing.assert_close(from_folder, ref)
    one = pipe(tmp_path / "labels" / "001.png", tmp_path / "inst" / "001.png").frames
    torch.testing.assert_close(one, ref[1])
    one_pil = pipe(labels[0], instances[0], output_type="pil").frames
    assert isinstance(one_pil, Image.Image)


def test_sampler_draws_class_centres_per_instance_and_keeps_them() -> None:
    _, instances = clip(1)
    sampler = InstanceFeatureSampler(CLUSTERS, FEAT, seed=3)
    feats = sampler(instances)
    assert feats.shape == (1, FEAT, H, W)
    for inst_id, cls in ((2000, 2), (2001, 2), (3000, 3)):
        mask = instances[0] == inst_id
        values = feats[0][:, mask]
        vec = values[:, 0]
        assert torch.equal(values, vec[:, None].expand_as(values))  # constant inside the instance
        assert any(torch.equal(vec, c) for c in CLUSTERS[f"class_{cls}"])  # one of its class's centres
    stuff = (instances[0] < 1000) & (instances[0] != 2) & (instances[0] != 3)
    assert float(feats[0][:, stuff].abs().max()) == 0.0  # classes without clusters: zero features
    assert torch.equal(sampler(instances), feats)  # kept across frames
    assert torch.equal(InstanceFeatureSampler(CLUSTERS, FEAT, seed=3)(instances), feats)
    draws = {
        tuple(InstanceFeatureSampler(CLUSTERS, FEAT, seed=s)(instances)[0, :, 0, 0].tolist())
        for s in range(12)
    }
    assert len(draws) == 3  # instance 2000 draws each of class 2's three centres over the seeds
    with pytest.raises(ValueError, match=r"class_2 has shape \(3, 2\).*\(K, 3\)"):
        InstanceFeatureSampler(CLUSTERS, 3)


def test_seeds_select_modes_and_repeat() -> None:
    pipe = tiny(features=True)
    labels, instances = clip(3)
    a = pipe(labels, instances, seed=0, progress=False).frames
    assert torch.equal(a, pipe(labels, instances, seed=0, progress=False).frames)
    outs = [pipe(labels, instances, seed=s, progress=False).frames for s in range(1, 6)]
    assert any(float((o - a).abs().max()) > 1e-3 for o in outs)
    # the features the generator receives are the sampler's, with the same seed
    seen = []
    handle = pipe.generator.register_forward_pre_hook(lambda m, args: seen.append(args[1].clone()))
    pipe(labels[:1], instances[:1], seed=7, progress=False)
    handle.remove()
    torch.testing.assert_close(seen[0], InstanceFeatureSampler(CLUSTERS, FEAT, seed=7)(instances[:1]))


def test_reference_images_are_encoded_by_the_feature_encoder() -> None:
    pipe = tiny(features=True, encoder=True)
    labels, instances = clip(2)
    ref = torch.rand(2, 3, H, W, generator=torch.Generator().manual_seed(1))
    seen = []
    handle = pipe.generator.register_forward_pre_hook(lambda m, args: seen.append(args[1].clone()))
    out = pipe(labels, instances, reference_images=ref, progress=False).frames
    handle.remove()
    with torch.no_grad():
        expected = pipe.encoder(ref * 2 - 1, instances)
    torch.testing.assert_close(torch.cat(seen), expected)
    assert out.shape == (2, 3, H, W)
    with pytest.raises(ValueError, match="feature encoder"):
        tiny(features=True)(labels, instances, reference_images=ref)


def test_errors_say_what_was_expected() -> None:
    pipe = tiny()
    labels, instances = clip(2)
    with pytest.raises(ValueError, match="pass instances"):
        pipe(labels)
    with pytest.raises(ValueError, match="integer ids"):
        pipe(labels.float(), instances)
    with pytest.raises(ValueError, match=r"class id 6, outside \[0, 5\)"):
        pipe(labels + 2 * (labels == 4), instances + 0)
    with pytest.raises(ValueError, match="not divisible by 4"):
        pipe(labels[:, :10], instances[:, :10])
    with pytest.raises(ValueError, match="must match labels"):
        pipe(labels, instances[:1])
    with pytest.raises(ValueError, match="output_type"):
        pipe(labels, instances, output_type="jpg")
    with pytest.raises(ValueError, match="neither feature clusters .* nor a feature encoder"):
        Pix2PixHDPipeline(tiny(features=True).generator, label_nc=LABEL_NC, use_instance=True)
    nofeat = tiny(features=True)
    nofeat.model.feature_clusters = None
    with pytest.raises(ValueError, match="no feature clusters"):
        nofeat(labels, instances)


def test_dtypes_devices_and_to() -> None:
    pipe = tiny()
    labels, instances = clip(2)
    ref = pipe(labels, instances, progress=False).frames
    assert pipe.to(dtype="bfloat16") is pipe and pipe.dtype == torch.bfloat16
    low = pipe(labels, instances, progress=False).frames
    assert low.dtype == torch.float32 and float((low - ref).abs().max()) < 0.05
    with pytest.raises(ValueError, match="float16 inference is not supported on CPU"):
        pipe.to(dtype=torch.float16)
    pipe.to(dtype=torch.float32)  # (the weights keep their bfloat16 rounding)
    ref32 = pipe(labels, instances, progress=False).frames
    pipe.enable_channels_last()
    assert pipe.generator.global_encoder.stem.conv.weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(pipe(labels, instances, progress=False).frames, ref32, atol=1e-5, rtol=0)


def test_save_pretrained_round_trip_and_dispatch(tmp_path: Path) -> None:
    pipe = tiny(features=True, encoder=True)
    labels, instances = clip(2)
    folder = pipe.save_pretrained(tmp_path / "model")
    assert {p.name for p in folder.iterdir()} >= {
        "config.json",
        "model.safetensors",
        "encoder.safetensors",
        "features.safetensors",
        "README.md",
    }
    assert "Pix2PixHDPipeline.from_pretrained" in (folder / "README.md").read_text()
    loaded = Vid2VidPipeline.from_pretrained(folder)  # an image-model folder gives the image pipeline
    assert isinstance(loaded, Pix2PixHDPipeline) and loaded.metadata["license"] == "MIT"
    assert torch.equal(loaded(labels, instances, seed=4).frames, pipe(labels, instances, seed=4).frames)
    assert loaded.encoder is not None and set(loaded.feature_clusters) == set(CLUSTERS)
    with pytest.raises(ValueError, match="first_frame does not apply"):
        Vid2VidPipeline.from_pretrained(folder, first_frame="zeros")
    bf16 = Pix2PixHDPipeline.from_pretrained(folder, dtype="bfloat16")
    assert bf16.dtype == torch.bfloat16 and bf16.encoder is not None


def test_continuous_input_model(tmp_path: Path) -> None:
    torch.manual_seed(0)
    gen = ImageGenerator(input_nc=3, ngf=4, n_downsample=1, n_blocks=1)
    save_image_model(tmp_path / "m", gen, label_nc=0, use_instance=False, input_nc=3)
    model = load_image_model(tmp_path / "m")
    assert (model.label_nc, model.input_nc, model.feature_channels) == (0, 3, 0)
    pipe = Pix2PixHDPipeline.from_pretrained(tmp_path / "m")
    maps = torch.rand(4, 3, H, W, generator=torch.Generator().manual_seed(0))
    out = pipe(maps, progress=False).frames
    with torch.no_grad():
        torch.testing.assert_close(out, (gen(maps * 2 - 1) + 1) / 2)
    torch.testing.assert_close(pipe(maps[2]).frames, out[2])  # (C, H, W): one image
    uint8 = (maps * 255).round().to(torch.uint8).permute(0, 2, 3, 1)
    assert pipe(uint8.numpy()[0]).frames.shape == (3, H, W)
    with pytest.raises(ValueError, match="do not pass instances"):
        pipe(maps, instances=torch.zeros(4, H, W, dtype=torch.long))


def test_save_image_and_video(tmp_path: Path) -> None:
    pipe = tiny()
    labels, instances = clip(3)
    one = pipe(labels[0], instances[0])
    path = pipe.save_image(one, tmp_path / "one.png")
    saved = np.asarray(Image.open(path))
    expected = np.round(one.frames.permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    assert np.array_equal(saved, expected)
    video = pipe.save_video(pipe(labels, instances, progress=False), tmp_path / "clip")
    assert len(list(video.glob("*.png"))) == 3
    with pytest.raises(ValueError, match="one image"):
        pipe.save_image(pipe(labels, instances, progress=False), tmp_path / "x.png")


def test_hub_offline_repo_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as constants

    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    source = tiny(features=True, encoder=True)
    root = cache / "models--org--p2phd"
    source.save_pretrained(root / "snapshots" / ("c" * 40))
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text("c" * 40)
    pipe = Vid2VidPipeline.from_pretrained("org/p2phd")
    assert isinstance(pipe, Pix2PixHDPipeline) and pipe.encoder is not None
    labels, instances = clip(1)
    assert torch.equal(pipe(labels, instances, seed=1).frames, source(labels, instances, seed=1).frames)


def _stream_peak(pipe: Pix2PixHDPipeline, n_frames: int, keep: bool = False) -> int:
    from vid2vid.profiling import LiveTensorBytes

    kept, mode = [], LiveTensorBytes()
    labels, instances = clip(1)
    with mode:
        for out in pipe.stream(
            (labels[0] for _ in range(n_frames)), (instances[0] for _ in range(n_frames)), seed=0
        ):
            if keep:
                kept.append(out)
    return mode.peak


def test_stream_memory_does_not_grow_with_length() -> None:
    pipe = tiny(features=True)
    short, long = _stream_peak(pipe, 10), _stream_peak(pipe, 100)
    assert 0 < long <= 1.1 * short, (short, long)
    assert _stream_peak(pipe, 100, keep=True) - long >= 90 * 3 * H * W * 4  # the meter sees kept frames
