"""Training the pix2pixHD image generator (pix2pixHD §3; vid2vid's first-frame model).

Single frames of the same dataset (an epoch visits every frame of every clip once, as pix2pixHD's
epoch visits every image: :class:`~vid2vid.data.FrameDataset`), the same image losses as vid2vid
without the temporal ones:
multi-scale image GAN + feature matching (×``lambda_feat``) + VGG (×``lambda_vgg``). With
``use_features`` an :class:`~vid2vid.nn.InstanceFeatureEncoder` is trained jointly (its
instance-averaged features are concatenated to the generator's input, pix2pixHD §3.3) and, at the
end, every training instance is encoded and clustered per class (:mod:`.features`).

The checkpoint's ``model/`` folder is an image-model folder (:mod:`vid2vid.image_model_folder`):
``Pix2PixHDPipeline.from_pretrained`` (or ``vid2vid synthesize``) runs it, and ``vid2vid bundle``
makes it the first-frame generator of a vid2vid model folder.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from vid2vid.data.frame_dataset import FrameDataset
from vid2vid.data.labels import encode_label_map
from vid2vid.image_model_folder import IMAGE_MODEL_TYPE, ImageModel, load_image_model, save_image_model
from vid2vid.nn.image_generator import ImageGenerator
from vid2vid.nn.init import init_weights_original
from vid2vid.nn.instance_encoder import InstanceFeatureEncoder
from vid2vid.training.config import TrainConfig
from vid2vid.training.distributed import (
    DistContext,
    broadcast_parameters,
    wrap_ddp,
)
from vid2vid.training.features import cluster_features, encode_instance_features
from vid2vid.training.logging import visual_grid
from vid2vid.training.objective import ImageObjective
from vid2vid.training.schedule import lr_factor
from vid2vid.training.state import (
    TrainingProgress,
)
from vid2vid.training.trainer import TrainerBase, build_clip_dataset, build_vgg_loss

__all__ = ["ImageTrainer", "ImageModel", "load_image_model", "save_image_model", "IMAGE_MODEL_TYPE"]


class ImageTrainer(TrainerBase):
    """Train a pix2pixHD :class:`ImageGenerator` on single frames (``config.model == "image"``).

    Args:
        config: the run's settings (``generator`` gives the label set: ``label_nc``,
            ``use_instance``, ``input_nc``; ``image_generator`` the architecture, its ``input_nc``
            is derived).
        dataset: a :class:`~vid2vid.data.ClipDataset` (its frames become the samples) or a
            :class:`~vid2vid.data.FrameDataset` (default: built from ``config``).
        dist, resume, logger: as :class:`~vid2vid.training.Vid2VidTrainer`.
    """

    def __init__(
        self,
        config: TrainConfig,
        *,
        dataset: Any = None,
        dist: DistContext | None = None,
        resume: str | Path | None = None,
        logger: Any = None,
    ) -> None:
        if config.model != "image":
            raise ValueError(f"ImageTrainer trains model='image', got {config.model!r}")
        gen = config.generator
        if config.use_features and not gen.use_instance:
            raise ValueError("use_features needs instance maps: set generator.use_instance=true")
        self._init_run(config, dist, logger)
        feat_nc = config.feat_num if config.use_features else 0
        self.image_config = dataclasses.replace(config.image_generator, input_nc=gen.frame_nc + feat_nc)
        multiple = self.image_config.size_multiple
        if config.use_features:
            multiple = max(multiple, 2**config.n_downsample_E)
        # an epoch visits every training frame once (pix2pixHD's epoch over images)
        clips = dataset if dataset is not None else build_clip_dataset(config, 1, multiple, load_flow=False)
        self.dataset = clips if isinstance(clips, FrameDataset) else FrameDataset(clips)
        torch.manual_seed(config.seed)
        self.generator = ImageGenerator(self.image_config).to(self.device, self.dtype)
        self.encoder_args = dict(
            input_nc=gen.output_nc,
            output_nc=config.feat_num,
            ngf=config.nef,
            n_downsample=config.n_downsample_E,
        )
        self.encoder = (
            InstanceFeatureEncoder(**self.encoder_args).to(self.device, self.dtype)
            if config.use_features
            else None
        )
        self.objective = ImageObjective(
            gen.frame_nc,
            gen.output_nc,
            ndf=config.ndf,
            n_layers_D=config.n_layers_D,
            num_D=config.num_D,
            norm_D=config.norm_D,
            ndf_max=config.ndf_max,
            gan_mode=config.gan_mode,
            lambda_feat=config.lambda_feat,
            lambda_vgg=config.lambda_vgg,
            use_gan_feat=not config.no_ganFeat,
            vgg=build_vgg_loss(config.vgg_weights),
        ).to(self.device, self.dtype)
        if config.init == "original":  # pix2pixHD's weights_init on G, E and D
            for net in (self.generator, self.encoder, self.objective.image_d):
                if net is not None:
                    init_weights_original(net)
        for module in self._trained_modules().values():
            broadcast_parameters(module, self.dist)
        self.g_model: torch.nn.Module = self.generator
        self.e_model: torch.nn.Module | None = self.encoder
        if self.dist.enabled:  # DistributedDataParallel, each network wrapped separately
            self.g_model = wrap_ddp(self.generator, self.device)
            if self.encoder is not None:
                self.e_model = wrap_ddp(self.encoder, self.device)
            self.objective.set_runners({"image_d": wrap_ddp(self.objective.image_d, self.device)})
        self._init_sampler()
        if config.TTUR:
            self.base_lr = {"G": config.lr / 2, "D": config.lr * 2}
            self.betas = {"G": (0.0, 0.9), "D": (0.0, 0.9)}
        else:
            self.base_lr = {"G": config.lr, "D": config.lr}
            self.betas = {"G": (config.beta1, config.beta2), "D": (config.beta1, config.beta2)}
        g_params = list(self.generator.parameters())
        if self.encoder is not None:
            g_params += list(self.encoder.parameters())
        self.optimizer_G = torch.optim.Adam(g_params, lr=self.base_lr["G"], betas=self.betas["G"])
        self.optimizer_D = torch.optim.Adam(
            self.objective.image_d.parameters(), lr=self.base_lr["D"], betas=self.betas["D"]
        )
        fp16 = self.amp_dtype == torch.float16
        self.scalers = [torch.amp.GradScaler(self.device.type, enabled=fp16) for _ in range(2)]
        self.progress = TrainingProgress()
        self.last_visuals: dict[str, Tensor] = {}
        self.feature_clusters: dict[str, Tensor] | None = None
        if resume is not None:
            self.load_checkpoint(resume)

    def _epoch_description(self) -> str:
        return f"each of the {len(self.dataset)} frames of the {self.dataset.n_clips} clips once"

    def _trained_modules(self) -> dict[str, torch.nn.Module]:
        modules: dict[str, torch.nn.Module] = {"generator": self.generator, "image_d": self.objective.image_d}
        if self.encoder is not None:
            modules["encoder"] = self.encoder
        return modules

    # ------------------------------------------------------------------ loop hooks
    def _prepare_epoch(self, epoch: int) -> int:
        factor = lr_factor(epoch, self.config.niter, self.config.niter_decay)
        for name, opt in (("G", self.optimizer_G), ("D", self.optimizer_D)):
            for group in opt.param_groups:
                group["lr"] = self.base_lr[name] * factor
        self.dataset.set_n_frames(1)
        self.dataset.set_epoch(epoch)
        self.sampler.set_epoch(epoch)
        return epoch

    def _encode(self, batch: dict[str, Any]) -> tuple[Tensor, Tensor, Tensor | None]:
        gen, dev = self.config.generator, self.device
        labels = batch["labels"][:, :1].to(dev) if "labels" in batch else None
        instances = batch["instances"][:, :1].to(dev) if gen.use_instance else None
        inputs = batch["inputs"][:, :1].to(dev) if "inputs" in batch else None
        encoded = encode_label_map(labels, gen.label_nc, instances=instances, inputs=inputs)[:, 0]
        real = batch["frames"][:, 0].to(dev, self.dtype)
        return encoded.to(self.dtype), real, None if instances is None else instances[:, 0]

    def train_iteration(self, batch: dict[str, Any], schedule: Any) -> dict[str, float]:
        """One step of G (and the encoder) and D on a batch of single frames."""
        inputs, real, instances = self._encode(batch)
        ctx = torch.autocast(self.device.type, self.amp_dtype) if self.amp_dtype else _null()
        with ctx:
            features = self.e_model(real, instances) if self.e_model is not None else None
            fake = self.g_model(inputs, features)
            losses = self.objective(inputs, real, fake, defer_discriminator=True)
        self._update(losses.generator, self.optimizer_G, self.scalers[0])
        with torch.autocast(self.device.type, self.amp_dtype) if self.amp_dtype else _null():
            losses.finish()
        self._update(losses.discriminator, self.optimizer_D, self.scalers[1])
        values = losses.scalars()
        values["G_total"] = float(losses.generator.detach())
        values["D_total"] = float(losses.discriminator.detach())
        self.last_visuals = {"real": real.detach(), "fake": fake.detach()}
        if "labels" in batch:
            self.last_visuals["labels"] = batch["labels"][:, 0]
        else:
            self.last_visuals["inputs"] = batch["inputs"][:, 0]
        return values

    def _log(self, step: int, losses: dict[str, float], schedule: Any) -> None:
        cfg, log = self.config, self.logger
        log.advance(1, {k: losses[k] for k in ("G_total", "D_total", "G_GAN", "G_VGG") if k in losses})
        if step % cfg.log_every == 0 or step == 1:
            log.scalars(step, {**losses, "train/lr_G": self.optimizer_G.param_groups[0]["lr"]})
        if log.enabled and log.writer is not None and (step % cfg.image_every == 0 or step == 1):
            v = self.last_visuals
            grid = visual_grid(
                real=v["real"],
                fake=v["fake"],
                labels=v.get("labels"),
                label_nc=cfg.generator.label_nc,
                inputs=v.get("inputs"),
            )
            log.image(step, "visuals/labels_fake_real", grid)

    # ------------------------------------------------------------------ features
    def compute_feature_clusters(self) -> dict[str, Tensor]:
        """Encode every training clip's frames and K-means the instance features per class."""
        if self.encoder is None:
            raise ValueError("compute_feature_clusters needs use_features=True")

        def samples():
            for i in range(self.dataset.n_clips):
                clip = self.dataset.load_clip(i)
                yield clip["frames"], clip["instances"]

        features = encode_instance_features(self.encoder, samples(), self.device)
        self.feature_clusters = cluster_features(features, self.config.n_clusters, self.config.seed)
        return self.feature_clusters

    def train(self) -> Any:
        """Run the schedule (see :meth:`TrainerBase.train`); clusters features at the end."""
        result = super().train()
        if self.encoder is not None and not result.interrupted and self.dist.is_main:
            self.compute_feature_clusters()
            self.save_checkpoint()
        return result

    # ------------------------------------------------------------------ checkpoints
    def _modules(self) -> dict[str, torch.nn.Module]:
        return {"image_d": self.objective.image_d}

    def _optimizer_state(self) -> dict[str, Any]:
        return {"G": self.optimizer_G.state_dict(), "D": self.optimizer_D.state_dict()}

    def _load_optimizer_state(self, state: dict[str, Any]) -> None:
        self.optimizer_G.load_state_dict(state["G"])
        self.optimizer_D.load_state_dict(state["D"])

    def _save_model(self, folder: Path) -> None:
        cfg = self.config
        save_image_model(
            folder,
            self.generator,
            label_nc=cfg.generator.label_nc,
            use_instance=cfg.generator.use_instance,
            input_nc=cfg.generator.input_nc,
            encoder=self.encoder,
            encoder_args=self.encoder_args,
            feature_clusters=self.feature_clusters,
            metadata={
                "training": {
                    "global_step": self.progress.global_step,
                    "epoch": self.progress.epoch,
                    "dataroot": cfg.dataroot,
                }
            },
        )

    def _load_model(self, folder: Path) -> None:
        model = load_image_model(folder, device=self.device)
        self.generator.load_state_dict(model.generator.state_dict())
        if self.encoder is not None:
            if model.encoder is None:
                raise ValueError(f"checkpoint {folder.parent} has no feature encoder but use_features=True")
            self.encoder.load_state_dict(model.encoder.state_dict())
        self.feature_clusters = model.feature_clusters


def _null() -> Any:
    import contextlib

    return contextlib.nullcontext()
