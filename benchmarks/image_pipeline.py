"""Benchmark of the per-frame pix2pixHD pipeline: frames/s of a clip, and the ``frames_per_batch`` ratio.

For each configuration (frame size, ``ngf``, local enhancers, device, dtype) a random-weight
:class:`~vid2vid.pipelines.image.Pix2PixHDPipeline` synthesises a clip of ``--frames`` label maps
(with instance maps) with ``frames_per_batch=1`` and with ``frames_per_batch=N``, interleaved
(A B B A ...) so that both see the same machine load; the ratio of their median times is the
speed-up of batching time steps (the frames are identical; see the tests).

Examples::

    python benchmarks/image_pipeline.py --smoke
    OMP_NUM_THREADS=1 python benchmarks/image_pipeline.py --sizes 256x128,512x256 --ngf 32 --repeats 3
    python benchmarks/image_pipeline.py --device cuda --dtypes float32,float16 --batch-frames 8
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vid2vid.nn import ImageGenerator  # noqa: E402
from vid2vid.pipelines.image import Pix2PixHDPipeline  # noqa: E402

LABEL_NC = 35


def _clip(frames: int, width: int, height: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, LABEL_NC, (frames, height // 8, width // 8), generator=g)
    labels = labels.repeat_interleave(8, 1).repeat_interleave(8, 2)  # blocky maps, like real layouts
    return labels, labels.clone()


def _time(pipe: Pix2PixHDPipeline, labels: torch.Tensor, instances: torch.Tensor, n: int) -> float:
    if pipe.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    pipe(labels, instances, progress=False, frames_per_batch=n)
    if pipe.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="one tiny run (the test suite runs this)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtypes", default="float32")
    parser.add_argument("--sizes", default="256x128", help="comma-separated WIDTHxHEIGHT")
    parser.add_argument("--ngf", default="32", help="comma-separated widths of the finest network")
    parser.add_argument("--local", type=int, default=0, help="local enhancers")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--batch-frames", type=int, default=4, help="frames_per_batch compared with 1")
    parser.add_argument("--repeats", type=int, default=3, help="A B B A rounds")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.ngf, args.frames, args.repeats, args.batch_frames = "64x32", "4", 2, 1, 2
    print(
        f"# torch {torch.__version__}, {platform.processor() or platform.machine()}, threads {torch.get_num_threads()}"
    )
    print(
        "| device | dtype | size (WxH) | ngf | local | frames | frames/s (1 per batch) | "
        f"frames/s ({args.batch_frames} per batch) | speed-up |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for dtype in args.dtypes.split(","):
        for size in args.sizes.split(","):
            width, height = (int(x) for x in size.split("x"))
            for ngf in (int(x) for x in args.ngf.split(",")):
                torch.manual_seed(0)
                gen = ImageGenerator(
                    input_nc=LABEL_NC + 1,
                    ngf=ngf,
                    n_downsample=2 if args.smoke else 3,
                    n_blocks=1 if args.smoke else 9,
                    n_local_enhancers=args.local,
                )
                pipe = Pix2PixHDPipeline(gen, label_nc=LABEL_NC, use_instance=True).to(args.device, dtype)
                labels, instances = _clip(args.frames, width, height)
                _time(pipe, labels[:1], instances[:1], 1)  # warm-up
                one, many = [], []
                for _ in range(args.repeats):
                    one.append(_time(pipe, labels, instances, 1))
                    many.append(_time(pipe, labels, instances, args.batch_frames))
                    many.append(_time(pipe, labels, instances, args.batch_frames))
                    one.append(_time(pipe, labels, instances, 1))
                t1, tn = statistics.median(one), statistics.median(many)
                print(
                    f"| {args.device} | {dtype} | {width}x{height} | {ngf} | {args.local} | {args.frames} | "
                    f"{args.frames / t1:.2f} | {args.frames / tn:.2f} | {t1 / tn:.2f}x |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
