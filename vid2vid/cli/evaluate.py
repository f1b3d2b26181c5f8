"""``vid2vid evaluate``: synthesise held-out clips (or read videos made elsewhere) and measure them.

Examples::

    # a model on the held-out split of a dataset in the vid2vid layout
    vid2vid evaluate --model vid2vid/assets/demo --data data/synthetic --phase test --out report/

    # videos made elsewhere (one folder of frames or one video file per clip, named like the
    # dataset's clips), judged against the same ground truth
    vid2vid evaluate --videos outputs/pix2pixhd --data data/synthetic --phase test --out report_p2p/

Writes ``report.json`` (every metric per frame, per clip and summarised over clips),
``summary.md`` and the figures ``curves.png`` (per-frame metric curves) and ``strip.png``
(labels | output | ground truth). Metrics whose network weights are missing are skipped with a
message naming the file and where to put it (``--lpips on`` etc. make that an error).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from vid2vid.cli.common import add_device_argument, check_device, positive_int

WEIGHTED = ("lpips", "fid", "fvd")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` sub-command."""
    p = subparsers.add_parser(
        "evaluate",
        help="measure a model (or a folder of videos): PSNR/SSIM/LPIPS, FID/FVD, warp error, flicker, tLP, tOF",
        description=(
            "Synthesise the clips of a dataset split with a model (--model) or read videos made elsewhere "
            "(--videos), compare them with the ground truth and write report.json, summary.md and PNG "
            "figures to --out. See docs/evaluation.md."
        ),
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="model folder or Hugging Face Hub repo id to synthesise with")
    src.add_argument(
        "--videos", help="folder with one frame folder or video file per clip, named like the data's clips"
    )
    p.add_argument(
        "--data", default=None, help="dataset root in the vid2vid layout ({phase}_A, {phase}_B, ...)"
    )
    p.add_argument("--phase", default="test", help="dataset split (default test: held-out clips)")
    p.add_argument("--out", required=True, help="report folder to write")
    p.add_argument("--clips", type=positive_int, default=None, help="evaluate only the first N clips")
    p.add_argument(
        "--frames", type=positive_int, default=None, help="evaluate only the first N frames of each clip"
    )
    p.add_argument("--revision", default=None, help="Hub branch, tag or commit (with --model)")
    p.add_argument(
        "--first-frame",
        choices=("real", "zeros", "image_generator"),
        default=None,
        help="override the model's first-frame policy; given real frames are not scored",
    )
    add_device_argument(p)
    p.add_argument(
        "--dtype",
        choices=("float32", "float16", "bfloat16"),
        default="float32",
        help="precision of the synthesis (default float32; float16 needs CUDA)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of multimodal feature sampling (default 0)")
    p.add_argument(
        "--flow",
        default="dis",
        choices=("dis", "raft_small", "raft_large", "none"),
        help="flow estimator for tOF and for the warp error where the data has no exact flow (default dis)",
    )
    for name in WEIGHTED:
        p.add_argument(
            f"--{name}",
            choices=("auto", "on", "off"),
            default="auto",
            help=f"{name.upper()}: auto = when its weights are found locally (default), "
            "on = required (downloaded into the torch hub cache if possible), off",
        )
    p.add_argument(
        "--lpips-net", choices=("alex", "vgg"), default="alex", help="LPIPS backbone (default alex)"
    )
    p.add_argument("--lpips-backbone-weights", default=None, help="torchvision AlexNet/VGG16 weights file")
    p.add_argument(
        "--lpips-head-weights", default=None, help="LPIPS v0.1 linear heads file (lpips package's alex.pth)"
    )
    p.add_argument("--fid-weights", default=None, help="torchvision inception_v3_google-0cc3c7bd.pth")
    p.add_argument("--fvd-weights", default=None, help="I3D Kinetics-400 RGB state dict (rgb_imagenet.pt)")
    p.add_argument("--fvd-window", type=positive_int, default=16, help="frames per FVD window (default 16)")
    p.add_argument(
        "--strip-frames", type=positive_int, default=5, help="frames shown in strip.png (default 5)"
    )
    p.add_argument(
        "--save-videos", action="store_true", help="also write the synthesised clips to OUT/videos/"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _optional(name: str, mode: str, build: Any, skipped: dict[str, str]) -> Any:
    """Build a weighted metric; in ``auto`` mode a missing weights file skips it with a message."""
    if mode == "off":
        skipped[name] = f"turned off (--{name} off)"
        return None
    try:
        return build()
    except (RuntimeError, FileNotFoundError) as err:
        if mode == "on":
            raise
        skipped[name] = str(err)
        print(f"vid2vid evaluate: {name} skipped: {err}", file=sys.stderr)
        return None


def _clip_names(args: argparse.Namespace) -> list[tuple[str, Path | None]]:
    """``(clip name, video path or None)`` in natural order."""
    from vid2vid.flow.prepare import list_clips

    if args.videos is not None:
        clips: list[tuple[str, Path | None]] = list(list_clips(args.videos))
        if not clips:
            raise FileNotFoundError(f"{args.videos} holds no clip (frame folders or video files)")
    else:
        if args.data is None:
            raise ValueError("--model needs --data (a dataset root with {phase}_A label clips)")
        labels = Path(args.data) / f"{args.phase}_A"
        if not labels.is_dir():
            raise FileNotFoundError(
                f"{labels} does not exist: expected the label clips of phase {args.phase!r}"
            )
        clips = [(name, None) for name, _ in list_clips(labels)]
        if not clips:
            raise FileNotFoundError(f"{labels} holds no clip folders")
    return clips[: args.clips] if args.clips else clips


def _to_signed(frames_uint8: Any) -> Any:
    """``(T, H, W, 3)`` uint8 → ``(T, 3, H, W)`` float32 in ``[-1, 1]``."""
    import torch

    return torch.from_numpy(frames_uint8).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def _to_uint8(frames: Any) -> Any:
    """``(T, 3, H, W)`` in ``[-1, 1]`` → ``(T, H, W, 3)`` uint8."""
    return ((frames.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()


def _color_labels(labels: Any, colors: list | None) -> Any:
    import numpy as np

    if colors:
        palette = np.zeros((max(256, len(colors)), 3), dtype=np.uint8)
        palette[: len(colors)] = np.asarray(colors, dtype=np.uint8)
        return palette[np.clip(labels, 0, len(palette) - 1)]
    from vid2vid.data.synthetic import colorize_labels

    return colorize_labels(np.clip(labels, 0, 255))


def run(args: argparse.Namespace) -> int:
    """Evaluate and write the report; prints the summary table's path and the headline numbers."""
    from tqdm.auto import tqdm

    from vid2vid.data.io import read_frames, read_label_frames
    from vid2vid.flow.precomputed import PrecomputedFlow
    from vid2vid.metrics import (
        LPIPS,
        FrechetInceptionDistance,
        FrechetVideoDistance,
        VideoEvaluator,
        write_report,
    )
    from vid2vid.metrics.fid import InceptionFeatures
    from vid2vid.metrics.fvd import I3DFeatures

    started = time.perf_counter()
    device = str(check_device(args.device))
    data = Path(args.data) if args.data else None
    if args.videos is not None and data is None:
        print(
            "vid2vid evaluate: no --data: no ground truth, only the warp error (on flow estimated from "
            "the videos themselves) is measured",
            file=sys.stderr,
        )
    clips = _clip_names(args)
    skipped: dict[str, str] = {}
    has_truth = data is not None and (data / f"{args.phase}_B").is_dir()
    if data is not None and not has_truth:
        print(f"vid2vid evaluate: {data / (args.phase + '_B')} not found: no ground truth", file=sys.stderr)

    lpips = _optional(
        "lpips",
        args.lpips,
        lambda: LPIPS(
            args.lpips_net,
            backbone_weights=args.lpips_backbone_weights,
            head_weights=args.lpips_head_weights,
            download=args.lpips == "on",
        ).to(device),
        skipped,
    )
    fid = (
        _optional(
            "fid",
            args.fid,
            lambda: FrechetInceptionDistance(
                InceptionFeatures(args.fid_weights or "default", download=args.fid == "on").to(device)
            ),
            skipped,
        )
        if has_truth
        else None
    )
    fvd = (
        _optional(
            "fvd",
            args.fvd,
            lambda: FrechetVideoDistance(
                I3DFeatures(args.fvd_weights or "default").to(device), window=args.fvd_window
            ),
            skipped,
        )
        if has_truth
        else None
    )
    estimator = None
    if args.flow != "none":
        from vid2vid.flow.estimator import get_flow_estimator

        kwargs = {"device": device} if args.flow.startswith("raft") else {}
        estimator = _optional("flow", "on", lambda: get_flow_estimator(args.flow, **kwargs), skipped)
    else:
        skipped["tof"] = "no flow estimator (--flow none)"

    pipe = None
    skip = 0
    if args.model is not None:
        from vid2vid.pipeline import Vid2VidPipeline

        pipe = Vid2VidPipeline.from_pretrained(
            args.model, revision=args.revision, device=device, dtype=args.dtype, first_frame=args.first_frame
        )
        if pipe.first_frame == "real":
            if not has_truth:
                raise ValueError(
                    "this model starts from real frames (first_frame='real'): --data needs {phase}_B"
                )
            skip = pipe.config.n_frames_G - 1
    evaluator = VideoEvaluator(
        lpips=lpips,
        fid=fid,
        fvd=fvd,
        flow_estimator=estimator,
        flow_estimator_name=args.flow,
        skip_frames=skip,
    )
    cached = PrecomputedFlow(data, args.phase) if data is not None else None
    strip = None
    out = Path(args.out)
    bar = tqdm(clips, disable=args.quiet, desc="evaluate", unit="clip")
    for name, video in bar:
        bar.set_postfix_str(name)
        if args.frames:
            list(range(args.frames))
        target = None
        if has_truth:
            truth = data / f"{args.phase}_B" / name
            if not truth.exists():
                raise FileNotFoundError(f"no ground truth for clip {name!r}: {truth} does not exist")
            target_np = read_frames(truth)
            target = _to_signed(target_np[: args.frames] if args.frames else target_np)
        labels_np = None
        offset = 0  # label frame of the first output frame
        if data is not None and (data / f"{args.phase}_A" / name).is_dir():
            labels_np = read_label_frames(data / f"{args.phase}_A" / name)
            if args.frames:
                labels_np = labels_np[: args.frames]
        if pipe is not None:
            if labels_np is None:
                raise FileNotFoundError(f"no labels for clip {name!r} in {data / (args.phase + '_A')}")
            inst = None
            if pipe.config.use_instance:
                inst_dir = data / f"{args.phase}_inst" / name
                if not inst_dir.is_dir():
                    raise FileNotFoundError(f"the model uses instance maps but {inst_dir} does not exist")
                inst = read_label_frames(inst_dir)[: len(labels_np)]
            first = None
            if pipe.first_frame == "real":
                first = target[: pipe.config.n_frames_G - 1].add(1).div(2)
            output = pipe(labels_np, instances=inst, first_frames=first, seed=args.seed, progress=False)
            pred = output.frames.float().cpu() * 2 - 1
            # models that start from zeros output from label frame n_frames_G - 1 on (as test.py):
            # score each output frame against the ground truth of the same time step
            offset = output.first_index
            if offset:
                labels_np = labels_np[offset:]
                target = target[offset:] if target is not None else None
            if args.save_videos:
                pipe.save_video(output, out / "videos" / f"{name}.mp4")
        else:
            frames_np = read_frames(video)
            pred = _to_signed(frames_np[: args.frames] if args.frames else frames_np)
        if target is not None and len(target) != len(pred):
            n = min(len(target), len(pred))
            print(
                f"vid2vid evaluate: clip {name!r}: {len(pred)} frames vs {len(target)} ground-truth frames; "
                f"scoring the first {n}",
                file=sys.stderr,
            )
            pred, target = pred[:n], target[:n]
        flow = valid = None
        if target is not None and cached is not None and name in cached:
            flow, valid = cached.load(name)
            flow, valid = flow[offset : offset + len(target)], valid[offset : offset + len(target)]
        evaluator.add(name, pred, target, flow, valid)
        if strip is None:
            strip = _strip(pred, target, labels_np, pipe, args.strip_frames, skip)
    summary = evaluator.summary()
    if lpips is None:
        skipped["tlp"] = "needs LPIPS (see lpips)"
    meta = {
        "title": Path(args.model).name if args.model else Path(args.videos).name,
        "model": args.model,
        "videos": args.videos,
        "data": args.data,
        "phase": args.phase,
        "device": device,
        "dtype": args.dtype,
        "seed": args.seed,
        "flow_estimator": args.flow,
        "first_frame": pipe.first_frame if pipe is not None else None,
        "skipped_leading_frames": skip,
        "skipped": skipped,
        "seconds": round(time.perf_counter() - started, 1),
    }
    paths = write_report(out, summary, evaluator.results, meta, strip)
    print(f"wrote {', '.join(str(p) for p in paths.values())}")
    for metric, stats in summary["metrics"].items():
        print(f"  {metric:>12}: {stats['mean']:.4g} ± {stats['std']:.2g} over {stats['n']} clips")
    for key in ("fid", "fvd"):
        if key in summary:
            print(f"  {key:>12}: {summary[key]['value']:.4g}")
    return 0


def _strip(
    pred: Any, target: Any, labels: Any, pipe: Any, n: int, skip: int
) -> tuple[list, list[str]] | None:
    """``(rows, titles)``: labels | output | ground truth at ``n`` evenly spaced frames of the clip."""
    import numpy as np

    t = len(pred)
    picks = sorted({int(round(v)) for v in np.linspace(skip, t - 1, min(n, t - skip))})
    rows, titles = [], []
    if labels is not None:
        colors = (pipe.labels or {}).get("colors") if pipe is not None and pipe.labels else None
        lab = _color_labels(labels, colors)
        if lab.shape[1:3] == tuple(pred.shape[-2:]):
            rows.append([lab[i] for i in picks])
            titles.append("labels")
    out = _to_uint8(pred)
    rows.append([out[i] for i in picks])
    titles.append("output")
    if target is not None:
        gt = _to_uint8(target)
        if gt.shape[1:3] == out.shape[1:3]:
            rows.append([gt[i] for i in picks])
            titles.append("ground truth")
    return rows, titles
