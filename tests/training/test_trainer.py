"""The vid2vid training loop on the synthetic dataset: losses, logs, checkpoints, exact resume."""

from __future__ import annotations

import dataclasses
import math
import statistics
from pathlib import Path

import pytest
import torch

from vid2vid.model_folder import load_model_folder
from vid2vid.training import TrainLogger, Vid2VidTrainer, load_coarser_generator, resolve_checkpoint
from vid2vid.training.objective import IMAGE_LOSS_NAMES, TEMPORAL_LOSS_NAMES
from vid2vid.training.state import load_modules, load_torch_state
from vid2vid.training.trainer import load_coarser_discriminators


def _all_tensors(trainer: Vid2VidTrainer) -> dict[str, torch.Tensor]:
    out = {f"G.{k}": v for k, v in trainer.generator.state_dict().items()}
    out.update({f"D.{k}": v for k, v in trainer.objective.state_dict().items()})
    for name, opt in [("optG", trainer.optimizer_G), ("optD", trainer.optimizer_D)] + [
        (f"optDT{s}", o) for s, o in enumerate(trainer.optimizers_D_T)
    ]:
        for pid, st in opt.state_dict()["state"].items():
            for k, v in st.items():
                if isinstance(v, torch.Tensor):
                    out[f"{name}.{pid}.{k}"] = v
    return out


def test_tiny_model_trains_logs_every_term_and_saves_a_loadable_model(make_config, tmp_path: Path) -> None:
    config = make_config(
        "train",
        max_iters=24,
        tensorboard=True,
        image_every=8,
        n_frames_total=8,
        max_frames_per_gpu=4,
        niter=4,
        niter_decay=2,
        niter_step=100,
    )
    trainer = Vid2VidTrainer(config)
    result = trainer.train()
    assert result.global_step == 24 and not result.interrupted
    records = trainer.logger.records
    assert [r["step"] for r in records] == list(range(1, 25))
    expected = set(IMAGE_LOSS_NAMES) | {f"{n}{s}" for n in TEMPORAL_LOSS_NAMES for s in (0, 1)}
    for record in records:
        assert expected <= set(record), sorted(expected - set(record))
        assert all(math.isfinite(v) for v in record.values())
    assert records[0]["F_Flow"] > 0 and records[0]["G_Warp"] > 0 and records[0]["G_T_GAN1"] > 0
    assert records[0]["G_VGG"] == 0  # vgg_weights="none"
    assert records[0]["train/n_frames"] == 8
    # robust decrease: median of the first 6 iterations vs median of the last 6
    first = statistics.median(r["G_total"] for r in records[:6])
    last = statistics.median(r["G_total"] for r in records[-6:])
    assert last < 0.9 * first, (first, last)
    # TensorBoard event file holds every term
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(Path(config.checkpoint_dir) / "logs"))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {f"loss/{n}" for n in expected} | {"train/lr_G", "train/n_frames"} <= tags
    assert len(acc.Scalars("loss/G_total")) == 24
    assert acc.Tags()["images"], "image grids were not logged"
    # the checkpoint's model folder loads and matches the trained generator
    folder = result.checkpoint
    assert folder == Path(config.checkpoint_dir) / "latest"
    model = load_model_folder(folder / "model")
    assert model.first_frame == "real"
    for k, v in trainer.generator.state_dict().items():
        assert torch.equal(model.generator.state_dict()[k], v), k


def test_vgg_term_with_random_weights_is_finite_and_positive(make_config) -> None:
    trainer = Vid2VidTrainer(make_config("vgg", max_iters=1, vgg_weights=None, n_frames_total=2))
    result = trainer.train()
    assert math.isfinite(result.last_losses["G_VGG"]) and result.last_losses["G_VGG"] > 0


