"""Image-to-image synthesis end to end, with the ``vid2vid`` commands (CPU, a few minutes).

1. make the synthetic street dataset (a training set and a held-out clip);
2. train a small pix2pixHD image model on single frames (``vid2vid train --model image``);
3. synthesise the held-out clip frame by frame with it (``vid2vid synthesize``: the per-frame
   baseline) and compare with the ground truth;
4. bundle it as the first-frame model of the shipped demo video model (``vid2vid bundle``) and
   synthesise the same clip from its labels alone.

    python examples/image_to_image.py --out runs/image --iters 600

``--iters`` sets ``niter``/``niter_decay`` so that the schedule (constant learning rate, then
linear decay to 0) spans about that many iterations; the command prints the schedule when
training starts. ``--tiny`` runs the same steps at toy size (the test suite does).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from vid2vid.cli.demo import demo_model_folder
from vid2vid.cli.main import main as vid2vid


def run(cmd: list[str]) -> None:
    """Run one ``vid2vid`` command, printing it first."""
    print("$ vid2vid " + " ".join(cmd), flush=True)
    if vid2vid(cmd) != 0:
        raise SystemExit(f"vid2vid {cmd[0]} failed")


def mean_abs_error(folder_a: Path, folder_b: Path) -> float:
    """Mean |a - b| over the frames of two PNG folders, in [0, 1] units."""
    from vid2vid.data.io import read_frames

    a, b = read_frames(folder_a).astype(np.float32), read_frames(folder_b).astype(np.float32)
    return float(np.abs(a - b).mean() / 255.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/image"))
    parser.add_argument("--iters", type=int, default=600, help="about how many training iterations")
    parser.add_argument("--tiny", action="store_true", help="toy sizes (seconds; for tests)")
    args = parser.parse_args(argv)
    out: Path = args.out
    clips, frames, width, ngf, blocks = (2, 4, 128, 4, 1) if args.tiny else (8, 12, 128, 16, 4)
    size = f"{width}x{width // 2}"
    batch = 4

    # 1. data: 128x64 street scenes, labels (35 Cityscapes ids) + instance maps + frames
    run(
        [
            "make-synthetic",
            "--out",
            str(out / "data"),
            "--clips",
            str(clips),
            "--frames",
            str(frames),
            "--size",
            size,
            "--quiet",
        ]
    )
    run(
        [
            "make-synthetic",
            "--out",
            str(out / "data"),
            "--clips",
            "1",
            "--frames",
            "8",
            "--size",
            size,
            "--seed",
            "1",
            "--phase",
            "test",
            "--quiet",
        ]
    )

    # 2. the image model; an epoch visits every training frame once: clips * frames / batch iterations
    per_epoch = clips * frames // batch
    epochs = max(2, math.ceil(args.iters / per_epoch))
    run(
        [
            "train",
            "--model",
            "image",
            "--dataroot",
            str(out / "data"),
            "--checkpoint-dir",
            str(out / "image"),
            "--device",
            "cpu",
            "--batch-size",
            str(batch),
            "--niter",
            str(epochs // 2),
            "--niter-decay",
            str(epochs - epochs // 2),
            "--vgg-weights",
            "none",
            "--num-workers",
            "0",
            "--no-progress",
            "--log-every",
            str(max(1, per_epoch)),
            "--set",
            "generator.use_instance=true",
            "--set",
            "load_size=128",
            "--set",
            "fine_size=128",
            "--set",
            f"image_generator.ngf={ngf}",
            "--set",
            "image_generator.n_downsample=3",
            "--set",
            f"image_generator.n_blocks={blocks}",
            "--set",
            "ndf=16",
            "--set",
            "ndf_max=16",
            "--set",
            "num_D=2",
            "--set",
            "save_every=100000",
            "--set",
            "tensorboard=false",
        ]
    )
    image_model = out / "image" / "latest" / "model"

    # 3. the per-frame baseline on the held-out clip
    held_out = [
        "--labels",
        str(out / "data/test_A/clip_0000"),
        "--instances",
        str(out / "data/test_inst/clip_0000"),
    ]
    run(
        [
            "synthesize",
            "--model",
            str(image_model),
            *held_out,
            "--out",
            str(out / "per_frame"),
            "--device",
            "cpu",
            "--quiet",
        ]
    )
    run(
        [
            "synthesize",
            "--model",
            str(image_model),
            *held_out,
            "--out",
            str(out / "per_frame.mp4"),
            "--device",
            "cpu",
            "--quiet",
        ]
    )
    error = mean_abs_error(out / "per_frame", out / "data/test_B/clip_0000")
    print(f"per-frame baseline: mean |synthesised - real| = {error:.4f} on the held-out clip")

    # 4. a labels-only video model: the image model makes the first frames of the demo video model
    run(
        [
            "bundle",
            "--video-model",
            str(demo_model_folder()),
            "--first-frame-model",
            str(image_model),
            "--out",
            str(out / "labels_only"),
            "--overwrite",
        ]
    )
    run(
        [
            "synthesize",
            "--model",
            str(out / "labels_only"),
            *held_out,
            "--out",
            str(out / "labels_only_video"),
            "--device",
            "cpu",
            "--quiet",
        ]
    )
    error = mean_abs_error(out / "labels_only_video", out / "data/test_B/clip_0000")
    print(f"labels-only vid2vid (image-model first frames): mean |synthesised - real| = {error:.4f}")


if __name__ == "__main__":
    main()
