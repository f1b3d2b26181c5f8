"""Writing an evaluation report: ``report.json`` (every number), ``summary.md`` and PNG figures."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vid2vid.atomic import atomic_path, atomic_write_text
from vid2vid.metrics.evaluator import HIGHER_IS_BETTER, METRICS, ClipResult
from vid2vid.metrics.plot import image_strip, plot_curves

__all__ = ["write_report", "json_safe", "METRIC_TITLES"]

METRIC_TITLES: dict[str, str] = {
    "psnr": "PSNR (dB) ↑",
    "ssim": "SSIM ↑",
    "lpips": "LPIPS ↓",
    "warp_error": "warp error ↓",
    "flicker": "flicker ↓",
    "change_ratio": "change ratio (→1)",
    "tlp": "tLP ↓",
    "tof": "tOF (px) ↓",
    "fid": "FID ↓",
    "fvd": "FVD ↓",
}


#: ASCII titles for the figures (PIL's default font has no arrows).
PLOT_TITLES: dict[str, str] = {
    "psnr": "PSNR (dB), higher is better",
    "ssim": "SSIM, higher is better",
    "lpips": "LPIPS, lower is better",
    "warp_error": "warp error, lower is better",
    "flicker": "flicker, lower is better",
    "change_ratio": "change ratio, 1 = ground truth",
    "tlp": "tLP, lower is better",
    "tof": "tOF (px), lower is better",
}


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as the strings ``"inf"``, ``"-inf"``, ``"nan"`` (strict JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _cell(stats: Mapping[str, float], digits: int = 4) -> str:
    mean, std = stats["mean"], stats["std"]
    if not math.isfinite(mean):
        return "∞" if mean == math.inf else "—"
    return (
        f"{mean:.{digits}g} ± {std:.2g}"
        if math.isfinite(std) and stats.get("n", 0) > 1
        else f"{mean:.{digits}g}"
    )


def _save_png(path: Path, image: Any) -> Path:
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")
    return path


def write_report(
    out: str | Path,
    summary: Mapping[str, Any],
    results: Sequence[ClipResult],
    meta: Mapping[str, Any],
    strip: tuple[Sequence[Sequence[np.ndarray]], Sequence[str]] | None = None,
) -> dict[str, Path]:
    """Write the report folder.

    Args:
        out: report folder (created).
        summary: :meth:`VideoEvaluator.summary`.
        results: the per-clip results (per-frame curves go to the JSON and the figure).
        meta: what was evaluated (model, data, settings, skipped metrics and why).
        strip: optional ``(rows, titles)`` for :func:`image_strip` (e.g. labels | output | ground truth).

    Returns:
        ``{"json", "markdown", "curves", "strip"}`` → written paths.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    report = {
        "meta": dict(meta),
        "summary": dict(summary),
        "clips": [
            {
                "name": r.name,
                "frames": r.frames,
                "reference_flow": r.reference_flow,
                "mean": r.means(),
                "per_frame": r.per_frame,
            }
            for r in results
        ],
    }
    paths["json"] = atomic_write_text(out / "report.json", json.dumps(json_safe(report), indent=1) + "\n")

    metrics = summary.get("metrics", {})
    present = [m for m in METRICS if m in metrics]
    if present:
        panels: dict[str, dict[str, list[float]]] = {}
        for m in present:
            series = {r.name: r.per_frame[m] for r in results if m in r.per_frame}
            n = max(len(v) for v in series.values())
            mean_curve = []
            for k in range(n):
                vals = [v[k] for v in series.values() if k < len(v) and math.isfinite(v[k])]
                mean_curve.append(sum(vals) / len(vals) if vals else math.nan)
            shown = dict(list(series.items())[:5])
            shown["mean"] = mean_curve
            panels[PLOT_TITLES[m]] = shown
        curves = out / "curves.png"
        paths["curves"] = _save_png(curves, plot_curves(panels))
    if strip is not None:
        rows, titles = strip
        paths["strip"] = _save_png(out / "strip.png", image_strip(rows, titles))

    lines = [f"# Evaluation: {meta.get('title', 'vid2vid')}", ""]
    for key in ("model", "videos", "data", "phase", "device", "flow_estimator", "seed"):
        if key in meta and meta[key] is not None:
            lines.append(f"- {key}: `{meta[key]}`")
    lines += [f"- clips: {summary.get('clips', 0)}, frames judged: {summary.get('frames', 0)}", ""]
    lines += ["| metric | mean ± std over clips | min | max | better |", "| --- | --- | --- | --- | --- |"]
    for m in present:
        st = metrics[m]
        better = {True: "higher", False: "lower", None: "closer to 1"}[HIGHER_IS_BETTER[m]]
        lines.append(f"| {METRIC_TITLES[m]} | {_cell(st)} | {st['min']:.4g} | {st['max']:.4g} | {better} |")
    for key in ("fid", "fvd"):
        if key in summary:
            v = summary[key]
            lines.append(f"| {METRIC_TITLES[key]} | {v['value']:.4g} ({v['samples']} samples) | | | lower |")
    skipped = meta.get("skipped", {})
    if skipped:
        lines += ["", "Skipped metrics:", ""]
        lines += [f"- {k}: {why}" for k, why in skipped.items()]
    figures = [p for k, p in paths.items() if k in ("curves", "strip")]
    if figures:
        lines += ["", *[f"![{p.stem}]({p.name})" for p in figures]]
    paths["markdown"] = atomic_write_text(out / "summary.md", "\n".join(lines) + "\n")
    return paths
