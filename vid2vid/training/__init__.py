"""Training: the vid2vid objective, its schedules, checkpoints, multi-GPU (DDP) and mixed precision."""

from vid2vid.training.config import (
    PRESETS,
    TrainConfig,
    apply_overrides,
    get_preset,
    load_config,
    save_config,
)
from vid2vid.training.distributed import DistContext, ShardedEpochSampler, init_distributed
from vid2vid.training.features import cluster_features, encode_instance_features, kmeans
from vid2vid.training.image_trainer import ImageModel, ImageTrainer, load_image_model, save_image_model
from vid2vid.training.logging import TrainLogger
from vid2vid.training.objective import (
    FrameBatch,
    ImageObjective,
    LossTerms,
    TemporalWindows,
    Vid2VidObjective,
)
from vid2vid.training.schedule import SequenceSchedule, lr_factor, sequence_schedule
from vid2vid.training.state import TrainingProgress, resolve_checkpoint
from vid2vid.training.trainer import TrainResult, Vid2VidTrainer, load_coarser_generator

__all__ = [
    "TrainConfig",
    "PRESETS",
    "get_preset",
    "apply_overrides",
    "load_config",
    "save_config",
    "Vid2VidTrainer",
    "TrainResult",
    "load_coarser_generator",
    "Vid2VidObjective",
    "ImageObjective",
    "FrameBatch",
    "LossTerms",
    "TemporalWindows",
    "SequenceSchedule",
    "sequence_schedule",
    "lr_factor",
    "TrainingProgress",
    "resolve_checkpoint",
    "DistContext",
    "init_distributed",
    "ShardedEpochSampler",
    "TrainLogger",
    "ImageTrainer",
    "ImageModel",
    "load_image_model",
    "save_image_model",
    "kmeans",
    "cluster_features",
    "encode_instance_features",
]
