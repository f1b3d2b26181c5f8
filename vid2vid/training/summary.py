"""The start-up summary a training run prints: data, model size, schedule, device, threads."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["startup_summary", "schedule_note"]


def _millions(modules: Any) -> str:
    n = sum(p.numel() for m in modules for p in m.parameters())
    return f"{n / 1e6:.2f}M" if n >= 1e5 else f"{n:,}"


def schedule_note(n_epochs: int, iters_per_epoch: int, max_iters: int | None) -> str | None:
    """A plain sentence when ``max_iters`` differs from the schedule's length, else ``None``."""
    scheduled = n_epochs * iters_per_epoch
    if max_iters is None or max_iters == scheduled:
        return None
    if max_iters > scheduled:
        return (
            f"note: max_iters={max_iters} is beyond the schedule ({n_epochs} epochs x {iters_per_epoch} "
            f"iterations = {scheduled}): training stops at {scheduled}. Raise niter/niter_decay "
            "(--niter, --niter-decay) to train longer"
        )
    return (
        f"note: max_iters={max_iters} stops the run before the end of its schedule ({scheduled} "
        "iterations): the learning rate will not have decayed to zero"
    )


def startup_summary(trainer: Any) -> list[str]:
    """Lines describing the run about to start (any trainer built on ``TrainerBase``)."""
    cfg = trainer.config
    dataset = trainer.dataset
    clips = getattr(dataset, "clips", None)
    if clips is not None and not isinstance(clips, list | tuple):
        clips = getattr(clips, "clips", None)  # a dataset over another one's clips (FrameDataset)
    lines = []
    if clips:
        lengths = [c.length for c in clips]
        span = f"{min(lengths)}" if min(lengths) == max(lengths) else f"{min(lengths)}-{max(lengths)}"
        lines.append(
            f"data: {cfg.dataroot} ({cfg.phase}): {len(clips)} clips of {span} frames, "
            f"resized {cfg.resize_mode} to {cfg.load_size} (crop {cfg.fine_size})"
        )
    else:
        lines.append(f"data: {cfg.dataroot} ({cfg.phase}): {len(dataset)} samples")
    discriminators = [m for name, m in trainer._modules().items() if name != "generator"]
    lines.append(
        f"model: {cfg.model}, generator {_millions([trainer.generator])} parameters, "
        f"discriminators {_millions(discriminators)}; VGG loss "
        + ("off" if cfg.vgg_weights == "none" else f"on ({cfg.vgg_weights or 'random'} weights)")
    )
    total = trainer.total_iterations
    # the schedule in iterations and what max_iters does to it (TrainerBase.schedule_summary)
    lines.extend(trainer.schedule_summary())
    extra = []
    if cfg.model == "vid2vid":
        first = trainer.schedule(0).n_frames_generated
        last = trainer.schedule(max(cfg.n_epochs - 1, 0)).n_frames_generated
        extra.append(
            f"{first} generated frames per sample"
            + (f", doubling every {cfg.niter_step} epochs up to {last}" if last != first else "")
        )
    if total != cfg.n_epochs * trainer.iters_per_epoch:
        extra.append(f"this run stops at step {total}")
    if trainer.progress.global_step:
        extra.append(f"resuming at step {trainer.progress.global_step}")
    if extra:
        lines.append("sequences: " + "; ".join(extra))
    device = trainer.device
    threads = f"{torch.get_num_threads()} torch threads" if device.type == "cpu" else str(device)
    lines.append(
        f"device: {device} ({cfg.dtype}{', amp ' + cfg.amp if cfg.amp != 'none' else ''}), {threads}, "
        f"{cfg.num_workers} data workers; checkpoints every {cfg.save_every} iterations in {cfg.checkpoint_dir}"
    )
    return lines
