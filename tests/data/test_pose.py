"""Pose-to-body inputs from hand-made OpenPose keypoints / DensePose, and ``vid2vid build-inputs pose``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vid2vid.cli.main import main
from vid2vid.data.keypoint_drawing import draw_edge, interp_points
from vid2vid.data.pose import (
    BODY_LIMB_COLORS,
    BODY_LIMBS,
    HAND_FINGER_COLORS,
    densepose_input,
    drop_densepose_parts,
    pose_geometry,
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
    # The stroke is the limb's colour; where the end discs meet the stroke the original's rule
    # averages whole stamp copies, so shades of the same colour appear there (red channel only).
    assert all(g == 0 and b == 0 and 0 < r <= 153 for r, g, b in colours(image))
    assert (image[30:60, 38:42] == NECK_HIP).all()
    drawn = (image != 0).any(axis=-1)
    ys, xs = np.nonzero(drawn)
    # A 6-px stroke (offsets -3..2) along x = 40 from y = 20 to 70, plus end discs (i² + j² < 36).
    assert xs.min() == 40 - 5 and xs.max() == 40 + 5 and ys.min() == 20 - 5 and ys.max() == 70 + 5
    assert drawn[20:71, 37:43].all()
    assert not drawn[45, 30] and not drawn[45, 50]
    assert BODY_LIMB_COLORS[BODY_LIMBS.index((1, 8))] == NECK_HIP


@pytest.mark.parametrize(
    ("confidence", "drawn"), [(0.0, False), (0.005, False), (0.01, False), (0.02, True), (0.9, True)]
)
def test_low_confidence_points_are_not_drawn(confidence, drawn):
    body = {0: (40, 5, confidence), 1: (40, 20, 0.9), 8: (40, 70, 0.9), 2: (10, 20, confidence)}
    image = render_openpose(read_openpose(frame(person(body))), SIZE)
    assert (image[50, 38:42, 0] > 0).all() and not image[50, 38:42, 1:].any()  # the trunk
    assert (tuple(image[20, 20]) != (0, 0, 0)) == drawn  # middle of the right shoulder (1, 2)
    assert (tuple(image[11, 40]) != (0, 0, 0)) == drawn  # middle of nose-neck (0, 1)


def test_overlapping_limbs_follow_the_original_colour_rule():
    # Trunk first, then the horizontal right shoulder stamped over it by the original's rule.
    body = {1: (60, 10, 0.9), 8: (60, 80, 0.9), 2: (30, 10, 0.9)}
    image = render_openpose(read_openpose(frame(person(body))), SIZE)
    assert tuple(image[45, 60]) == NECK_HIP  # only the trunk
    expected = np.zeros_like(image)
    xs, ys = interp_points(np.array([60.0, 30.0]), np.array([10.0, 10.0]))  # the shoulder (1, 2)
    trunk = render_openpose(read_openpose(frame(person({1: (60, 10, 0.9), 8: (60, 80, 0.9)}))), SIZE)
    expected[:] = trunk
    draw_edge(expected, xs, ys, bw=3, color=R_SHOULDER, draw_end_points=True)
    np.testing.assert_array_equal(image, expected)
    # Two people: their drawings add up in uint8 (with wrap-around), as the original sums them.
    two = render_openpose(read_openpose(frame(person(body), person(body))), SIZE)
    np.testing.assert_array_equal(two, image + image)


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
    for i, colour in enumerate(HAND_FINGER_COLORS):
        shades = {colour, tuple(c // 2 for c in colour)}
        assert bool(shades & found) == (i != 1), i
    assert (image[9:11, 12:20] > 0).all() and image[9:11, 12:20].max() == 255  # white eyebrow
    assert not image[8:13, 32:45].any()  # the low-confidence eyebrow is not drawn
    basic = render_openpose(people, SIZE, basic_point_only=True)
    assert all(g == 0 and b == 0 for _, g, b in colours(basic))


def test_random_drop_and_densepose_part_removal():
    body = {1: (40, 20, 0.9), 8: (40, 70, 0.9), 2: (10, 20, 0.9), 5: (70, 20, 0.9)}
    people = read_openpose(frame(person(body)))
    full = render_openpose(people, SIZE)
    assert (render_openpose(people, SIZE, random_drop_prob=0.0) == full).all()
    dropped = [
        render_openpose(people, SIZE, random_drop_prob=0.5, rng=np.random.default_rng(s)) for s in range(20)
    ]
    n_drawn = [int((d != 0).any(-1).sum()) for d in dropped]
    assert min(n_drawn) < max(n_drawn) <= int((full != 0).any(-1).sum())
    assert all(((d != 0).any(-1) <= (full != 0).any(-1)).all() for d in dropped)  # only removes
    with pytest.raises(ValueError, match="random generator"):
        render_openpose(people, SIZE, random_drop_prob=0.5)
    iuv = np.zeros((*SIZE, 3), np.uint8)
    iuv[:10, :10] = (10, 20, 23)
    iuv[20:30, :10] = (10, 20, 5)
    no_face = drop_densepose_parts(iuv, remove_face_labels=True)
    assert not no_face[:10, :10].any() and (no_face[20:30, :10] == iuv[20:30, :10]).all()
    every = drop_densepose_parts(iuv, random_drop_prob=1.0, rng=np.random.default_rng(0))
    assert not every.any()


def test_pose_geometry_follows_the_original():
    # Test time (scaleHeight): height load_size, width by aspect; multiples of 4 then 32; central half.
    g = pose_geometry((160, 240), 128)
    assert g.resize == (128, 192) and g.output_size == (128, 64)
    g = pose_geometry((144, 256), 128)
    assert g.resize == (128, 224) and g.output_size == (128, 64)
    # Training: random crop of fine_size rows, x around the centre, y in the top eighth.
    rng = np.random.default_rng(0)
    crops = [pose_geometry((512, 1024), 384, 256, mode="scale_height_and_crop", rng=rng) for _ in range(200)]
    assert all(c.resize == (384, 768) and c.crop == (256, 512) for c in crops)
    lefts = np.array([c.left for c in crops])
    assert 0 <= lefts.min() and lefts.max() <= 256 and abs(lefts.mean() - 128) < 10
    assert all(0 <= c.top <= 384 // 8 for c in crops) and len({c.top for c in crops}) > 5
    assert all(c.output_size == (256, 256) for c in crops)
    scales = {
        pose_geometry((512, 1024), 384, 256, mode="random_scale_height_and_crop", rng=rng).resize
        for _ in range(50)
    }
    assert len(scales) > 5 and all(256 <= h <= 388 for h, _ in scales)
    image = np.arange(512 * 1024 * 3, dtype=np.int64).reshape(512, 1024, 3) % 251
    out = crops[0].apply(image.astype(np.uint8), "nearest")
    assert out.shape == (256, 256, 3)
    with pytest.raises(ValueError, match="mode"):
        pose_geometry((512, 1024), 384, mode="scaleHeight")


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
    np.testing.assert_allclose(both[:3, 15, 15], [1.0, -1.0, 1.0], atol=1e-6)
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

    from vid2vid.data.input_maps import read_input_maps

    size = (128, 256)
    keypoints, densepose, out = tmp_path / "openpose", tmp_path / "densepose", tmp_path / "out"
    keypoints.mkdir()
    densepose.mkdir()
    iuv = np.zeros((*size, 3), np.uint8)
    iuv[60:70, 120:130] = (200, 100, 3)
    for t in range(3):
        data = frame(person({1: (128 + t, 20, 0.9), 8: (128 + t, 100, 0.9)}))
        (keypoints / f"frame_{t}_keypoints.json").write_text(json.dumps(data))
        Image.fromarray(iuv).save(densepose / f"frame_{t}_IUV.png")
    args = ["build-inputs", "pose", "--keypoints", str(keypoints), "--out", str(out), "--size", "256x128"]
    assert main([*args, "--load-size", "64"]) == 0
    assert "wrote 3" in capsys.readouterr().out
    first = np.load(out / "frame_0_keypoints.npy")
    assert first.shape == (3, 64, 64) and first.dtype == np.uint8  # 64 x 128 resized, central 64 columns
    info = json.loads((out / "inputs.json").read_text())
    assert info["decode"] == "symmetric" and info["channels"] == 3 and info["size_hw"] == [64, 64]
    decoded = read_input_maps(out)
    assert decoded.shape == (3, 3, 64, 64) and decoded.min() == -1.0 and decoded.max() <= 1.0

    with_dp = tmp_path / "with_dp"
    assert main(["build-inputs", "pose", "--keypoints", str(keypoints), "--out", str(with_dp),
                 "--densepose", str(densepose), "--no-resize", "--no-center-crop"]) == 0  # fmt: skip
    last = read_input_maps(with_dp)[2]
    assert last.shape == (6, 128, 256)
    np.testing.assert_allclose(last[:3, 65, 125], [200 / 127.5 - 1, 100 / 127.5 - 1, 3 / 12 - 1], atol=1e-6)
    assert json.loads((with_dp / "inputs.json").read_text())["densepose_index_channels"] == [2]

    (densepose / "frame_2_IUV.png").unlink()
    assert main(["build-inputs", "pose", "--keypoints", str(keypoints), "--out", str(out),
                 "--densepose", str(densepose)]) == 2  # fmt: skip
    assert "2 DensePose images" in capsys.readouterr().err
    assert main(["build-inputs", "pose", "--keypoints", str(tmp_path / "none"), "--out", str(out),
                 "--size", "8x8"]) == 2  # fmt: skip
    assert "does not exist" in capsys.readouterr().err
