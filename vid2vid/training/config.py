"""Training configuration (vid2vid §4 "Implementation details"; the original's ``train_options``).

:class:`TrainConfig` is one JSON/YAML-able dataclass holding every knob of a training run: the
generator's architecture (a nested :class:`~vid2vid.nn.SequentialGeneratorConfig`), the
discriminators, the loss weights, the optimiser and its schedules, the data and the runtime.
Presets mirroring the original's ``scripts/{street,face,pose}/train_*.sh`` are thin functions
returning a config; :func:`apply_overrides` applies ``key=value`` strings (``--set`` on the
command line; nested keys use a dot: ``generator.ngf=64``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from vid2vid.config_io import JsonConfig
from vid2vid.losses.gan import GAN_MODES
from vid2vid.nn import presets as generator_presets
from vid2vid.nn.image_generator import ImageGeneratorConfig
from vid2vid.nn.init import INIT_MODES
from vid2vid.nn.norm import check_norm
from vid2vid.nn.sequential_generator import SequentialGeneratorConfig

__all__ = [
    "TrainConfig",
    "AMP_MODES",
    "MODEL_KINDS",
    "PRESETS",
    "get_preset",
    "apply_overrides",
    "load_config",
    "save_config",
    "tiny",
    "TINY_DATA",
    "street_256",
    "street_512",
    "street_1024",
    "street_2048",
    "face_512",
    "pose_256",
    "pose_512",
]

AMP_MODES: tuple[str, ...] = ("none", "bf16", "fp16")
MODEL_KINDS: tuple[str, ...] = ("vid2vid", "image")
FLOW_SOURCES: tuple[str, ...] = ("cache", "dis", "raft_small", "raft_large")
DATASET_MODES: tuple[str, ...] = ("clips", "face", "pose")
_NESTED = {"generator": SequentialGeneratorConfig, "image_generator": ImageGeneratorConfig}


@dataclass
class TrainConfig(JsonConfig):
    """Every setting of a training run (JSON-serialisable; see ``docs/training.md``).

    Model:
        model: ``"vid2vid"`` (sequential generator) or ``"image"`` (pix2pixHD first-frame model).
        generator: the sequential generator's architecture (also gives ``label_nc``,
            ``use_instance``, ``no_first_frame``, ``n_frames_G``, ``n_scales`` ...).
        image_generator: the pix2pixHD generator's architecture (``model="image"``); its
            ``input_nc`` is filled in from the data (+ ``feat_num`` with ``use_features``).

    Discriminators: ``ndf``, ``n_layers_D``, ``num_D``, ``norm_D``, ``ndf_max`` (image and
    temporal), ``n_frames_D`` (frames per temporal window) and ``n_scales_temporal``;
    ``sparse_D`` (the original's sparse temporal windows: each frame in one window per scale,
    :class:`~vid2vid.training.objective.SparseTemporalWindows`); ``add_face_disc`` (the original's
    face discriminator for pose → body: ``max(1, num_D - 2)`` scales on a ``fine_size // 32 * 8``
    square around the face, found by the DensePose head rule or, with ``openpose_only``, by the
    OpenPose face colour).

    Losses (the original's defaults): ``gan_mode`` (``"lsgan"``), ``lambda_feat`` (feature
    matching, 10), ``lambda_vgg`` (VGG, 10; the original reuses ``lambda_feat``), ``lambda_F``
    (flow, 10, divided by ``2**(n_scales - 1)``), ``lambda_T`` (warp, 10), ``lambda_W``
    (occlusion mask, 1, only with ``no_first_frame``), ``no_ganFeat``, ``vgg_weights``
    (``"default"``: ImageNet VGG19; a path; ``None``: random weights, tests only; ``"none"``:
    no VGG loss).

    Optimisation: Adam ``lr``, ``beta1``, ``beta2``; ``TTUR`` (G: lr/2, D: lr*2, betas (0, 0.9));
    ``decay_temporal_d`` (the temporal discriminators' lr decays too; the original keeps it constant);
    ``niter`` epochs at ``lr`` then ``niter_decay`` epochs of linear decay to 0; ``niter_step``
    (the sequence length doubles every that many epochs); ``niter_fix_global`` (train only the
    finest spatial scale for that many epochs).

    Sequences: ``n_frames_total`` (generated frames per sample at first), ``max_frames_per_gpu``
    and ``n_gpus_gen`` (a chunk holds ``n_gpus_gen * max_frames_per_gpu`` frames with
    ``batch_size`` 1 — the original spreads it over ``n_gpus_gen`` GPUs, we generate it on one
    device — and ``max_frames_per_gpu`` otherwise; history is detached between chunks), ``max_frames_backpropagate``
    (largest number of frames a gradient may flow back through), ``max_t_step``,
    ``max_sequence_length`` (cap of the doubling, 128 in the original), ``batch_size``;
    ``g_warp_chunk_start``: the generated frame before a later chunk's first frame in the
    ``G_Warp`` loss — ``"previous_chunk"`` (the previous chunk's last output: what the original
    computes on GPUs, where ``nn.DataParallel`` copies the generator's inputs) or ``"chunk_last"``
    (the current chunk's last output: what the original computes when that wrapper passes its
    inputs through, as on the CPU — its ``generate_frame_train`` extends the caller's history list
    in place; the training-step fixtures were made so).

    Data: ``dataroot``, ``phase``, ``resize_mode``, ``load_size``, ``fine_size``, ``flip``,
    ``num_workers``; ``flow_source``: ``"cache"`` (the ``{phase}_flow`` cache written by
    ``vid2vid prepare-flow`` or by the synthetic dataset) or an estimator name (``"dis"``,
    ``"raft_small"``, ``"raft_large"``) run on the fly; ``flow_confidence``: ``"recompute"`` (the
    original's photometric confidence of the cached flow, computed on the training-resolution
    frames) or ``"cache"`` (the confidence stored in the cache, e.g. the synthetic set's exact
    validity mask).

    Initialisation: ``init``: ``"original"`` (the original's ``weights_init``: conv weights
    ``N(0, 0.02)``, norm weights ``N(1, 0.02)`` and biases 0; see :mod:`vid2vid.nn.init`) or
    ``"pytorch"`` (PyTorch's defaults); ``load_pretrain``: the run folder (or its model folder) of
    a coarser model (``n_scales - 1`` scales) whose generator scales — and, from a run folder,
    discriminators — are copied before training the new finest scale.

    Face and pose data (``docs/data-face-pose-flow.md``): ``dataset_mode`` ``"clips"`` (the
    ``{phase}_A``/``{phase}_B`` layout, :class:`~vid2vid.data.ClipDataset`), ``"face"``
    (landmarks, :class:`~vid2vid.data.FaceDataset`: ``load_size`` is the crop's output width,
    ``generator.input_nc`` 15 = with distance maps, 1 = edges only; ``flip``, ``no_canny_edge``,
    ``random_scale_points``, ``face_crop_jitter``) or ``"pose"`` (OpenPose / DensePose,
    :class:`~vid2vid.data.PoseDataset`: ``generator.input_nc`` 6 = both, 3 = OpenPose or, with
    ``densepose_only``, DensePose; ``resize_mode`` one of its modes, ``load_size``, ``fine_size``;
    ``random_drop_prob``, ``remove_face_labels``, ``basic_point_only``, ``pose_center_crop``,
    ``pose_sample_by_length``; never flipped).

    Multimodal (``model="image"``): ``use_features`` (train an instance feature encoder),
    ``feat_num``, ``nef``, ``n_downsample_E``, ``n_clusters`` (K-means per class).

    Runtime: ``amp`` (``"none"``, ``"bf16"``, ``"fp16"``; CUDA only), ``dtype`` (parameter
    precision: ``"float32"``, or ``"float64"`` for numerical checks), ``device`` (``"auto"``,
    ``"cpu"``, ``"cuda"``, ``"cuda:1"`` ...), ``checkpoint_dir``, ``save_every`` (iterations),
    ``log_every``, ``image_every``, ``seed``, ``max_iters`` (stop after that many iterations in
    all; ``None``: run the whole schedule), ``tensorboard``, ``progress``.
    """

    model: str = "vid2vid"
    generator: SequentialGeneratorConfig = field(default_factory=SequentialGeneratorConfig)
    image_generator: ImageGeneratorConfig = field(default_factory=ImageGeneratorConfig)
    # discriminators
    ndf: int = 64
    n_layers_D: int = 3
    num_D: int = 2
    norm_D: str = "batch"
    ndf_max: int = 64
    n_frames_D: int = 3
    n_scales_temporal: int = 2
    # losses
    gan_mode: str = "lsgan"
    lambda_feat: float = 10.0
    lambda_vgg: float = 10.0
    lambda_F: float = 10.0
    lambda_T: float = 10.0
    lambda_W: float = 1.0
    no_ganFeat: bool = False
    add_face_disc: bool = False
    openpose_only: bool = False
    sparse_D: bool = False
    vgg_weights: str | None = "default"
    # optimisation and schedules
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    TTUR: bool = False
    decay_temporal_d: bool = False
    niter: int = 10
    niter_decay: int = 10
    niter_step: int = 5
    niter_fix_global: int = 0
    # sequences
    n_frames_total: int = 30
    max_frames_per_gpu: int = 1
    n_gpus_gen: int = 1
    max_frames_backpropagate: int = 1
    g_warp_chunk_start: str = "previous_chunk"
    max_t_step: int = 1
    max_sequence_length: int = 128
    batch_size: int = 1
    # data
    dataroot: str = ""
    phase: str = "train"
    resize_mode: str = "scale_width"
    load_size: int = 512
    fine_size: int = 512
    flip: bool = True
    num_workers: int = 2
    flow_source: str = "cache"
    flow_confidence: str = "recompute"
    # face / pose data (dataset_mode "face" / "pose"; see vid2vid.data.FaceDataset / PoseDataset)
    dataset_mode: str = "clips"
    no_canny_edge: bool = False
    random_scale_points: bool = False
    face_crop_jitter: float = 0.0
    random_drop_prob: float = 0.05
    remove_face_labels: bool = False
    basic_point_only: bool = False
    densepose_only: bool = False
    pose_center_crop: bool = True
    pose_sample_by_length: bool = True
    # initialisation
    init: str = "original"
    load_pretrain: str | None = None
    # multimodal synthesis (image model)
    use_features: bool = False
    feat_num: int = 3
    nef: int = 16
    n_downsample_E: int = 4
    n_clusters: int = 10
    # runtime
    amp: str = "none"
    dtype: str = "float32"
    device: str = "auto"
    checkpoint_dir: str = "checkpoints/vid2vid"
    save_every: int = 1000
    log_every: int = 100
    image_every: int = 500
    seed: int = 0
    max_iters: int | None = None
    tensorboard: bool = True
    progress: bool = True

    def __post_init__(self) -> None:
        for f in fields(self):  # YAML reads "1e-4" as a string: coerce numbers of float fields
            value = getattr(self, f.name)
            if f.type == "float" and isinstance(value, str | int) and not isinstance(value, bool):
                try:
                    setattr(self, f.name, float(value))
                except ValueError as err:
                    raise ValueError(f"{f.name} must be a number, got {value!r}") from err
        if isinstance(self.generator, Mapping):
            self.generator = SequentialGeneratorConfig.from_dict(dict(self.generator))
        if isinstance(self.image_generator, Mapping):
            self.image_generator = ImageGeneratorConfig.from_dict(dict(self.image_generator))
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid setting."""
        for f in fields(self):  # JSON types first: "8" for an int or nan for a rate fail here, by name
            value = getattr(self, f.name)
            expected = {"int": int, "float": float, "bool": bool, "str": str}.get(str(f.type))
            if expected is not None and (
                not isinstance(value, expected) or (expected is not bool and isinstance(value, bool))
            ):
                raise ValueError(
                    f"{f.name} must be {expected.__name__}, got {type(value).__name__} {value!r}"
                )
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{f.name} must be a finite number, got {value}")
        if self.model not in MODEL_KINDS:
            raise ValueError(f"model must be one of {MODEL_KINDS}, got {self.model!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(
                f"dtype must be 'float32' or 'float64' (use amp for half precision), got {self.dtype!r}"
            )
        if self.dtype == "float64" and self.amp != "none":
            raise ValueError("amp needs dtype='float32'")
        if self.amp not in AMP_MODES:
            raise ValueError(f"amp must be one of {AMP_MODES}, got {self.amp!r}")
        if self.gan_mode not in GAN_MODES:
            raise ValueError(f"gan_mode must be one of {GAN_MODES}, got {self.gan_mode!r}")
        if self.flow_confidence not in ("recompute", "cache"):
            raise ValueError(f"flow_confidence must be 'recompute' or 'cache', got {self.flow_confidence!r}")
        if self.init not in INIT_MODES:
            raise ValueError(f"init must be one of {INIT_MODES}, got {self.init!r}")
        if self.g_warp_chunk_start not in ("previous_chunk", "chunk_last"):
            raise ValueError(
                f"g_warp_chunk_start must be 'previous_chunk' or 'chunk_last', got {self.g_warp_chunk_start!r}"
            )
        if self.dataset_mode not in DATASET_MODES:
            raise ValueError(f"dataset_mode must be one of {DATASET_MODES}, got {self.dataset_mode!r}")
        if not 0.0 <= self.random_drop_prob < 1.0:
            raise ValueError(f"random_drop_prob must be in [0, 1), got {self.random_drop_prob}")
        if not 0.0 <= self.face_crop_jitter < 0.5:
            raise ValueError(f"face_crop_jitter must be in [0, 0.5), got {self.face_crop_jitter}")
        if self.flow_source not in FLOW_SOURCES:
            raise ValueError(f"flow_source must be one of {FLOW_SOURCES}, got {self.flow_source!r}")
        check_norm(self.norm_D)
        positive = {
            "ndf": self.ndf,
            "num_D": self.num_D,
            "n_scales_temporal": self.n_scales_temporal,
            "niter_step": self.niter_step,
            "n_frames_total": self.n_frames_total,
            "max_frames_per_gpu": self.max_frames_per_gpu,
            "n_gpus_gen": self.n_gpus_gen,
            "max_frames_backpropagate": self.max_frames_backpropagate,
            "max_t_step": self.max_t_step,
            "batch_size": self.batch_size,
            "save_every": self.save_every,
            "log_every": self.log_every,
            "image_every": self.image_every,
            "n_clusters": self.n_clusters,
        }
        bad = {k: v for k, v in positive.items() if v < 1}
        if bad:
            raise ValueError(f"these settings must be >= 1: {bad}")
        if self.n_frames_D < 2:
            raise ValueError(f"n_frames_D must be >= 2, got {self.n_frames_D}")
        if self.niter < 0 or self.niter_decay < 0 or self.niter + self.niter_decay < 1:
            raise ValueError(
                f"niter and niter_decay must be >= 0 with at least one epoch in all, got {self.niter}, {self.niter_decay}"
            )
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.max_iters is not None and self.max_iters < 1:
            raise ValueError(f"max_iters must be >= 1 or None, got {self.max_iters}")
        if self.flow_source == "cache" and self.max_t_step > 1 and self.model == "vid2vid":
            raise ValueError(
                "flow_source='cache' needs max_t_step=1 (cached flow links consecutive frames); "
                "use an estimator (flow_source='dis' or 'raft_small') with max_t_step > 1"
            )

    @property
    def n_epochs(self) -> int:
        """Total number of epochs: ``niter + niter_decay``."""
        return self.niter + self.niter_decay

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-able dictionary (nested generator configs as dictionaries)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in _NESTED:
            data[name] = getattr(self, name).to_dict()
        return data

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied (validated)."""
        return dataclasses.replace(self, **changes)


# ---------------------------------------------------------------------- files and overrides
def load_config(path: str | os.PathLike[str]) -> TrainConfig:
    """Read a :class:`TrainConfig` from a ``.yaml``/``.yml`` or ``.json`` file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"training config file not found: {path}")
    text = path.read_text()
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ValueError(f"{path} is not valid YAML: {err}") from err
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON: {err}") from err
    if not isinstance(data, Mapping):
        raise ValueError(f"{path} must hold a mapping of TrainConfig settings, got {type(data).__name__}")
    try:
        return TrainConfig.from_dict(data)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: {err}") from err


def save_config(config: TrainConfig, path: str | os.PathLike[str]) -> Path:
    """Write ``config`` as YAML (``.yaml``/``.yml``) or JSON (any other suffix), atomically."""
    from vid2vid.atomic import atomic_write_bytes

    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(config.to_dict(), sort_keys=True)
    else:
        text = config.to_json() + "\n"
    return atomic_write_bytes(path, text.encode())


def _parse_value(text: str) -> Any:
    """A ``--set`` value: YAML scalars/lists (``1e-4``, ``true``, ``null``, ``[26, 24]``) or a string."""
    import yaml

    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_overrides(config: TrainConfig, overrides: Iterable[str] | Mapping[str, Any]) -> TrainConfig:
    """A copy of ``config`` with ``key=value`` overrides applied (``generator.ngf=64`` for nested keys).

    Values are parsed as YAML scalars, so ``lr=1e-4``, ``TTUR=true``, ``max_iters=null`` and
    ``generator.fg_labels=[26,27]`` work. Unknown keys are an error naming the known ones.
    """
    items: list[tuple[str, Any]]
    if isinstance(overrides, Mapping):
        items = list(overrides.items())
    else:
        items = []
        for text in overrides:
            if "=" not in text:
                raise ValueError(
                    f"override {text!r} must look like key=value (e.g. lr=1e-4, generator.ngf=64)"
                )
            key, value = text.split("=", 1)
            items.append((key.strip(), _parse_value(value.strip())))
    data = config.to_dict()
    for key, value in items:
        head, _, tail = key.partition(".")
        if head not in data:
            raise ValueError(f"unknown setting {key!r}; known: {sorted(data)}")
        if tail:
            if head not in _NESTED:
                raise ValueError(f"{head!r} has no sub-settings (got {key!r})")
            if tail not in data[head]:
                raise ValueError(f"unknown setting {key!r}; {head} has {sorted(data[head])}")
            data[head][tail] = value
        else:
            data[head] = value
    try:
        return TrainConfig.from_dict(data)
    except TypeError as err:
        raise ValueError(f"invalid override: {err}") from err


# ---------------------------------------------------------------------- presets
def _street(**changes: Any) -> TrainConfig:
    gen: dict[str, Any] = changes.pop("generator", {})
    n_scales = gen.pop("n_scales", 1)
    generator = {
        1: generator_presets.street_512,
        2: generator_presets.street_1024,
        3: generator_presets.street_2048,
    }
    return TrainConfig(generator=generator[n_scales](**gen), **changes)


def street_256() -> TrainConfig:
    """Cityscapes 256 (``scripts/street/train_g1_256.sh``): one GPU, ``n_downsample 2``, one D scale."""
    return _street(
        generator={"n_downsample": 2},
        load_size=256,
        num_D=1,
        max_frames_per_gpu=6,
        n_frames_total=6,
    )


def street_512() -> TrainConfig:
    """Cityscapes 512 (``scripts/street/train_512.sh``): ``n_frames_total 6``, 6 generator GPUs × 2
    frames: one chunk of 6 frames (12 after the first doubling)."""
    return _street(load_size=512, n_frames_total=6, max_frames_per_gpu=2, n_gpus_gen=6)


def street_1024() -> TrainConfig:
    """Cityscapes 1024 (``train_1024.sh``): 2 spatial scales from the 512 model, finest only for 10 epochs."""
    return _street(
        generator={"n_scales": 2},
        load_size=1024,
        num_D=3,
        n_frames_total=4,
        n_gpus_gen=4,
        niter_step=2,
        niter_fix_global=10,
        load_pretrain="checkpoints/street_512/latest/model",
        lr=1e-4,
    )


def street_2048() -> TrainConfig:
    """Cityscapes 2048 (``train_2048.sh``): 3 spatial scales from the 1024 model, 5 + 5 epochs."""
    return _street(
        generator={"n_scales": 3},
        load_size=2048,
        num_D=4,
        n_frames_total=4,
        n_gpus_gen=4,
        niter_step=1,
        niter=5,
        niter_decay=5,
        niter_fix_global=5,
        load_pretrain="checkpoints/street_1024/latest/model",
        lr=5e-5,
    )


def face_512() -> TrainConfig:
    """edge2face 512 (``scripts/face/train_512.sh``): 15 continuous input channels, 3 D scales,
    6 generator GPUs × 1 frame: chunks of 6 frames."""
    return TrainConfig(
        generator=generator_presets.face_512(),
        dataset_mode="face",
        load_size=512,
        num_D=3,
        n_frames_total=12,
        n_gpus_gen=6,
    )


def pose_256() -> TrainConfig:
    """pose2body 256p (``scripts/pose/train_256p.sh``): 6 input channels, no first frame, t-step 4.

    The original's ``ScaleHeight_and_scaledCrop --loadSize 384 --fineSize 256``: a random crop of
    256 rows (x around the centre, y in the top eighth) after scaling the height to 384, then the
    central half of the columns. Frames are up to 4 apart, so reference flow comes from an
    estimator (``flow_source="dis"``).
    """
    return TrainConfig(
        generator=generator_presets.pose_256(),
        dataset_mode="pose",
        num_D=2,
        resize_mode="scale_height_and_crop",
        load_size=384,
        fine_size=256,
        batch_size=8,
        max_frames_per_gpu=3,
        n_frames_total=12,
        max_t_step=4,
        flip=False,  # the original's pose dataset never flips (a flip swaps left and right limbs)
        flow_source="dis",
    )


def pose_512() -> TrainConfig:
    """pose2body 512p (``train_512p.sh``): 2 spatial scales from the 256p model, finest only for 3 epochs."""
    return TrainConfig(
        generator=generator_presets.pose_512(),
        dataset_mode="pose",
        num_D=3,
        resize_mode="random_scale_height_and_crop",
        load_size=768,
        fine_size=512,
        batch_size=8,
        n_frames_total=12,
        max_t_step=4,
        niter_fix_global=3,
        niter=5,
        niter_decay=5,
        lr=1e-4,
        load_pretrain="checkpoints/pose_256/latest/model",
        add_face_disc=True,
        flip=False,
        flow_source="dis",
    )


TINY_DATA: dict[str, Any] = {"clips": 16, "frames": 12, "size": (128, 64), "out": "data/tiny"}
"""The synthetic dataset of the ``tiny`` preset (``vid2vid make-synthetic --preset tiny``)."""


def tiny() -> TrainConfig:
    """CPU quick start on ``vid2vid make-synthetic --preset tiny`` (16 clips x 12 frames, 128x64).

    The demo model's recipe shortened (``scripts/train_demo_model.py``): ngf 16, 3 residual
    blocks, one discriminator scale, no VGG term (no download), 4-frame sequences that do not
    double, batch 1 at lr 4e-4 (more updates for the same compute), 25 epochs of 16 iterations
    (measured: 270 s of CPU time single-threaded, docs/performance.md); starts from zero history
    (``no_first_frame``), so ``vid2vid synthesize`` needs no real first frames.
    """
    return TrainConfig(
        generator=SequentialGeneratorConfig(
            label_nc=35,
            use_instance=True,
            ngf=16,
            n_downsample=3,
            n_blocks=3,
            n_blocks_local=1,
            no_first_frame=True,
        ),
        ndf=16,
        ndf_max=16,
        num_D=1,
        norm_D="instance",
        n_scales_temporal=1,
        vgg_weights="none",
        dataroot=str(TINY_DATA["out"]),
        load_size=128,
        fine_size=128,
        flip=False,
        num_workers=0,
        batch_size=1,
        n_frames_total=4,
        max_frames_per_gpu=2,
        niter_step=1000,
        lr=4e-4,
        niter=15,
        niter_decay=10,
        save_every=50,
        log_every=10,
        image_every=100,
    )


def _named(name: str, factory: Callable[[], TrainConfig]) -> Callable[[], TrainConfig]:
    """The preset ``factory`` with ``checkpoint_dir=checkpoints/<name>`` (so presets chain by path)."""

    def preset() -> TrainConfig:
        return factory().replace(checkpoint_dir=f"checkpoints/{name}")

    preset.__doc__ = factory.__doc__
    preset.__name__ = name
    return preset


PRESETS: dict[str, Callable[[], TrainConfig]] = {
    name: _named(name, factory)
    for name, factory in {
        "tiny": tiny,
        "street_256": street_256,
        "street_512": street_512,
        "street_1024": street_1024,
        "street_2048": street_2048,
        "face_512": face_512,
        "pose_256": pose_256,
        "pose_512": pose_512,
    }.items()
}


def get_preset(name: str) -> TrainConfig:
    """The preset called ``name`` (see :data:`PRESETS`)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; available: {', '.join(PRESETS)}")
    return PRESETS[name]()
