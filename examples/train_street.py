"""Labels → street end to end on CPU: synthetic street scenes → train → synthesise → MP4.

    python examples/train_street.py --out runs/street --iters 300

The steps are ``vid2vid`` commands (printed as they run; ``docs/training.md`` lists them):

1. ``make-synthetic`` (kind ``street``): training clips (Cityscapes label ids, instance maps, RGB
   frames, exact flow) and one held-out test clip with another seed;
2. ``train --preset street_256`` shrunk to a small CPU model (35 label classes + instance edges,
   the car foreground branch), ``no_first_frame`` so it needs no real first frame;
3. ``synthesize --labels test_A/<clip> --instances test_inst/<clip>`` → ``<out>/street.mp4``.

It prints the held-out error next to a mean-colour baseline. ``--tiny`` runs it at toy size (seconds).
The model folder is ``<out>/run/latest/model`` (TensorBoard logs in ``<out>/run/logs``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from end_to_end import cli, held_out_error, parse_args, report, synthesize, train  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the three steps; returns 0."""
    args = parse_args(__doc__, argv, "runs/street")
    data, out = args.out / "data", args.out
    clips, frames, size, load = ("2", "8", "64x32", 64) if args.tiny else ("16", "24", "128x64", 128)
    cli("make-synthetic", "--out", str(data), "--clips", clips, "--frames", frames, "--size", size,
        "--seed", "0", "--quiet")  # fmt: skip
    cli("make-synthetic", "--out", str(data), "--phase", "test", "--clips", "1", "--frames", frames,
        "--size", size, "--seed", "1", "--quiet")  # fmt: skip
    small = {"generator.ngf": 8, "generator.n_downsample": 2, "generator.n_blocks": 1, "ndf": 8, "ndf_max": 8,
             "num_D": 1, "n_layers_D": 2, "save_every": 1000, "tensorboard": "false"}  # fmt: skip
    settings = {
        "generator.ngf": 16, "generator.n_downsample": 3, "generator.n_blocks": 3, "generator.n_scales": 1,
        "generator.no_first_frame": "true", "resize_mode": "scale_width", "load_size": load, "fine_size": load,
        "flip": "false", "ndf": 16, "ndf_max": 16, "num_D": 2, "batch_size": 1, "n_frames_total": 4,
        "max_frames_per_gpu": 2, "niter": 10, "niter_decay": 10, "vgg_weights": "none", "flow_source": "cache",
        "num_workers": 0, "log_every": 10, **(small if args.tiny else {}),
    }  # fmt: skip
    model = train("street_256", data, out / "run", args.iters, args.threads, settings)
    clip = "clip_0000"
    video = synthesize(
        model, data / "test_A" / clip, out / "street.mp4", "--instances", str(data / "test_inst" / clip)
    )
    report("street", video, *held_out_error(out / "street.safetensors", data / "test_B" / clip))
    return 0


if __name__ == "__main__":
    sys.exit(main())
