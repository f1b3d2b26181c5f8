"""Interleaved speed comparison of this working tree against a previous version, in one process.

The previous version's ``vid2vid`` package is copied into a temporary folder under another package
name (``vid2vid_base``: its ``vid2vid`` imports are rewritten), from a git ref (``git archive``) or a
folder. Both versions get the same weights (the state-dict layout is shared) and the same inputs;
for every configuration the versions run in rounds ``A B B A`` (``A`` = previous, ``B`` = current,
and ``C`` = current with the ``label_gather`` fast path when asked: ``A B C C B A``), so slow drifts
of a shared machine hit both alike. Each run times a whole clip (``frames`` output frames after
one warm-up frame); the ratio of a round is ``time(A) / time(B)`` (> 1: the current version is
faster) and the report gives the median over rounds. Times are the process's CPU time by default
(``--clock process``, with one thread): on a machine shared with other jobs, wall time mostly
measures the other jobs, CPU time much less so. Outputs are compared too: ``bit-identical``
means ``torch.equal`` on every output frame.

Two paths are timed per configuration:

* ``generate``: :meth:`SequentialGenerator.generate` on an encoded clip;
* ``stream``: :meth:`Vid2VidPipeline.stream` from label ids to output frames (zeros first-frame
  policy), which adds encoding, validation and the window.

Examples::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/compare_versions.py --baseline eabc73b
    python benchmarks/compare_versions.py --smoke          # tiny, baseline = this tree (CI)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vid2vid.nn import SequentialGenerator, SequentialGeneratorConfig  # noqa: E402
from vid2vid.pipeline import Vid2VidPipeline  # noqa: E402

BASE_PACKAGE = "vid2vid_base"
_IMPORT = re.compile(r"(\bfrom\s+|\bimport\s+|[\"'])vid2vid(?=[.\s\"'])")


def load_baseline(ref: str | None, folder: str | None, workdir: Path) -> ModuleType:
    """Import the previous version as ``vid2vid_base`` from a git ``ref`` or a package ``folder``."""
    target = workdir / BASE_PACKAGE
    if folder is not None:
        shutil.copytree(folder, target, ignore=shutil.ignore_patterns("__pycache__", "assets"))
    else:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", str(ref), "vid2vid"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(workdir)], input=archive, check=True)
        (workdir / "vid2vid").rename(target)
    for path in target.rglob("*.py"):
        path.write_text(_IMPORT.sub(lambda m: m.group(1) + BASE_PACKAGE, path.read_text()))
    sys.path.insert(0, str(workdir))
    import importlib

    return importlib.import_module(BASE_PACKAGE)


@dataclass
class Config:
    """One benchmark configuration (street generator: 35 labels + instance edges, paper depth)."""

    width: int
    height: int
    n_scales: int
    ngf: int
    n_blocks: int = 9
    use_foreground: bool = False

    @property
    def name(self) -> str:
        """Short label for the table."""
        fg = " fg" if self.use_foreground else ""
        return f"{self.width}x{self.height} S={self.n_scales} ngf={self.ngf}{fg}"

    def generator_config(self) -> dict:
        """Constructor arguments of ``SequentialGeneratorConfig``."""
        return dict(
            label_nc=35, use_instance=True, ngf=self.ngf, n_downsample=3, n_blocks=self.n_blocks,
            n_scales=self.n_scales, use_foreground=self.use_foreground, no_first_frame=True,
        )  # fmt: skip


@dataclass
class Row:
    """Result of one configuration and path."""

    config: str
    path: str
    ms_base: float
    ms_new: float
    ratio: float
    ratios: list[float]
    identical: bool
    ms_gather: float | None = None
    ratio_gather: float | None = None
    gather_max_diff: float | None = None


def _time(fn: Callable[[], object], clock: Callable[[], float]) -> tuple[float, object]:
    start = clock()
    out = fn()
    return clock() - start, out


def bench_config(
    cfg: Config, base: ModuleType, frames: int, rounds: int, gather: bool, clock: Callable[[], float]
) -> list[Row]:
    """Time the previous and the current version on one configuration, interleaved."""
    torch.manual_seed(0)
    kwargs = cfg.generator_config()
    new = SequentialGenerator(SequentialGeneratorConfig(**kwargs)).eval()
    old = base.nn.SequentialGenerator(base.nn.SequentialGeneratorConfig(**kwargs)).eval()
    old.load_state_dict(new.state_dict())
    g = torch.Generator().manual_seed(1)
    tg = kwargs.get("n_frames_G", 3)
    length = frames + tg - 1
    labels = torch.randint(0, 35, (1, length, cfg.height, cfg.width), generator=g)
    # Blocky labels (8x8 regions) look more like segmentation maps than per-pixel noise.
    labels = labels[:, :, ::8, ::8].repeat_interleave(8, 2).repeat_interleave(8, 3)
    instances = labels * 1000 + (labels % 3)
    inputs = new.encode_inputs(labels, instances)
    pipe_new = Vid2VidPipeline(new, first_frame="zeros")
    pipe_old = base.pipeline.Vid2VidPipeline(old, first_frame="zeros")

    def gen(model: torch.nn.Module, fast: bool = False) -> Callable[[], torch.Tensor]:
        def run() -> torch.Tensor:
            with torch.inference_mode():
                if fast:
                    return model.generate(inputs, label_gather=True).image
                return model.generate(inputs).image

        return run

    pipe_fast = Vid2VidPipeline(new, first_frame="zeros").enable_label_gather()
    # versions before the pipeline followed test.py padded a zeros-policy clip themselves
    base_pads = "first_index" not in getattr(
        base.pipeline_output.Vid2VidPipelineOutput, "__dataclass_fields__", {}
    )

    def stream(pipe: object, pad: bool) -> Callable[[], torch.Tensor]:
        # The previous version padded a zeros-policy clip with its first map n_frames_G - 1 times;
        # this one does not (as the original's test.py): give it those maps explicitly, so both
        # compute the same frames.
        frames_in, inst_in = list(labels[0, :frames]), list(instances[0, :frames])
        if pad:
            frames_in = frames_in[:1] * (tg - 1) + frames_in
            inst_in = inst_in[:1] * (tg - 1) + inst_in

        def run() -> torch.Tensor:
            return torch.stack(list(pipe.stream(frames_in, inst_in)))  # type: ignore[attr-defined]

        return run

    rows = []
    paths: list[tuple[str, Callable, Callable, Callable | None]] = [
        ("generate", gen(old), gen(new), gen(new, True) if gather else None),
        (
            "stream",
            stream(pipe_old, not base_pads),
            stream(pipe_new, True),
            stream(pipe_fast, True) if gather else None,
        ),
    ]
    for path, run_a, run_b, run_c in paths:
        # Warm-up (allocator, one-time initialisation) and output comparison.
        out_a, out_b = run_a(), run_b()
        identical = torch.equal(out_a, out_b)
        diff = None
        if run_c is not None:
            diff = float((run_c() - out_b).abs().max())
        times: dict[str, list[float]] = {"a": [], "b": [], "c": []}
        order = ["a", "b"] + (["c", "c"] if run_c is not None else []) + ["b", "a"]
        fns = {"a": run_a, "b": run_b, "c": run_c}
        for _ in range(rounds):
            for key in order:
                times[key].append(_time(fns[key], clock)[0])  # type: ignore[arg-type]
        # Per round: mean of each version's two runs; ratios are per round.
        per_round = {k: [sum(v[i * 2 : i * 2 + 2]) / 2 for i in range(rounds)] for k, v in times.items() if v}
        ratios = [a / b for a, b in zip(per_round["a"], per_round["b"], strict=True)]
        row = Row(
            cfg.name, path,
            1000 * statistics.median(per_round["a"]) / frames,
            1000 * statistics.median(per_round["b"]) / frames,
            statistics.median(ratios), ratios, identical,
        )  # fmt: skip
        if "c" in per_round:
            row.ms_gather = 1000 * statistics.median(per_round["c"]) / frames
            row.ratio_gather = statistics.median(
                [a / c for a, c in zip(per_round["a"], per_round["c"], strict=True)]
            )
            row.gather_max_diff = diff
        rows.append(row)
    return rows


HEADER = (
    "| configuration | path | previous ms/frame | current ms/frame | speed-up (median) | rounds min–max "
    "| bit-identical | label_gather ms/frame | speed-up with gather | gather max abs diff |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


def format_row(r: Row) -> str:
    """Markdown table row."""
    g = (
        f"{r.ms_gather:.0f} | {r.ratio_gather:.2f}× | {r.gather_max_diff:.1e}"
        if r.ms_gather is not None
        else "– | – | –"
    )
    return (
        f"| {r.config} | {r.path} | {r.ms_base:.0f} | {r.ms_new:.0f} | {r.ratio:.2f}× | "
        f"{min(r.ratios):.2f}–{max(r.ratios):.2f} | {'yes' if r.identical else 'NO'} | {g} |"
    )


def _configs(text: str) -> list[Config]:
    out = []
    for part in text.split(","):
        size, scales, ngf = part.split(":")
        w, h = size.split("x")
        out.append(Config(int(w), int(h), int(scales), int(ngf)))
    return out


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description="interleaved old-vs-new speed comparison")
    p.add_argument("--baseline", default="eabc73b", help="git ref of the previous version")
    p.add_argument("--baseline-dir", default=None, help="or a folder holding the previous vid2vid package")
    p.add_argument(
        "--configs",
        type=_configs,
        default=_configs("256x128:1:32,256x128:2:32,256x128:1:64,256x128:2:64,512x256:1:32,512x256:2:32"),
        help="comma-separated WxH:n_scales:ngf",
    )
    p.add_argument("--frames", type=int, default=3, help="output frames per timed run")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--gather", action="store_true", help="also time the label_gather fast path")
    p.add_argument("--foreground", action="store_true", help="street generators with the foreground branch")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument(
        "--clock",
        choices=("process", "wall"),
        default="process",
        help="process: CPU time of this process (robust on a shared machine; use with 1 thread); wall: elapsed time",
    )
    p.add_argument("--smoke", action="store_true", help="tiny run; baseline = this tree unless given")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison and print a markdown table; exit status 1 if outputs differ."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.smoke:
        args.configs = [Config(64, 32, 2, 8, n_blocks=2)]
        args.frames, args.rounds, args.gather = 2, 1, True
        if args.baseline_dir is None:
            args.baseline_dir = str(REPO / "vid2vid")
    for c in args.configs:
        c.use_foreground = args.foreground
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}, baseline "
        f"{args.baseline_dir or args.baseline}, {args.frames} frames per run, {args.rounds} rounds, "
        f"clock: {'process CPU time' if args.clock == 'process' else 'wall time'}"
    )
    print()
    print(HEADER, flush=True)
    all_identical = True
    with tempfile.TemporaryDirectory() as tmp:
        base = load_baseline(None if args.baseline_dir else args.baseline, args.baseline_dir, Path(tmp))
        import importlib

        importlib.import_module(f"{BASE_PACKAGE}.nn")
        importlib.import_module(f"{BASE_PACKAGE}.pipeline")
        for cfg in args.configs:
            clock = time.process_time if args.clock == "process" else time.perf_counter
            for row in bench_config(cfg, base, args.frames, args.rounds, args.gather, clock):
                all_identical &= row.identical
                print(format_row(row), flush=True)
    return 0 if all_identical else 1


if __name__ == "__main__":
    sys.exit(main())
