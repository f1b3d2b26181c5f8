"""Train the small demo checkpoint shipped in ``vid2vid/assets/demo/`` (reproducible, CPU only).

This is a deliberately minimal training loop (not the library's trainer, which lives in
``vid2vid.training``): a small :class:`~vid2vid.nn.SequentialGenerator` learns synthetic
street-scene labels → frames (:func:`vid2vid.data.synthetic.render_synthetic_clip`) with

* L1 of the output frame and of the hallucinated frame to the real frame (λ = 10 each; VGG
  weights are not available offline, so no perceptual loss),
* after ``--warmup`` iterations, LSGAN (λ = 0.5) + discriminator feature matching (λ_feat = 2)
  (small weights: with a few hundred CPU iterations a strong GAN term only adds noise) with a conditional
  :class:`~vid2vid.nn.MultiScaleDiscriminator` on (encoded labels, frame),
* the flow losses of vid2vid §3.2 against the *exact* synthetic flow: ``F_Flow`` (10),
  ``F_Warp`` (10), ``G_Warp`` (10) and the occlusion-mask term ``W`` (1).

The model is trained with ``no_first_frame=True``: each training sequence starts from an all-zero
history and a label window padded by repeating its first label map, exactly what
``Vid2VidPipeline`` does with the ``"zeros"`` first-frame policy, so the demo needs no real frames.
There is no temporal discriminator (kept out for the CPU budget), and by default the history is
detached after every step (each frame learns from its own losses): with back-propagation through
the history (``--bptt``) the L1 loss did not decrease within the first hundreds of iterations.

Run (defaults reproduce the shipped checkpoint, up to CPU timing: the budget is wall-clock)::

    PYTHONPATH=. python scripts/train_demo_model.py --minutes 20 --out vid2vid/assets/demo

Progress goes to ``<work>/log.jsonl`` (one JSON record per logged iteration) and the model
folder is re-saved to ``<work>/checkpoint`` every ``--save-every`` seconds.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from vid2vid.data.synthetic import SYNTHETIC_LABEL_NC, SYNTHETIC_LABELS, render_synthetic_clip
from vid2vid.losses import FeatureMatchingLoss, FlowLoss, GANLoss, OcclusionMaskLoss, WarpLoss
from vid2vid.model_folder import save_model_folder
from vid2vid.nn import MultiScaleDiscriminator, SequentialGenerator, SequentialGeneratorConfig


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (defaults = the shipped demo checkpoint)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("vid2vid/assets/demo"), help="final model folder")
    p.add_argument("--work", type=Path, default=Path("/tmp/vid2vid_demo_train"), help="logs + checkpoints")
    p.add_argument("--minutes", type=float, default=20.0, help="wall-clock training budget")
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--height", type=int, default=64)
    p.add_argument("--ngf", type=int, default=16)
    p.add_argument("--n-blocks", type=int, default=3)
    p.add_argument("--ndf", type=int, default=16)
    p.add_argument("--clips", type=int, default=64, help="synthetic clips rendered up front")
    p.add_argument("--clip-len", type=int, default=24)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--steps", type=int, default=4, help="generated frames per training sequence")
    p.add_argument("--lr", type=float, default=4e-4, help="generator learning rate (D: half of it)")
    p.add_argument("--lambda-l1", type=float, default=10.0)
    p.add_argument("--lambda-gan", type=float, default=0.5)
    p.add_argument("--lambda-feat", type=float, default=2.0)
    p.add_argument("--lambda-flow", type=float, default=10.0, help="weight of F_Flow, F_Warp and G_Warp")
    p.add_argument(
        "--bptt",
        action="store_true",
        help="back-propagate through the history (default: detach it each step)",
    )
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--warmup", type=int, default=150, help="iterations with L1 + flow losses only (no GAN)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--save-every", type=float, default=180.0, help="seconds between checkpoints")
    return p.parse_args(argv)


def render_clips(n: int, length: int, width: int, height: int, seed: int) -> dict[str, Tensor]:
    """Render ``n`` clips: labels/instances (N,T,H,W) int64, frames (N,T,3,H,W) in [-1,1], flow, conf."""
    clips = [render_synthetic_clip(length, width, height, seed=seed * 100_003 + i) for i in range(n)]
    frames = np.stack([c["frames"] for c in clips]).transpose(0, 1, 4, 2, 3)
    return {
        "labels": torch.from_numpy(np.stack([c["labels"] for c in clips])),
        "instances": torch.from_numpy(np.stack([c["instances"] for c in clips])),
        "frames": torch.from_numpy(frames).float() / 127.5 - 1.0,
        "flow": torch.from_numpy(np.stack([c["flow"] for c in clips])),
        "confidence": torch.from_numpy(np.stack([c["confidence"] for c in clips])),
    }


def sample_batch(data: dict[str, Tensor], batch: int, steps: int, rng: random.Random) -> dict[str, Tensor]:
    """``batch`` random sub-sequences of ``steps`` frames (same time index layout for every key)."""
    n, length = data["labels"].shape[:2]
    picks = [(rng.randrange(n), rng.randrange(length - steps + 1)) for _ in range(batch)]
    return {k: torch.stack([v[i, s : s + steps] for i, s in picks]) for k, v in data.items()}


def pad_start(x: Tensor, n: int) -> Tensor:
    """Repeat frame 0 of ``(B, T, ...)`` ``n`` times at the start (the pipeline's zeros policy)."""
    return torch.cat([x[:, :1].expand(-1, n, *x.shape[2:]), x], dim=1)


def main(argv: list[str] | None = None) -> int:
    """Train for ``--minutes`` and save the model folder to ``--out``."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    log_path = args.work / "log.jsonl"
    log_path.write_text("")

    config = SequentialGeneratorConfig(
        label_nc=SYNTHETIC_LABEL_NC,
        use_instance=True,
        n_frames_G=3,
        ngf=args.ngf,
        n_downsample=3,
        n_blocks=args.n_blocks,
        n_blocks_local=1,
        n_scales=1,
        no_first_frame=True,
    )
    generator = SequentialGenerator(config)
    disc = MultiScaleDiscriminator(config.frame_nc + 3, ndf=args.ndf, n_layers=3, num_D=2, norm="instance")
    opt_g = torch.optim.Adam(generator.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=args.lr / 2, betas=(0.5, 0.999))
    gan, feat = GANLoss("lsgan"), FeatureMatchingLoss(n_layers_D=3)
    flow_loss, warp_loss, mask_loss = FlowLoss(), WarpLoss(), OcclusionMaskLoss()
    g_warp_loss = WarpLoss(detach_warped=True)

    t0 = time.time()
    data = render_clips(args.clips, args.clip_len, args.width, args.height, args.seed)
    print(f"rendered {args.clips} clips in {time.time() - t0:.1f}s", flush=True)

    pad = config.n_frames_G - 1
    start = last_save = time.time()
    iteration = 0
    while time.time() - start < args.minutes * 60:
        b = sample_batch(data, args.batch, args.steps, rng)
        inputs = generator.encode_inputs(pad_start(b["labels"], pad), pad_start(b["instances"], pad))
        state = generator.init_state(None, args.batch, args.height, args.width)
        terms = {k: 0.0 for k in ("l1", "gan", "feat", "flow", "warp", "g_warp", "mask", "d")}
        loss_g = torch.zeros(())
        fakes, reals, conds = [], [], []
        prev_fake = prev_real = None
        for t in range(args.steps):
            window = inputs[:, t : t + config.n_frames_G]
            out, state = generator.step(window, state)
            if not args.bptt:
                # Each step learns from its own losses only: cheaper and far more stable in a short run.
                state = state.detach()
            real = b["frames"][:, t]
            fake = out.image
            cond = window[:, -1]
            # L1 on the final frame and on the hallucinated frame: the second trains the image head
            # directly while the flow and occlusion mask are still poor (a short CPU budget).
            l1 = ((fake - real).abs().mean() + (out.raw - real).abs().mean()) * args.lambda_l1
            loss_g = loss_g + l1
            l_gan = l_feat = torch.zeros(())
            if iteration >= args.warmup:
                pred_fake = disc(torch.cat([cond, fake], 1))
                with torch.no_grad():
                    pred_real = disc(torch.cat([cond, real], 1))
                l_gan = gan(pred_fake, True, for_discriminator=False) * args.lambda_gan
                l_feat = feat(pred_fake, pred_real) * args.lambda_feat
                loss_g = loss_g + l_gan + l_feat
            terms["l1"] += float(l1.detach())
            terms["gan"] += float(l_gan.detach())
            terms["feat"] += float(l_feat.detach())
            if t > 0 and out.flow is not None and out.weight is not None and args.lambda_flow > 0:
                flow_ref, conf = b["flow"][:, t], b["confidence"][:, t]
                l_flow = flow_loss(out.flow, flow_ref, conf) * args.lambda_flow
                l_warp = warp_loss(prev_real, out.flow, real, conf) * args.lambda_flow
                l_gw = g_warp_loss(prev_fake, flow_ref, fake, conf) * args.lambda_flow
                l_mask = mask_loss(out.weight, conf)
                loss_g = loss_g + l_flow + l_warp + l_gw + l_mask
                terms["flow"] += float(l_flow.detach())
                terms["warp"] += float(l_warp.detach())
                terms["g_warp"] += float(l_gw.detach())
                terms["mask"] += float(l_mask.detach())
            fakes.append(fake.detach())
            reals.append(real)
            conds.append(cond)
            prev_fake, prev_real = fake, real
        opt_g.zero_grad(set_to_none=True)
        (loss_g / args.steps).backward()
        opt_g.step()

        if iteration >= args.warmup:
            cond_all, fake_all, real_all = torch.cat(conds), torch.cat(fakes), torch.cat(reals)
            loss_d = 0.5 * (
                gan(disc(torch.cat([cond_all, fake_all], 1)), False)
                + gan(disc(torch.cat([cond_all, real_all], 1)), True)
            )
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            terms["d"] = float(loss_d.detach()) * args.steps
        iteration += 1

        if iteration % args.log_every == 0:
            record = {"iter": iteration, "seconds": round(time.time() - start, 1)}
            record.update({k: round(v / args.steps, 4) for k, v in terms.items()})
            with log_path.open("a") as f:
                f.write(json.dumps(record) + "\n")
            print(json.dumps(record), flush=True)
        if time.time() - last_save > args.save_every:
            save(generator, args.work / "checkpoint", args, iteration)
            last_save = time.time()

    save(generator, args.out, args, iteration)
    print(f"saved {args.out} after {iteration} iterations ({time.time() - start:.0f}s)", flush=True)
    return 0


def save(generator: SequentialGenerator, folder: Path, args: argparse.Namespace, iteration: int) -> None:
    """Write the model folder with the synthetic label set and the zeros first-frame policy."""
    names = [f"unused_{i}" for i in range(SYNTHETIC_LABEL_NC)]
    colors = [[0, 0, 0] for _ in range(SYNTHETIC_LABEL_NC)]
    for lab in SYNTHETIC_LABELS:
        names[lab.id], colors[lab.id] = lab.name, list(lab.color)
    labels = {"names": names, "colors": colors}
    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    metadata = {
        "license": "MIT",
        "training": {
            "script": "scripts/train_demo_model.py",
            "iterations": iteration,
            "weights_dtype": "float16",
            "options": options,
            "dataset": "vid2vid.data.synthetic (procedural street scenes)",
        },
    }
    # Stored in float16 (half the size); load_model_folder casts to the requested dtype.
    half = copy.deepcopy(generator).eval().half()
    save_model_folder(folder, half, first_frame="zeros", labels=labels, metadata=metadata)


if __name__ == "__main__":
    sys.exit(main())
