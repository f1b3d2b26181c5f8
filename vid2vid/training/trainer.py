"""The vid2vid training loop (§3–4): sequences in chunks, schedules, checkpoints, DDP, AMP.

One *iteration* takes one batch of clips (``batch_size`` per process) and generates
``n_frames_generated`` frames of each, chunk by chunk (``frames_per_chunk`` frames; the history
is detached between chunks and every ``frames_backprop`` frames inside one). After every chunk
the generator, the image discriminator and each temporal discriminator take one Adam step on
the chunk's losses (:class:`~vid2vid.training.objective.Vid2VidObjective`), in that order, as
the original does. An *epoch* is one pass over the dataset's clips; schedules
(:mod:`vid2vid.training.schedule`) change between epochs.
"""

from __future__ import annotations

import contextlib
import math
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from vid2vid.data.clip_dataset import ClipDataset, collate_clips
from vid2vid.flow.confidence import flow_confidence
from vid2vid.losses import VGG19Features, VGGLoss
from vid2vid.model_folder import load_model_folder, save_model_folder
from vid2vid.nn.init import init_weights_original
from vid2vid.nn.sequential_generator import GeneratorState, SequentialGenerator, SequentialGeneratorConfig
from vid2vid.training.config import TrainConfig, save_config
from vid2vid.training.distributed import (
    DistContext,
    ShardedEpochSampler,
    all_reduce_mean,
    broadcast_parameters,
    wrap_ddp,
)
from vid2vid.training.eta import ScheduleETA, format_seconds
from vid2vid.training.logging import TrainLogger, visual_grid
from vid2vid.training.objective import (
    FrameBatch,
    LossTerms,
    PairFlowFunction,
    SparseTemporalWindows,
    TemporalWindows,
    Vid2VidObjective,
)
from vid2vid.training.schedule import SequenceSchedule, lr_factor, sequence_schedule
from vid2vid.training.state import (
    CONFIG_FILE,
    DISCRIMINATORS_FILE,
    MODEL_DIR,
    OPTIMIZERS_FILE,
    PROGRESS_FILE,
    RNG_FILE,
    TrainingProgress,
    capture_rng_state,
    checkpoint_writer,
    load_modules,
    load_torch_state,
    read_progress,
    resolve_checkpoint,
    restore_rng_state,
    save_modules,
    save_torch_state,
    write_progress,
)
from vid2vid.training.summary import startup_summary

__all__ = [
    "IterationObserver",
    "TrainerBase",
    "Vid2VidTrainer",
    "TrainResult",
    "resolve_device",
    "build_vgg_loss",
    "build_clip_dataset",
    "load_coarser_generator",
    "load_coarser_discriminators",
    "StopFlag",
]


@dataclass
class TrainResult:
    """Summary of a :meth:`Vid2VidTrainer.train` call.

    Attributes:
        checkpoint: the checkpoint folder written last (``None`` on non-main processes).
        global_step: iterations done in all.
        epoch: 0-based epoch the run stopped in (``n_epochs`` when the schedule is complete).
        interrupted: a signal stopped the run (after saving).
        iterations: iterations done by this call; ``seconds``: its wall time.
        last_losses: the last iteration's loss terms.
    """

    checkpoint: Path | None
    global_step: int
    epoch: int
    interrupted: bool = False
    iterations: int = 0
    seconds: float = 0.0
    last_losses: dict[str, float] = field(default_factory=dict)

    @property
    def iterations_per_second(self) -> float:
        """Iterations per second of this call."""
        return self.iterations / self.seconds if self.seconds > 0 else 0.0


def resolve_device(name: str) -> torch.device:
    """``"auto"`` → CUDA when available else CPU; otherwise ``torch.device(name)`` (checked)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available; use device='cpu'")
    return device


def build_vgg_loss(weights: str | None) -> VGGLoss | None:
    """VGG loss from the config's ``vgg_weights``: ``"none"`` → no loss; ``None`` → random (tests)."""
    if weights == "none":
        return None
    return VGGLoss(VGG19Features(weights=weights))


def build_clip_dataset(
    config: TrainConfig, n_frames: int, size_multiple: int, load_flow: bool
) -> ClipDataset:
    """The training :class:`ClipDataset` described by ``config`` (seeded: deterministic samples).

    With ``config.dataset_mode`` ``"face"`` / ``"pose"`` a :class:`~vid2vid.data.FaceDataset` /
    :class:`~vid2vid.data.PoseDataset` instead (same sample keys and methods).
    """
    if config.dataset_mode != "clips":
        from vid2vid.training.keypoint_data import build_keypoint_dataset

        return build_keypoint_dataset(config, n_frames, size_multiple, load_flow)  # type: ignore[return-value]
    if not config.dataroot:
        raise ValueError("no dataset: set dataroot (--dataroot) to a folder in the vid2vid layout")
    gen = config.generator
    return ClipDataset(
        config.dataroot,
        phase=config.phase,
        label_nc=gen.label_nc,
        n_frames=n_frames,
        max_t_step=config.max_t_step,
        use_instance=gen.use_instance,
        resize_mode=config.resize_mode,
        load_size=config.load_size,
        fine_size=config.fine_size,
        size_divisor=size_multiple,
        flip=config.flip,
        load_flow=load_flow,
        seed=config.seed,
    )


_COARSE_FIELDS_FREE = {"n_scales", "n_blocks_local", "no_first_frame"}


