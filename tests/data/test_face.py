"""Edge-to-face inputs from hand-made 68-point landmarks, and ``vid2vid build-inputs face``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vid2vid.cli.main import main
from vid2vid.data.face import (
    FACE_INPUT_NC,
    FACE_PARTS,
    add_upper_face,
    draw_curve,
    edge_distance_maps,
    face_crop_box,
    face_edge_maps,
    face_input_maps,
    face_part_labels,
    read_face_landmarks,
    write_face_landmarks,
)

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
    landmarks = synthetic_face()
    edges = face_input_maps(landmarks, SIZE, add_dist_map=False)[0]
    for i in DRAWN:
        x, y = np.floor(landmarks[i]).astype(int)
        assert edges[y, x] == 1, f"landmark {i} at ({x}, {y}) not on the edge map"
    # The straight 2-point nose piece 28 → 31 is drawn all along (within the 2-px stroke).
    for t in np.linspace(0.0, 1.0, 25):
        x, y = np.floor(landmarks[28] + t * (landmarks[31] - landmarks[28])).astype(int)
        assert edges[y - 1 : y + 2, x - 1 : x + 2].sum() >= 3, (t, x, y)
    # Nothing far from the face; the drawing is thin (a few % of the canvas).
    assert edges[:10].sum() == 0 and edges[:, :20].sum() == 0 and edges[118:].sum() == 0
    assert edges.mean() < 0.08


def test_one_distance_map_per_edge_zero_on_it_and_growing_away():
    landmarks = synthetic_face()
    edge_maps = face_edge_maps(landmarks, SIZE)
    maps = face_input_maps(landmarks, SIZE)
    assert len(edge_maps) == FACE_INPUT_NC - 1 == 14
    np.testing.assert_array_equal(edge_maps.max(axis=0), maps[0])
    for e in range(14):
        dist = maps[1 + e]
        assert (dist[edge_maps[e] > 0] == 0).all()
        assert (dist[edge_maps[e] == 0] >= 0).all() and dist.max() > 0
    # Right eyebrow (part 1, edge index 1): pixels straight above its middle point, moving up.
    brow = maps[1 + 1]
    x, y = np.floor(landmarks[19]).astype(int)
    column = brow[y::-1, x][:12]  # from the landmark upwards
    assert column[0] == 0 and np.all(np.diff(column) >= 0) and column[-1] > 0
    far = maps[1:, 0, 0]  # the corner is far from every edge
    assert (far > 0.05).all()


def test_distance_map_values_follow_the_original_normalisation():
    edges = np.zeros((2, 20, 1000), np.uint8)
    edges[0, :, 10] = 1  # a vertical line; map 1 stays empty
    dist = edge_distance_maps(edges)
    k = np.arange(990)
    np.testing.assert_allclose(dist[0, 7, 10:], np.minimum(np.floor(k / 3.0), 255) / 255.0, atol=1e-7)
    np.testing.assert_allclose(dist[0, 7, 10::-1], np.floor(np.arange(11) / 3.0) / 255.0, atol=1e-7)
    assert dist[0, 7, -1] == 1.0  # clipped at 255 / 255
    assert (dist[1] == 1.0).all()  # no edge: as far as can be


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
    # Point 68 mirrors jaw point 15 about the baseline, at 2/3 of its depth.
    x15, y15 = np.trunc(landmarks[15])
    assert points[68, 0] == x15
    assert points[68, 1] == np.trunc(baseline + np.floor((baseline - y15) * 2 / 3))
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
    side = int(2.5 * (landmarks[:, 0].max() - landmarks[:, 0].min()))
    assert box.size[0] == box.size[1] and abs(box.size[0] - side) <= 1  # square, 2.5 × the width
    assert box.left <= landmarks[:, 0].min() and landmarks[:, 0].max() < box.right
    assert box.top <= landmarks[:, 1].min() and landmarks[:, 1].max() < box.bottom
    near_edge = synthetic_face(cx=25, cy=30, rx=20, ry=24)
    shifted = face_crop_box(near_edge, (300, 400))
    assert shifted.left == 0 and shifted.top == 0 and shifted.size == box.size
    image = np.arange(300 * 400, dtype=np.int64).reshape(300, 400)
    np.testing.assert_array_equal(box.apply(image), image[box.top : box.bottom, box.left : box.right])
    big = face_crop_box(synthetic_face(), (64, 64))  # box larger than the frame: zero padding
    cropped = big.apply(np.ones((64, 64, 3), np.uint8))
    assert cropped.shape == (*big.size, 3) and cropped.sum() == 64 * 64 * 3
    maps = face_input_maps(landmarks, (300, 400))
    assert box.apply_chw(maps).shape == (15, *box.size)


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


def test_draw_curve_through_three_points_and_fallbacks():
    canvas = np.zeros((40, 40), np.uint8)
    draw_curve(canvas, np.array([5.0, 20.0, 35.0]), np.array([30.0, 20.0, 30.0]))
    for x, y in ((5, 30), (20, 20), (35, 30)):
        assert canvas[y, x] == 1
    assert canvas[:, 5:36].any(axis=0).all()  # connected: every column between the ends
    # The parabola y = 20 + (x - 20)² · 10/225, not the straight segments: at x = 12, y = 22.8.
    assert canvas[22, 12] == 1 and canvas[25, 12] == 0
    # |a| > 1 (the original drops the piece) and points turning back along the fitted axis (the
    # original draws part of the curve): the straight polyline through the points is drawn.
    for xs, ys in (([10.0, 11.0, 12.0], [10.0, 12.5, 10.5]), ([5.0, 20.0, 35.0], [30.0, 10.0, 30.0])):
        line = np.zeros((40, 40), np.uint8)
        draw_curve(line, np.array(xs), np.array(ys))
        for x, y in zip(xs, ys, strict=True):
            assert line[int(y), int(x)] == 1
        mid_x, mid_y = (xs[0] + xs[1]) / 2, (ys[0] + ys[1]) / 2
        assert line[int(mid_y) - 1 : int(mid_y) + 2, int(mid_x) - 1 : int(mid_x) + 2].any()


def test_cli_build_inputs_face(tmp_path, capsys):
    from PIL import Image

    landmarks_dir, frames_dir, out = tmp_path / "lm", tmp_path / "frames", tmp_path / "out"
    frames_dir.mkdir()
    for t in range(2):
        write_face_landmarks(landmarks_dir / f"frame{t}.txt", synthetic_face(cx=64 + 2 * t))
        frame = np.zeros((*SIZE, 3), np.uint8)
        frame[5:25, 5:25] = 255
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
    assert main(args) == 0
    assert "wrote 2" in capsys.readouterr().out
    first = np.load(out / "frame0.npy")
    assert first.shape == (15, 128, 128) and first.dtype == np.float16
    expected = face_input_maps(synthetic_face(), SIZE, frame=frame)
    np.testing.assert_allclose(first.astype(np.float32), expected, atol=1e-3)
    info = json.loads((out / "inputs.json").read_text())
    assert info["kind"] == "face" and info["channels"] == 15 and info["canny"] is True

    cropped = tmp_path / "cropped"
    args = ["build-inputs", "face", "--landmarks", str(landmarks_dir), "--out", str(cropped)]
    assert main([*args, "--size", "128x128", "--crop", "--resize", "64x64", "--no-dist-map"]) == 0
    assert np.load(cropped / "frame1.npy").shape == (1, 64, 64)
    assert main([*args, "--size", "100x128", "--frames", str(frames_dir)]) == 2
    assert "does not match the frames" in capsys.readouterr().err
    assert main(["build-inputs", "face", "--landmarks", str(landmarks_dir), "--out", str(out)]) == 2
    assert "--size WxH" in capsys.readouterr().err
