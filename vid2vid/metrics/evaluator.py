"""Every metric of a set of clips at once: per-frame curves, per-clip means, spread over clips.

:class:`VideoEvaluator` takes one clip at a time (the video judged, and when available its ground
truth, the ground truth's reference flow and that flow's validity mask) and computes

* quality against the ground truth, per frame: ``psnr`` (dB, higher is better), ``ssim`` (higher),
  ``lpips`` (lower);
* temporal consistency, per frame ``t >= 1``: ``warp_error`` (lower), ``flicker`` (lower),
  ``change_ratio`` (1 is the ground truth's), ``tlp`` (lower), ``tof`` (pixels, lower);
* distribution distances over the whole set: ``fid`` on frames and ``fvd`` on clips (lower).

Metrics whose network is not given (``lpips``, ``fid``, ``fvd``, the flow estimator) are skipped.
Without a ground truth only the warp error is computed (on flow estimated from the video itself).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from vid2vid.flow.confidence import flow_confidence
from vid2vid.metrics._inputs import check_frames
from vid2vid.metrics.fid import FrechetInceptionDistance
from vid2vid.metrics.flicker import flicker, temporal_change_ratio
from vid2vid.metrics.flow_difference import temporal_flow_difference
from vid2vid.metrics.fvd import FrechetVideoDistance
from vid2vid.metrics.lpips import LPIPS
from vid2vid.metrics.psnr import psnr
from vid2vid.metrics.ssim import ssim
from vid2vid.metrics.temporal_lpips import temporal_lpips
from vid2vid.metrics.warp_error import warp_error

__all__ = ["VideoEvaluator", "ClipResult", "METRICS", "HIGHER_IS_BETTER", "TEMPORAL_METRICS"]

#: Per-frame metrics in report order.
METRICS: tuple[str, ...] = ("psnr", "ssim", "lpips", "warp_error", "flicker", "change_ratio", "tlp", "tof")
#: Metrics defined from frame 1 on (they compare a frame with its predecessor).
TEMPORAL_METRICS: frozenset[str] = frozenset({"warp_error", "flicker", "change_ratio", "tlp", "tof"})
#: ``True``: higher is better; ``False``: lower is better; ``None``: closest to 1 is best.
HIGHER_IS_BETTER: dict[str, bool | None] = {
    "psnr": True,
    "ssim": True,
    "lpips": False,
    "warp_error": False,
    "flicker": False,
    "change_ratio": None,
    "tlp": False,
    "tof": False,
    "fid": False,
    "fvd": False,
}

FlowFn = Callable[[Tensor, Tensor], Tensor]


@dataclass
class ClipResult:
    """Metrics of one clip.

    Attributes:
        name: the clip's name.
        frames: number of frames judged.
        per_frame: metric → ``frames`` values (``nan`` where undefined, e.g. frame 0 of temporal metrics).
        reference_flow: where the warp error's flow came from (``"ground truth"``, an estimator name).
    """

    name: str
    frames: int
    per_frame: dict[str, list[float]] = field(default_factory=dict)
    reference_flow: str = ""

    def means(self) -> dict[str, float]:
        """Metric → mean over the frames where it is defined and finite (``nan`` if none)."""
        out = {}
        for k, values in self.per_frame.items():
            finite = [v for v in values if math.isfinite(v)]
            if not finite and any(v == math.inf for v in values):
                out[k] = math.inf
            else:
                out[k] = sum(finite) / len(finite) if finite else math.nan
        return out


def _spread(values: list[float]) -> dict[str, float]:
    vals = [v for v in values if not math.isnan(v)]
    if not vals:
        return {"mean": math.nan, "std": math.nan, "min": math.nan, "max": math.nan, "n": 0}
    if any(math.isinf(v) for v in vals):
        return {"mean": math.inf, "std": math.nan, "min": min(vals), "max": max(vals), "n": len(vals)}
    mean = sum(vals) / len(vals)
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
    return {"mean": mean, "std": std, "min": min(vals), "max": max(vals), "n": len(vals)}


def _pad_front(values: Tensor, n: int) -> list[float]:
    """``(n-1,)`` values of frames 1..n-1 → ``n`` floats with ``nan`` for frame 0."""
    return [math.nan] + [float(v) for v in values.tolist()]


class VideoEvaluator:
    """Accumulates the metrics of clips (see the module docstring).

    Args:
        lpips: LPIPS network for ``lpips`` and ``tlp`` (``None``: skip both).
        fid: FID accumulator (``None``: skip).
        fvd: FVD accumulator (``None``: skip; clips shorter than its window are left out of it).
        flow_estimator: ``estimator(frames, prev_frames) -> flow`` for ``tof`` and for the warp
            error's reference flow when the data has none (``None``: skip those).
        skip_frames: leading frames left out of every metric (e.g. the real first frames given to
            a ``first_frame="real"`` model).
    """

    def __init__(
        self,
        *,
        lpips: LPIPS | None = None,
        fid: FrechetInceptionDistance | None = None,
        fvd: FrechetVideoDistance | None = None,
        flow_estimator: FlowFn | None = None,
        flow_estimator_name: str = "estimator",
        skip_frames: int = 0,
    ) -> None:
        if skip_frames < 0:
            raise ValueError(f"skip_frames must be >= 0, got {skip_frames}")
        self.lpips, self.fid, self.fvd = lpips, fid, fvd
        self.flow_estimator = flow_estimator
        self.flow_estimator_name = flow_estimator_name
        self.skip_frames = skip_frames
        self.results: list[ClipResult] = []
        self.fvd_skipped: list[str] = []

    def add(
        self,
        name: str,
        pred: Tensor,
        target: Tensor | None = None,
        flow: Tensor | None = None,
        valid: Tensor | None = None,
    ) -> ClipResult:
        """Evaluate one clip.

        Args:
            name: the clip's name.
            pred: ``(T, 3, H, W)`` float in ``[-1, 1]``, the video judged.
            target: ``(T, 3, H', W')`` ground truth in ``[-1, 1]`` (resized to ``H, W`` if it differs).
            flow: ``(T, 2, H', W')`` the ground truth's exact backward flow in pixels (``flow[0]`` unused).
            valid: ``(T, 1, H', W')`` in ``{0, 1}``, where ``flow`` holds.

        Returns:
            The clip's :class:`ClipResult` (also kept in :attr:`results`).
        """
        pred = check_frames(pred, "pred").float().cpu()
        s = self.skip_frames
        if target is not None:
            target = check_frames(target, "target").float().cpu()
            if target.shape[0] != pred.shape[0]:
                raise ValueError(
                    f"clip {name!r}: {pred.shape[0]} frames but {target.shape[0]} ground-truth frames"
                )
            target, flow, valid = _match_size(target, flow, valid, pred.shape[-2:])
            target = target[s:]
        pred = pred[s:]
        if flow is not None:
            flow = flow[s:].float().cpu()
            valid = None if valid is None else valid[s:].float().cpu()
        t = pred.shape[0]
        if t < 2:
            raise ValueError(f"clip {name!r}: at least 2 frames are needed after skipping {s}, got {t}")
        res = ClipResult(name=name, frames=t)
        pf = res.per_frame
        if target is not None:
            pf["psnr"] = [float(v) for v in psnr(pred, target).tolist()]
            if min(pred.shape[-2:]) >= 11:
                pf["ssim"] = [float(v) for v in ssim(pred, target).tolist()]
            if self.lpips is not None:
                pf["lpips"] = [float(v) for v in self.lpips(pred, target).tolist()]

        # warp error along the reference flow
        ref = target if target is not None else pred
        if flow is not None:
            res.reference_flow = "ground truth"
        elif self.flow_estimator is not None:
            est = self.flow_estimator(ref[1:], ref[:-1]).float().cpu()
            flow = torch.cat([torch.zeros_like(est[:1]), est])
            if target is not None:
                conf = flow_confidence(ref[1:], ref[:-1], est)
                valid = torch.cat([torch.zeros_like(conf[:1]), conf])
            res.reference_flow = self.flow_estimator_name + (
                "" if target is not None else " (on the video itself)"
            )
        if flow is not None:
            pf["warp_error"] = _pad_front(warp_error(pred, flow, valid), t)
        if target is not None:
            pf["flicker"] = _pad_front(flicker(pred, target), t)
            pf["change_ratio"] = _pad_front(temporal_change_ratio(pred, target), t)
            if self.lpips is not None:
                pf["tlp"] = _pad_front(temporal_lpips(pred, target, self.lpips), t)
            if self.flow_estimator is not None:
                pf["tof"] = _pad_front(temporal_flow_difference(pred, target, self.flow_estimator), t)
            if self.fid is not None:
                self.fid.update(pred, real=False)
                self.fid.update(target, real=True)
            if self.fvd is not None:
                if t >= self.fvd.window:
                    self.fvd.update(pred.unsqueeze(0), real=False)
                    self.fvd.update(target.unsqueeze(0), real=True)
                else:
                    self.fvd_skipped.append(name)
        self.results.append(res)
        return res

    def summary(self) -> dict[str, Any]:
        """``{"clips", "frames", "metrics": {name: {"mean", "std", "min", "max", "n"}}, "fid", "fvd"}``.

        ``mean``/``std``/``min``/``max`` are over the clips' means (the spread over clips).
        """
        metrics = {}
        for m in METRICS:
            values = [r.means()[m] for r in self.results if m in r.per_frame]
            if values:
                metrics[m] = _spread(values)
        out: dict[str, Any] = {
            "clips": len(self.results),
            "frames": sum(r.frames for r in self.results),
            "metrics": metrics,
        }
        for key, acc in (("fid", self.fid), ("fvd", self.fvd)):
            if acc is not None and acc.real is not None and acc.real.count >= 2:
                out[key] = {"value": acc.compute(), "samples": acc.real.count}
        if self.fvd_skipped:
            out["fvd_skipped_clips"] = list(self.fvd_skipped)
        return out


def _match_size(
    target: Tensor, flow: Tensor | None, valid: Tensor | None, size: torch.Size
) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """Resize ground truth, its flow (values scaled) and validity to the judged video's ``size``."""
    h, w = int(size[0]), int(size[1])
    th, tw = target.shape[-2:]
    if (th, tw) == (h, w):
        return target, flow, valid
    target = F.interpolate(target, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
    if flow is not None:
        flow = F.interpolate(flow.float(), size=(h, w), mode="bilinear", align_corners=False)
        flow = flow * torch.tensor([w / tw, h / th]).view(1, 2, 1, 1)
    if valid is not None:
        valid = (
            F.interpolate(valid.float(), size=(h, w), mode="bilinear", align_corners=False) > 0.999
        ).float()
    return target, flow, valid