def test_resume_is_bit_exact(make_config) -> None:
    # 3 + 4 iterations crosses an epoch boundary (4 clips per epoch) and a sequence-length change
    n, k = 3, 4
    changes = dict(niter_step=1, max_frames_backpropagate=2, TTUR=True)
    straight = Vid2VidTrainer(make_config("straight", max_iters=n + k, **changes))
    straight.train()

    first = Vid2VidTrainer(make_config("resumed", max_iters=n, **changes))
    first.train()
    ckpt = resolve_checkpoint(first.config.checkpoint_dir)
    assert load_torch_state(ckpt / "optimizers.pt")["G"]["state"], "optimizer state was not saved"
    resumed = Vid2VidTrainer(make_config("resumed", max_iters=n + k, **changes), resume=ckpt)
    assert resumed.progress.global_step == n and resumed.progress.position == n
    resumed.train()
    a, b = _all_tensors(straight), _all_tensors(resumed)
    assert a.keys() == b.keys()
    different = [name for name in a if not torch.equal(a[name], b[name])]
    assert not different, different[:5]


def test_checkpoint_is_replaced_atomically_and_old_one_recovered(make_config) -> None:
    config = make_config("atomic", max_iters=2, save_every=1)
    trainer = Vid2VidTrainer(config)
    trainer.train()
    root = Path(config.checkpoint_dir)
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".")) == []
    # simulate a crash between the two renames of a save: only .latest.old is left
    (root / "latest").rename(root / ".latest.old")
    folder = resolve_checkpoint(root)
    assert folder == root / "latest" and (folder / "trainer_state.json").is_file()
    resumed = Vid2VidTrainer(config.replace(max_iters=3), resume=root)
    assert resumed.progress.global_step == 2
    load_modules(folder / "discriminators.safetensors", resumed._modules())


def test_no_first_frame_uses_mask_loss_and_zero_history(make_config) -> None:
    config = make_config("nofirst", max_iters=2, generator={"no_first_frame": True})
    trainer = Vid2VidTrainer(config)
    result = trainer.train()
    assert result.last_losses["W"] > 0
    assert load_model_folder(result.checkpoint / "model").first_frame == "zeros"


def test_coarse_to_fine_copies_coarse_scales_and_trains_only_the_finest(make_config) -> None:
    coarse = Vid2VidTrainer(make_config("coarse", max_iters=1))
    coarse_result = coarse.train()
    config = make_config(
        "fine",
        max_iters=2,
        generator={"n_scales": 2},
        load_pretrain=str(coarse_result.checkpoint / "model"),
        niter_fix_global=1,
    )
    fine = Vid2VidTrainer(config)
    for k, v in coarse.generator.scales[0].state_dict().items():
        assert torch.equal(fine.generator.scales[0].state_dict()[k], v), k
    before = {k: v.clone() for k, v in fine.generator.scales[0].state_dict().items()}
    fine.train()
    assert fine.pretrain_scales == 1
    # coarse scale frozen during the first epoch (niter_fix_global=1)
    for k, v in fine.generator.scales[0].state_dict().items():
        assert torch.equal(before[k], v), k
    with pytest.raises(ValueError, match="more"):
        load_coarser_generator(coarse.generator, coarse_result.checkpoint / "model")


def test_coarse_to_fine_loads_the_coarser_runs_discriminators_by_resolution(make_config) -> None:
    coarse = Vid2VidTrainer(make_config("coarse_d", max_iters=1))
    coarse_result = coarse.train()
    fine = Vid2VidTrainer(
        make_config(
            "fine_d",
            max_iters=1,
            num_D=2,  # one more D scale for the doubled resolution, as the original's scripts
            generator={"n_scales": 2},
            load_pretrain=str(coarse_result.checkpoint / "model"),
        )
    )
    # the new full-resolution scale starts fresh; the next one sees the coarse run's resolution
    old_sd = coarse.objective.image_d.scales[0].state_dict()
    for k, v in fine.objective.image_d.scales[1].state_dict().items():
        assert torch.equal(v, old_sd[k]), k
    assert not torch.equal(
        fine.objective.image_d.scales[0].layers[0].conv.weight,
        coarse.objective.image_d.scales[0].layers[0].conv.weight,
    )
    for s in range(2):
        old_t = coarse.objective.temporal_d.scales[s].scales[0].state_dict()
        for k, v in fine.objective.temporal_d.scales[s].scales[1].state_dict().items():
            assert torch.equal(v, old_t[k]), (s, k)
    assert len(fine.pretrain_discriminator_tensors) > 0
    # a bare model folder (no discriminators beside it): discriminators keep their initialisation
    bare = make_config("bare").checkpoint_dir
    assert load_coarser_discriminators(fine.objective.image_d, fine.objective.temporal_d, bare) == []


