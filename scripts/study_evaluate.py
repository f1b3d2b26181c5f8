"""Evaluate the models of ``scripts/study_train.py`` on the held-out clips and tabulate the study.

For every trained run ``WORK/runs/<variant>-s<seed>``:

* vid2vid variants (``full``, ``no_flow``, ``no_temporal_d``)::

      vid2vid evaluate --model WORK/runs/<run>/latest/model --data WORK/data --phase test --out WORK/reports/<run>

* the per-frame image model (``image``): every test frame is synthesised on its own by the
  pix2pixHD generator (labels + instance edges → frame, no history) and written to
  ``WORK/videos/<run>/<clip>/``, then::

      vid2vid evaluate --videos WORK/videos/<run> --data WORK/data --phase test --out WORK/reports/<run>

* the ground truth itself (the floor of every temporal metric)::

      vid2vid evaluate --videos WORK/data/test_B --data WORK/data --phase test --out WORK/reports/ground_truth

Then ``WORK/study.json`` (every row's summary), ``WORK/study.md`` (the table: mean ± std over
the held-out clips, pooled over seeds, and the spread of the per-seed means) and the figures
``WORK/study_curves.png`` (per-frame warp error / flicker / PSNR, mean over clips, one line per
row) and ``WORK/study_strip.png`` (one held-out clip: labels, each row's output, ground truth).

Run::

    OMP_NUM_THREADS=1 nice -n 10 python scripts/study_evaluate.py --work WORK [--docs docs/evaluation_study]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import sys
from pathlib import Path
from typing import Any

ROWS = ("full", "image", "no_flow", "no_temporal_d", "ground_truth")
ROW_TITLES = {
    "full": "(a) full vid2vid",
    "image": "(b) per-frame image model (pix2pixHD)",
    "no_flow": "(c) vid2vid, no flow",
    "no_temporal_d": "(d) vid2vid, no temporal D",
    "ground_truth": "(e) ground truth",
}
SHOWN = ("psnr", "ssim", "warp_error", "flicker", "change_ratio", "tof")


def synthesize_image_model(model_dir: Path, data: Path, out: Path, phase: str = "test") -> Path:
    """Write every ``{phase}`` clip synthesised frame by frame with the image model in ``model_dir``."""
    import torch

    from vid2vid.data.io import read_label_frames, write_frames
    from vid2vid.data.labels import encode_label_map
    from vid2vid.flow.prepare import list_clips
    from vid2vid.training.image_trainer import load_image_model

    model = load_image_model(model_dir)
    label_nc, use_instance = model.label_nc, model.use_instance
    for name, _ in list_clips(data / f"{phase}_A"):
        labels = torch.from_numpy(read_label_frames(data / f"{phase}_A" / name))
        inst = torch.from_numpy(read_label_frames(data / f"{phase}_inst" / name)) if use_instance else None
        frames = []
        with torch.no_grad():
            for t in range(len(labels)):  # one frame at a time: no temporal information at all
                x = encode_label_map(
                    labels[t : t + 1], label_nc, instances=None if inst is None else inst[t : t + 1]
                )
                frames.append(model.generator(x).clamp(-1, 1)[0])
        video = torch.stack(frames)
        write_frames(((video + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy(), out / name)
    return out


def evaluate_row(work: Path, run: str) -> Path:
    """Run ``vid2vid evaluate`` for one run (or the ground truth); returns the report folder."""
    from vid2vid.cli.main import main as cli

    data, report = work / "data", work / "reports" / run
    common = ["--data", str(data), "--phase", "test", "--out", str(report), "--device", "cpu", "--quiet"]
    if run == "ground_truth":
        args = ["evaluate", "--videos", str(data / "test_B"), *common]
    elif run.startswith("image-"):
        videos = synthesize_image_model(work / "runs" / run / "latest" / "model", data, work / "videos" / run)
        args = ["evaluate", "--videos", str(videos), *common]
    else:
        args = ["evaluate", "--model", str(work / "runs" / run / "latest" / "model"), *common]
    if cli(args):
        raise SystemExit(f"evaluation of {run} failed")
    return report


def _fmt(mean: float, std: float, digits: int = 3) -> str:
    if mean == math.inf:
        return "∞"
    if not math.isfinite(mean):
        return "—"
    return f"{mean:.{digits}g} ± {std:.2g}"


def tabulate(work: Path, runs: dict[str, list[str]]) -> dict[str, Any]:
    """Pool the clips of every seed of a row; also the spread of the per-seed means."""
    table: dict[str, Any] = {}
    for row, row_runs in runs.items():
        clip_means: dict[str, list[float]] = {m: [] for m in SHOWN}
        seed_means: dict[str, list[float]] = {m: [] for m in SHOWN}
        for run in row_runs:
            report = json.loads((work / "reports" / run / "report.json").read_text())
            per_run: dict[str, list[float]] = {m: [] for m in SHOWN}
            for clip in report["clips"]:
                for m in SHOWN:
                    v = clip["mean"].get(m)
                    if v is not None:
                        v = float(v)
                        clip_means[m].append(v)
                        per_run[m].append(v)
            for m in SHOWN:
                if per_run[m]:
                    seed_means[m].append(statistics.mean(per_run[m]))
        entry: dict[str, Any] = {"runs": row_runs, "metrics": {}}
        for m in SHOWN:
            vals = clip_means[m]
            if not vals:
                continue
            finite = all(math.isfinite(v) for v in vals)
            entry["metrics"][m] = {
                "mean": statistics.mean(vals) if finite else math.inf,
                "std_clips": statistics.stdev(vals) if finite and len(vals) > 1 else math.nan,
                "n_clips": len(vals),
                "seed_means": seed_means[m],
                "std_seeds": statistics.stdev(seed_means[m])
                if finite and len(seed_means[m]) > 1
                else math.nan,
            }
        table[row] = entry
    return table


BETTER = {"psnr": 1, "ssim": 1, "warp_error": -1, "flicker": -1, "tof": -1}


def paired(work: Path, runs: dict[str, list[str]], base: str = "full") -> dict[str, Any]:
    """Per-clip differences ``row - base`` on the same held-out clips and seeds.

    Returns ``{row: {metric: {"mean_diff", "std_diff", "n", "base_better"}}}``; ``base_better``
    counts the (clip, seed) pairs where ``base`` is better; ``change_ratio`` compares ``|r - 1|``.
    """

    def clip_means(run: str) -> dict[str, dict[str, float]]:
        report = json.loads((work / "reports" / run / "report.json").read_text())
        return {c["name"]: {k: float(v) for k, v in c["mean"].items()} for c in report["clips"]}

    def seed_of(run: str) -> str:
        return run.rsplit("-s", 1)[1] if "-s" in run else "*"

    out: dict[str, Any] = {}
    base_runs = {seed_of(r): clip_means(r) for r in runs.get(base, [])}
    for row, row_runs in runs.items():
        if row == base:
            continue
        entry: dict[str, Any] = {}
        for m in (*BETTER, "change_ratio"):
            diffs, wins = [], 0
            for run in row_runs:
                mine = clip_means(run)
                for seed, ref in base_runs.items():
                    if seed_of(run) not in ("*", seed):
                        continue
                    for clip, vals in mine.items():
                        if clip not in ref or m not in vals or not math.isfinite(vals[m]):
                            continue
                        if m == "change_ratio":
                            d = abs(vals[m] - 1) - abs(ref[clip][m] - 1)
                            wins += d > 0
                        else:
                            d = vals[m] - ref[clip][m]
                            wins += BETTER[m] * d < 0
                        diffs.append(d)
            if diffs:
                entry[m] = {
                    "mean_diff": statistics.mean(diffs),
                    "std_diff": statistics.stdev(diffs) if len(diffs) > 1 else math.nan,
                    "n": len(diffs),
                    "base_better": int(wins),
                }
        out[row] = entry
    return out


def write_outputs(work: Path, table: dict[str, Any], runs: dict[str, list[str]], docs: Path | None) -> None:
    """study.json, study.md and the two figures (copied to ``docs`` when given)."""
    import numpy as np

    from vid2vid.atomic import atomic_write_text
    from vid2vid.data.io import read_frames, read_label_frames
    from vid2vid.data.synthetic import colorize_labels
    from vid2vid.metrics.plot import image_strip, plot_curves
    from vid2vid.metrics.report import json_safe

    atomic_write_text(work / "study.json", json.dumps(json_safe(table), indent=1) + "\n")
    header = "| row | " + " | ".join(SHOWN) + " |"
    lines = [header, "| --- " * (len(SHOWN) + 1) + "|"]
    for row, entry in table.items():
        cells = []
        for m in SHOWN:
            st = entry["metrics"].get(m)
            if st is None:
                cells.append("—")
                continue
            cell = _fmt(st["mean"], st["std_clips"])
            if math.isfinite(st["std_seeds"]):
                cell += f" (seeds ± {st['std_seeds']:.2g})"
            cells.append(cell)
        seeds = len(entry["runs"])
        lines.append(
            f"| {ROW_TITLES[row]}{f' [{seeds} seeds]' if seeds > 1 else ''} | " + " | ".join(cells) + " |"
        )
    pairs = paired(work, runs)
    table["paired_vs_full"] = pairs
    atomic_write_text(work / "study.json", json.dumps(json_safe(table), indent=1) + "\n")
    if pairs:
        metrics = (*BETTER, "change_ratio")
        lines += [
            "",
            "Paired with (a) on the same clips and seeds: mean difference (row − full) ± std, "
            "and in how many pairs full vid2vid is better (change ratio: closer to 1).",
            "",
        ]
        lines += ["| row − full | " + " | ".join(metrics) + " |", "| --- " * (len(metrics) + 1) + "|"]
        for row, entry in pairs.items():
            cells = []
            for m in metrics:
                st = entry.get(m)
                cells.append(
                    "—"
                    if st is None
                    else f"{st['mean_diff']:+.3g} ± {st['std_diff']:.2g} (full better {st['base_better']}/{st['n']})"
                )
            lines.append(f"| {ROW_TITLES[row]} | " + " | ".join(cells) + " |")
    atomic_write_text(work / "study.md", "\n".join(lines) + "\n")

    # per-frame curves: mean over clips (first seed of each row)
    panels: dict[str, dict[str, list[float]]] = {}
    for m, title in (
        ("warp_error", "warp error (lower is better)"),
        ("flicker", "flicker (lower is better)"),
        ("tof", "tOF, px (lower is better)"),
        ("psnr", "PSNR, dB (higher is better)"),
    ):
        series = {}
        for row, row_runs in runs.items():
            report = json.loads((work / "reports" / row_runs[0] / "report.json").read_text())
            curves = [[float(v) for v in c["per_frame"][m]] for c in report["clips"] if m in c["per_frame"]]
            if not curves or (m == "psnr" and row == "ground_truth"):
                continue
            arr = np.array(curves)
            with np.errstate(all="ignore"):
                series[row] = [
                    float(np.nanmean(col)) if np.isfinite(col).any() else math.nan for col in arr.T
                ]
        panels[title] = series
    plot_curves(panels, panel_size=(420, 240), columns=2).save(work / "study_curves.png")

    # strip: labels, each row's output, ground truth on the first held-out clip
    data = work / "data"
    clip = sorted(p.name for p in (data / "test_A").iterdir())[0]
    labels = read_label_frames(data / "test_A" / clip)
    picks = [4, 10, 16, 22, 28] if len(labels) > 28 else list(range(0, len(labels), max(1, len(labels) // 5)))
    gt_frames = read_frames(data / "test_B" / clip)
    rows_img = [[colorize_labels(labels[i]) for i in picks]]
    titles = ["labels"]
    for row, row_runs in runs.items():
        run = row_runs[0]
        if row == "ground_truth":
            continue
        if run.startswith("image-"):
            frames = read_frames(work / "videos" / run / clip)
        else:
            from vid2vid.pipeline import Vid2VidPipeline

            pipe = Vid2VidPipeline.from_pretrained(
                str(work / "runs" / run / "latest" / "model"), device="cpu"
            )
            inst = read_label_frames(data / "test_inst" / clip)
            out = pipe(labels, instances=inst, progress=False)
            frames = (out.frames.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()
            # zeros-policy models output from label frame first_index on: align with the labels
            frames = [None] * out.first_index + list(frames)
        rows_img.append([frames[i] if frames[i] is not None else np.zeros_like(gt_frames[i]) for i in picks])
        titles.append(row.replace("no_temporal_d", "no temp. D"))
    gt = read_frames(data / "test_B" / clip)
    rows_img.append([gt[i] for i in picks])
    titles.append("ground truth")
    image_strip(rows_img, titles).save(work / "study_strip.png")
    if docs is not None:
        docs.mkdir(parents=True, exist_ok=True)
        for name in ("study.json", "study.md", "study_curves.png", "study_strip.png"):
            shutil.copyfile(work / name, docs / name)


def main(argv: list[str] | None = None) -> int:
    """Evaluate every finished run and the ground truth, then tabulate."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, required=True, help="the folder given to study_train.py")
    p.add_argument("--docs", type=Path, default=None, help="copy the table and figures there")
    p.add_argument("--skip-existing", action="store_true", help="reuse reports already written")
    args = p.parse_args(argv)
    runs: dict[str, list[str]] = {}
    for row in ROWS:
        if row == "ground_truth":
            runs[row] = ["ground_truth"]
            continue
        found = sorted(
            d.name for d in (args.work / "runs").glob(f"{row}-s*") if (d / "latest" / "model").is_dir()
        )
        if found:
            runs[row] = found
    for row_runs in runs.values():
        for run in row_runs:
            if args.skip_existing and (args.work / "reports" / run / "report.json").is_file():
                continue
            evaluate_row(args.work, run)
    table = tabulate(args.work, runs)
    write_outputs(args.work, table, runs, args.docs)
    print((args.work / "study.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
