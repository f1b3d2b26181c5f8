"""Break the training objective and trainer on purpose, one line at a time, and see the replay fail.

Each mutation replaces one line of ``vid2vid/training/{objective,trainer}.py`` or a loss module,
runs ``tests/training/test_replay.py`` (the original's training-step fixtures replayed through our
trainer) and records which tests fail. Every mutation must be caught. Mutations are applied to a
temporary copy of the package and the tests; the working tree is never touched.

    python scripts/check_training_mutations.py            # all mutations
    python scripts/check_training_mutations.py --list     # just list them
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (name, file, original text, mutated text)
MUTATIONS: list[tuple[str, str, str, str]] = [
    (
        "temporal D terms dropped from the generator loss",
        "vid2vid/training/trainer.py",
        "loss_g = loss_g + t_terms.generator",
        "loss_g = loss_g + 0 * t_terms.generator",
    ),
    (
        "VGG weight dropped",
        "vid2vid/training/objective.py",
        "return self.vgg(fake.to(dtype), real.to(dtype)) * self.lambda_vgg",
        "return self.vgg(fake.to(dtype), real.to(dtype))",
    ),
    (
        "flow confidence replaced by ones",
        "vid2vid/training/trainer.py",
        "flow_ref, conf_ref = flow_ref.to(fake.dtype), conf_ref.to(fake.dtype)",
        "flow_ref, conf_ref = flow_ref.to(fake.dtype), torch.ones_like(conf_ref).to(fake.dtype)",
    ),
    (
        "real frames as the previous frames of the generated-frame warp loss",
        "vid2vid/training/trainer.py",
        "fake_prev = torch.cat([prev_first, fake[:, :-1].detach()], dim=1)",
        "fake_prev = real_prev",
    ),
    (
        "raw frames fed to the temporal discriminator",
        "vid2vid/training/trainer.py",
        "for s, win in enumerate(self.windows.add(real, fake, flow_ref)):",
        "for s, win in enumerate(self.windows.add(real, raw, flow_ref)):",
    ),
    (
        "warping skipped on every frame",
        "vid2vid/training/trainer.py",
        "raw_only = cfg.no_first_frame and c0 == 0",
        "raw_only = True",
    ),
    (
        "raw-only output for the first frame only (not the whole first chunk)",
        "vid2vid/training/trainer.py",
        "raw_only = cfg.no_first_frame and c0 == 0",
        "raw_only = cfg.no_first_frame and c0 == 0 and t == 0",
    ),
    (
        "flow loss not divided by 2**(S-1)",
        "vid2vid/training/objective.py",
        "self.lambda_F / 2 ** (self.n_scales_spatial - 1)",
        "self.lambda_F",
    ),
    (
        "F_Warp warps the generated previous frame instead of the real one",
        "vid2vid/training/objective.py",
        'terms["F_Warp"] = self.warp_loss(b.real_prev, b.flow, b.real, b.conf_ref) * self.lambda_T',
        'terms["F_Warp"] = self.warp_loss(b.fake_prev, b.flow, b.real, b.conf_ref) * self.lambda_T',
    ),
    (
        "discriminator loss without the 1/2",
        "vid2vid/training/objective.py",
        'return d_terms, (d_terms["D_real"] + d_terms["D_fake"]) * 0.5',
        'return d_terms, (d_terms["D_real"] + d_terms["D_fake"])',
    ),
    (
        "occlusion-mask loss W dropped",
        "vid2vid/training/objective.py",
        'terms["W"] = self.mask_loss(b.weight, b.conf_ref) * self.lambda_W',
        'terms["W"] = zero',
    ),
    (
        "coarse temporal scales use chained unit flows instead of the reference flow of the strided frames",
        "vid2vid/training/objective.py",
        "if self.pair_flow is not None:",
        "if False:",
    ),
    (
        "temporal D flows not divided by 20",
        "vid2vid/nn/temporal_discriminator.py",
        "flow_scale: float = 1.0 / 20.0,",
        "flow_scale: float = 1.0,",
    ),
    (
        # (not the 4 / (n_layers_D + 1) factor: it is 1 for the fixtures' n_layers_D = 3)
        "feature matching without the 1 / num_D scale weight",
        "vid2vid/losses/feature_matching.py",
        "weight = (4.0 / (n_layers + 1)) / num_d",
        "weight = 4.0 / (n_layers + 1)",
    ),
    (
        "the history itself detached every frames_backprop frames (not the generator's input copy)",
        "vid2vid/training/trainer.py",
        "history = state.detach().history if t % sched.frames_backprop == 0 else state.history",
        "history = (state := state.detach()).history if t % sched.frames_backprop == 0 else state.history",
    ),
    (
        "frames to back-propagate rounded with the per-call frame count after doubling",
        "vid2vid/training/schedule.py",
        "nfl = n_gpus * per_gpu",
        "nfl = n_gpus * min(per_gpu * 2, max_frames_per_gpu)",
    ),
    (
        "a chunk ignores the original's generator GPUs (n_gpus_gen)",
        "vid2vid/training/schedule.py",
        "max_chunk = max_frames_per_gpu * n_gpus",
        "max_chunk = max_frames_per_gpu",
    ),
]

#: the tests each mutation run executes
TESTS = [
    "tests/training/test_replay.py",
    "tests/training/test_train_schedule.py",
    "tests/training/test_trainer.py::test_frames_backprop_detaches_only_the_generators_input_copy",
]


def run(root: Path) -> list[str]:
    """Run :data:`TESTS` in the tree at ``root``; returns the failed tests' ids."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True).stdout
    return re.findall(r"^FAILED (\S+)", out, flags=re.M)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = parser.parse_args()
    if args.list:
        for i, (name, path, _, _) in enumerate(MUTATIONS, 1):
            print(f"{i:2d}. {name} ({path})")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        # mutate a copy, never the working tree
        root = Path(tmp) / "repo"
        for part in ("vid2vid", "tests", "pyproject.toml"):
            src = ROOT / part
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / part)
        if run(root):
            print("the replay tests fail without any mutation: fix that first")
            return 2
        missed = 0
        for i, (name, rel, old, new) in enumerate(MUTATIONS, 1):
            path = root / rel
            text = path.read_text()
            if text.count(old) != 1:
                print(f"{i:2d}. {name}: the line to mutate is not found exactly once in {rel}")
                missed += 1
                continue
            path.write_text(text.replace(old, new))
            failed = run(root)
            path.write_text(text)
            missed += not failed
            names = ", ".join(f.split("::")[-1] for f in failed) or "NOT CAUGHT"
            print(f"{i:2d}. {name}: {'caught by ' if failed else ''}{names}", flush=True)
    print(f"{len(MUTATIONS) - missed}/{len(MUTATIONS)} mutations caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