def test_logger_records_without_tensorboard() -> None:
    logger = TrainLogger(None, progress=False)
    logger.scalars(3, {"a": 1.0})
    assert logger.records == [{"step": 3, "a": 1.0}]
    silent = TrainLogger(None, enabled=False)
    silent.scalars(1, {"a": 1.0})
    assert silent.records == []


def test_bad_settings_are_reported(make_config) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        Vid2VidTrainer(make_config("bad", batch_size=8))
    with pytest.raises(ValueError, match="model='vid2vid'"):
        Vid2VidTrainer(make_config("bad2", model="image"))
    with pytest.raises(FileNotFoundError, match="no training checkpoint"):
        resolve_checkpoint(make_config("missing").checkpoint_dir)


def test_amp_on_cpu_falls_back_to_float32_with_a_message(make_config, capsys) -> None:
    trainer = Vid2VidTrainer(make_config("amp", amp="fp16", max_iters=1, n_frames_total=2))
    assert trainer.amp_dtype is None and not any(s.is_enabled() for s in trainer.scalers)
    result = trainer.train()
    assert "amp='fp16' needs CUDA: training on cpu in float32" in capsys.readouterr().err
    assert math.isfinite(result.last_losses["G_total"])
    with pytest.raises(ValueError, match="amp needs dtype='float32'"):
        make_config("amp64", amp="bf16", dtype="float64")


@pytest.mark.parametrize(
    "changes",
    [
        {"generator": {"use_foreground": True, "fg_labels": [26, 24]}},
        {"generator": {"no_flow": True}},
        {"flow_source": "dis", "max_t_step": 2},
        {"generator": {"label_nc": 0, "input_nc": 3, "use_instance": False}, "flow_source": "dis"},
        {"n_scales_temporal": 1, "n_frames_D": 2, "TTUR": True, "gan_mode": "hinge"},
    ],
    ids=["foreground", "no_flow", "dis_flow", "continuous_inputs", "one_temporal_scale"],
)
def test_model_variants_train(make_config, changes) -> None:
    result = Vid2VidTrainer(make_config("variant", max_iters=1, n_frames_total=4, **changes)).train()
    assert result.global_step == 1
    assert all(math.isfinite(v) for v in result.last_losses.values())
    if changes.get("generator", {}).get("no_flow"):
        assert result.last_losses["F_Flow"] == 0 and result.last_losses["G_Warp"] > 0


def test_resume_across_the_switch_to_all_scales_is_bit_exact(make_config) -> None:
    changes = dict(generator={"n_scales": 2}, niter_fix_global=1, n_frames_total=2)
    straight = Vid2VidTrainer(make_config("fix_straight", max_iters=6, **changes))
    straight.train()
    assert not straight.g_finest_only  # epoch 1 trains every scale
    assert len(straight._g_params()) == len(list(straight.generator.parameters()))
    first = Vid2VidTrainer(make_config("fix_resumed", max_iters=3, **changes))
    first.train()
    assert first.g_finest_only and len(first._g_params()) == len(
        list(first.generator.scales[-1].parameters())
    )
    resumed = Vid2VidTrainer(
        make_config("fix_resumed", max_iters=6, **changes), resume=first.config.checkpoint_dir
    )
    resumed.train()
    a, b = _all_tensors(straight), _all_tensors(resumed)
    assert a.keys() == b.keys()
    assert not [k for k in a if not torch.equal(a[k], b[k])]


