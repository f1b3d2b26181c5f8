"""The original's face discriminator (add_face_disc) and sparse temporal windows (sparse_D)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vid2vid.training import Vid2VidTrainer
from vid2vid.training.face_region import face_region
from vid2vid.training.objective import FACE_LOSS_NAMES, FrameBatch, SparseTemporalWindows, Vid2VidObjective


def _pose_inputs(n: int = 2, h: int = 64, w: int = 64) -> torch.Tensor:
    return torch.full((n, 6, h, w), -1.0)


def test_face_region_centres_a_fixed_square_on_the_faces_box_over_all_frames() -> None:
    x = _pose_inputs()
    x[0, 2, 10:15, 20:31] = 1.0  # rows 10..14, cols 20..30
    x[1, 2, 12:17, 22:27] = 0.95  # rows 12..16
    # box over both frames: y 10..16 -> centre 13; x 20..30 -> centre 25; side 16 (fine 64 // 32 * 8)
    assert face_region(x, 16) == (5, 21, 17, 33)
    border = _pose_inputs()
    border[0, 2, 0:3, 60:64] = 1.0  # centre (1, 61): moved inside, h - 1 - 8 = 55
    assert face_region(border, 16) == (0, 16, 47, 63)
    assert face_region(_pose_inputs(), 16) is None
    op = _pose_inputs()
    op[1, 0, 30, 40], op[1, 1, 30, 40], op[1, 2, 30, 40] = 0.2, -1.0, -0.6  # OpenPose face colour
    assert face_region(op, 16) is None  # not the DensePose rule
    assert face_region(op, 16, openpose_only=True) == (22, 38, 32, 48)
    with pytest.raises(ValueError, match="pose maps"):
        face_region(torch.zeros(1, 2, 8, 8), 16)


def _face_batch(with_face: bool) -> FrameBatch:
    g = torch.Generator().manual_seed(1)

    def r(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g) * 2 - 1

    inputs = _pose_inputs(2, 32, 32)
    if with_face:
        inputs[:, 2, 8:12, 8:12] = 1.0
    return FrameBatch(
        real=r(2, 3, 32, 32),
        fake=r(2, 3, 32, 32).requires_grad_(True),
        raw=r(2, 3, 32, 32),
        inputs=inputs,
        real_prev=r(2, 3, 32, 32),
        fake_prev=r(2, 3, 32, 32),
        flow=None,
        weight=None,
        flow_ref=torch.zeros(2, 2, 32, 32),
        conf_ref=torch.ones(2, 1, 32, 32),
    )


def test_face_terms_follow_the_original() -> None:
    torch.manual_seed(0)
    obj = Vid2VidObjective(
        6, 3, ndf=4, ndf_max=4, n_layers_D=2, num_D=3, norm_D="instance", add_face_disc=True, face_crop=8
    )
    assert obj.face_d is not None and len(obj.face_d.scales) == 1  # max(1, num_D - 2)
    b = _face_batch(with_face=True)
    losses = obj.image_losses(b)
    t = {k: v.detach() for k, v in losses.terms.items()}
    assert set(FACE_LOSS_NAMES) <= set(t)
    # independent computation on the crop: face rows/cols 8..11 -> centre (8 + 11) // 2 = 9, side 8: 5..13
    crop = (slice(None), slice(None), slice(5, 13), slice(5, 13))
    real_in = torch.cat([b.inputs[crop], b.real[crop]], 1)
    fake_in = torch.cat([b.inputs[crop], b.fake[crop]], 1)
    with torch.no_grad():
        fr, ff = obj.face_d(real_in), obj.face_d(fake_in)
        g_gan = ((ff[0][-1] - 1) ** 2).mean()
        # feature matching: lambda_feat 10 x (1 / num_D = 1/3 of the MAIN D) x 4 / (n_layers_D + 1)
        fm = (
            sum(F.l1_loss(a, c) for a, c in zip(ff[0][:-1], fr[0][:-1], strict=True)) * (1 / 3) * (4 / 3) * 10
        )
        d_real, d_fake = ((fr[0][-1] - 1) ** 2).mean(), (ff[0][-1] ** 2).mean()
    assert float(t["G_f_GAN"]) == pytest.approx(2 * float(g_gan), rel=1e-5)
    assert float(t["G_f_GAN_Feat"]) == pytest.approx(2 * float(fm), rel=1e-5)
    assert float(t["D_f_real"]) == pytest.approx(float(d_real), rel=1e-5)
    assert float(t["D_f_fake"]) == pytest.approx(float(d_fake), rel=1e-5)
    without = float((t["D_real"] + t["D_fake"]) * 0.5)
    assert float(losses.discriminator.detach()) == pytest.approx(
        without + 0.5 * float(d_real + d_fake), rel=1e-5
    )
    generator_without = sum(
        float(t[k]) for k in ("G_GAN", "G_GAN_Feat", "G_VGG", "G_Warp", "F_Flow", "F_Warp", "W")
    )
    assert float(losses.generator.detach()) == pytest.approx(
        generator_without + float(t["G_f_GAN"] + t["G_f_GAN_Feat"]), rel=1e-5
    )


def test_no_visible_face_gives_zero_face_terms() -> None:
    obj = Vid2VidObjective(
        6, 3, ndf=4, ndf_max=4, n_layers_D=2, num_D=1, norm_D="instance", add_face_disc=True, face_crop=8
    )
    losses = obj.image_losses(_face_batch(with_face=False))
    assert all(float(losses.terms[k]) == 0.0 for k in FACE_LOSS_NAMES)
    t = losses.terms
    assert float(losses.discriminator) == pytest.approx(float((t["D_real"] + t["D_fake"]) * 0.5))


def test_sparse_windows_follow_get_skipped_frames_sparse() -> None:
    # expected windows worked out by hand from the original's get_skipped_frames_sparse
    # (n_frames_D 3, 2 temporal scales, chunks of 4 frames: i = 0, 4, 8)
    tw = SparseTemporalWindows(3, 2)
    frames = torch.arange(12, dtype=torch.float32).view(1, 12, 1, 1, 1).expand(1, 12, 3, 2, 2)
    flows = torch.arange(12, dtype=torch.float32).view(1, 12, 1, 1, 1).expand(1, 12, 2, 2, 2)

    def ids(t: torch.Tensor) -> list[list[int]]:
        return t[:, :, 0, 0, 0].long().tolist()

    out = [tw.add(frames[:, i : i + 4], frames[:, i : i + 4], flows[:, i : i + 4]) for i in (0, 4, 8)]
    assert ids(out[0][0][0]) == [[1, 2, 3]] and out[0][1] is None
    assert ids(out[1][0][0]) == [[2, 3, 4], [5, 6, 7]]
    assert ids(out[1][1][0]) == [[0, 3, 6]]
    assert ids(out[1][1][2]) == [[3, 6]]  # the unit flows of the window's frames 1.., as the original
    assert ids(out[2][0][0]) == [[6, 7, 8], [9, 10, 11]]
    assert ids(out[2][1][0]) == [[3, 6, 9]]


def test_trainer_runs_with_the_face_discriminator_and_sparse_windows(make_config) -> None:
    # the street labels' class 2 one-hot channel stands in for the DensePose head rule (> 0.9)
    config = make_config("face_sparse", max_iters=1, add_face_disc=True, sparse_D=True, save_every=1)
    trainer = Vid2VidTrainer(config)
    assert isinstance(trainer.windows, SparseTemporalWindows) and trainer.objective.face_d is not None
    face_params = {id(p) for p in trainer.objective.face_d.parameters()}
    assert face_params <= {id(p) for g in trainer.optimizer_D.param_groups for p in g["params"]}
    result = trainer.train()
    assert set(FACE_LOSS_NAMES) <= set(result.last_losses)
    resumed = Vid2VidTrainer(config.replace(max_iters=2), resume=result.checkpoint)
    for k, v in trainer.objective.face_d.state_dict().items():
        assert torch.equal(resumed.objective.face_d.state_dict()[k], v), k
