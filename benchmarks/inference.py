"""Inference benchmark of the vid2vid sequential generator and of streaming synthesis.

Measures, per configuration (frame size × ``n_scales`` × ``ngf`` × device × dtype × compiled):

* frames/s of :meth:`SequentialGenerator.step` (one output frame per call, batch 1, random
  weights, under ``torch.inference_mode``), warm-up iterations excluded;
* peak memory of one step: on CUDA ``torch.cuda.max_memory_allocated``; on CPU the peak bytes of
  live tensors created by torch ops (a ``TorchDispatchMode`` counting storages while a Python
  tensor references them — independent of the allocator's caching; weights and inputs created
  before the measurement are not included, so it is the *activation* peak);

and the peak memory of :meth:`Vid2VidPipeline.stream` against clip length (it should be flat).

Examples::

    python benchmarks/inference.py --smoke                  # 1 iteration of the smallest config
    python benchmarks/inference.py --device cpu --sizes 256x128,512x256 --ngf 32,64
    python benchmarks/inference.py --device cuda --dtypes float32,float16,bfloat16 --compile
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vid2vid.nn import SequentialGenerator, SequentialGeneratorConfig  # noqa: E402
from vid2vid.profiling import LiveTensorBytes  # noqa: E402

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass
class Result:
    """One benchmark row."""

    device: str
    dtype: str
    compiled: bool
    width: int
    height: int
    n_scales: int
    ngf: int
    frames_per_s: float
    peak_mib: float

    def row(self) -> str:
        """Markdown table row."""
        return (
            f"| {self.device} | {self.dtype} | {'yes' if self.compiled else 'no'} | {self.width}x{self.height} | "
            f"{self.n_scales} | {self.ngf} | {self.frames_per_s:.2f} | {1000 / self.frames_per_s:.0f} | "
            f"{self.peak_mib:.0f} |"
        )


HEADER = (
    "| device | dtype | compiled | size (WxH) | n_scales | ngf | frames/s | ms/frame | peak MiB |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def make_generator(ngf: int, n_scales: int, device: torch.device, dtype: torch.dtype) -> SequentialGenerator:
    """A street-scene generator (label_nc 35 + instance edges, n_frames_G 3, paper depth) with random weights."""
    config = SequentialGeneratorConfig(
        label_nc=35, use_instance=True, ngf=ngf, n_downsample=3, n_blocks=9, n_scales=n_scales
    )
    return SequentialGenerator(config).eval().to(device=device, dtype=dtype)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_step(
    width: int,
    height: int,
    ngf: int,
    n_scales: int,
    device: torch.device,
    dtype: torch.dtype,
    compiled: bool,
    iters: int,
    warmup: int,
) -> Result:
    """Frames/s and peak memory of one generator step at one configuration."""
    gen = make_generator(ngf, n_scales, device, dtype)
    if compiled:
        gen.compile()
    c = gen.config
    window = torch.zeros(1, c.n_frames_G, c.frame_nc, height, width, device=device, dtype=dtype)
    window[:, :, 7] = 1  # every pixel "road"
    with torch.inference_mode():
        state = gen.init_state(None, 1, height, width, device=device, dtype=dtype)
        for _ in range(warmup):
            _, state = gen.step(window, state)
        _sync(device)
        start = time.perf_counter()
        for _ in range(iters):
            _, state = gen.step(window, state)
        _sync(device)
        elapsed = time.perf_counter() - start
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
            base = torch.cuda.memory_allocated(device)
            gen.step(window, state)
            _sync(device)
            peak = torch.cuda.max_memory_allocated(device) - base
        else:
            meter = LiveTensorBytes()
            with meter:
                gen.step(window, state)
            peak = meter.peak
    return Result(
        device.type, str(dtype).removeprefix("torch."), compiled, width, height, n_scales, ngf,
        iters / elapsed, peak / 2**20,
    )  # fmt: skip


def bench_stream(
    lengths: Sequence[int], width: int, height: int, ngf: int, device: torch.device
) -> list[str]:
    """Peak memory of ``Vid2VidPipeline.stream`` (zeros policy) against clip length."""
    from vid2vid.pipeline import Vid2VidPipeline

    gen = make_generator(ngf, 1, device, torch.float32)
    gen.config.no_first_frame = True
    pipe = Vid2VidPipeline(gen, first_frame="zeros")
    rows = []
    for n in lengths:
        labels = (torch.full((height, width), 7, dtype=torch.long) for _ in range(n))
        instances = (torch.full((height, width), 7, dtype=torch.long) for _ in range(n))
        start = time.perf_counter()
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
            base = torch.cuda.memory_allocated(device)
            for _ in pipe.stream(labels, instances):
                pass
            peak = torch.cuda.max_memory_allocated(device) - base
        else:
            meter = LiveTensorBytes()
            with meter:
                for _ in pipe.stream(labels, instances):
                    pass
            peak = meter.peak
        rows.append(
            f"| {device.type} | {width}x{height} | {ngf} | {n} | {peak / 2**20:.1f} | {time.perf_counter() - start:.1f} |"
        )
    return rows


def machine_description() -> str:
    """CPU model, core count, torch version and threads (and the GPU when present)."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    text = (
        f"CPU: {cpu} ({os.cpu_count()} logical cores visible), torch {torch.__version__}, "
        f"torch threads {torch.get_num_threads()}, Python {platform.python_version()}"
    )
    if torch.cuda.is_available():
        text += f", GPU: {torch.cuda.get_device_name(0)}"
    else:
        text += ", no CUDA device"
    return text


