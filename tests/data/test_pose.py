"""Pose-to-body inputs from hand-made OpenPose keypoints / DensePose, and ``vid2vid build-inputs pose``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vid2vid.cli.main import main
from vid2vid.data.pose import (
    BODY_LIMB_COLORS,
    BODY_LIMBS,
    HAND_FINGER_COLORS,
    densepose_input,
    pose_input_maps,
    read_openpose,
    render_openpose,
)

SIZE = (96, 128)  # (H, W)
NECK_HIP = (153, 0, 0)  # colour of limb (1, 8)
NOSE_NECK = (153, 0, 51)  # colour of limb (0, 1)
R_SHOULDER = (153, 51, 0)  # colour of limb (1, 2)


def person(body: dict[int, tuple[float, float, float]], **parts: np.ndarray) -> dict:
    """One OpenPose person with the given BODY_25 points (index → (x, y, confidence))."""
    points = np.zeros((25, 3))
    for i, p in body.items():
        points[i] = p
    entry = {"pose_keypoints_2d": points.ravel().tolist()}
    for key, value in parts.items():
        entry[f"{key}_keypoints_2d"] = np.asarray(value).ravel().tolist()
    return entry


def frame(*people: dict) -> dict:
    return {"version": 1.3, "people": list(people)}


def colours(image: np.ndarray) -> set[tuple[int, int, int]]:
    return {tuple(int(v) for v in c) for c in np.unique(image.reshape(-1, 3), axis=0)} - {(0, 0, 0)}


def test_limb_drawn_between_its_points_in_its_colour():
    image = render_openpose(read_openpose(frame(person({1: (40, 20, 0.9), 8: (40, 70, 0.8)}))), SIZE)
    assert image.shape == (*SIZE, 3) and image.dtype == np.uint8
    assert colours(image) == {NECK_HIP}
    drawn = (image != 0).any(axis=-1)
    ys, xs = np.nonzero(drawn)
    # A 6-px stroke along x = 40 from y = 20 to 70, plus end discs of radius ~6.
    assert xs.min() >= 40 - 6 and xs.max() <= 40 + 5 and ys.min() >= 20 - 6 and ys.max() <= 70 + 5
    assert drawn[20:71, 37:43].all()
    assert not drawn[45, 30] and not drawn[45, 50]
    assert BODY_LIMB_COLORS[BODY_LIMBS.index((1, 8))] == NECK_HIP


@pytest.mark.parametrize(
    ("confidence", "drawn"), [(0.0, False), (0.005, False), (0.01, False), (0.02, True), (0.9, True)]
)
def test_low_confidence_points_are_not_drawn(confidence, drawn):
    body = {0: (40, 10, confidence), 1: (40, 20, 0.9), 8: (40, 70, 0.9), 2: (20, 20, confidence)}
    image = render_openpose(read_openpose(frame(person(body))), SIZE)
    found = colours(image)
    assert NECK_HIP in found
    assert (R_SHOULDER in found) == drawn
    assert (NOSE_NECK in found) == drawn


def test_overlapping_limbs_average_their_colours():
    # Neck–hip (vertical) and a horizontal right shoulder crossing it away from the discs.
    body = {1: (60, 10, 0.9), 8: (60, 80, 0.9), 2: (30, 10, 0.9)}
    image = render_openpose(read_openpose(frame(person(body))), SIZE)
    assert tuple(image[45, 60]) == NECK_HIP  # only the trunk
    assert tuple(image[10, 40]) == R_SHOULDER  # only the shoulder
    mixed = tuple((np.array(NECK_HIP) + np.array(R_SHOULDER)) // 2)
    assert tuple(image[10, 58]) == mixed  # drawn by both (neck disc and shoulder)


def test_hands_face_and_basic_point_only():
    hand = np.zeros((21, 3))
    hand[0] = (100, 60, 0.9)
    for finger in range(5):
        for j in range(4):
            hand[1 + 4 * finger + j] = (92 + 4 * finger, 64 + 5 * j, 0.9)
    hand[6, 2] = 0.001  # second finger (points 5-8) loses one point: the whole finger is dropped
    face = np.zeros((70, 3))
    face[17:22] = [(10 + 3 * i, 10, 0.9) for i in range(5)]  # an eyebrow
    face[22:27] = [(30 + 3 * i, 10, 0.05) for i in range(5)]  # the other, below face threshold 0.1
    people = read_openpose(frame(person({1: (40, 20, 0.9), 8: (40, 70, 0.9)}, hand_right=hand, face=face)))
    image = render_openpose(people, SIZE)
    found = colours(image)
    assert {HAND_FINGER_COLORS[i] for i in (0, 2, 3, 4)} <= found
    assert HAND_FINGER_COLORS[1] not in found
    assert (image[10, 12:20] == 255).all()  # white eyebrow
    assert not image[8:13, 32:45].any()  # the low-confidence eyebrow is not drawn
    basic = render_openpose(people, SIZE, basic_point_only=True)
    assert colours(basic) == {NECK_HIP}


def test_pose_input_maps_range_layout_and_densepose():
    data = frame(person({1: (40, 20, 0.9), 8: (40, 70, 0.9)}))
    maps = pose_input_maps(data, SIZE)
    assert maps.shape == (3, *SIZE) and maps.dtype == np.float32
    assert maps.min() == -1.0 and maps.max() <= 1.0
    np.testing.assert_allclose(maps[:, 45, 40], np.array(NECK_HIP) / 127.5 - 1.0, atol=1e-6)
    assert (maps[:, 0, 0] == -1).all()

    iuv = np.zeros((*SIZE, 3), np.uint8)
    iuv[10:20, 10:20] = (255, 0, 24)  # V = 255, U = 0, part 24 (head)
    iuv[30:40, 30:40] = (128, 64, 12)
    both = pose_input_maps(data, SIZE, densepose=iuv)
    assert both.shape == (6, *SIZE)
    np.testing.assert_array_equal(both[3:], maps)
    np.testing.assert_allclose(both[:3, 15, 15], [1.0, -1.0, 1.0])
    np.testing.assert_allclose(both[:3, 35, 35], [128 / 127.5 - 1, 64 / 127.5 - 1, 0.0], atol=1e-6)
    np.testing.assert_allclose(both[:3, 0, 0], [-1.0, -1.0, -1.0])
    with pytest.raises(ValueError, match="does not match size"):
        pose_input_maps(data, SIZE, densepose=iuv[:50])
    bad = iuv.copy()
    bad[0, 0, 2] = 200
    with pytest.raises(ValueError, match="part index .* 0-24"):
        densepose_input(bad)


def test_openpose_reading_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.json"):
        read_openpose(tmp_path / "missing.json")
    (tmp_path / "broken.json").write_text("{people: ")
    with pytest.raises(ValueError, match="broken.json is not valid JSON"):
        read_openpose(tmp_path / "broken.json")
    with pytest.raises(ValueError, match="'people' list"):
        read_openpose({"persons": []})
    with pytest.raises(ValueError, match=r"people\[0\].*pose_keypoints_2d.*75 values, got 54.*BODY_25"):
        read_openpose({"people": [{"pose_keypoints_2d": [0.0] * 54}]})
    with pytest.raises(ValueError, match=r"people\[1\]: person without 'pose_keypoints_2d'"):
        read_openpose(frame(person({}), {"face_keypoints_2d": []}))
    with pytest.raises(ValueError, match="'hand_left_keypoints_2d' must hold 21 x 3 = 63 values, got 3"):
        read_openpose(frame(person({}, hand_left=np.zeros(3))))
    (tmp_path / "ok.json").write_text(json.dumps(frame(person({1: (1, 2, 0.5)}, face=[]))))
    (p,) = read_openpose(tmp_path / "ok.json")
    assert p.body[1].tolist() == [1, 2, 0.5] and not p.face.any() and p.hand_left.shape == (21, 3)
    assert read_openpose(frame()) == []
    assert (pose_input_maps(frame(), SIZE) == -1).all()


def test_cli_build_inputs_pose(tmp_path, capsys):
    from PIL import Image

    keypoints, densepose, out = tmp_path / "openpose", tmp_path / "densepose", tmp_path / "out"
    keypoints.mkdir()
    densepose.mkdir()
    iuv = np.zeros((*SIZE, 3), np.uint8)
    iuv[10:20, 10:20] = (200, 100, 3)
    for t in range(3):
        data = frame(person({1: (40 + t, 20, 0.9), 8: (40 + t, 70, 0.9)}))
        (keypoints / f"frame_{t}_keypoints.json").write_text(json.dumps(data))
        Image.fromarray(iuv).save(densepose / f"frame_{t}_IUV.png")
    assert (
        main(["build-inputs", "pose", "--keypoints", str(keypoints), "--out", str(out), "--size", "128x96"])
        == 0
    )
    assert "wrote 3" in capsys.readouterr().out
    first = np.load(out / "frame_0_keypoints.npy")
    assert first.shape == (3, 96, 128) and first.dtype == np.float16
    expected = pose_input_maps(frame(person({1: (40, 20, 0.9), 8: (40, 70, 0.9)})), SIZE)
    np.testing.assert_allclose(first.astype(np.float32), expected, atol=1e-3)

    with_dp = tmp_path / "with_dp"
    assert (
        main(
            [
                "build-inputs",
                "pose",
                "--keypoints",
                str(keypoints),
                "--out",
                str(with_dp),
                "--densepose",
                str(densepose),
            ]
        )
        == 0
    )
    last = np.load(with_dp / "frame_2_keypoints.npy").astype(np.float32)
    assert last.shape == (6, 96, 128)
    np.testing.assert_allclose(last[:, 15, 15][:3], [200 / 127.5 - 1, 100 / 127.5 - 1, 3 / 12 - 1], atol=1e-3)
    assert json.loads((with_dp / "inputs.json").read_text())["channels"] == 6

    (densepose / "frame_2_IUV.png").unlink()
    assert (
        main(
            [
                "build-inputs",
                "pose",
                "--keypoints",
                str(keypoints),
                "--out",
                str(out),
                "--densepose",
                str(densepose),
            ]
        )
        == 2
    )
    assert "2 DensePose images" in capsys.readouterr().err
    assert (
        main(
            [
                "build-inputs",
                "pose",
                "--keypoints",
                str(tmp_path / "none"),
                "--out",
                str(out),
                "--size",
                "8x8",
            ]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err
