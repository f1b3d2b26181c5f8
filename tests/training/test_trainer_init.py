"""The trainers initialise their networks as the original does (``init="original"``)."""

from __future__ import annotations

from vid2vid.nn import SequentialGeneratorConfig


def test_trainer_applies_the_chosen_initialisation(synthetic_root, tmp_path) -> None:
    from vid2vid.training import TrainConfig, Vid2VidTrainer

    def stem_std(init: str) -> float:
        cfg = TrainConfig(
            generator=SequentialGeneratorConfig(label_nc=35, use_instance=True, ngf=8, n_downsample=2),
            dataroot=str(synthetic_root),
            ndf=8,
            num_D=1,
            n_scales_temporal=1,
            vgg_weights="none",
            n_frames_total=2,
            device="cpu",
            num_workers=0,
            tensorboard=False,
            progress=False,
            checkpoint_dir=str(tmp_path / init),
            init=init,
        )
        trainer = Vid2VidTrainer(cfg)
        return float(trainer.generator.scales[0].label_encoder.stem.conv.weight.detach().std())

    assert abs(stem_std("original") - 0.02) < 2e-3
    assert stem_std("pytorch") < 0.012  # kaiming-uniform default over 7x7x36 inputs: ~0.008