def _sizes(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        w, h = part.lower().split("x")
        out.append((int(w), int(h)))
    return out


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",")]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description="vid2vid inference benchmark")
    p.add_argument("--smoke", action="store_true", help="1 iteration of the smallest configuration")
    p.add_argument("--device", default="auto", help="cpu, cuda, or auto (cpu + cuda when available)")
    p.add_argument("--sizes", type=_sizes, default=_sizes("256x128,512x256,1024x512"))
    p.add_argument("--n-scales", type=_ints, default=[1, 2])
    p.add_argument("--ngf", type=_ints, default=[32, 64, 128])
    p.add_argument("--dtypes", default="float32,float16,bfloat16", help="CUDA dtypes (CPU runs float32)")
    p.add_argument("--compile", action="store_true", help="also benchmark torch.compile'd generators (CUDA)")
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--max-seconds", type=float, default=float("inf"), help="skip configs once this is spent")
    p.add_argument("--stream-lengths", type=_ints, default=[10, 50, 100])
    p.add_argument("--stream-size", type=_sizes, default=_sizes("256x128"))
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print markdown tables."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.smoke:
        args.sizes, args.n_scales, args.ngf = [(256, 128)], [1], [32]
        args.iters, args.warmup, args.stream_lengths = 1, 1, [3, 5]
        args.stream_size = [(128, 64)]
        args.device = "cpu" if args.device == "auto" else args.device
    devices = ["cpu", "cuda"] if args.device == "auto" else [args.device]
    devices = [d for d in devices if d != "cuda" or torch.cuda.is_available()]
    print(machine_description())
    print()
    print(HEADER)
    started = time.perf_counter()
    for name in devices:
        device = torch.device(name)
        dtypes = ["float32"] if device.type == "cpu" else args.dtypes.split(",")
        compiled_options = [False, True] if args.compile and device.type == "cuda" else [False]
        for dtype_name in dtypes:
            for compiled in compiled_options:
                for width, height in args.sizes:
                    for n_scales in args.n_scales:
                        for ngf in args.ngf:
                            if time.perf_counter() - started > args.max_seconds:
                                print(
                                    f"| {name} | {dtype_name} | ... | {width}x{height} | {n_scales} | {ngf} | skipped (time budget) | | |"
                                )
                                continue
                            result = bench_step(
                                width, height, ngf, n_scales, device, DTYPES[dtype_name], compiled,
                                args.iters, args.warmup,
                            )  # fmt: skip
                            print(result.row(), flush=True)
    print()
    print("| device | size (WxH) | ngf | clip length | stream peak MiB | seconds |")
    print("|---|---|---|---|---|---|")
    width, height = args.stream_size[0]
    for name in devices:
        for row in bench_stream(args.stream_lengths, width, height, args.ngf[0], torch.device(name)):
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