def load_coarser_generator(generator: SequentialGenerator, folder: str | Path) -> int:
    """Copy the scales of a coarser trained model into ``generator`` (spatial coarse-to-fine, §3.3).

    The model folder's generator must have fewer scales and otherwise the same architecture;
    its scales ``0..S_old-1`` (coarse first) are copied, the finer ones keep their fresh
    initialisation. Returns ``S_old``.
    """
    coarse = load_model_folder(folder).generator
    old, new = coarse.config, generator.config
    if old.n_scales >= new.n_scales:
        raise ValueError(
            f"load_pretrain {folder} has {old.n_scales} spatial scales; the new model must have more "
            f"(it has {new.n_scales})"
        )
    diffs = [
        f"{f.name}: {getattr(old, f.name)!r} vs {getattr(new, f.name)!r}"
        for f in fields(SequentialGeneratorConfig)
        if f.name not in _COARSE_FIELDS_FREE and getattr(old, f.name) != getattr(new, f.name)
    ]
    if diffs:
        raise ValueError(f"load_pretrain {folder} is incompatible with the new generator: {'; '.join(diffs)}")
    for s in range(old.n_scales):
        generator.scales[s].load_state_dict(coarse.scales[s].state_dict())
    return old.n_scales


def load_coarser_discriminators(
    image_d: nn.Module, temporal_d: nn.Module, folder: str | Path, face_d: nn.Module | None = None
) -> list[str]:
    """Copy a coarser run's discriminators into a finer run's (the original's ``load_pretrain``).

    The original loads ``D`` and every ``D_T<s>`` of the coarser run by key name, keeping the
    tensors whose shapes fit. Its multi-scale discriminators name the scale that sees the
    full-resolution input ``scale{num_D-1}``, so with one more spatial scale (and one more D
    scale) the names line up by absolute resolution: our scale ``i`` (input pooled ``i`` times)
    receives the coarser run's scale ``i - (num_D_new - num_D_old)``; the new full-resolution
    scales start fresh.

    Args:
        image_d: the new :class:`~vid2vid.nn.MultiScaleDiscriminator`.
        temporal_d: the new :class:`~vid2vid.nn.TemporalDiscriminator`.
        face_d: the new face discriminator (``add_face_disc``), if any.
        folder: the coarser run's checkpoint folder (``.../latest``) or its model folder
            (``.../latest/model``); its ``discriminators.safetensors`` is read.

    Returns:
        The loaded tensor names (ours); empty when the coarser run has no discriminator file
        (e.g. a bare model folder), in which case the discriminators keep their initialisation.
    """
    from vid2vid.checkpoint import load_state_dict as read_tensors

    folder = Path(folder)
    candidates = [folder / DISCRIMINATORS_FILE, folder.parent / DISCRIMINATORS_FILE]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        return []
    old = read_tensors(path)
    loaded: list[str] = []
    targets = [("image_d", image_d)] + [
        (f"temporal_d.scales.{s}", scale) for s, scale in enumerate(temporal_d.scales)
    ]
    if face_d is not None:
        targets.append(("face_d", face_d))
    with torch.no_grad():
        for prefix, module in targets:
            n_new = len(module.scales)
            old_scales = {
                int(k[len(prefix) + 8 :].split(".", 1)[0]) for k in old if k.startswith(prefix + ".scales.")
            }
            shift = n_new - len(old_scales)
            for key, tensor in module.state_dict().items():
                i, rest = key.removeprefix("scales.").split(".", 1)
                src = f"{prefix}.scales.{int(i) - shift}.{rest}"
                if int(i) - shift >= 0 and src in old and old[src].shape == tensor.shape:
                    tensor.copy_(old[src])
                    loaded.append(f"{prefix}.{key}")
    return loaded


