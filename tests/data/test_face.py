"""Edge-to-face inputs from hand-made 68-point landmarks, and ``vid2vid build-inputs face``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vid2vid.cli.main import main
from vid2vid.data.face import (
    FACE_INPUT_NC,
    FACE_PARTS,
    ORIGINAL_POINT_SCALING,
    add_upper_face,
    build_face_clip,
    face_crop_box,
    face_edge_maps,
    face_input_maps,
    face_output_size,
    face_part_labels,
    random_point_scaling,
    read_face_landmarks,
    render_face_maps,
    scale_face_points,
    write_face_landmarks,
)
from vid2vid.data.input_maps import read_input_maps
from vid2vid.data.keypoint_drawing import draw_edge, interp_points

SIZE = (128, 128)  # (H, W)


def synthetic_face(cx: float = 64.0, cy: float = 64.0, rx: float = 30.0, ry: float = 36.0) -> np.ndarray:
    """A cartoon face in the dlib 68-point layout: jaw on the lower half of an ellipse."""
    pts = np.zeros((68, 2))
    angles = np.linspace(np.pi, 0.0, 17)
    pts[0:17] = np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], 1)
    arch = np.array([0, 2, 3, 2, 0])
    pts[17:22] = np.stack([np.linspace(cx - 24, cx - 6, 5), cy - 22 - arch], 1)
    pts[22:27] = np.stack([np.linspace(cx + 6, cx + 24, 5), cy - 22 - arch], 1)
    pts[27:31] = np.stack([np.full(4, cx), np.linspace(cy - 18, cy - 2, 4)], 1)  # nose bridge: vertical
    pts[31:36] = np.stack([np.linspace(cx - 8, cx + 8, 5), cy + arch], 1)

    def eye(ex: float, ey: float) -> np.ndarray:
        return np.array(
            [
                [ex - 8, ey],
                [ex - 4, ey - 3],
                [ex + 4, ey - 3],
                [ex + 8, ey],
                [ex + 4, ey + 3],
                [ex - 4, ey + 3],
            ]
        )

    pts[36:42] = eye(cx - 15, cy - 12)
    pts[42:48] = eye(cx + 15, cy - 12)
    outer = np.linspace(np.pi, -np.pi, 13)[:12]
    pts[48:60] = np.stack([cx + 14 * np.cos(outer), cy + 16 - 6 * np.sin(outer)], 1)
    inner = np.linspace(np.pi, -np.pi, 9)[:8]
    pts[60:68] = np.stack([cx + 9 * np.cos(inner), cy + 16 - 3 * np.sin(inner)], 1)
    return pts.astype(np.float32)


# Landmarks on some drawn edge (27, 29, 30 are not: the original's nose starts at 28).
DRAWN = sorted({i for part in FACE_PARTS for edge in part.edges for i in edge if i < 68})


def test_channels_dtype_and_range():
    maps = face_input_maps(synthetic_face(), SIZE)
    assert maps.shape == (FACE_INPUT_NC, *SIZE) == (15, 128, 128) and maps.dtype == np.float32
    assert maps.min() >= 0.0 and maps.max() <= 1.0
    assert set(np.unique(maps[0]).tolist()) == {0.0, 1.0}
    only_edges = face_input_maps(synthetic_face(), SIZE, add_dist_map=False)
    assert only_edges.shape == (1, *SIZE)
    np.testing.assert_array_equal(only_edges[0], maps[0])
    assert DRAWN == [i for i in range(68) if i not in (27, 29, 30)]


def test_edges_lie_on_the_landmark_polylines():
    landmarks = np.round(synthetic_face())  # integer positions, as dlib writes them
    edges = face_input_maps(landmarks, SIZE, add_dist_map=False)[0]
    for i in DRAWN:
        x, y = landmarks[i].astype(int)
        assert edges[y - 2 : y + 2, x - 2 : x + 2].any(), f"landmark {i} at ({x}, {y}) not on the edge map"
    # The straight 2-point nose piece 28 → 31 is drawn all along (within the 2-px stroke).
    for t in np.linspace(0.0, 1.0, 25):
        x, y = np.floor(landmarks[28] + t * (landmarks[31] - landmarks[28])).astype(int)
        assert edges[y - 1 : y + 2, x - 1 : x + 2].sum() >= 3, (t, x, y)
    # Nothing far from the face; the drawing is thin (a few % of the canvas).
    assert edges[:10].sum() == 0 and edges[:, :20].sum() == 0 and edges[118:].sum() == 0
    assert edges.mean() < 0.08


def test_one_distance_map_per_edge_zero_on_it_and_growing_away():
    landmarks = synthetic_face()
    edges, dist = face_edge_maps(landmarks, SIZE)
    maps = face_input_maps(landmarks, SIZE)
    assert dist.shape == (FACE_INPUT_NC - 1, *SIZE) and dist.dtype == np.uint8
    np.testing.assert_array_equal(edges / 255.0, maps[0])
    for e in range(14):
        assert dist[e].min() == 0 and dist[e].max() > 0
        np.testing.assert_array_equal(dist[e] / np.float32(255), maps[1 + e])
    # Right eyebrow (edge index 1): moving straight up from its middle landmark the distance grows.
    x, y = landmarks[19].astype(int)
    column = dist[1][y::-1, x][:12].astype(int)
    assert column[0] == 0 and np.all(np.diff(column) >= 0) and column[-1] > 0
    assert (maps[1:, 0, 0] > 0.05).all()  # the corner is far from every edge


def test_distance_map_values_follow_the_original_normalisation():
    # One vertical stroke (a 2-point edge): the distance map is uint8(clip(d / 3, 0, 255)), d the L1
    # distance in pixels to the 2-px stroke (columns x-1, x).
    landmarks = np.round(synthetic_face())
    landmarks[31, 0] = landmarks[28, 0]  # make the nose piece 28 → 31 vertical
    edges, dist = face_edge_maps(landmarks, (200, 1000))
    nose_bridge = 3  # edge (28, 31): x from landmark 28
    row = int(landmarks[28, 1] + landmarks[31, 1]) // 2
    x = int(landmarks[28, 0])
    stroke = x - 3 + np.nonzero(edges[row, x - 3 : x + 2])[0]
    assert len(stroke) == 2 and stroke[1] == stroke[0] + 1  # the 2-px stroke (fit noise may shift it 1 px)
    right = dist[nose_bridge, row, stroke[1] :].astype(int)
    k = np.arange(len(right))  # L1 distance to the stroke along the row
    np.testing.assert_array_equal(right[:800], np.minimum(k[:800] // 3, 255))
    assert dist[nose_bridge, row, -1] == 255


def test_canny_edges_only_outside_the_face():
    landmarks = synthetic_face()
    frame = np.zeros((*SIZE, 3), np.uint8)
    frame[5:25, 5:25] = 255  # a bright square in the background (top-left)
    frame[70:80, 55:75] = 200  # another inside the face region (around the nose/mouth)
    with_canny = face_input_maps(landmarks, SIZE, frame=frame)[0]
    without = face_input_maps(landmarks, SIZE, frame=frame, canny=False)[0]
    background = face_part_labels(landmarks, SIZE) == 0
    extra = (with_canny > 0) & (without == 0)
    assert extra[:30, :30].sum() >= 40  # the square's outline is there
    assert not (extra & ~background).any()  # nothing added inside the face
    np.testing.assert_array_equal(without, face_input_maps(landmarks, SIZE)[0])  # no frame = no Canny
    with pytest.raises(ValueError, match="does not match size"):
        face_input_maps(landmarks, SIZE, frame=np.zeros((64, 64, 3), np.uint8))


def test_upper_face_and_part_labels():
    landmarks = synthetic_face()
    points = add_upper_face(landmarks)
    assert points.shape == (83, 2)
    np.testing.assert_array_equal(points[:68], landmarks)
    baseline = (int(landmarks[0, 1]) + int(landmarks[16, 1])) / 2
    # Point 68 mirrors jaw point 15 about the baseline, at 2/3 of its depth (floor division,
    # then truncation to int, as the original's int32 arithmetic).
    x15, y15 = np.trunc(landmarks[15])
    assert points[68, 0] == x15
    assert points[68, 1] == np.trunc(baseline + np.floor((baseline - y15) * 2 / 3))
    odd = landmarks.copy()
    odd[0, 1], odd[16, 1], odd[15, 1] = 10.0, 11.0, 20.0  # baseline 10.5: -9.5 * 2 // 3 = -7 → 3.5 → 3
    assert add_upper_face(odd)[68, 1] == 3
    assert (points[68:, 1] < baseline).all()
    labels = face_part_labels(landmarks, SIZE)
    assert labels[2, 2] == 0  # background
    assert labels[40, 64] == 1  # forehead (upper face)
    assert labels[52, 49] == 4  # inside the right eye
    assert labels[80, 64] == 6  # inside the inner mouth
    assert labels[85, 64] == 5  # between inner and outer lower lip


def test_crop_box_contains_the_landmarks_and_stays_in_frame():
    landmarks = synthetic_face(cx=200, cy=150, rx=20, ry=24)
    box = face_crop_box(landmarks, (300, 400))
    side = 2.5 * (landmarks[:, 0].max() - landmarks[:, 0].min())
    assert box.size[0] == box.size[1] and abs(box.size[0] - side) <= 2  # square, 2.5 × the width
    assert box.left <= landmarks[:, 0].min() and landmarks[:, 0].max() < box.right
    assert box.top <= landmarks[:, 1].min() and landmarks[:, 1].max() < box.bottom
    near_edge = synthetic_face(cx=25, cy=30, rx=20, ry=24)
    shifted = face_crop_box(near_edge, (300, 400))
    assert shifted.left == 0 and shifted.top == 0 and shifted.size == box.size
    image = np.arange(300 * 400, dtype=np.int64).reshape(300, 400)
    np.testing.assert_array_equal(box.crop_array(image), image[box.top : box.bottom, box.left : box.right])
    frame = np.full((64, 64, 3), 7, np.uint8)
    big = face_crop_box(synthetic_face(), (64, 64))  # larger than the frame: PIL pads frames with black
    cropped = big.crop_image(frame)
    assert cropped.shape == (*big.size, 3) and cropped.sum() == 64 * 64 * 3 * 7
    # Output size: width load_size, height by aspect, multiples of 4 then 32 (round half to even).
    assert face_output_size((100, 100), 64) == (64, 64)
    assert face_output_size((150, 100), 64) == (96, 64)  # 96 = round(96 / 32) * 32
    assert face_output_size((130, 100), 96) == (128, 96)  # 124.8 → 124 → 128
    with pytest.raises(ValueError, match="empty"):
        face_output_size((0, 10), 64)


def test_build_face_clip_crops_resizes_and_keeps_the_first_box():
    frames = [np.zeros((256, 256, 3), np.uint8) for _ in range(3)]
    lms = [synthetic_face(cx=120 + 2 * t, cy=128) for t in range(3)]
    clip = build_face_clip(lms, frames, load_size=64)
    assert clip.inputs.shape == (3, 15, 64, 64) and clip.inputs.dtype == np.uint8
    assert clip.labels.shape == (3, 64, 64) and set(np.unique(clip.labels)) <= set(range(7))
    assert clip.frames.shape == (3, 64, 64, 3)
    assert clip.box == face_crop_box(lms[0], (256, 256))
    # The face moves right by 2 px per frame inside the fixed box: so does its label region.
    cols = [np.nonzero((labels > 0).any(axis=0))[0].mean() for labels in clip.labels]
    assert cols[0] < cols[1] < cols[2]


def test_point_scaling_moves_the_curves_but_not_the_labels():
    landmarks = synthetic_face()
    plain = render_face_maps(landmarks, SIZE)
    scaled = render_face_maps(landmarks, SIZE, point_scaling=ORIGINAL_POINT_SCALING)
    np.testing.assert_array_equal(plain.labels, scaled.labels)
    assert (plain.inputs[0] != scaled.inputs[0]).sum() > 50
    points = scale_face_points(landmarks, ORIGINAL_POINT_SCALING)
    # The mouth (label 5, ratio (0.9, 0.9)) shrinks about its mean.
    mouth = add_upper_face(landmarks)[48:60]
    np.testing.assert_allclose(points[48:60], (mouth - mouth.mean(0)) * 0.9 + mouth.mean(0))
    # The eyes move together: sym ratio 0.9 in x about the mean of both eyes.
    both = add_upper_face(landmarks)[36:48]
    right = both[:6].mean(0)
    new_right = points[36:42].mean(0)
    assert new_right[0] == pytest.approx((right[0] - both.mean(0)[0]) * 0.9 + both.mean(0)[0], abs=1.0)
    rng = np.random.default_rng(0)
    random = random_point_scaling(rng)
    assert ((random.ratio >= 0.9) & (random.ratio <= 1.1)).all() and (np.abs(random.shift) <= 5).all()


@pytest.mark.parametrize("suffix", [".txt", ".json", ".npy"])
def test_landmark_files_round_trip(tmp_path, suffix):
    landmarks = synthetic_face() + 0.25
    path = write_face_landmarks(tmp_path / f"frame{suffix}", landmarks)
    np.testing.assert_allclose(read_face_landmarks(path), landmarks, atol=1e-4)


def test_reads_the_original_text_format_and_reports_errors(tmp_path):
    landmarks = np.round(synthetic_face())
    original = tmp_path / "00000.txt"
    original.write_text("\n".join(f"{int(x)},{int(y)}" for x, y in landmarks) + "\n")
    np.testing.assert_array_equal(read_face_landmarks(original), landmarks)
    (tmp_path / "obj.json").write_text(json.dumps({"landmarks": landmarks.tolist()}))
    np.testing.assert_array_equal(read_face_landmarks(tmp_path / "obj.json"), landmarks)

    short = tmp_path / "short.txt"
    short.write_text("\n".join(f"{x},{y}" for x, y in landmarks[:67]))
    with pytest.raises(ValueError, match=r"short\.txt.*68 facial landmarks.*\(67, 2\)"):
        read_face_landmarks(short)
    garbage = tmp_path / "bad.txt"
    garbage.write_text("a,b\n")
    with pytest.raises(ValueError, match="cannot read landmarks from .*bad.txt"):
        read_face_landmarks(garbage)
    (tmp_path / "nokey.json").write_text(json.dumps({"points": []}))
    with pytest.raises(ValueError, match="'landmarks' key"):
        read_face_landmarks(tmp_path / "nokey.json")
    (tmp_path / "x.csv").write_text("1,2")
    with pytest.raises(ValueError, match="unknown landmark file type '.csv'"):
        read_face_landmarks(tmp_path / "x.csv")
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        read_face_landmarks(tmp_path / "missing.txt")
    bad = landmarks.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        write_face_landmarks(tmp_path / "nan.npy", bad)


def test_interp_points_and_draw_edge_follow_the_original():
    # A parabola through 3 points, sampled at int(x1 - x0) = 30 positions from x = 5 to 35.
    xs, ys = interp_points([5.0, 20.0, 35.0], [30.0, 20.0, 30.0])
    assert len(xs) == 30 and xs[0] == 5 and xs[-1] == 35
    i = int(np.nonzero(xs == 12)[0][0])
    assert ys[i] == 22  # y = 20 + (x - 20)² · 10/225 at x ≈ 12.2 → 22.x, truncated
    # Steeper in y: fitted along y (axes swapped), samples along y.
    xs, ys = interp_points([10.0, 11.0], [0.0, 20.0])
    assert len(ys) == 20 and ys[0] == 0 and ys[-1] == 20
    # Too bent (|a| > 1): nothing drawn, as the original.
    assert interp_points([10.0, 11.0, 12.0], [10.0, 12.5, 10.5]) == (None, None)
    # Fractional span: the sample count is truncated (numpy < 1.18 linspace).
    xs, _ = interp_points([0.5, 3.9], [1.0, 1.0])
    assert len(xs) == 3
    # drawEdge: a 2 × 2 footprint (offsets -1, 0), clipped to the canvas.
    canvas = np.zeros((10, 10), np.uint8)
    draw_edge(canvas, np.array([0, 5]), np.array([5, 5]))
    assert canvas.sum() == 255 * 6 and canvas[4:6, 0].all() and canvas[4:6, 4:6].all()
    # Colour rule: a copy landing on any coloured pixel averages every pixel it covers.
    rgb = np.zeros((10, 10, 3), np.uint8)
    rgb[5, 5] = (100, 0, 0)
    draw_edge(rgb, np.array([5, 7]), np.array([5, 5]), bw=1, color=(200, 50, 0))
    assert tuple(rgb[5, 5]) == (150, 25, 0)  # (100 + 200) / 2, (0 + 50) / 2
    assert tuple(rgb[5, 7]) == (100, 25, 0)  # black pixel of the same copy: colour / 2
    assert tuple(rgb[4, 4]) == (200, 50, 0)  # a copy over black pixels only: the colour


def test_cli_build_inputs_face(tmp_path, capsys):
    from PIL import Image

    landmarks_dir, frames_dir, out = tmp_path / "lm", tmp_path / "frames", tmp_path / "out"
    frames_dir.mkdir()
    frames, lms = [], []
    for t in range(2):
        lms.append(synthetic_face(cx=64 + 2 * t))
        write_face_landmarks(landmarks_dir / f"frame{t}.txt", lms[-1])
        frame = np.zeros((*SIZE, 3), np.uint8)
        frame[5:25, 5:25] = 255
        frames.append(frame)
        Image.fromarray(frame).save(frames_dir / f"{t:03d}.png")
    args = [
        "build-inputs",
        "face",
        "--landmarks",
        str(landmarks_dir),
        "--out",
        str(out),
        "--frames",
        str(frames_dir),
    ]
    assert main([*args, "--load-size", "64", "--frames-out", str(tmp_path / "B")]) == 0
    assert "wrote 2" in capsys.readouterr().out
    first = np.load(out / "frame0.npy")
    assert first.shape == (15, 64, 64) and first.dtype == np.uint8
    clip = build_face_clip(
        [read_face_landmarks(landmarks_dir / f"frame{t}.txt") for t in range(2)], frames, load_size=64
    )
    np.testing.assert_array_equal(first, clip.inputs[0])
    decoded = read_input_maps(out)
    assert decoded.shape == (2, 15, 64, 64) and 0 <= decoded.min() and decoded.max() <= 1
    info = json.loads((out / "inputs.json").read_text())
    assert (
        info["kind"] == "face"
        and info["channels"] == 15
        and info["canny"] is True
        and info["decode"] == "unit"
    )
    assert len(list((tmp_path / "B").glob("*.png"))) == 2

    full = tmp_path / "full"
    args = ["build-inputs", "face", "--landmarks", str(landmarks_dir), "--out", str(full)]
    assert main([*args, "--size", "128x128", "--no-crop", "--no-dist-map"]) == 0
    assert np.load(full / "frame1.npy").shape == (1, 128, 128)
    assert main([*args, "--size", "100x128", "--frames", str(frames_dir)]) == 2
    assert "does not match the frames" in capsys.readouterr().err
    assert main(["build-inputs", "face", "--landmarks", str(landmarks_dir), "--out", str(out)]) == 2
    assert "--size WxH" in capsys.readouterr().err