def test_logger_prints_losses_when_there_is_no_progress_bar(capsys) -> None:
    from vid2vid.training.logging import TrainLogger

    log = TrainLogger(None, progress=False)
    log.scalars(10, {"G_total": 1.5, "D_total": 0.25})
    assert "step 10: G_total=1.5 D_total=0.25" in capsys.readouterr().err
    quiet = TrainLogger(None, enabled=False, progress=False)
    quiet.scalars(10, {"G_total": 1.5})
    assert capsys.readouterr().err == ""


def test_frames_backprop_detaches_only_the_generators_input_copy(make_config) -> None:
    # the original (generate_frame_train) detaches the *input* copy of the history every
    # n_frames_bp frames; the history itself keeps its graph within the chunk
    trainer = Vid2VidTrainer(make_config("bp", max_iters=1, n_frames_total=4, max_frames_per_gpu=4))
    sched = dataclasses.replace(trainer._prepare_epoch(0), frames_backprop=2)
    calls: list[tuple[list[torch.Tensor], object]] = []
    step = trainer._g_step

    def recording_step(window, history, use_raw_only, finest_only):  # type: ignore[no-untyped-def]
        out = step(window, history, use_raw_only, finest_only)
        calls.append((history, out))
        return out

    trainer._g_step = recording_step  # type: ignore[method-assign]
    trainer.train_iteration(next(trainer._batches(0)), sched)
    assert len(calls) == 4  # one chunk of 4 frames
    # t = 0 and t = 2 see detached copies
    assert not calls[0][0][0].requires_grad and not calls[2][0][0].requires_grad
    # t = 3: its history holds the outputs of t = 1 and t = 2, both still attached to the graph
    oldest_at_3 = calls[3][0][0][:, 0]
    grad = torch.autograd.grad(oldest_at_3.sum(), calls[1][1].image, allow_unused=True, retain_graph=True)[0]
    assert grad is not None and torch.equal(grad, torch.ones_like(grad))


def test_temporal_discriminators_keep_their_lr_as_in_the_original(make_config) -> None:
    trainer = Vid2VidTrainer(make_config("lr_dt", niter=1, niter_decay=2))
    trainer._prepare_epoch(2)  # one decay epoch done: factor 1 - (2 - 1) / 2 = 0.5
    lr = trainer.config.lr
    assert trainer.optimizer_G.param_groups[0]["lr"] == pytest.approx(0.5 * lr)
    assert trainer.optimizer_D.param_groups[0]["lr"] == pytest.approx(0.5 * lr)
    assert all(o.param_groups[0]["lr"] == pytest.approx(lr) for o in trainer.optimizers_D_T)
    decaying = Vid2VidTrainer(make_config("lr_dt2", niter=1, niter_decay=2, decay_temporal_d=True))
    decaying._prepare_epoch(2)
    assert all(o.param_groups[0]["lr"] == pytest.approx(0.5 * lr) for o in decaying.optimizers_D_T)


def test_cached_flow_confidence_is_recomputed_at_the_training_resolution(make_config) -> None:
    from vid2vid.flow.confidence import flow_confidence

    trainer = Vid2VidTrainer(make_config("conf"))
    trainer._prepare_epoch(0)
    batch = next(trainer._batches(0))
    frames = batch["frames"]
    idx = slice(2, 4)
    real, prev = frames[:, 2:4], frames[:, 1:3]
    flow, conf = trainer._reference_flow(batch, idx, real, prev)
    expected = flow_confidence(real.flatten(0, 1), prev.flatten(0, 1), batch["flow"][:, idx].flatten(0, 1))
    assert torch.equal(conf.flatten(0, 1), expected) and torch.equal(flow, batch["flow"][:, idx])
    cached = Vid2VidTrainer(make_config("conf2", flow_confidence="cache"))
    _, conf_cached = cached._reference_flow(batch, idx, real, prev)
    assert torch.equal(conf_cached, batch["flow_confidence"][:, idx])
    assert not torch.equal(conf_cached, conf)  # the synthetic cache holds the exact validity mask
