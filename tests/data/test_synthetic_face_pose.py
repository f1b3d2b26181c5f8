"""Synthetic talking faces and walking/dancing figures: determinism, keypoints, exact flow, writers, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vid2vid.cli.main import main
from vid2vid.data.face import build_face_clip, read_face_landmarks
from vid2vid.data.flow_cache import load_flow_cache
from vid2vid.data.io import read_frames
from vid2vid.data.pose import read_openpose, render_openpose
from vid2vid.data.synthetic import face_template, render_face_clip, render_pose_clip
from vid2vid.flow import flow_warp

DENSEPOSE_PARTS = set(range(1, 25))


def _to_tensor(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 127.5 - 1


def _warp_errors(clip: dict) -> dict[str, float]:
    """Mean error (0-255 levels) on valid moving pixels: GT flow, zero flow, GT ± a quarter pixel."""
    frames = _to_tensor(clip["frames"])
    flow = torch.from_numpy(clip["flow"][1:])
    valid = (torch.from_numpy(clip["confidence"][1:]) > 0) & (flow.abs().sum(1, keepdim=True) > 0.1)

    def error(f: torch.Tensor) -> float:
        return float(
            (flow_warp(frames[:-1], f) - frames[1:]).abs().mean(1, keepdim=True)[valid].mean() * 127.5
        )

    out = {"exact": error(flow), "zero": error(torch.zeros_like(flow))}
    for name, shift in (("x+", [0.25, 0.0]), ("x-", [-0.25, 0.0]), ("y+", [0.0, 0.25]), ("y-", [0.0, -0.25])):
        out[name] = error(flow + torch.tensor(shift).view(1, 2, 1, 1))
    return out


def test_face_clip_is_deterministic_and_well_formed():
    a = render_face_clip(6, 96, 96, seed=5)
    b = render_face_clip(6, 96, 96, seed=5)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert a["frames"].shape == (6, 96, 96, 3) and a["frames"].dtype == np.uint8
    assert a["landmarks"].shape == (6, 68, 2) and a["landmarks"].dtype == np.int64
    assert (a["landmarks"] >= 0).all() and (a["landmarks"] < 96).all()
    assert a["flow"].shape == (6, 2, 96, 96) and not a["flow"][0].any() and not a["confidence"][0].any()
    assert not np.array_equal(a["frames"], render_face_clip(6, 96, 96, seed=6)["frames"])
    # the head region holds the landmarks; skin is not the wall
    regions = a["regions"]
    for t in range(6):
        inside = regions[t][a["landmarks"][t][:, 1], a["landmarks"][t][:, 0]]
        assert (inside == 2).mean() > 0.9


def test_face_talks_and_turns():
    clip = render_face_clip(40, 128, 128, seed=2)
    lm = clip["landmarks"].astype(float)
    mouth_gap = lm[:, 66, 1] - lm[:, 62, 1]  # inner lips, lower minus upper
    assert mouth_gap.max() - mouth_gap.min() >= 3  # the mouth opens and closes
    jaw_width = np.hypot(*(lm[:, 16] - lm[:, 0]).T)
    assert jaw_width.max() / jaw_width.min() > 1.03  # turning squashes the face
    assert np.ptp(lm[:, 30, 0]) > 3  # the head moves
    # the moving mouth is not rigid: no ground truth there (confidence 0), the cheeks keep theirs
    centre = np.round((lm[:, 62] + lm[:, 66]) / 2).astype(int)
    cheek = np.round(lm[:, 2] + 0.3 * (lm[:, 30] - lm[:, 2])).astype(int)
    conf = clip["confidence"][:, 0]
    assert all(conf[t, centre[t, 1], centre[t, 0]] == 0 for t in range(40))
    assert np.mean([conf[t, cheek[t, 1], cheek[t, 0]] for t in range(1, 40)]) > 0.8
    closed, open_ = face_template(0.0), face_template(0.2)
    assert np.allclose(closed[:48], open_[:48]) and (open_[66, 1] - open_[62, 1]) > (
        closed[66, 1] - closed[62, 1]
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_face_ground_truth_flow_is_exact(seed):
    errors = _warp_errors(render_face_clip(8, 128, 128, seed=seed))
    # measured 1.5-2.7 levels on moving pixels (bilinear resampling of the texture, aliased eye and
    # lip outlines); zero flow 6.7-7.0; a quarter pixel off: 1.1-1.4x worse
    assert errors["exact"] < 0.45 * errors["zero"]
    assert all(errors["exact"] * 1.05 < errors[k] for k in ("x+", "x-", "y+", "y-")), errors


@pytest.mark.parametrize("motion", ["walk", "dance"])
def test_pose_clip_keypoints_densepose_and_exact_flow(motion):
    clip = render_pose_clip(8, 192, 128, seed=3, motion=motion)
    assert clip["motion"] == motion and clip["frames"].shape == (8, 128, 192, 3)
    regions, iuv = clip["regions"], clip["densepose"]
    assert set(np.unique(iuv[..., 2]).tolist()) - {0} <= DENSEPOSE_PARTS
    np.testing.assert_array_equal(iuv[..., 2] > 0, regions > 0)  # DensePose covers exactly the body
    for t in range(8):
        people = read_openpose(clip["openpose"][t])
        assert len(people) == 1 and people[0].body.shape == (25, 3)
        joints = np.round(people[0].body[:, :2]).astype(int)
        on_body = regions[t][joints[:, 1].clip(0, 127), joints[:, 0].clip(0, 191)] > 0
        assert on_body.mean() > 0.8  # the skeleton lies on the rendered body
        assert (people[0].body[:, 2] > 0.5).all()
        assert render_openpose(people, (128, 192)).any()  # the builders draw it
    errors = _warp_errors(clip)
    assert errors["exact"] < 0.45 * errors["zero"]
    assert all(errors["exact"] * 1.1 < errors[k] for k in ("x+", "x-", "y+", "y-")), errors


def test_dance_raises_the_arms_and_walk_moves_the_legs():
    dance = render_pose_clip(24, 192, 128, seed=1, motion="dance")["joints"]
    assert (dance[:, 4, 1] < dance[:, 2, 1]).any()  # right wrist above the right shoulder at some point
    walk = render_pose_clip(24, 192, 128, seed=1, motion="walk")["joints"]
    ankles_apart = walk[:, 11, 0] - walk[:, 14, 0]
    assert np.ptp(ankles_apart) > 10  # the legs swing
    with pytest.raises(ValueError, match="motion"):
        render_pose_clip(2, 64, 64, seed=0, motion="jump")


def test_make_synthetic_face_and_pose_cli(tmp_path: Path, capsys):
    face, pose = tmp_path / "face", tmp_path / "pose"
    common = ["--clips", "2", "--frames", "3", "--seed", "1", "--quiet"]
    assert main(["make-synthetic", "--kind", "face", "--out", str(face), "--size", "96x96", *common]) == 0
    assert "wrote 2 face clips x 3 frames of 96x96" in capsys.readouterr().out
    lm = read_face_landmarks(face / "train_keypoints" / "clip_0001" / "00002.txt")
    assert lm.shape == (68, 2) and np.array_equal(lm, np.round(lm))  # dlib-style integer lines
    frames = read_frames(face / "train_img" / "clip_0001")
    assert json.loads((face / "synthetic_face_train.json").read_text())["seed"] == 1
    expected = render_face_clip(3, 96, 96, seed=_clip_seed(1, 1))
    np.testing.assert_array_equal(frames, expected["frames"])
    flow, conf, meta = load_flow_cache(face / "train_flow" / "clip_0001.safetensors")
    assert flow.shape == (3, 2, 96, 96) and meta["estimator"] == "synthetic-ground-truth"
    # the builders read what make-synthetic writes
    landmarks = [
        read_face_landmarks(p) for p in sorted((face / "train_keypoints" / "clip_0000").glob("*.txt"))
    ]
    built = build_face_clip(landmarks, list(read_frames(face / "train_img" / "clip_0000")), load_size=64)
    assert built.inputs.shape == (3, 15, 64, 64) and built.inputs[:, 0].any()

    assert main(["make-synthetic", "--kind", "pose", "--out", str(pose), "--size", "128x64", *common]) == 0
    out = capsys.readouterr().out
    assert "wrote 2 pose clips" in out and "train_openpose, train_densepose, train_img, train_flow" in out
    assert len(list((pose / "train_openpose" / "clip_0000").glob("*_keypoints.json"))) == 3
    assert read_frames(pose / "train_densepose" / "clip_0000").shape == (3, 64, 128, 3)
    info = json.loads((pose / "synthetic_pose_train.json").read_text())
    assert info["motions"] == ["walk", "dance"]
    with pytest.raises(SystemExit):
        main(["make-synthetic", "--kind", "hands", "--out", str(pose)])


def _clip_seed(seed: int, index: int) -> int:
    from vid2vid.data.synthetic import synthetic_clip_seed

    return synthetic_clip_seed(seed, index)