class StopFlag:
    """Turns SIGINT/SIGTERM into a flag checked between iterations (installed only in the main thread)."""

    def __init__(self) -> None:
        self.requested = False
        self.signal_name = ""
        self._previous: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:
        self.requested = True
        self.signal_name = signal.Signals(signum).name

    def __enter__(self) -> StopFlag:
        with contextlib.suppress(ValueError):  # not the main thread: no handlers
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _ignore_stop_signals(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: workers leave SIGINT/SIGTERM to the main process.

    Batch schedulers, ``timeout`` and Ctrl-C signal the whole process group; a worker killed by
    such a signal would take the main process down ("DataLoader worker ... killed by signal")
    before it could save. The main process stops the workers itself when it leaves the loop, and
    a worker whose main process dies exits on its own (PyTorch's parent watchdog).
    """
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def training_frame_size(dataset: Any) -> dict[str, int] | None:
    """``{"width", "height"}`` of the frames the model is trained on (the first clip's, uncropped)."""
    clips, geometry = getattr(dataset, "clips", None), getattr(dataset, "geometry", None)
    if not clips or geometry is None:
        return None
    from vid2vid.data.transforms import inference_params

    width, height = inference_params(clips[0].size, geometry).output_size
    return {"width": int(width), "height": int(height)}


class IterationObserver:
    """Sees what a training iteration computes, for replays and diagnostics (no-ops by default).

    Set ``trainer.observer`` to an instance; the trainer calls :meth:`generator_history` before
    each generator call, :meth:`gradients` after each network's backward pass (before its
    optimiser step) and :meth:`chunk` after each chunk's updates. Observers must not modify what
    they receive (:meth:`generator_history` may return a substitute).
    """

    def gradients(self, name: str, module: nn.Module) -> None:
        """``module`` (``"G"``, ``"D"``, ``"D_T<s>"``) holds the gradients of its loss in ``.grad``."""

    def generator_history(self, frame: int, history: list[Tensor]) -> list[Tensor]:
        """The history the generator is given for generated frame ``frame`` (0-based over the
        iteration): per scale, finest first, ``(B, n_frames_G - 1, 3, H_s, W_s)``.

        Returns ``history`` (the default) or tensors of the same shapes and dtypes to use instead:
        the training replays substitute the original's values (teacher forcing), keeping the
        gradient path of ``history``.
        """
        return history

    def chunk(self, index: int, tensors: dict[str, Tensor], losses: dict[str, Tensor]) -> None:
        """Chunk ``index`` of the iteration is done.

        Args:
            tensors: ``fake``, ``raw`` ``(B, n, 3, H, W)``, ``flow`` ``(B, n, 2, H, W)`` and
                ``weight`` ``(B, n, 1, H, W)`` (absent with ``no_flow``), and ``last.scale<s>``
                ``(B, n_frames_G - 1, 3, H_s, W_s)``: the history handed to the next chunk per
                spatial scale (``s = 0`` finest).
            losses: every term by the original's name (temporal ones suffixed with their scale),
                and the combined ``loss_G``, ``loss_D``, ``loss_D_T<s>``.
        """


class TrainerBase:
    """The loop shared by the trainers: epochs, resumable data order, signals, checkpoints, logs.

    Subclasses set ``config``, ``dist``, ``device``, ``dataset``, ``sampler``, ``iters_per_epoch``,
    ``progress``, ``scalers``, ``_logger`` and ``_amp_notes`` and implement
    ``_prepare_epoch(epoch)`` (returns the epoch's schedule object), ``train_iteration(batch,
    schedule)``, ``_log(step, losses, schedule)`` and the checkpoint hooks ``_save_model(folder)``,
    ``_load_model(folder)``, ``_modules()`` (discriminators), ``_optimizer_state()`` and
    ``_load_optimizer_state(state)``.
    """

    config: TrainConfig
    dist: DistContext
    device: torch.device
    dataset: Any
    sampler: ShardedEpochSampler
    iters_per_epoch: int
    progress: TrainingProgress
    scalers: list[torch.amp.GradScaler]
    _logger: TrainLogger | None
    _amp_notes: list[str]
    observer: IterationObserver | None = None

    def _init_run(self, config: TrainConfig, dist: DistContext | None, logger: TrainLogger | None) -> None:
        """Set the settings every trainer shares: config, processes, device, logger, AMP and dtype."""
        self.config = config
        self.dist = dist or DistContext()
        self.device = resolve_device(config.device)
        if self.device.type == "cuda" and self.dist.enabled:
            self.device = torch.device("cuda", self.dist.local_rank)
        self._logger = logger
        self._amp_notes = []
        self.amp_dtype = self._resolve_amp()
        self.dtype = getattr(torch, config.dtype)

    def _resolve_amp(self) -> torch.dtype | None:
        amp = self.config.amp
        if amp == "none":
            return None
        if self.device.type != "cuda":
            self._amp_notes.append(f"amp={amp!r} needs CUDA: training on {self.device.type} in float32")
            return None
        return torch.bfloat16 if amp == "bf16" else torch.float16

    def _init_sampler(self) -> None:
        """The resumable sharded sampler over ``self.dataset`` and the iterations per epoch."""
        config = self.config
        self.sampler = ShardedEpochSampler(
            len(self.dataset), seed=config.seed, rank=self.dist.rank, world_size=self.dist.world_size
        )
        self.iters_per_epoch = len(self.sampler) // config.batch_size
        if self.iters_per_epoch < 1:
            raise ValueError(
                f"batch_size={config.batch_size} per process exceeds the {len(self.sampler)} clips each of the "
                f"{self.dist.world_size} process(es) sees per epoch"
            )

    def _prepare_epoch(self, epoch: int) -> Any:
        raise NotImplementedError

    def _work_per_iteration(self, epoch: int) -> float:
        """Relative cost of one iteration of 0-based ``epoch``, the ETA's unit (1: all equal)."""
        return 1.0

    def train_iteration(self, batch: dict[str, Any], schedule: Any) -> dict[str, float]:
        """One iteration on one batch; returns the loss terms as floats."""
        raise NotImplementedError

    def _log(self, step: int, losses: dict[str, float], schedule: Any) -> None:
        raise NotImplementedError

    def _save_model(self, folder: Path) -> None:
        raise NotImplementedError

    def _load_model(self, folder: Path) -> None:
        raise NotImplementedError

    def _modules(self) -> dict[str, nn.Module]:
        raise NotImplementedError

    def _optimizer_state(self) -> dict[str, Any]:
        raise NotImplementedError

    def _load_optimizer_state(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def _update(
        self,
        loss: Tensor,
        optimizer: torch.optim.Optimizer,
        scaler: torch.amp.GradScaler,
        name: str = "",
        module: nn.Module | None = None,
    ) -> None:
        """Back-propagate ``loss`` (scaled for fp16) and step ``optimizer``.

        ``name``/``module`` identify the network being updated for the iteration observer
        (:class:`IterationObserver`), which sees its gradients between backward and step.
        """
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if self.observer is not None and module is not None:
            self.observer.gradients(name, module)
        scaler.step(optimizer)
        scaler.update()

    # ------------------------------------------------------------ checkpoints
    def save_checkpoint(self) -> Path | None:
        """Write ``<checkpoint_dir>/latest`` atomically (main process only); returns its path."""
        if not self.dist.is_main:
            return None
        cfg = self.config
        with checkpoint_writer(cfg.checkpoint_dir) as tmp:
            self._save_model(tmp / MODEL_DIR)
            save_modules(tmp / DISCRIMINATORS_FILE, self._modules())
            save_torch_state(
                tmp / OPTIMIZERS_FILE,
                {**self._optimizer_state(), "scalers": [s.state_dict() for s in self.scalers]},
            )
            save_torch_state(tmp / RNG_FILE, capture_rng_state())
            save_config(cfg, tmp / CONFIG_FILE)
            write_progress(tmp / PROGRESS_FILE, self.progress)
        return Path(cfg.checkpoint_dir) / "latest"

    def load_checkpoint(self, path: str | Path) -> Path:
        """Restore weights, optimisers, RNG and progress from a checkpoint (see :mod:`.state`)."""
        folder = resolve_checkpoint(path)
        self._load_model(folder / MODEL_DIR)
        load_modules(folder / DISCRIMINATORS_FILE, self._modules())
        state = load_torch_state(folder / OPTIMIZERS_FILE)
        self._load_optimizer_state(state)
        for scaler, st in zip(self.scalers, state["scalers"], strict=True):
            scaler.load_state_dict(st)
        restore_rng_state(load_torch_state(folder / RNG_FILE))
        self.progress = read_progress(folder / PROGRESS_FILE)
        return folder

    @property
    def logger(self) -> TrainLogger:
        """The run's logger (created on first use)."""
        if self._logger is None:
            log_dir = Path(self.config.checkpoint_dir) / "logs" if self.config.tensorboard else None
            self._logger = TrainLogger(
                log_dir,
                enabled=self.dist.is_main,
                progress=self.config.progress,
                total=self.total_iterations,
                initial=self.progress.global_step,
            )
        return self._logger

    @property
    def total_iterations(self) -> int:
        """Iterations of the whole run (``max_iters`` when set and smaller)."""
        total = self.config.n_epochs * self.iters_per_epoch
        return min(total, self.config.max_iters) if self.config.max_iters else total

    def _epoch_description(self) -> str:
        """What one epoch visits (trainers whose samples are not clips override it)."""
        return f"one sample of each of the {len(self.dataset)} clips"

    def schedule_summary(self) -> list[str]:
        """The schedule in iterations, and what ``max_iters`` does to it (printed when training starts)."""
        cfg = self.config
        per_epoch = self.iters_per_epoch
        schedule_end = cfg.n_epochs * per_epoch
        lines = [
            f"schedule: {cfg.n_epochs} epochs x {per_epoch} iterations = {schedule_end} iterations "
            f"(an epoch: {self._epoch_description()}, batch {cfg.batch_size} x {self.dist.world_size} "
            f"process(es)); learning rate constant for {cfg.niter} epochs ({cfg.niter * per_epoch} it), "
            f"then decaying linearly over {cfg.niter_decay} epochs (to 0 at the schedule's end)"
        ]
        m = cfg.max_iters
        if m is not None and m > schedule_end:
            lines.append(
                f"max_iters={m} is beyond the schedule's end: training stops after {schedule_end} iterations, "
                f"when the learning rate has decayed to 0. To train longer, raise niter/niter_decay "
                f"(each epoch adds {per_epoch} iterations)"
            )
        elif m is not None and m < schedule_end:
            epoch = m // per_epoch
            factor = lr_factor(min(epoch, cfg.n_epochs - 1), cfg.niter, cfg.niter_decay)
            lines.append(
                f"max_iters={m} stops the run before the schedule's end ({schedule_end}), in epoch {epoch}, "
                f"at {factor:.2g} x the base learning rate"
            )
        return lines

    # ------------------------------------------------------------------ loop
    def _batches(self, epoch_position: int) -> Iterator[dict[str, Any]]:
        self.sampler.set_position(epoch_position * self.config.batch_size)
        loader = DataLoader(
            self.dataset,
            batch_size=self.config.batch_size,
            sampler=self.sampler,
            num_workers=self.config.num_workers,
            worker_init_fn=_ignore_stop_signals if self.config.num_workers > 0 else None,
            drop_last=True,
            pin_memory=self.device.type == "cuda",
            collate_fn=collate_clips,
        )
        return iter(loader)

    def train(self) -> TrainResult:
        """Run (or continue) the schedule until its end, ``max_iters``, or SIGINT/SIGTERM.

        Saves a checkpoint every ``save_every`` iterations, when stopped, and at the end.
        """
        cfg = self.config
        log = self.logger
        for note in self._amp_notes:
            log.info(note)
        for line in startup_summary(self):
            log.info(line)
        eta = ScheduleETA(
            self._work_per_iteration, self.iters_per_epoch, self.total_iterations, self.progress.global_step
        )
        if self.dist.is_main:
            Path(cfg.checkpoint_dir).mkdir(parents=True, exist_ok=True)
            save_config(cfg, Path(cfg.checkpoint_dir) / "train_config.yaml")
        start, done = time.perf_counter(), 0
        last: dict[str, float] = {}
        interrupted = False
        checkpoint: Path | None = None
        saved_step = -1
        self.generator.train()
        self.objective.train()
        with StopFlag() as stop:
            while self.progress.epoch < cfg.n_epochs and not self._reached_max():
                epoch = self.progress.epoch
                sched = self._prepare_epoch(epoch)
                for batch in self._batches(self.progress.position):
                    last = self.train_iteration(batch, sched)
                    last = all_reduce_mean(last, self.dist, self.device)
                    self.progress.position += 1
                    self.progress.global_step += 1
                    done += 1
                    step = self.progress.global_step
                    if self.progress.position >= self.iters_per_epoch:
                        self.progress.epoch += 1
                        self.progress.position = 0
                    self._log(step, last, sched)
                    left = eta.remaining(step, time.perf_counter() - start)
                    log.set_eta(None if left is None else format_seconds(left))
                    stopping = self._stop_requested(stop) or self._reached_max()
                    if stopping or step % cfg.save_every == 0:
                        checkpoint, saved_step = self.save_checkpoint(), step
                    if stopping or self.progress.position == 0:
                        break
                if self._stop_requested(stop):
                    interrupted = True
                    log.info(f"stopped by {stop.signal_name or 'signal'}: checkpoint saved to {checkpoint}")
                    break
            if saved_step != self.progress.global_step:
                checkpoint = self.save_checkpoint()
        seconds = time.perf_counter() - start
        result = TrainResult(
            checkpoint=checkpoint if self.dist.is_main else None,
            global_step=self.progress.global_step,
            epoch=self.progress.epoch,
            interrupted=interrupted,
            iterations=done,
            seconds=seconds,
            last_losses=last,
        )
        summary = ", ".join(
            f"{k} {v:.4g}" for k, v in last.items() if k in ("G_total", "D_total", "G_GAN", "G_VGG")
        )
        log.info(
            f"done: {done} iterations in {seconds:.1f}s ({result.iterations_per_second:.3g} it/s), "
            f"step {result.global_step}, epoch {result.epoch}/{cfg.n_epochs}; {summary}; checkpoint {checkpoint}"
        )
        log.close()
        return result

    def _reached_max(self) -> bool:
        m = self.config.max_iters
        return m is not None and self.progress.global_step >= m

    def _stop_requested(self, stop: StopFlag) -> bool:
        flag = stop.requested
        if self.dist.enabled:  # every process stops at the same iteration
            t = torch.tensor([1.0 if flag else 0.0], device=self.device)
            torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
            flag = bool(t.item())
        return flag


class Vid2VidTrainer(TrainerBase):
    """Train a :class:`~vid2vid.nn.SequentialGenerator` with the full vid2vid objective.

    Args:
        config: the run's settings.
        dataset: a :class:`ClipDataset` (default: built from ``config``; it must be seeded and,
            with ``flow_source="cache"``, load flow).
        dist: the process group context (default: single process).
        resume: a checkpoint folder or checkpoint directory to continue from exactly.
        logger: where logs go (default: TensorBoard in ``<checkpoint_dir>/logs`` on rank 0).
        pair_flow: reference flow between the strided frames of the coarser temporal scales
            (see :class:`~vid2vid.training.objective.TemporalWindows`); default: the flow
            estimator of ``flow_source``, or chained cached flows.
    """

    def __init__(
        self,
        config: TrainConfig,
        *,
        dataset: ClipDataset | None = None,
        dist: DistContext | None = None,
        resume: str | Path | None = None,
        logger: TrainLogger | None = None,
        pair_flow: PairFlowFunction | None = None,
    ) -> None:
        if config.model != "vid2vid":
            raise ValueError(
                f"Vid2VidTrainer trains model='vid2vid', got {config.model!r} (use ImageTrainer)"
            )
        self._init_run(config, dist, logger)
        gen_cfg = config.generator

        self.flow_estimator = None
        if config.flow_source != "cache":
            from vid2vid.flow.factory import get_flow_estimator

            kwargs = {"device": self.device} if config.flow_source.startswith("raft") else {}
            self.flow_estimator = get_flow_estimator(config.flow_source, **kwargs)
        load_flow = config.flow_source == "cache"
        self.dataset = dataset or build_clip_dataset(
            config, config.generator.n_frames_G, gen_cfg.size_multiple, load_flow=load_flow
        )
        if load_flow and not self.dataset.load_flow:
            raise ValueError("flow_source='cache' needs a dataset built with load_flow=True")
        torch.manual_seed(config.seed)  # identical initialisation on every process
        self.generator = SequentialGenerator(gen_cfg).to(self.device, self.dtype)
        if config.init == "original":
            init_weights_original(self.generator)
        self.pretrain_scales = 0
        if config.load_pretrain and resume is None:
            self.pretrain_scales = load_coarser_generator(self.generator, config.load_pretrain)
        self.objective = Vid2VidObjective(
            gen_cfg.frame_nc,
            gen_cfg.output_nc,
            n_scales_spatial=gen_cfg.n_scales,
            no_first_frame=gen_cfg.no_first_frame,
            ndf=config.ndf,
            n_layers_D=config.n_layers_D,
            num_D=config.num_D,
            norm_D=config.norm_D,
            ndf_max=config.ndf_max,
            n_frames_D=config.n_frames_D,
            n_scales_temporal=config.n_scales_temporal,
            gan_mode=config.gan_mode,
            lambda_feat=config.lambda_feat,
            lambda_vgg=config.lambda_vgg,
            lambda_F=config.lambda_F,
            lambda_T=config.lambda_T,
            lambda_W=config.lambda_W,
            use_gan_feat=not config.no_ganFeat,
            vgg=build_vgg_loss(config.vgg_weights),
            add_face_disc=config.add_face_disc,
            face_crop=config.fine_size // 32 * 8,
            openpose_only=config.openpose_only,
        ).to(self.device, self.dtype)
        if config.init == "original":
            init_weights_original(self.objective.image_d)
            init_weights_original(self.objective.temporal_d)
            if self.objective.face_d is not None:
                init_weights_original(self.objective.face_d)
        if config.load_pretrain and resume is None:
            self.pretrain_discriminator_tensors = load_coarser_discriminators(
                self.objective.image_d, self.objective.temporal_d, config.load_pretrain, self.objective.face_d
            )
        broadcast_parameters(self.generator, self.dist)
        broadcast_parameters(self.objective, self.dist)
        # DistributedDataParallel: the generator and each discriminator wrapped separately
        self.g_model: nn.Module = self.generator
        if self.dist.enabled:
            self.g_model = wrap_ddp(self.generator, self.device, find_unused_parameters=True)
            runners = {"image_d": wrap_ddp(self.objective.image_d, self.device)}
            if self.objective.face_d is not None:
                runners["face_d"] = wrap_ddp(self.objective.face_d, self.device)
            for s, scale in enumerate(self.objective.temporal_d.scales):
                runners[f"temporal_d{s}"] = wrap_ddp(scale, self.device)
            self.objective.set_runners(runners)

        self.longest_clip = max(clip.length for clip in self.dataset.clips)
        self._init_sampler()

        # optimisers: G, D, one per temporal scale (the original's TTUR: G lr/2, D lr*2, betas (0, 0.9))
        if config.TTUR:
            self.base_lr = {"G": config.lr / 2, "D": config.lr * 2, "D_T": config.lr}
            self.betas = {"G": (0.0, 0.9), "D": (0.0, 0.9), "D_T": (config.beta1, config.beta2)}
        else:
            self.base_lr = {"G": config.lr, "D": config.lr, "D_T": config.lr}
            betas = (config.beta1, config.beta2)
            self.betas = {"G": betas, "D": betas, "D_T": betas}
        self.g_finest_only = self.schedule(0).finest_only
        self.optimizer_G = self._make_g_optimizer(self.g_finest_only)
        # the face discriminator shares the image discriminator's optimiser, as in the original
        d_params = list(self.objective.image_d.parameters())
        if self.objective.face_d is not None:
            d_params += list(self.objective.face_d.parameters())
        self.optimizer_D = torch.optim.Adam(d_params, lr=self.base_lr["D"], betas=self.betas["D"])
        self.optimizers_D_T = [
            torch.optim.Adam(scale.parameters(), lr=self.base_lr["D_T"], betas=self.betas["D_T"])
            for scale in self.objective.temporal_d.scales
        ]
        fp16 = self.amp_dtype == torch.float16
        n_scalers = 2 + len(self.optimizers_D_T)
        self.scalers = [torch.amp.GradScaler(self.device.type, enabled=fp16) for _ in range(n_scalers)]
        self.progress = TrainingProgress()
        self.windows: TemporalWindows | SparseTemporalWindows
        if config.sparse_D:
            self.windows = SparseTemporalWindows(config.n_frames_D, config.n_scales_temporal)
        else:
            self.windows = TemporalWindows(
                config.n_frames_D, config.n_scales_temporal, pair_flow or self._coarse_flow_fn()
            )
        self.last_visuals: dict[str, Tensor] = {}
        if resume is not None:
            self.load_checkpoint(resume)

    # ------------------------------------------------------------------ setup helpers
    def _coarse_flow_fn(self) -> PairFlowFunction | None:
        estimator = self.flow_estimator
        if estimator is None:
            return None
        return lambda frame, prev, t, t_prev: estimator(frame.float(), prev.float()).to(frame.dtype)

    def _make_g_optimizer(self, finest_only: bool) -> torch.optim.Optimizer:
        params = self.generator.scales[-1].parameters() if finest_only else self.generator.parameters()
        return torch.optim.Adam(params, lr=self.base_lr["G"], betas=self.betas["G"])

    def _g_params(self) -> list[nn.Parameter]:
        return [p for group in self.optimizer_G.param_groups for p in group["params"]]

    def schedule(self, epoch: int) -> SequenceSchedule:
        """The sequence schedule of 0-based ``epoch``."""
        c = self.config
        return sequence_schedule(
            epoch,
            n_frames_total=c.n_frames_total,
            max_frames_per_gpu=c.max_frames_per_gpu,
            max_frames_backpropagate=c.max_frames_backpropagate,
            niter_step=c.niter_step,
            n_frames_G=c.generator.n_frames_G,
            longest_clip=self.longest_clip,
            max_sequence_length=c.max_sequence_length,
            n_scales=c.generator.n_scales,
            niter_fix_global=c.niter_fix_global,
            n_gpus_gen=c.n_gpus_gen,
            batch_size=c.batch_size,
        )

    def _work_per_iteration(self, epoch: int) -> float:
        # an iteration costs about in proportion to the frames it generates (they double with niter_step)
        return float(self.schedule(epoch).n_frames_generated)

    def _prepare_epoch(self, epoch: int) -> SequenceSchedule:
        sched = self.schedule(epoch)
        if sched.finest_only != self.g_finest_only:
            # the original's update_fixed_params: a fresh Adam over every scale
            self.g_finest_only = sched.finest_only
            self.optimizer_G = self._make_g_optimizer(sched.finest_only)
            self.logger.info(
                f"epoch {epoch}: now training all {self.config.generator.n_scales} spatial scales"
            )
        if sched != getattr(self, "_logged_schedule", None):
            self._logged_schedule = sched
            self.logger.info(
                f"epoch {epoch}: sequences of {sched.n_frames_load} frames ({sched.n_frames_generated} generated "
                f"in {sched.n_frames_generated // sched.frames_per_chunk} chunk(s) of {sched.frames_per_chunk}, "
                f"gradients through {sched.frames_backprop} frame(s))"
            )
        factor = lr_factor(epoch, self.config.niter, self.config.niter_decay)
        for name, opts in (
            ("G", [self.optimizer_G]),
            ("D", [self.optimizer_D]),
            ("D_T", self.optimizers_D_T),
        ):
            # the original never decays the temporal discriminators' learning rate
            f = factor if name != "D_T" or self.config.decay_temporal_d else 1.0
            for opt in opts:
                for group in opt.param_groups:
                    group["lr"] = self.base_lr[name] * f
        self.dataset.set_n_frames(sched.n_frames_load, min_frames=self.config.generator.n_frames_G)
        self.dataset.set_epoch(epoch)
        self.sampler.set_epoch(epoch)
        return sched

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def _g_step(self, window: Tensor, history: list[Tensor], use_raw_only: bool, finest_only: bool) -> Any:
        # SequentialGenerator.forward through the (possibly DDP-wrapped) module
        return self.g_model(window, history, use_raw_only=use_raw_only, detach_coarse=finest_only)

    # ------------------------------------------------------------------ one iteration
    def _reference_flow(
        self, batch: dict[str, Any], idx: slice, real: Tensor, real_prev: Tensor
    ) -> tuple[Tensor, Tensor]:
        b, n = real.shape[:2]
        cur, prev = real.flatten(0, 1).float(), real_prev.flatten(0, 1).float()
        if self.flow_estimator is None:
            flow = batch["flow"][:, idx]
            if self.config.flow_confidence == "cache":
                return flow, batch["flow_confidence"][:, idx]
            # the original's confidence: photometric, at the training resolution
            conf = flow_confidence(cur, prev, flow.flatten(0, 1).float()).to(flow.dtype)
            return flow, conf.unflatten(0, (b, n))
        flow = self.flow_estimator(cur, prev)
        conf = flow_confidence(cur, prev, flow)
        return flow.unflatten(0, (b, n)), conf.unflatten(0, (b, n))

    def train_iteration(self, batch: dict[str, Any], sched: SequenceSchedule) -> dict[str, float]:
        """Generate the batch's sequences chunk by chunk, updating G, D and D_T after each chunk.

        Args:
            batch: a collated :class:`ClipDataset` batch (``frames`` ``(B, T, 3, H, W)`` with
                ``T >= sched.n_frames_load``, ``labels``/``inputs``, ``instances``, ``flow``...).

        Returns:
            Every loss term averaged over the chunks, plus ``G_total`` and ``D_total``.
        """
        gen, cfg = self.generator, self.config.generator
        tg = cfg.n_frames_G
        dev = self.device
        frames = batch["frames"].to(dev, self.dtype)
        # a clip shorter than the epoch's sequence is generated whole, in whole chunks (the
        # original caps each clip by its own length); processes agree on the shortest batch, so
        # that they run the same number of chunks (each chunk's backward is a collective)
        length = frames.shape[1]
        if self.dist.enabled:
            t = torch.tensor([length], device=dev)
            torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MIN)
            length = int(t.item())
        sched = sched.for_clip(length)
        with torch.no_grad():
            inputs = gen.encode_inputs(
                batch["labels"].to(dev) if "labels" in batch else None,
                batch["instances"].to(dev) if cfg.use_instance else None,
                batch["inputs"].to(dev) if "inputs" in batch else None,
            ).to(self.dtype)
        if self.flow_estimator is None:
            batch = {
                **batch,
                "flow": batch["flow"].to(dev, self.dtype),
                "flow_confidence": batch["flow_confidence"].to(dev, self.dtype),
            }
        bsz, _, _, height, width = frames.shape
        first = None if cfg.no_first_frame else frames[:, : tg - 1]
        state = gen.init_state(
            first, batch_size=bsz, height=height, width=width, device=dev, dtype=frames.dtype
        )
        self.windows.reset()
        sums: dict[str, float] = {}
        n_chunks = 0
        chunk = sched.frames_per_chunk
        for c0 in range(0, sched.n_frames_generated, chunk):
            state = state.detach()
            # without first frames the whole first chunk outputs the hallucinated frames (the
            # original's use_raw_only holds for its first generator call)
            raw_only = cfg.no_first_frame and c0 == 0
            with self._autocast():
                outs = []
                for t in range(chunk):
                    # the original detaches the generator's *input* copy of the history every
                    # frames_backprop frames; the history itself keeps its graph within the chunk
                    history = state.detach().history if t % sched.frames_backprop == 0 else state.history
                    if self.observer is not None:
                        history = self.observer.generator_history(c0 + t, history)
                    out = self._g_step(inputs[:, c0 + t : c0 + t + tg], history, raw_only, sched.finest_only)
                    state = state.advance(out.scale_images)
                    outs.append(out)
                fake = torch.stack([o.image for o in outs], dim=1)
                raw = torch.stack([o.raw for o in outs], dim=1)
                flow = None if outs[0].flow is None else torch.stack([o.flow for o in outs], dim=1)
                weight = None if outs[0].weight is None else torch.stack([o.weight for o in outs], dim=1)
                idx = slice(c0 + tg - 1, c0 + tg - 1 + chunk)
                real = frames[:, idx]
                real_prev = frames[:, c0 + tg - 2 : c0 + tg - 2 + chunk]
                flow_ref, conf_ref = self._reference_flow(batch, idx, real, real_prev)
                flow_ref, conf_ref = flow_ref.to(fake.dtype), conf_ref.to(fake.dtype)
                if c0 == 0:
                    prev_first = real_prev[:, :1]
                elif self.config.g_warp_chunk_start == "previous_chunk":
                    prev_first = self._prev_last
                else:  # "chunk_last": the original's list aliasing (see TrainConfig)
                    prev_first = fake[:, -1:].detach()
                fake_prev = torch.cat([prev_first, fake[:, :-1].detach()], dim=1)
                self._prev_last = fake[:, -1:].detach()

                def flat(x: Tensor | None) -> Tensor | None:
                    return None if x is None else x.flatten(0, 1)

                image = self.objective.image_losses(
                    FrameBatch(
                        real=flat(real),
                        fake=flat(fake),
                        raw=flat(raw),
                        inputs=flat(inputs[:, idx]),
                        real_prev=flat(real_prev),
                        fake_prev=flat(fake_prev),
                        flow=flat(flow),
                        weight=flat(weight),
                        flow_ref=flat(flow_ref),
                        conf_ref=flat(conf_ref),
                    ),
                    defer_discriminator=True,
                )
                temporal: list[tuple[int, LossTerms]] = []
                for s, win in enumerate(self.windows.add(real, fake, flow_ref)):
                    if win is not None:
                        temporal.append(
                            (s, self.objective.temporal_losses(s, *win, defer_discriminator=True))
                        )
                loss_g = image.generator
                for _, t_terms in temporal:
                    loss_g = loss_g + t_terms.generator
            # G first, then each discriminator on the detached fakes (their forwards run after
            # G's backward: every backward follows its own forward, as DDP requires)
            self._update(loss_g, self.optimizer_G, self.scalers[0], "G", self.generator)
            with self._autocast():
                image.finish()
            self._update(image.discriminator, self.optimizer_D, self.scalers[1], "D", self._d_module())
            for s, t_terms in temporal:
                with self._autocast():
                    t_terms.finish()
                self._update(
                    t_terms.discriminator,
                    self.optimizers_D_T[s],
                    self.scalers[2 + s],
                    f"D_T{s}",
                    self.objective.temporal_d.scales[s],
                )
            if self.observer is not None:
                self._observe_chunk(n_chunks, fake, raw, flow, weight, state, loss_g, image, temporal)
            values = image.scalars()
            for s, t_terms in temporal:
                values.update(t_terms.scalars(str(s)))
            values["G_total"] = float(loss_g.detach())
            values["D_total"] = float(image.discriminator.detach())
            for k, v in values.items():
                sums[k] = sums.get(k, 0.0) + v
            n_chunks += 1
        self.last_visuals = {
            "real": real[:, -1].detach(),
            "fake": fake[:, -1].detach(),
            "raw": raw[:, -1].detach(),
            "flow_ref": flow_ref[:, -1].detach(),
        }
        if flow is not None and weight is not None:
            self.last_visuals["flow"] = flow[:, -1].detach()
            self.last_visuals["weight"] = weight[:, -1].detach()
        if "labels" in batch:
            self.last_visuals["labels"] = batch["labels"][:, sched.n_frames_load - 1]
        elif "inputs" in batch:
            self.last_visuals["inputs"] = batch["inputs"][:, sched.n_frames_load - 1]
        return {k: v / n_chunks for k, v in sums.items()}

    def _d_module(self) -> nn.Module:
        """The networks ``optimizer_D`` updates: the image discriminator (and the face one)."""
        if self.objective.face_d is None:
            return self.objective.image_d
        return nn.ModuleDict({"image_d": self.objective.image_d, "face_d": self.objective.face_d})

    def _observe_chunk(
        self,
        index: int,
        fake: Tensor,
        raw: Tensor,
        flow: Tensor | None,
        weight: Tensor | None,
        state: GeneratorState,
        loss_g: Tensor,
        image: LossTerms,
        temporal: list[tuple[int, LossTerms]],
    ) -> None:
        assert self.observer is not None and image.discriminator is not None
        tensors = {"fake": fake.detach(), "raw": raw.detach()}
        if flow is not None and weight is not None:
            tensors.update(flow=flow.detach(), weight=weight.detach())
        for s, h in enumerate(state.history):
            tensors[f"last.scale{s}"] = h.detach()
        losses = {k: v.detach() for k, v in image.terms.items()}
        losses.update(loss_G=loss_g.detach(), loss_D=image.discriminator.detach())
        for s, t_terms in temporal:
            assert t_terms.discriminator is not None
            losses.update({f"{k}{s}": v.detach() for k, v in t_terms.terms.items()})
            losses[f"loss_D_T{s}"] = t_terms.discriminator.detach()
        self.observer.chunk(index, tensors, losses)

    def _log(self, step: int, losses: dict[str, float], sched: SequenceSchedule) -> None:
        cfg, log = self.config, self.logger
        n_chunks = sched.n_frames_generated // sched.frames_per_chunk
        shown = {"seq": sched.n_frames_load, "chunks": n_chunks, "bp": sched.frames_backprop}
        shown.update(
            {k: losses[k] for k in ("G_total", "D_total", "G_GAN", "G_VGG", "F_Flow") if k in losses}
        )
        log.advance(1, shown)
        if step % cfg.log_every == 0 or step == 1:
            extra = {
                "train/lr_G": self.optimizer_G.param_groups[0]["lr"],
                "train/lr_D": self.optimizer_D.param_groups[0]["lr"],
                "train/n_frames": float(sched.n_frames_generated),
                "train/sequence_length": float(sched.n_frames_load),
                "train/chunks_per_clip": float(n_chunks),
                "train/frames_backprop": float(sched.frames_backprop),
                "train/epoch": float(self.progress.epoch),
            }
            bad = [k for k, v in losses.items() if not math.isfinite(v)]
            if bad:
                log.info(f"step {step}: non-finite losses {bad}")
            log.scalars(step, {**losses, **extra})
        if (
            log.enabled
            and log.writer is not None
            and (step % cfg.image_every == 0 or step == 1)
            and self.last_visuals
        ):
            v = self.last_visuals
            grid = visual_grid(
                real=v["real"],
                fake=v["fake"],
                labels=v.get("labels"),
                label_nc=cfg.generator.label_nc,
                inputs=v.get("inputs"),
                raw=v.get("raw"),
                flow=v.get("flow"),
                flow_ref=v.get("flow_ref"),
                weight=v.get("weight"),
            )
            log.image(step, "visuals/labels_fake_real_raw_flow_flowref_weight", grid)

    # ------------------------------------------------------------------ checkpoints
    def _modules(self) -> dict[str, nn.Module]:
        modules: dict[str, nn.Module] = {
            "image_d": self.objective.image_d,
            "temporal_d": self.objective.temporal_d,
        }
        if self.objective.face_d is not None:
            modules["face_d"] = self.objective.face_d
        return modules

    def _optimizer_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "G": self.optimizer_G.state_dict(),
            "G_finest_only": self.g_finest_only,
            "D": self.optimizer_D.state_dict(),
        }
        for s, opt in enumerate(self.optimizers_D_T):
            state[f"D_T{s}"] = opt.state_dict()
        return state

    def _load_optimizer_state(self, state: dict[str, Any]) -> None:
        self.g_finest_only = bool(state["G_finest_only"])
        self.optimizer_G = self._make_g_optimizer(self.g_finest_only)
        self.optimizer_G.load_state_dict(state["G"])
        self.optimizer_D.load_state_dict(state["D"])
        for s, opt in enumerate(self.optimizers_D_T):
            opt.load_state_dict(state[f"D_T{s}"])

    def _save_model(self, folder: Path) -> None:
        cfg = self.config
        first_frame = "zeros" if cfg.generator.no_first_frame else "real"
        meta = {
            "training": {
                "global_step": self.progress.global_step,
                "epoch": self.progress.epoch,
                "dataroot": cfg.dataroot,
                "size": training_frame_size(self.dataset),
            }
        }
        save_model_folder(
            folder, self.generator, first_frame=first_frame, metadata=meta, input_range=self._input_range()
        )

    def _input_range(self) -> tuple[float, float] | None:
        """Value range of the continuous inputs the dataset delivers (faces ``(0, 1)``, poses
        ``(-1, 1)``), recorded in the model folder so the pipeline feeds maps the same way;
        ``None`` for label models and datasets that do not say."""
        if self.config.generator.label_nc > 0:
            return None
        return getattr(self.dataset, "input_range", None)

    def _load_model(self, folder: Path) -> None:
        model = load_model_folder(folder, device=self.device, dtype=self.dtype)
        if model.generator.config != self.generator.config:
            raise ValueError(
                f"checkpoint {folder.parent} holds a generator with a different architecture: "
                f"{model.generator.config.to_dict()} vs {self.generator.config.to_dict()}"
            )
        self.generator.load_state_dict(model.generator.state_dict())
