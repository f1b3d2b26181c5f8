"""Edge → face end to end on CPU: synthetic talking faces → train → synthesise a held-out clip → MP4.

    python examples/train_face.py --out runs/face --iters 300

The steps are ``vid2vid`` commands (printed as they run; ``docs/training.md`` lists them):

1. ``make-synthetic --kind face``: training clips (68 landmarks per frame + RGB frames + exact flow)
   and one held-out test clip with another seed;
2. ``train --preset face_512`` shrunk to a small CPU model: the original's 15 input channels
   (edges + distance maps, ``[0, 1]``) drawn per sample by :class:`~vid2vid.data.FaceDataset`,
   128×128 face crops; ``no_first_frame`` so the model needs no real first frame (the original's
   face models start from real frames or a first-frame generator; see ``docs/data-face-pose-flow.md``);
3. ``build-inputs face`` on the test clip's landmarks (the original's test-time crop), then
   ``synthesize --labels <maps>`` → ``<out>/face.mp4``; the model folder records ``input_range [0, 1]``.

It prints the held-out error next to a mean-colour baseline. ``--tiny`` runs it at toy size (seconds).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from end_to_end import cli, held_out_error, parse_args, report, synthesize, train  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the four steps; returns 0."""
    args = parse_args(__doc__, argv, "runs/face")
    data, out = args.out / "data", args.out
    clips, frames, size, load = ("2", "8", "96x96", 32) if args.tiny else ("16", "24", "160x160", 128)
    cli("make-synthetic", "--kind", "face", "--out", str(data), "--clips", clips, "--frames", frames,
        "--size", size, "--seed", "0", "--quiet")  # fmt: skip
    cli("make-synthetic", "--kind", "face", "--out", str(data), "--phase", "test", "--clips", "1",
        "--frames", frames, "--size", size, "--seed", "1", "--quiet")  # fmt: skip
    small = {"generator.ngf": 8, "generator.n_downsample": 2, "generator.n_blocks": 1, "ndf": 8, "ndf_max": 8,
             "num_D": 1, "n_layers_D": 2, "save_every": 1000, "tensorboard": "false"}  # fmt: skip
    settings = {
        "generator.ngf": 16, "generator.n_downsample": 3, "generator.n_blocks": 3, "generator.no_first_frame": "true",
        "load_size": load, "ndf": 16, "ndf_max": 16, "num_D": 2, "batch_size": 1, "n_frames_total": 4,
        "max_frames_per_gpu": 2, "niter": 10, "niter_decay": 10, "vgg_weights": "none", "flow_source": "cache",
        "num_workers": 0, "log_every": 10, **(small if args.tiny else {}),
    }  # fmt: skip
    model = train("face_512", data, out / "run", args.iters, args.threads, settings)
    cli("build-inputs", "face", "--landmarks", str(data / "test_keypoints" / "clip_0000"),
        "--frames", str(data / "test_img" / "clip_0000"), "--frames-out", str(out / "test_real"),
        "--load-size", str(load), "--out", str(out / "test_maps"))  # fmt: skip
    video = synthesize(model, out / "test_maps", out / "face.mp4")
    report("face", video, *held_out_error(out / "face.safetensors", out / "test_real"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
