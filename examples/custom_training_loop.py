"""A hand-written vid2vid training loop built from the library's parts (no Vid2VidTrainer).

Shows the pieces a researcher can swap: the dataset, the generator, the objective (losses and
discriminators), the temporal-window collector and the schedules. One chunk per clip, no
checkpoints, single process.

    python examples/custom_training_loop.py --data runs/synthetic/data --iters 20
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from vid2vid.data import ClipDataset, make_synthetic_dataset
from vid2vid.nn import SequentialGenerator, SequentialGeneratorConfig
from vid2vid.training import FrameBatch, TemporalWindows, Vid2VidObjective, lr_factor, sequence_schedule


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("runs/custom/data"))
    parser.add_argument("--iters", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if not (args.data / "train_A").is_dir():
        make_synthetic_dataset(args.data, n_clips=4, n_frames=16, size=(64, 32), seed=0)

    gen_cfg = SequentialGeneratorConfig(label_nc=35, use_instance=True, ngf=8, n_downsample=2, n_blocks=2)
    generator = SequentialGenerator(gen_cfg)
    objective = Vid2VidObjective(gen_cfg.frame_nc, ndf=8, ndf_max=8, num_D=1, n_layers_D=2, vgg=None)
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(objective.image_d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_dt = [
        torch.optim.Adam(s.parameters(), lr=2e-4, betas=(0.5, 0.999)) for s in objective.temporal_d.scales
    ]
    windows = TemporalWindows(n_frames_D=3, n_scales_temporal=2)

    dataset = ClipDataset(
        args.data,
        label_nc=35,
        use_instance=True,
        load_size=64,
        size_divisor=gen_cfg.size_multiple,
        load_flow=True,
        seed=0,
    )
    tg = gen_cfg.n_frames_G
    for it in range(args.iters):
        epoch = it // len(dataset)
        sched = sequence_schedule(
            epoch,
            n_frames_total=6,
            max_frames_per_gpu=6,
            max_frames_backpropagate=1,
            niter_step=2,
            n_frames_G=tg,
            shortest_clip=min(c.length for c in dataset.clips),
        )
        for opt in [opt_g, opt_d, *opt_dt]:
            for group in opt.param_groups:
                group["lr"] = 2e-4 * lr_factor(epoch, niter=2, niter_decay=2)
        dataset.set_n_frames(sched.n_frames_load)
        dataset.set_epoch(epoch)
        sample = dataset[it % len(dataset)]
        frames = sample["frames"][None]
        inputs = generator.encode_inputs(sample["labels"][None], sample["instances"][None])
        state = generator.init_state(frames[:, : tg - 1])
        outs = []
        for t in range(sched.n_frames_generated):  # one chunk: the whole sample
            out, state = generator.step(inputs[:, t : t + tg], state.detach())
            outs.append(out)
        n = len(outs)
        real, real_prev = frames[:, tg - 1 : tg - 1 + n], frames[:, tg - 2 : tg - 2 + n]
        fake = torch.stack([o.image for o in outs], 1)
        flow_ref = sample["flow"][None, tg - 1 : tg - 1 + n]
        conf_ref = sample["flow_confidence"][None, tg - 1 : tg - 1 + n]
        fake_prev = torch.cat([real_prev[:, :1], fake[:, :-1].detach()], 1)
        image = objective.image_losses(
            FrameBatch(
                real=real[0],
                fake=fake[0],
                raw=torch.stack([o.raw for o in outs], 1)[0],
                inputs=inputs[0, tg - 1 : tg - 1 + n],
                real_prev=real_prev[0],
                fake_prev=fake_prev[0],
                flow=torch.stack([o.flow for o in outs], 1)[0],
                weight=torch.stack([o.weight for o in outs], 1)[0],
                flow_ref=flow_ref[0],
                conf_ref=conf_ref[0],
            )
        )
        windows.reset()
        temporal = [
            (s, objective.temporal_losses(s, *w))
            for s, w in enumerate(windows.add(real, fake, flow_ref))
            if w
        ]
        loss_g = image.generator + sum(t.generator for _, t in temporal)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        opt_d.zero_grad()
        image.discriminator.backward()
        opt_d.step()
        for s, terms in temporal:
            opt_dt[s].zero_grad()
            terms.discriminator.backward()
            opt_dt[s].step()
        print(f"iter {it}: G {loss_g.item():.3f} D {image.discriminator.item():.3f} frames {n}")


if __name__ == "__main__":
    main()
