"""Training logs: TensorBoard scalars and image grids, a tqdm bar, and in-memory records.

Only the main process (rank 0) writes. Scalars go to ``<checkpoint_dir>/logs`` (TensorBoard
event files) and to :attr:`TrainLogger.records` (tests and scripts read them directly).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from vid2vid.flow.visualize import flow_to_color

__all__ = ["TrainLogger", "colorize_labels", "visual_grid"]


def colorize_labels(labels: Tensor, label_nc: int) -> Tensor:
    """Label ids ``(B, H, W)`` int64 → ``(B, 3, H, W)`` float in ``[0, 1]`` (a fixed pseudo-random palette)."""
    gen = torch.Generator().manual_seed(1234)
    palette = torch.rand(max(label_nc, 1), 3, generator=gen)
    palette[0] = 0.0
    return palette.to(labels.device)[labels.clamp(0, max(label_nc, 1) - 1)].permute(0, 3, 1, 2)


def _to_unit(images: Tensor) -> Tensor:
    return ((images.detach().float().clamp(-1, 1) + 1) / 2).cpu()


def visual_grid(
    *,
    real: Tensor,
    fake: Tensor,
    labels: Tensor | None = None,
    label_nc: int = 0,
    inputs: Tensor | None = None,
    raw: Tensor | None = None,
    flow: Tensor | None = None,
    flow_ref: Tensor | None = None,
    weight: Tensor | None = None,
) -> Tensor:
    """One row per visual, for the first batch element: ``(3, rows * H, W)`` float in ``[0, 1]``.

    Args:
        real, fake: ``(B, 3, H, W)`` in ``[-1, 1]``.
        labels: ``(B, H, W)`` ids (colourised); or ``inputs`` ``(B, C, H, W)`` in ``[-1, 1]``
            (first 3 channels shown).
        raw: ``(B, 3, H, W)`` hallucinated frame; ``flow``, ``flow_ref``: ``(B, 2, H, W)`` pixels;
            ``weight``: ``(B, 1, H, W)`` in ``[0, 1]``.
    """
    rows = []
    if labels is not None:
        rows.append(colorize_labels(labels[:1].cpu(), label_nc)[0])
    elif inputs is not None:
        x = inputs[:1, :3].detach().float().cpu()
        if x.shape[1] < 3:
            x = x.repeat(1, 3, 1, 1)[:, :3]
        rows.append(_to_unit(x)[0])
    rows += [_to_unit(fake[:1])[0], _to_unit(real[:1])[0]]
    if raw is not None:
        rows.append(_to_unit(raw[:1])[0])
    for f in (flow, flow_ref):
        if f is not None:
            rows.append(flow_to_color(f[:1].detach().float().cpu())[0])
    if weight is not None:
        rows.append(weight[:1, 0].detach().float().cpu().clamp(0, 1).expand(3, -1, -1))
    return torch.cat(rows, dim=1)


class TrainLogger:
    """Scalars and images to TensorBoard, a tqdm bar, and :attr:`records`.

    Args:
        log_dir: TensorBoard folder, or ``None`` for no event files.
        enabled: ``False`` on non-main processes (everything becomes a no-op).
        progress: show a tqdm bar.
        total: total iterations for the bar (``None``: unknown).
        initial: iterations already done (resumed runs).
    """

    def __init__(
        self,
        log_dir: str | Path | None,
        *,
        enabled: bool = True,
        progress: bool = True,
        total: int | None = None,
        initial: int = 0,
    ) -> None:
        self.enabled = enabled
        self.records: list[dict[str, Any]] = []
        self.eta: str | None = None
        self._postfix: dict[str, str] = {}
        self.writer = None
        self.bar = None
        if not enabled:
            return
        if log_dir is not None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(log_dir=str(log_dir))
        if progress:
            from tqdm import tqdm

            # No tqdm "remaining": it extrapolates the current rate, which misleads when the
            # sequences grow; the trainer's schedule-aware ETA is shown in the postfix instead.
            self.bar = tqdm(
                total=total,
                initial=initial,
                unit="it",
                dynamic_ncols=True,
                file=sys.stderr,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}, {rate_fmt}{postfix}]",
            )

    def info(self, message: str) -> None:
        """Print a message (through tqdm when a bar is shown)."""
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr)

    def scalars(self, step: int, values: Mapping[str, float], prefix: str = "loss/") -> None:
        """Record and write ``values`` at ``step`` (non-finite values are recorded as they are)."""
        if not self.enabled:
            return
        self.records.append({"step": step, **values})
        if self.bar is None:  # no progress bar (logs to a file, nohup): print the values instead
            shown = " ".join(f"{k}={v:.4g}" for k, v in list(values.items())[:10])
            eta = f" eta={self.eta}" if self.eta else ""
            print(f"step {step}: {shown}{eta}", file=sys.stderr)
        if self.writer is not None:
            for k, v in values.items():
                name = k if "/" in k else f"{prefix}{k}"
                self.writer.add_scalar(name, v, step)

    def image(self, step: int, tag: str, image: Tensor) -> None:
        """Write a ``(3, H, W)`` image in ``[0, 1]``."""
        if self.enabled and self.writer is not None:
            self.writer.add_image(tag, image.clamp(0, 1), step)

    def advance(self, n: int = 1, postfix: Mapping[str, float] | None = None) -> None:
        """Advance the bar and show the main losses."""
        if self.bar is None:
            return
        self.bar.update(n)
        if postfix:
            self._postfix = {
                k: (f"{v:.3g}" if math.isfinite(v) else str(v)) for k, v in list(postfix.items())[:9]
            }
            self._show_postfix()

    def set_eta(self, text: str | None) -> None:
        """The remaining time shown with the bar (and with printed losses when there is none)."""
        self.eta = text
        if self.bar is not None:
            self._show_postfix()

    def _show_postfix(self) -> None:
        assert self.bar is not None
        shown = dict(self._postfix)
        if self.eta:
            shown = {"eta": self.eta, **shown}
        self.bar.set_postfix(shown, refresh=False)

    def close(self) -> None:
        """Flush and close the writer and the bar."""
        if self.writer is not None:
            self.writer.flush()
            self.writer.close()
            self.writer = None
        if self.bar is not None:
            self.bar.close()
            self.bar = None
