"""Pose → body end to end on CPU: synthetic walking / dancing figures → train → synthesise → MP4.

    python examples/train_pose.py --out runs/pose --iters 300

The steps are ``vid2vid`` commands (printed as they run; ``docs/training.md`` lists them):

1. ``make-synthetic --kind pose``: training clips (OpenPose BODY_25 JSON + DensePose IUV + RGB
   frames + exact flow) and one held-out test clip with another seed;
2. ``train --preset pose_256`` shrunk to a small CPU model: the original's 6 input channels
   (DensePose + OpenPose renderings, ``[-1, 1]``) drawn per sample by :class:`~vid2vid.data.PoseDataset`
   (height scaled to 128, central half of the columns: 128×128; never flipped), a ``no_first_frame``
   model as the original's pose models;
3. ``build-inputs pose`` on the test clip (the original's test-time resize and crop), then
   ``synthesize --labels <maps>`` → ``<out>/pose.mp4``; the model folder records ``input_range [-1, 1]``.

It prints the held-out error next to a mean-colour baseline. ``--tiny`` runs it at toy size (seconds).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from end_to_end import cli, held_out_error, parse_args, report, synthesize, train  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the four steps; returns 0."""
    args = parse_args(__doc__, argv, "runs/pose")
    data, out = args.out / "data", args.out
    clips, frames, size, load = ("2", "8", "128x64", 64) if args.tiny else ("16", "24", "256x128", 128)
    cli("make-synthetic", "--kind", "pose", "--out", str(data), "--clips", clips, "--frames", frames,
        "--size", size, "--seed", "0", "--quiet")  # fmt: skip
    cli("make-synthetic", "--kind", "pose", "--out", str(data), "--phase", "test", "--clips", "1",
        "--frames", frames, "--size", size, "--seed", "1", "--quiet")  # fmt: skip
    small = {"generator.ngf": 8, "generator.n_downsample": 2, "generator.n_blocks": 1, "ndf": 8, "ndf_max": 8,
             "num_D": 1, "n_layers_D": 2, "save_every": 1000, "tensorboard": "false"}  # fmt: skip
    settings = {
        "generator.ngf": 16, "generator.n_downsample": 3, "generator.n_blocks": 3, "resize_mode": "scale_height",
        "load_size": load, "fine_size": load, "max_t_step": 1, "pose_sample_by_length": "false",
        "ndf": 16, "ndf_max": 16, "num_D": 2, "batch_size": 1, "n_frames_total": 4, "max_frames_per_gpu": 2,
        "niter": 10, "niter_decay": 10, "vgg_weights": "none", "flow_source": "cache", "num_workers": 0,
        "log_every": 10, **(small if args.tiny else {}),
    }  # fmt: skip
    model = train("pose_256", data, out / "run", args.iters, args.threads, settings)
    clip = "clip_0000"
    cli("build-inputs", "pose", "--keypoints", str(data / "test_openpose" / clip),
        "--densepose", str(data / "test_densepose" / clip), "--frames", str(data / "test_img" / clip),
        "--frames-out", str(out / "test_real"), "--load-size", str(load), "--out", str(out / "test_maps"))  # fmt: skip
    video = synthesize(model, out / "test_maps", out / "pose.mp4")
    report("pose", video, *held_out_error(out / "pose.safetensors", out / "test_real"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
