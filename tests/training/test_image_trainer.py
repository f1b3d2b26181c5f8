"""The pix2pixHD first-frame model: training, its model folder, bundling, instance-feature clusters."""

from __future__ import annotations

import math

import pytest
import torch

from vid2vid.model_folder import load_model_folder, save_model_folder
from vid2vid.nn import ImageGeneratorConfig, SequentialGenerator
from vid2vid.training.features import cluster_features, instance_class, kmeans
from vid2vid.training.image_trainer import ImageTrainer, load_image_model

TINY_IMAGE = ImageGeneratorConfig(ngf=8, n_downsample=2, n_blocks=2)


def test_image_model_trains_saves_and_bundles_into_a_vid2vid_folder(make_config, tmp_path) -> None:
    config = make_config("image", model="image", image_generator=TINY_IMAGE, max_iters=6, vgg_weights=None)
    trainer = ImageTrainer(config)
    result = trainer.train()
    assert result.global_step == 6
    records = trainer.logger.records
    assert {"G_GAN", "G_GAN_Feat", "G_VGG", "D_real", "D_fake"} <= set(records[-1])
    assert all(math.isfinite(v) for r in records for v in r.values())
    model = load_image_model(result.checkpoint / "model")
    assert model.generator.config.input_nc == 36  # 35 one-hot + instance edges
    for k, v in trainer.generator.state_dict().items():
        assert torch.equal(model.generator.state_dict()[k], v)
    # bundle with a sequential generator into the pipeline's model folder
    seq = SequentialGenerator(config.generator)
    folder = save_model_folder(
        tmp_path / "bundle", seq, first_frame="image_generator", image_generator=model.generator
    )
    loaded = load_model_folder(folder)
    assert loaded.first_frame == "image_generator" and loaded.image_generator is not None
    # resume continues the step count
    resumed = ImageTrainer(config.replace(max_iters=7), resume=result.checkpoint)
    assert resumed.progress.global_step == 6
    assert resumed.train().global_step == 7


def test_joint_feature_encoder_and_per_class_clusters(make_config) -> None:
    config = make_config(
        "features",
        model="image",
        image_generator=TINY_IMAGE,
        max_iters=2,
        use_features=True,
        feat_num=3,
        nef=4,
        n_downsample_E=2,
        n_clusters=2,
    )
    result = ImageTrainer(config).train()
    model = load_image_model(result.checkpoint / "model")
    assert model.encoder is not None and model.generator.config.input_nc == 36 + 3
    clusters = model.feature_clusters
    assert clusters and all(k.startswith("class_") for k in clusters)
    assert "class_26" in clusters  # cars of the synthetic dataset
    for v in clusters.values():
        assert v.dim() == 2 and v.shape[1] == 3 and 1 <= v.shape[0] <= 2


def test_kmeans_finds_separated_blobs_deterministically() -> None:
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]])
    points = torch.cat([c + 0.1 * torch.randn(30 + 10 * i, 2, generator=g) for i, c in enumerate(centres)])
    found = kmeans(points, 3, seed=1)
    assert torch.equal(found, kmeans(points, 3, seed=1))
    # sorted by cluster size: the 50-point blob first
    assert torch.allclose(found[0], centres[2], atol=0.1) and torch.allclose(found[2], centres[0], atol=0.1)
    assert kmeans(torch.ones(4, 2), 3).shape == (1, 2)  # fewer distinct points than k
    with pytest.raises(ValueError, match="non-empty"):
        kmeans(torch.zeros(0, 2), 2)
    assert set(cluster_features({7: points, 26: points[:5]}, k=2)) == {"class_7", "class_26"}
    assert instance_class(26003) == 26 and instance_class(7) == 7


def test_image_trainer_rejects_features_without_instances(make_config) -> None:
    with pytest.raises(ValueError, match="use_instance"):
        ImageTrainer(make_config("x", model="image", use_features=True, generator={"use_instance": False}))
