"""One-command GPU check of vid2vid: parity, precision, speed, pipeline and training.

Writes ``report.json`` and ``report.md`` into ``--out`` (default ``gpu_check_out/``). Sections
(each runs even when an earlier one failed; failures are recorded with their traceback and make
the exit status 1):

1. ``parity``: every reference fixture of the original (``$VID2VID_FIXTURES`` or
   ``../shared/fixtures/nvidia-vid2vid``, or ``--fixtures``) converted and run on the device in
   float32 with TF32 off; pass at max |ours - original| <= 1e-4.
2. ``precision``: the shipped demo model over a 30-frame synthetic street clip in float16 and
   bfloat16 against float32 on the same device: per-frame mean and max |difference| on the
   [0, 1] output scale (the history feeds back, so drift can grow along the clip).
3. ``speed``: frames/s and peak memory of one generator step (street generator: 35 labels +
   instance edges + foreground branch, ``ngf=128`` as the released models, random weights, batch
   1) at 512×256 (1 scale), 1024×512 (2 scales) and 2048×1024 (3 scales), in float32 (TF32 off)
   and bfloat16, × eager / channels_last / torch.compile / CUDA graphs (static window and history
   buffers, :class:`~vid2vid.nn.graphed_step.GraphedGeneratorStep`), with the achieved TFLOP/s
   (FLOPs counted by ``torch.utils.flop_counter``) against the device's peak.
4. ``pipeline``: :meth:`Vid2VidPipeline.stream` end to end on a 300-frame clip at 2048×1024 in
   bfloat16: label PNGs decoded by a reader thread, frames encoded to H.264 by a writer thread
   (PyAV), both overlapped with the GPU; also the pipeline without I/O and the encoder alone.
5. ``train``: training iterations (:class:`~vid2vid.training.Vid2VidTrainer`) with bfloat16
   autocast at 512×256 on a synthetic dataset: seconds per iteration and peak memory.

``--smoke`` runs a tiny version of every section on the CPU (tiny widths and sizes, float32 and
bfloat16, eager and channels_last; torch.compile and CUDA graphs are reported as not run); the test
suite runs it so that this script cannot rot.

Examples::

    python benchmarks/gpu_check.py --out gpu_check_out          # on a CUDA machine (< 8 min on an H100)
    python benchmarks/gpu_check.py --smoke --out /tmp/gpu_smoke  # CPU, seconds
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import queue
import statistics
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vid2vid.atomic import atomic_write_text  # noqa: E402
from vid2vid.nn import GeneratorState, InputWindow, SequentialGenerator  # noqa: E402
from vid2vid.nn.presets import generator_preset  # noqa: E402

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
MODES = ("eager", "cuda_graphs", "channels_last", "compile")  # most telling first (time budget)
SECTIONS = ("parity", "precision", "speed", "pipeline", "train")

# Dense peak TFLOP/s (no sparsity) by device-name fragment: float32 on CUDA cores (TF32 off) and
# bfloat16 tensor cores, from the vendors' data sheets. First match wins.
PEAK_TFLOPS: list[tuple[str, dict[str, float]]] = [
    ("H200", {"float32": 67.0, "bfloat16": 989.4}),
    ("H100 PCIe", {"float32": 51.2, "bfloat16": 756.0}),
    ("H100", {"float32": 67.0, "bfloat16": 989.4}),
    ("GH200", {"float32": 67.0, "bfloat16": 989.4}),
    ("B200", {"float32": 80.0, "bfloat16": 2250.0}),
    ("A100", {"float32": 19.5, "bfloat16": 312.0}),
    ("L40S", {"float32": 91.6, "bfloat16": 362.1}),
    ("L4", {"float32": 30.3, "bfloat16": 121.0}),
    ("A10", {"float32": 31.2, "bfloat16": 125.0}),
]


# ------------------------------------------------------------------------------------------ plan
@dataclass
class Plan:
    """What to run (the full GPU check or the CPU smoke version)."""

    device: str
    speed_sizes: list[tuple[int, int, int]]  # (width, height, n_scales)
    ngf: int = 128
    n_blocks: int = 9
    dtypes: list[str] = field(default_factory=lambda: ["float32", "bfloat16"])
    modes: list[str] = field(default_factory=lambda: list(MODES))
    compile_sizes: list[tuple[int, int]] | None = None  # None: every size
    iters: int = 20
    warmup: int = 5
    precision_frames: int = 30
    precision_size: tuple[int, int] = (512, 256)
    pipeline_frames: int = 300
    pipeline_size: tuple[int, int, int] = (2048, 1024, 3)
    pipeline_dtype: str = "bfloat16"
    pipeline_unique_frames: int = 24
    train_size: tuple[int, int] = (512, 256)
    train_iters: int = 3  # timed iterations after the first
    train_frames: int = 4
    parity_fixtures: list[str] | None = None  # None: every fixture found
    train_generator: dict[str, Any] = field(default_factory=dict)
    train_d: dict[str, Any] = field(default_factory=dict)
    budget_s: float = 300.0  # speed rows after this many seconds of the run are skipped


def full_plan(device: str) -> Plan:
    """The check as specified: released widths, the three street sizes, a 300-frame clip."""
    return Plan(
        device=device,
        # The 2048x1024 target first: the time budget skips what comes last.
        speed_sizes=[(2048, 1024, 3), (512, 256, 1), (1024, 512, 2)],
        compile_sizes=[(2048, 1024)],  # a compile takes about a minute per size and dtype
    )


def smoke_plan() -> Plan:
    """A tiny CPU version of every section (seconds)."""
    return Plan(
        device="cpu",
        speed_sizes=[(64, 32, 1), (128, 64, 2)],
        ngf=8,
        n_blocks=2,
        modes=list(MODES),
        compile_sizes=[],
        iters=2,
        warmup=1,
        precision_frames=4,
        precision_size=(128, 64),
        pipeline_frames=6,
        pipeline_size=(128, 64, 2),
        pipeline_unique_frames=3,
        train_size=(64, 32),
        pipeline_dtype="float32",
        train_iters=0,
        train_frames=2,
        parity_fixtures=["d_temporal_2", "e_instance_encoder"],  # carried in tests/fixtures
        train_generator={"ngf": 8, "n_downsample": 2, "n_blocks": 2, "n_blocks_local": 1},
        train_d={"ndf": 8, "ndf_max": 8, "num_D": 1, "n_layers_D": 2},
        budget_s=120.0,
    )


# --------------------------------------------------------------------------------------- helpers
def sync(device: torch.device) -> None:
    """Wait for the device's queued work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_info(device: torch.device) -> dict[str, Any]:
    """Name, memory, versions and the peak TFLOP/s of the device (``None`` when unknown)."""
    info: dict[str, Any] = {
        "device": str(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(
            name=props.name,
            memory_gib=round(props.total_memory / 2**30, 1),
            capability=f"{props.major}.{props.minor}",
            cuda=torch.version.cuda,
            cudnn=torch.backends.cudnn.version(),
        )
        info["peak_tflops"] = next((p for key, p in PEAK_TFLOPS if key in props.name), None)
    else:
        info.update(name=platform.processor() or "cpu", peak_tflops=None)
    return info


def peak_memory_of(device: torch.device, run: Callable[[], Any]) -> float:
    """Peak MiB allocated by ``run`` beyond what was allocated before (CPU: live tensor bytes)."""
    if device.type == "cuda":
        sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        run()
        sync(device)
        return (torch.cuda.max_memory_allocated(device) - base) / 2**20
    from vid2vid.profiling import LiveTensorBytes

    meter = LiveTensorBytes()
    with meter:
        run()
    return meter.peak / 2**20


def count_flops(run: Callable[[], Any]) -> int:
    """FLOPs (multiply-adds count 2) of the convolutions and matmuls ``run`` executes."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        run()
    return int(counter.get_total_flops())


def blocky_labels(
    length: int, height: int, width: int, seed: int, block: int = 16
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(T, H, W)`` int64 Cityscapes-like ids in blocks (segmentation-like), and instance ids."""
    g = torch.Generator().manual_seed(seed)
    bh, bw = max(1, height // block), max(1, width // block)
    ids = torch.randint(0, 35, (length, bh, bw), generator=g)
    ids = torch.nn.functional.interpolate(ids[:, None].float(), size=(height, width), mode="nearest")[
        :, 0
    ].long()
    instances = ids * 1000 + (torch.arange(width) // max(1, width // 4)).view(1, 1, width)
    return ids, instances


class _Tee:
    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose

    def __call__(self, text: str) -> None:
        if self.verbose:
            print(text, flush=True)


# --------------------------------------------------------------------------------------- parity
def section_parity(plan: Plan, device: torch.device, fixtures: Path | None, log: _Tee) -> dict[str, Any]:
    """Every reference fixture on the device in float32 (TF32 off)."""
    from vid2vid.convert.parity import check_fixture

    if fixtures is None or not fixtures.is_dir():
        raise FileNotFoundError(
            f"reference fixtures not found ({fixtures}); pass --fixtures or set VID2VID_FIXTURES"
        )
    rows = []
    folders = sorted(p for p in fixtures.iterdir() if (p / "config.json").is_file())
    if plan.parity_fixtures is not None:
        folders = [f for f in folders if f.name in plan.parity_fixtures]
    if not folders:
        raise FileNotFoundError(f"no reference fixtures in {fixtures}")
    for folder in folders:
        start = time.perf_counter()
        result = check_fixture(folder, device=device)
        rows.append(
            {
                "fixture": result.name,
                "kind": result.kind,
                "max_abs_diff": result.max_abs_diff,
                "values": result.n_values,
                # Generators: free-running within 1e-4 on kernels that round as the fixture's machine
                # did, else window by window with the original's history (vid2vid.convert.parity).
                "exact": result.exact,
                "worst_window": max((w.forced for w in result.windows), default=None),
                "pass": result.passed,
                "seconds": round(time.perf_counter() - start, 2),
            }
        )
        log(f"parity {result.summary()}")
    return {"tolerance": 1e-4, "tf32": False, "fixtures": rows, "all_pass": all(r["pass"] for r in rows)}


# ------------------------------------------------------------------------------------ precision
def section_precision(plan: Plan, device: torch.device, log: _Tee) -> dict[str, Any]:
    """Demo model, synthetic clip: float16 / bfloat16 against float32, per frame."""
    from vid2vid.data.synthetic import render_synthetic_clip
    from vid2vid.pipeline import Vid2VidPipeline

    demo = REPO / "vid2vid" / "assets" / "demo"
    width, height = plan.precision_size
    # the demo model starts from zeros: its first output is label frame n_frames_G - 1 (as the
    # original's test.py), so render n_frames_G - 1 more maps for precision_frames outputs
    from vid2vid.model_folder import load_model_folder

    folder = load_model_folder(demo)
    extra = folder.generator.config.n_frames_G - 1 if folder.first_frame == "zeros" else 0
    clip = render_synthetic_clip(plan.precision_frames + extra, width, height, seed=1234)
    labels, instances = torch.from_numpy(clip["labels"]), torch.from_numpy(clip["instances"])
    outputs = {}
    dtypes = ["float32", "bfloat16"] + (["float16"] if device.type == "cuda" else [])
    for name in dtypes:
        pipe = Vid2VidPipeline.from_pretrained(demo, device=device, dtype=name)
        outputs[name] = pipe(labels, instances, progress=False).frames.float().cpu()
    ref = outputs["float32"]
    result: dict[str, Any] = {
        "model": "vid2vid/assets/demo (trained, ngf 16)",
        "clip": f"synthetic street, {plan.precision_frames} frames, {width}x{height}, seed 1234",
        "scale": "output frames in [0, 1]",
        "dtypes": {},
    }
    for name in dtypes[1:]:
        diff = (outputs[name] - ref).abs()
        per_mean = diff.mean(dim=(1, 2, 3)).tolist()
        per_max = diff.amax(dim=(1, 2, 3)).tolist()
        result["dtypes"][name] = {
            "mean_abs_per_frame": [round(v, 6) for v in per_mean],
            "max_abs_per_frame": [round(v, 5) for v in per_max],
            "mean_abs": float(diff.mean()),
            "max_abs": float(diff.max()),
            "finite": bool(torch.isfinite(outputs[name]).all()),
        }
        log(f"precision {name}: mean {float(diff.mean()):.4f}, max {float(diff.max()):.3f}")
    if device.type != "cuda":
        result["note"] = "float16 is refused on CPU by the pipeline; measured on CUDA only"
    return result


# ---------------------------------------------------------------------------------------- speed
@dataclass
class SpeedRow:
    """One speed measurement."""

    size: str
    n_scales: int
    ngf: int
    dtype: str
    mode: str
    status: str = "ok"
    frames_per_s: float | None = None
    ms_per_frame: float | None = None
    peak_mib: float | None = None
    gflop_per_frame: float | None = None
    tflops: float | None = None
    percent_of_peak: float | None = None
    setup_s: float | None = None
    max_abs_vs_eager: float | None = None


def _street_generator(
    width: int, height: int, n_scales: int, plan: Plan, device: torch.device, dtype: torch.dtype
) -> SequentialGenerator:
    presets = {1: "street_512", 2: "street_1024", 3: "street_2048"}
    if n_scales not in presets:
        raise ValueError(f"the street presets have 1, 2 or 3 scales, got {n_scales}")
    config = generator_preset(presets[n_scales], ngf=plan.ngf, n_blocks=plan.n_blocks, no_first_frame=True)
    torch.manual_seed(0)
    with torch.device(device):
        gen = SequentialGenerator(config)
    return gen.to(dtype=dtype).eval()


def _speed_inputs(
    gen: SequentialGenerator, width: int, height: int, device: torch.device, dtype: torch.dtype
) -> tuple[list[torch.Tensor], GeneratorState]:
    c = gen.config
    ids, inst = blocky_labels(c.n_frames_G, height, width, seed=0)
    encoded = gen.encode_inputs(ids[None].to(device), inst[None].to(device)).to(dtype)
    window = InputWindow(c.n_frames_G, c.n_scales)
    for t in range(c.n_frames_G):
        window.push(encoded[:, t])
    levels = [lvl.clone() for lvl in window.levels()]
    # A non-constant history: an all-zero one makes the previous-frame encoder normalise constant
    # planes, which amplifies rounding and would make the modes' "max abs vs eager" meaningless.
    g = torch.Generator().manual_seed(1)
    first = (torch.rand(1, c.n_frames_G - 1, 3, height, width, generator=g) * 2 - 1).to(device, dtype)
    state = gen.init_state(first)
    state = GeneratorState(state.history, is_first=False)
    return levels, state


def section_speed(plan: Plan, device: torch.device, started: float, log: _Tee) -> dict[str, Any]:
    """Frames/s, peak memory and TFLOP/s of one generator step per size × dtype × mode."""
    info = device_info(device)
    peaks = info.get("peak_tflops") or {}
    rows: list[SpeedRow] = []
    for width, height, n_scales in plan.speed_sizes:
        for dtype_name in plan.dtypes:
            dtype = DTYPES[dtype_name]
            gen = _street_generator(width, height, n_scales, plan, device, dtype)
            levels, state0 = _speed_inputs(gen, width, height, device, dtype)
            with torch.inference_mode():
                reference = gen(levels, state0.history).image.float()
                flops = count_flops(functools.partial(gen, levels, state0.history))
            for mode in plan.modes:
                row = SpeedRow(f"{width}x{height}", n_scales, plan.ngf, dtype_name, mode)
                rows.append(row)
                row.gflop_per_frame = round(flops / 1e9, 1)
                if time.perf_counter() - started > plan.budget_s:
                    row.status = "skipped (time budget)"
                    continue
                if mode == "cuda_graphs" and device.type != "cuda":
                    row.status = "not run (CUDA only)"
                    continue
                if (
                    mode == "compile"
                    and plan.compile_sizes is not None
                    and (width, height) not in plan.compile_sizes
                ):
                    where = ", ".join(f"{w}x{h}" for w, h in plan.compile_sizes)
                    row.status = (
                        f"not run (compiled only at {where})"
                        if where
                        else "not run (no compile in this plan)"
                    )
                    continue
                try:
                    _measure_mode(
                        row, mode, gen, levels, state0, plan, device, reference, flops, peaks.get(dtype_name)
                    )
                except Exception as err:  # record and go on: one mode must not hide the others
                    row.status = f"error: {type(err).__name__}: {str(err).splitlines()[0][:200]}"
                log(f"speed {row.size} S={n_scales} {dtype_name} {mode}: {row.status} {row.frames_per_s}")
            del gen
            if device.type == "cuda":
                torch.cuda.empty_cache()
    return {
        "generator": f"street preset (35 labels + instance edges + foreground), ngf {plan.ngf}, "
        f"n_blocks {plan.n_blocks}, random weights, batch 1",
        "timing": f"{plan.iters} steps after {plan.warmup} warm-up steps; a step includes advancing the history",
        "tf32": False,
        "peak_tflops": peaks or None,
        "rows": [asdict(r) for r in rows],
    }


def _measure_mode(
    row: SpeedRow,
    mode: str,
    gen: SequentialGenerator,
    levels: list[torch.Tensor],
    state0: GeneratorState,
    plan: Plan,
    device: torch.device,
    reference: torch.Tensor,
    flops: int,
    peak: float | None,
) -> None:
    setup_start = time.perf_counter()
    model: Any = gen
    run_levels = levels
    if mode == "channels_last":
        with torch.device(device):
            model = SequentialGenerator(gen.config)
        model = model.to(dtype=levels[0].dtype).eval()
        model.load_state_dict(gen.state_dict())
        model.to(memory_format=torch.channels_last)
    elif mode == "compile":
        model = torch.compile(gen)

    state_box = [state0]
    if mode == "cuda_graphs":
        from vid2vid.nn.graphed_step import GraphedGeneratorStep

        graphed = GraphedGeneratorStep(gen)

        def step() -> Any:
            out = graphed(run_levels, state_box[0].history)
            state_box[0] = state_box[0].advance(out.scale_images)
            return out

    else:

        def step() -> Any:
            out = model(run_levels, state_box[0].history)
            state_box[0] = state_box[0].advance(out.scale_images)
            return out

    with torch.inference_mode():
        first = step()  # compile / capture happens here
        sync(device)
        row.setup_s = round(time.perf_counter() - setup_start, 2)
        row.max_abs_vs_eager = float((first.image.float() - reference).abs().max())
        for _ in range(plan.warmup):
            step()
        sync(device)
        start = time.perf_counter()
        for _ in range(plan.iters):
            step()
        sync(device)
        elapsed = time.perf_counter() - start
        row.peak_mib = round(peak_memory_of(device, step), 1)
    row.frames_per_s = round(plan.iters / elapsed, 2)
    row.ms_per_frame = round(1000 * elapsed / plan.iters, 2)
    row.tflops = round(flops * plan.iters / elapsed / 1e12, 2)
    if peak:
        row.percent_of_peak = round(100 * row.tflops / peak, 1)


# ------------------------------------------------------------------------------------- pipeline
def _label_reader(
    paths: list[tuple[Path, Path]], n_frames: int, out: queue.Queue, stop: threading.Event
) -> None:
    from vid2vid.data.io import read_label_image

    try:
        for t in range(n_frames):
            if stop.is_set():
                return
            lab_path, inst_path = paths[t % len(paths)]
            out.put(
                (torch.from_numpy(read_label_image(lab_path)), torch.from_numpy(read_label_image(inst_path)))
            )
        out.put(None)
    except BaseException as err:  # surface decode errors in the main thread
        out.put(err)


def _queue_iter(q: queue.Queue, index: int) -> Iterator[torch.Tensor]:
    while True:
        item = q.get()
        if item is None:
            return
        if isinstance(item, BaseException):
            raise item
        yield item[index]


class _VideoWriter(threading.Thread):
    """Encodes ``(3, H, W)`` float [0, 1] frames (any device) to H.264 in a thread."""

    def __init__(self, path: Path, width: int, height: int, fps: int = 30, preset: str = "veryfast") -> None:
        super().__init__(daemon=True)
        self.frames: queue.Queue = queue.Queue(maxsize=8)
        self.path, self.width, self.height, self.fps, self.preset = path, width, height, fps, preset
        self.error: BaseException | None = None
        self.count = 0

    def run(self) -> None:
        import av

        try:
            with av.open(str(self.path), mode="w") as container:
                stream = container.add_stream("libx264", rate=self.fps)
                stream.width, stream.height, stream.pix_fmt = self.width, self.height, "yuv420p"
                stream.options = {"crf": "17", "preset": self.preset}
                while True:
                    frame = self.frames.get()
                    if frame is None:
                        break
                    video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
                    for packet in stream.encode(video_frame):
                        container.mux(packet)
                    self.count += 1
                for packet in stream.encode():
                    container.mux(packet)
        except BaseException as err:
            self.error = err
            while self.frames.get() is not None:  # drain so that the producer never blocks
                pass

    def put(self, frame: torch.Tensor) -> None:
        """Queue one frame; the GPU→CPU copy and uint8 conversion happen here (producer side)."""
        if self.error is not None:
            raise self.error
        array = (frame.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
        self.frames.put(np.ascontiguousarray(array))


def section_pipeline(plan: Plan, device: torch.device, log: _Tee) -> dict[str, Any]:
    """End-to-end streaming: decode (thread) → pipeline → encode (thread), and its parts."""
    from vid2vid.data.io import write_label_frames
    from vid2vid.pipeline import Vid2VidPipeline

    width, height, n_scales = plan.pipeline_size
    dtype = DTYPES[plan.pipeline_dtype]
    gen = _street_generator(width, height, n_scales, plan, device, dtype)
    pipe = Vid2VidPipeline(gen, first_frame="zeros")
    options = {"dtype": plan.pipeline_dtype, "cuda_graphs": device.type == "cuda"}
    if device.type == "cuda":
        pipe.enable_cuda_graphs()
    n = plan.pipeline_frames
    result: dict[str, Any] = {
        "size": f"{width}x{height}",
        "n_scales": n_scales,
        "frames": n,
        "options": options,
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ids, inst = blocky_labels(plan.pipeline_unique_frames, height, width, seed=3)
        write_label_frames(ids.numpy().astype(np.uint8), root / "labels")
        write_label_frames(inst.numpy().astype(np.int64), root / "inst", bit_depth=16)
        paths = list(zip(sorted((root / "labels").iterdir()), sorted((root / "inst").iterdir()), strict=True))

        # 1) pipeline alone (labels in memory, outputs dropped after a device sync)
        def run_frames(count: int) -> None:
            source = (ids[t % len(ids)] for t in range(count)), (inst[t % len(inst)] for t in range(count))
            for _ in pipe.stream(*source):
                pass
            sync(device)

        run_frames(4)  # warm-up (and CUDA-graph capture)
        if device.type == "cuda":
            # Streaming memory against clip length: peak of a short and of the full-length run.
            peaks = {}
            for count in (max(4, n // 10), n):
                torch.cuda.reset_peak_memory_stats(device)
                base = torch.cuda.memory_allocated(device)
                run_frames(count)
                peaks[count] = round((torch.cuda.max_memory_allocated(device) - base) / 2**20, 1)
            result["stream_peak_mib_by_length"] = peaks
        start = time.perf_counter()
        for t, frame in enumerate(
            pipe.stream((ids[t % len(ids)] for t in range(n)), (inst[t % len(inst)] for t in range(n)))
        ):
            if t == n - 1:
                frame.sum().item()
        sync(device)
        result["pipeline_no_io_fps"] = round(n / (time.perf_counter() - start), 2)
        log(f"pipeline without I/O: {result['pipeline_no_io_fps']} frames/s")

        # 2) encoder alone (the same number of frames)
        writer = _VideoWriter(root / "encode_only.mp4", width, height)
        blank = torch.full((3, height, width), 0.5)
        start = time.perf_counter()
        writer.start()
        for _ in range(n):
            writer.put(blank)
        writer.frames.put(None)
        writer.join()
        if writer.error is not None:
            raise writer.error
        result["encode_only_fps"] = round(n / (time.perf_counter() - start), 2)

        # 3) end to end, decode and encode overlapped with compute
        labels_q: queue.Queue = queue.Queue(maxsize=8)
        stop = threading.Event()
        writer = _VideoWriter(root / "out.mp4", width, height)
        start = time.perf_counter()
        reader = threading.Thread(target=_label_reader, args=(paths, n, labels_q, stop), daemon=True)
        reader.start()
        writer.start()
        pair_q: queue.Queue = queue.Queue()

        def labels_only() -> Iterator[torch.Tensor]:
            for item in _queue_iter(labels_q, slice(None)):
                pair_q.put(item[1])
                yield item[0]

        def instances_only() -> Iterator[torch.Tensor]:
            while True:
                yield pair_q.get()

        try:
            for frame in pipe.stream(labels_only(), _bounded(instances_only(), n)):
                writer.put(frame)
        finally:
            stop.set()
            writer.frames.put(None)
            writer.join()
        if writer.error is not None:
            raise writer.error
        elapsed = time.perf_counter() - start
        result["end_to_end_fps"] = round(n / elapsed, 2)
        result["encoded_frames"] = writer.count
        result["video_bytes"] = (root / "out.mp4").stat().st_size
        result["encoder"] = "libx264 crf 17 preset veryfast (PyAV), writer thread"
        result["decoder"] = "label + instance PNGs (vid2vid.data.io.read_label_image), reader thread"
        log(f"pipeline end to end: {result['end_to_end_fps']} frames/s")
    return result


def _bounded(it: Iterator[torch.Tensor], n: int) -> Iterator[torch.Tensor]:
    for _ in range(n):
        yield next(it)


# ---------------------------------------------------------------------------------------- train
def section_train(plan: Plan, device: torch.device, log: _Tee) -> dict[str, Any]:
    """Training iterations with bfloat16 autocast at ``train_size`` on a synthetic dataset."""
    from vid2vid.data.synthetic import make_synthetic_dataset
    from vid2vid.nn import SequentialGeneratorConfig
    from vid2vid.training import TrainConfig
    from vid2vid.training.trainer import Vid2VidTrainer

    width, height = plan.train_size
    generator = dict(label_nc=35, use_instance=True, **plan.train_generator)
    with tempfile.TemporaryDirectory() as tmp:
        root = make_synthetic_dataset(Path(tmp) / "data", n_clips=2, n_frames=8, size=(width, height), seed=0)
        settings: dict[str, Any] = dict(
            generator=SequentialGeneratorConfig(**generator),
            dataroot=str(root), resize_mode="scale_width", load_size=width, fine_size=width,
            num_workers=0, n_frames_total=plan.train_frames, max_frames_per_gpu=2, niter=1, niter_decay=0,
            vgg_weights="none", checkpoint_dir=str(Path(tmp) / "ckpt"), save_every=10**6,
            log_every=1, image_every=10**6, progress=False, tensorboard=False,
            max_iters=1 + plan.train_iters, device=device.type,
            amp="bf16" if device.type == "cuda" else "none", **plan.train_d,
        )  # fmt: skip
        config = TrainConfig(**settings)
        trainer = Vid2VidTrainer(config)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        result = trainer.train()
        losses = result.last_losses
        peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    out = {
        "size": f"{width}x{height}",
        "generator": generator,
        "amp": settings["amp"],
        "iterations": result.iterations,
        "seconds_per_iteration_incl_first": round(result.seconds / max(1, result.iterations), 3),
        "peak_mib": None if peak is None else round(peak, 1),
        "losses_finite": all(np.isfinite(v) for v in losses.values()),
        "G_total": losses.get("G_total"),
    }
    if device.type != "cuda":
        out["note"] = "bf16 autocast is CUDA-only in the trainer: float32 on CPU"
    log(f"train: {out['seconds_per_iteration_incl_first']} s/iteration")
    return out


# ------------------------------------------------------------------------------------- reporting
def markdown(report: dict[str, Any]) -> str:
    """The report as markdown tables."""
    dev = report["device"]
    lines = [
        "# vid2vid GPU check",
        "",
        f"Device: **{dev.get('name')}** ({dev.get('device')}, {dev.get('memory_gib', '?')} GiB, CUDA "
        f"{dev.get('cuda', '-')}), torch {dev['torch']}, {report['mode']} run, {report['elapsed_s']:.0f} s.",
        "",
    ]
    if report.get("errors"):
        lines += (
            ["## Errors", ""]
            + [f"- **{k}**: `{v.splitlines()[-1]}`" for k, v in report["errors"].items()]
            + [""]
        )
    parity = report.get("parity")
    if parity:
        lines += ["## Parity with the original (float32, TF32 off, tolerance 1e-4)", "",
                  "| fixture | kind | max abs diff (free-running) | worst teacher-forced window | pass |",
                  "|---|---|---|---|---|"]  # fmt: skip
        lines += [
            f"| {r['fixture']} | {r['kind']} | {r['max_abs_diff']:.2e} | "
            f"{'-' if r['worst_window'] is None else format(r['worst_window'], '.2e')} | {'yes' if r['pass'] else 'NO'} |"
            for r in parity["fixtures"]
        ]
        lines.append("")
    prec = report.get("precision")
    if prec:
        lines += [f"## Half precision against float32 ({prec['model']}; {prec['clip']}; {prec['scale']})", "",
                  "| dtype | mean abs (clip) | max abs (clip) | mean abs frame 1 | mean abs last frame | finite |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        for name, d in prec["dtypes"].items():
            per = d["mean_abs_per_frame"]
            lines.append(
                f"| {name} | {d['mean_abs']:.4f} | {d['max_abs']:.3f} | {per[0]:.4f} | {per[-1]:.4f} | {d['finite']} |"
            )
        lines.append("")
    speed = report.get("speed")
    if speed:
        lines += [f"## Generator step ({speed['generator']}; {speed['timing']}; TF32 off)", "",
                  "| size | scales | dtype | mode | frames/s | ms/frame | peak MiB | GFLOP/frame | TFLOP/s | % of peak | setup s | max abs vs eager |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for r in speed["rows"]:
            if r["status"] != "ok":
                lines.append(
                    f"| {r['size']} | {r['n_scales']} | {r['dtype']} | {r['mode']} | {r['status']} | | | {r['gflop_per_frame']} | | | | |"
                )
                continue
            pct = "–" if r["percent_of_peak"] is None else f"{r['percent_of_peak']}"
            lines.append(
                f"| {r['size']} | {r['n_scales']} | {r['dtype']} | {r['mode']} | {r['frames_per_s']} | {r['ms_per_frame']} | "
                f"{r['peak_mib']} | {r['gflop_per_frame']} | {r['tflops']} | {pct} | {r['setup_s']} | {r['max_abs_vs_eager']:.1e} |"
            )
        lines.append("")
    pipe = report.get("pipeline")
    if pipe:
        lines += [f"## Pipeline, {pipe['frames']} frames at {pipe['size']} ({pipe['n_scales']} scales), options {pipe['options']}", "",
                  "| pipeline without I/O | encoder alone | end to end (decode + encode overlapped) |", "|---|---|---|",
                  f"| {pipe['pipeline_no_io_fps']} frames/s | {pipe['encode_only_fps']} frames/s | {pipe['end_to_end_fps']} frames/s |",
                  "", f"{pipe['decoder']}; {pipe['encoder']}.",
                  f"Streaming peak memory (MiB) by clip length: {pipe.get('stream_peak_mib_by_length', 'not measured on CPU')}.",
                  ""]  # fmt: skip
    train = report.get("train")
    if train:
        lines += [f"## Training ({train['size']}, amp {train['amp']})", "",
                  f"{train['iterations']} iterations, {train['seconds_per_iteration_incl_first']} s/iteration "
                  f"(first included), peak {train['peak_mib']} MiB, losses finite: {train['losses_finite']}.", ""]  # fmt: skip
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(
        description="vid2vid GPU check (parity, precision, speed, pipeline, training)"
    )
    p.add_argument("--out", default="gpu_check_out", help="folder for report.json and report.md")
    p.add_argument("--smoke", action="store_true", help="tiny CPU version of every section")
    p.add_argument("--device", default=None, help="default: cuda (cpu with --smoke)")
    p.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    p.add_argument("--fixtures", default=None, help="reference fixtures folder (nvidia-vid2vid)")
    p.add_argument(
        "--budget-s", type=float, default=None, help="skip remaining speed rows after this many seconds"
    )
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check; exit status 1 when a section failed or parity did not pass."""
    args = parse_args(argv)
    device = torch.device(args.device or ("cpu" if args.smoke else "cuda"))
    if device.type == "cuda" and not torch.cuda.is_available():
        print("CUDA is not available: run on a GPU machine, or use --smoke / --device cpu", file=sys.stderr)
        return 2
    plan = smoke_plan() if args.smoke else full_plan(str(device))
    if args.smoke:
        torch.set_num_threads(
            1
        )  # tiny ops: threads only add synchronisation (and the suite runs single-threaded)
    plan.device = str(device)
    if args.budget_s is not None:
        plan.budget_s = args.budget_s
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        print(f"unknown sections {unknown}; choose from {SECTIONS}", file=sys.stderr)
        return 2
    fixtures = Path(
        args.fixtures
        or os.environ.get("VID2VID_FIXTURES", REPO.parent / "shared" / "fixtures" / "nvidia-vid2vid")
    )
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    log = _Tee(not args.quiet)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "mode": "smoke" if args.smoke else "full",
        "device": device_info(device),
        "errors": {},
    }
    runners: dict[str, Callable[[], dict[str, Any]]] = {
        "parity": lambda: section_parity(plan, device, fixtures, log),
        "precision": lambda: section_precision(plan, device, log),
        "speed": lambda: section_speed(plan, device, started, log),
        "pipeline": lambda: section_pipeline(plan, device, log),
        "train": lambda: section_train(plan, device, log),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in sections:
        try:
            report[name] = runners[name]()
        except Exception:
            report["errors"][name] = traceback.format_exc()
            log(f"{name} FAILED:\n{report['errors'][name]}")
        report["elapsed_s"] = time.perf_counter() - started
        # Write after every section: a run cut short still leaves what it measured.
        atomic_write_text(out / "report.json", json.dumps(report, indent=2, default=str))
        atomic_write_text(out / "report.md", markdown(report))
    if "speed" in report:
        medians = [r["frames_per_s"] for r in report["speed"]["rows"] if r["frames_per_s"]]
        report["speed"]["median_frames_per_s"] = statistics.median(medians) if medians else None
    atomic_write_text(out / "report.json", json.dumps(report, indent=2, default=str))
    log(f"wrote {out / 'report.json'} and {out / 'report.md'} in {report['elapsed_s']:.0f} s")
    parity_ok = "parity" not in report or report["parity"]["all_pass"]
    return 0 if not report["errors"] and parity_ok else 1


if __name__ == "__main__":
    sys.exit(main())
