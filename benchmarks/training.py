"""Training benchmark: seconds per iteration of :class:`~vid2vid.training.Vid2VidTrainer` on the CPU.

Configurations (synthetic street data made on the fly, random VGG19 weights so the perceptual
loss costs what it costs with the real ones):

* ``tiny``: ngf 8, n_downsample 2, 2 residual blocks, ndf 8, one image-D scale, 2 temporal scales,
  64x32 frames, 4 generated frames in chunks of 2 — the test-suite scale;
* ``street_256``: the ``street_256`` preset (35 labels + instances + foreground, ``n_downsample
  2``, one image-D scale, 6 frames in one chunk) at 256x128 with VGG19, at a CPU-sized width
  (ngf 32, ndf 32; the preset's ngf 128 needs ~10 GB and minutes per iteration on a CPU).

``--compare OLD_REPO`` times another checkout (e.g. a ``git worktree`` of an earlier commit)
against this one, alternating runs (A B B A ...) in fresh processes, and prints the median ratio.

Examples::

    python benchmarks/training.py --smoke
    python benchmarks/training.py --configs tiny,street_256 --iters 3
    python benchmarks/training.py --compare ../vid2vid-old --configs tiny --rounds 4
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
CONFIGS = ("tiny", "street_256")


def _config(name: str, root: str, checkpoint_dir: str):  # noqa: ANN202 (types from the measured repo)
    from vid2vid.nn import SequentialGeneratorConfig
    from vid2vid.training import TrainConfig

    common = dict(
        dataroot=root,
        num_workers=0,
        vgg_weights=None,  # random VGG19: same cost as the ImageNet weights
        checkpoint_dir=checkpoint_dir,
        progress=False,
        tensorboard=False,
        device="cpu",
        flip=False,
    )
    if name == "tiny":
        gen = SequentialGeneratorConfig(
            label_nc=35, use_instance=True, ngf=8, n_downsample=2, n_blocks=2, n_blocks_local=1
        )
        return TrainConfig(
            generator=gen,
            ndf=8,
            ndf_max=8,
            num_D=1,
            n_layers_D=2,
            load_size=64,
            fine_size=64,
            n_frames_total=4,
            max_frames_per_gpu=2,
            **common,
        )
    if name == "street_256":
        import dataclasses

        from vid2vid.training import get_preset

        cfg = get_preset("street_256")
        # the preset's architecture at a CPU-sized width (ngf 32 instead of 128; ndf 32)
        gen = dataclasses.replace(cfg.generator, ngf=32)
        return cfg.replace(generator=gen, ndf=32, load_size=256, fine_size=256, **common)
    raise ValueError(f"unknown configuration {name!r}; expected one of {CONFIGS}")


def measure(name: str, iters: int, threads: int) -> dict[str, float]:
    """Seconds per iteration of configuration ``name`` (after one warm-up iteration)."""
    import torch

    from vid2vid.data.synthetic import make_synthetic_dataset
    from vid2vid.training import Vid2VidTrainer

    torch.set_num_threads(threads)
    size = (64, 32) if name == "tiny" else (256, 128)
    with tempfile.TemporaryDirectory() as tmp:
        root = make_synthetic_dataset(Path(tmp) / "data", n_clips=2, n_frames=12, size=size, seed=0)
        trainer = Vid2VidTrainer(_config(name, str(root), str(Path(tmp) / "ckpt")))
        sched = trainer._prepare_epoch(0)
        batch = next(trainer._batches(0))
        trainer.generator.train()
        trainer.objective.train()
        trainer.train_iteration(batch, sched)  # warm-up
        times = []
        for _ in range(iters):
            start = time.perf_counter()
            trainer.train_iteration(batch, sched)
            times.append(time.perf_counter() - start)
    return {"config": name, "s_per_iter": statistics.median(times), "frames": sched.n_frames_generated}


def _run_child(repo: Path, name: str, iters: int, threads: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(repo), "OMP_NUM_THREADS": str(threads)}
    cmd = [
        sys.executable,
        str(HERE),
        "--child",
        "--configs",
        name,
        "--iters",
        str(iters),
        "--threads",
        str(threads),
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return float(json.loads(out.strip().splitlines()[-1])["s_per_iter"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", default="tiny", help=f"comma-separated, from {CONFIGS} (default: tiny)")
    parser.add_argument("--iters", type=int, default=3, help="timed iterations per run (default: 3)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    parser.add_argument("--smoke", action="store_true", help="one timed iteration of the tiny configuration")
    parser.add_argument("--compare", metavar="OLD_REPO", help="time another checkout against this one")
    parser.add_argument("--rounds", type=int, default=2, help="A B B A rounds with --compare (default: 2)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = ["tiny"] if args.smoke else [n.strip() for n in args.configs.split(",") if n.strip()]
    iters = 1 if args.smoke else args.iters
    if args.child:
        print(json.dumps(measure(names[0], iters, args.threads)))
        return 0
    if args.compare:
        new_repo, old_repo = HERE.parents[1], Path(args.compare).resolve()
        for name in names:
            old, new = [], []
            for _ in range(args.rounds):  # A B B A: drifts of a shared machine cancel
                old.append(_run_child(old_repo, name, iters, args.threads))
                new.append(_run_child(new_repo, name, iters, args.threads))
                new.append(_run_child(new_repo, name, iters, args.threads))
                old.append(_run_child(old_repo, name, iters, args.threads))
            ratios = [o / n for o, n in zip(old, new, strict=True)]
            print(
                f"{name}: old {statistics.median(old):.3f} s/it, new {statistics.median(new):.3f} s/it, "
                f"speed-up (old/new, median of {len(ratios)} pairs) {statistics.median(ratios):.3f}"
            )
        return 0
    sys.path.insert(0, str(HERE.parents[1]))
    print(f"{'config':<12} {'frames/it':>9} {'s/it':>9}")
    for name in names:
        r = measure(name, iters, args.threads)
        print(f"{name:<12} {r['frames']:>9} {r['s_per_iter']:>9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
