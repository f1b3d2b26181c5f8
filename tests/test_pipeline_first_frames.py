"""First-frame models as the original runs them: single-image G on labels without edges, face
generator with instance features chosen by nearest neighbour (or seeded random picks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from vid2vid.data.labels import one_hot
from vid2vid.nn import FeatureImageGenerator, ImageGenerator, InstanceFeatureEncoder, SequentialGenerator
from vid2vid.pipeline import Vid2VidPipeline

H, W, IN_NC, FEAT = 32, 32, 5, 3


def face_pipeline(feature_choice: str = "nearest") -> tuple[Vid2VidPipeline, dict]:
    torch.manual_seed(0)
    gen = SequentialGenerator(label_nc=0, input_nc=IN_NC, ngf=8, n_downsample=2, n_blocks=2)
    ig = FeatureImageGenerator(input_nc=IN_NC, feature_nc=FEAT, ngf=4, n_downsample=2, n_blocks=1)
    enc = InstanceFeatureEncoder(3, FEAT, ngf=4, n_downsample=2)
    rows = {f"class_{c}": torch.randn(4, FEAT) * 5 for c in range(3)}
    pipe = Vid2VidPipeline(
        gen.eval(),
        first_frame="image_generator",
        image_generator=ig.eval(),
        feature_clusters=rows,
        input_range=(0.0, 1.0),
        feature_encoder=enc.eval(),
        feature_choice=feature_choice,
    )
    g = torch.Generator().manual_seed(1)
    parts = torch.zeros(4, H, W, dtype=torch.long)
    parts[:, 8:24, 8:24] = 1
    parts[:, 12:20, 12:20] = 2
    data = {
        "inputs": torch.rand(4, IN_NC, H, W, generator=g),
        "parts": parts,
        "real": torch.rand(2, 3, H, W, generator=g),
    }
    return pipe, data


def test_nearest_features_pick_the_training_image_closest_to_the_encoded_real_frame() -> None:
    pipe, data = face_pipeline("nearest")
    with torch.inference_mode():
        encoded = pipe.feature_encoder(data["real"] * 2 - 1, data["parts"][:2])
    # Plant the encoded features of real frame j (plus noise) as training image 3 - j of every class.
    for c in range(3):
        rows = pipe.feature_clusters[f"class_{c}"]
        for j in range(2):
            value = encoded[j, :, data["parts"][j] == c][:, 0]
            rows[3 - j] = value + 0.01 * torch.randn(FEAT)
    out = pipe(data["inputs"], instances=data["parts"], first_frames=data["real"], progress=False)
    assert out.frames.shape == (4, 3, H, W) and out.first_index == 0
    for j in range(2):
        feats = torch.zeros(1, FEAT, H, W)
        for c in range(3):
            feats[0][:, data["parts"][j] == c] = pipe.feature_clusters[f"class_{c}"][3 - j][:, None]
        with torch.inference_mode():
            want = pipe.image_generator(data["inputs"][j : j + 1], feats)
        torch.testing.assert_close(out.frames[j] * 2 - 1, want[0], atol=1e-6, rtol=0)
    # The real frames are references, not outputs.
    assert (out.frames[0] - data["real"][0]).abs().max() > 0.05


def test_nearest_features_need_reference_frames_and_part_maps() -> None:
    pipe, data = face_pipeline("nearest")
    with pytest.raises(ValueError, match="feature_choice='nearest'.*pass first_frames"):
        pipe(data["inputs"], instances=data["parts"], progress=False)
    with pytest.raises(ValueError, match="uses instance features: pass instances"):
        pipe(data["inputs"], first_frames=data["real"], progress=False)
    # first_frame='real' uses the given frames as the history instead.
    real = pipe(data["inputs"], first_frames=data["real"], first_frame="real", progress=False)
    assert torch.equal(real.frames[:2], data["real"])


def test_random_feature_choice_is_seeded() -> None:
    pipe, data = face_pipeline("random")
    a = pipe(data["inputs"], instances=data["parts"], seed=3, progress=False).frames
    b = pipe(data["inputs"], instances=data["parts"], seed=3, progress=False).frames
    assert torch.equal(a, b)
    others = [
        pipe(data["inputs"], instances=data["parts"], seed=s, progress=False).frames for s in range(4, 9)
    ]
    assert any(not torch.equal(a[0], o[0]) for o in others)


def test_face_model_folder_round_trip(tmp_path: Path) -> None:
    pipe, data = face_pipeline("nearest")
    ref = pipe(data["inputs"], instances=data["parts"], first_frames=data["real"], progress=False).frames
    folder = pipe.save_pretrained(tmp_path / "face")
    sub = json.loads((folder / "first_frame" / "config.json").read_text())
    assert sub["model_type"] == "pix2pixhd_generator_with_features" and sub["feature_choice"] == "nearest"
    assert sub["encoder"] == {
        "input_nc": 3,
        "output_nc": FEAT,
        "ngf": 4,
        "n_downsample": 2,
        "norm": "instance",
    }
    assert (folder / "first_frame" / "encoder.safetensors").is_file()
    loaded = Vid2VidPipeline.from_pretrained(folder)
    assert loaded.feature_choice == "nearest" and loaded.input_range == (0.0, 1.0)
    out = loaded(data["inputs"], instances=data["parts"], first_frames=data["real"], progress=False).frames
    assert torch.equal(out, ref)
    sub["feature_choice"] = "closest"
    (folder / "first_frame" / "config.json").write_text(json.dumps(sub))
    with pytest.raises(ValueError, match="feature_choice must be one of"):
        Vid2VidPipeline.from_pretrained(folder)


def test_single_g_on_labels_without_the_edge_channel(tmp_path: Path) -> None:
    torch.manual_seed(0)
    gen = SequentialGenerator(label_nc=6, use_instance=True, ngf=8, n_downsample=2, n_blocks=2)
    ig = ImageGenerator(input_nc=6, ngf=4, n_downsample=2, n_blocks=1)
    pipe = Vid2VidPipeline(gen.eval(), first_frame="image_generator", image_generator=ig.eval())
    assert pipe.first_frame_input == "labels" and pipe.feature_channels == 0
    labels = torch.randint(0, 6, (4, H, W))
    instances = torch.randint(0, 3, (4, H, W))
    out = pipe(labels, instances, progress=False)
    with torch.inference_mode():
        want = torch.cat([ig(one_hot(labels[j : j + 1], 6)) for j in range(2)])  # one frame per call
    torch.testing.assert_close(out.frames[:2] * 2 - 1, want, atol=1e-6, rtol=0)
    folder = pipe.save_pretrained(tmp_path / "street")
    assert json.loads((folder / "first_frame" / "config.json").read_text())["input"] == "labels"
    assert torch.equal(
        Vid2VidPipeline.from_pretrained(folder)(labels, instances, progress=False).frames, out.frames
    )
    with pytest.raises(ValueError, match="first_frame_input must be one of"):
        Vid2VidPipeline(gen, first_frame="image_generator", image_generator=ig, first_frame_input="edges")


def test_old_model_folders_still_load(tmp_path: Path) -> None:
    """Folders written before input/feature_choice/input_range existed keep their behaviour."""
    torch.manual_seed(0)
    gen = SequentialGenerator(label_nc=6, use_instance=True, ngf=8, n_downsample=2, n_blocks=2)
    ig = ImageGenerator(input_nc=7 + 2, ngf=4, n_downsample=2, n_blocks=1)  # encoding + 2 feature channels
    clusters = {"class_2": torch.randn(3, 2)}
    pipe = Vid2VidPipeline(gen.eval(), "image_generator", ig.eval(), clusters)
    assert pipe.first_frame_input == "encoded" and pipe.feature_channels == 2
    labels = torch.randint(0, 6, (4, H, W))
    instances = torch.full((4, H, W), 2000)
    ref = pipe(labels, instances, seed=0, progress=False).frames
    folder = pipe.save_pretrained(tmp_path / "old")
    sub_path = folder / "first_frame" / "config.json"
    sub = json.loads(sub_path.read_text())
    sub_path.write_text(json.dumps({"model_type": sub["model_type"], "config": sub["config"]}))
    loaded = Vid2VidPipeline.from_pretrained(folder)
    assert loaded.first_frame_input == "encoded" and loaded.feature_choice == "random"
    assert torch.equal(loaded(labels, instances, seed=0, progress=False).frames, ref)
