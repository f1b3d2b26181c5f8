"""Two CPU processes (torchrun, gloo) make the same update as one process on the same global batch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

from vid2vid.checkpoint import load_state_dict
from vid2vid.training import Vid2VidTrainer, save_config

REPO = Path(__file__).resolve().parents[2]


def test_two_gloo_processes_match_one_process_with_the_global_batch(make_config, tmp_path: Path) -> None:
    # batch-size independent norms: instance_affine in G (default), instance in the discriminators
    # float64: in float32 the previous-frame encoder's instance norms amplify summation-order noise
    # (batch of 2 vs 2 batches of 1) to ~1e-3 relative in some gradients, which Adam turns into O(lr) steps
    common = dict(max_iters=2, norm_D="instance", n_frames_total=4, save_every=1000, dtype="float64")
    multi = make_config("ddp", batch_size=1, **common)
    cfg_file = save_config(multi, tmp_path / "ddp.yaml")
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_port",
            "29517",
            "-m",
            "vid2vid.cli.main",
            "train",
            "--config",
            str(cfg_file),
            "--threads",
            "1",
            "--device",
            "cpu",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    single = Vid2VidTrainer(make_config("single", batch_size=2, **common))
    single.train()
    folder = Path(multi.checkpoint_dir) / "latest"
    g = load_state_dict(folder / "model" / "model.safetensors")
    d = load_state_dict(folder / "discriminators.safetensors")
    worst = 0.0
    for k, v in single.generator.state_dict().items():
        worst = max(worst, (g[k] - v).abs().max().item())
    for name, module in single._modules().items():
        for k, v in module.state_dict().items():
            worst = max(worst, (d[f"{name}.{k}"] - v).abs().max().item())
    assert worst < 1e-6, worst
    # and it is a real update: weights moved away from the shared initialisation
    fresh = Vid2VidTrainer(make_config("fresh", batch_size=2, **common))
    moved = max((g[k] - v).abs().max().item() for k, v in fresh.generator.state_dict().items())
    assert moved > 1e-5
    assert torch.get_num_threads() == 1


def test_image_model_two_gloo_processes_match_one_process(make_config, tmp_path: Path) -> None:
    from vid2vid.nn import ImageGeneratorConfig
    from vid2vid.training import ImageTrainer

    common = dict(
        model="image",
        image_generator=ImageGeneratorConfig(ngf=8, n_downsample=2, n_blocks=2),
        max_iters=2,
        norm_D="instance",
        dtype="float64",
        use_features=True,
        nef=4,
        n_downsample_E=2,
        n_clusters=2,
    )
    multi = make_config("ddp_image", batch_size=1, **common)
    cfg_file = save_config(multi, tmp_path / "ddp_image.json")
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29519"]
        + ["-m", "vid2vid.cli.main", "train", "--config", str(cfg_file), "--threads", "1", "--device", "cpu"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    single = ImageTrainer(make_config("single_image", batch_size=2, **common))
    single.train()
    folder = Path(multi.checkpoint_dir) / "latest" / "model"
    g = load_state_dict(folder / "model.safetensors")
    e = load_state_dict(folder / "encoder.safetensors")
    worst = max((g[k] - v).abs().max().item() for k, v in single.generator.state_dict().items())
    worst = max([worst] + [(e[k] - v).abs().max().item() for k, v in single.encoder.state_dict().items()])
    assert worst < 1e-6, worst
