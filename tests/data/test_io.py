"""Video / frame-folder I/O and the flow cache: round trips, codec accuracy, errors, atomic writes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from vid2vid.data.flow_cache import (
    FLOW_CONVENTION,
    flow_cache_path,
    load_flow_cache,
    read_flow_cache_shape,
    save_flow_cache,
)
from vid2vid.data.io import (
    is_video_file,
    list_frame_files,
    natural_sort_key,
    read_frames,
    read_label_frames,
    video_info,
    write_frames,
    write_label_frames,
    write_video,
)


def smooth_pattern(n_frames: int = 6, height: int = 96, width: int = 128) -> np.ndarray:
    """A smooth moving colour pattern (periods >= 100 px), the kind of content H.264 keeps accurately."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    frames = [
        np.stack(
            [
                128 + 90 * np.sin(x / 36 + 0.3 * t),
                128 + 90 * np.cos(y / 28 - 0.2 * t),
                128 + 60 * np.sin((x + y) / 52),
            ],
            axis=-1,
        )
        for t in range(n_frames)
    ]
    return np.round(np.stack(frames)).astype(np.uint8)


def test_natural_sort_and_listing(tmp_path):
    for name in ["frame10.png", "frame2.png", "frame1.png", "notes.txt", ".hidden.png", "Frame3.JPG"]:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub.png").mkdir()
    names = [p.name for p in list_frame_files(tmp_path)]
    assert names == ["frame1.png", "frame2.png", "Frame3.JPG", "frame10.png"]
    assert natural_sort_key("a2") < natural_sort_key("a10")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list_frame_files(tmp_path / "missing")


def test_is_video_file(tmp_path):
    assert is_video_file("clip.MP4") and is_video_file("a/b.gif") and is_video_file("x.webm")
    assert not is_video_file("frame.png") and not is_video_file("folder")
    (tmp_path / "dir.mp4").mkdir()
    assert not is_video_file(tmp_path / "dir.mp4")


def test_folder_round_trip_is_exact_and_indexable(tmp_path):
    frames = smooth_pattern(5, 32, 48)
    out = write_video(frames, tmp_path / "clip")
    assert sorted(p.name for p in out.iterdir()) == [f"{i:05d}.png" for i in range(5)]
    np.testing.assert_array_equal(read_frames(out), frames)
    np.testing.assert_array_equal(read_frames(out, [3, 1]), frames[[3, 1]])
    assert video_info(out) == (5, 48, 32)
    with pytest.raises(IndexError, match="out of range"):
        read_frames(out, [5])
    # Rewriting the folder replaces it (a longer clip's leftovers must not survive).
    write_frames(frames[:2], out)
    assert len(list_frame_files(out)) == 2


def test_write_frames_refuses_to_replace_foreign_folder(tmp_path):
    folder = tmp_path / "clip"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="other than images"):
        write_frames(smooth_pattern(2, 16, 16), folder)
    assert (folder / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip"]  # no temporary folder left


# Measured on this pattern: libx264 CRF 17 + yuv420p gives a mean abs error of 1.47/255 (max 8):
# the colour conversion alone (limited-range YUV, chroma subsampling) accounts for ~1/255. We allow
# 2.5/255, well below the 3/255 a visible artefact would need and far below the ~40/255 mean
# difference between two different frames of the pattern.
MP4_MEAN_ABS_BOUND = 2.5


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_video_matches_frame_folder_within_codec_tolerance(tmp_path, suffix):
    frames = smooth_pattern()
    folder = write_video(frames, tmp_path / "frames")
    video = write_video(frames, tmp_path / f"clip{suffix}", fps=10)
    from_video = torch.from_numpy(read_frames(video)).float()
    from_folder = torch.from_numpy(read_frames(folder)).float()
    assert from_video.shape == from_folder.shape == (6, 96, 128, 3)
    diff = (from_video - from_folder).abs()
    assert diff.mean() < MP4_MEAN_ABS_BOUND
    assert diff.max() < 20
    # Frames come back in order: each decoded frame is closest to its own source frame.
    per_pair = (from_video[:, None] - from_folder[None]).abs().mean(dim=(2, 3, 4))
    assert torch.equal(per_pair.argmin(dim=1), torch.arange(6))
    assert video_info(video) == (6, 128, 96)
    np.testing.assert_array_equal(read_frames(video, [4, 0]), read_frames(video)[[4, 0]])


def test_odd_sizes_are_padded_to_even(tmp_path):
    frames = smooth_pattern(3, 33, 47)
    video = write_video(frames, tmp_path / "odd.mp4")
    back = read_frames(video).astype(np.float64)
    assert back.shape == (3, 34, 48, 3)
    assert np.abs(back[:, :33, :47] - frames).mean() < MP4_MEAN_ABS_BOUND
    # The padding repeats the last row and column.
    assert np.abs(back[:, 33, :47] - frames[:, 32]).mean() < 4
    assert np.abs(back[:, :33, 47] - frames[:, :, 46]).mean() < 4


def test_gif_preview(tmp_path):
    frames = smooth_pattern(4, 40, 60)
    gif = write_video(frames, tmp_path / "preview.gif", fps=5)
    back = read_frames(gif)
    assert back.shape == frames.shape
    # A 256-colour palette is lossy; measured 2.9/255 mean on this pattern.
    assert np.abs(back.astype(np.float64) - frames).mean() < 5
    with Image.open(gif) as image:
        assert image.n_frames == 4
        assert image.info["duration"] == 200


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (np.zeros((0, 8, 8, 3), np.uint8), "empty"),
        (np.zeros((2, 8, 8, 3), np.float32), "uint8"),
        (np.zeros((2, 8, 8), np.uint8), r"\(T, H, W, 3\)"),
        (np.zeros((2, 8, 8, 4), np.uint8), r"\(T, H, W, 3\)"),
        (torch.zeros(2, 8, 8, 3, dtype=torch.uint8), "torch tensor"),
    ],
)
def test_write_video_rejects_bad_input(tmp_path, frames, message):
    with pytest.raises(ValueError, match=message):
        write_video(frames, tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []


def test_write_video_errors_leave_no_temporary_files(tmp_path):
    frames = smooth_pattern(2, 16, 16)
    with pytest.raises(ValueError, match="not available"):
        write_video(frames, tmp_path / "out.mp4", codec="no_such_codec")
    with pytest.raises(ValueError, match="unknown suffix"):
        write_video(frames, tmp_path / "out.xyz")
    with pytest.raises(ValueError, match="fps"):
        write_video(frames, tmp_path / "out.mp4", fps=0)
    assert list(tmp_path.iterdir()) == []
    write_video(frames, tmp_path / "ok.mp4")
    write_video(frames, tmp_path / "ok.gif")
    write_video(frames, tmp_path / "ok")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok", "ok.gif", "ok.mp4"]


def test_unreadable_video_names_the_file(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video" * 50)
    with pytest.raises(ValueError, match="broken.mp4"):
        read_frames(bad)
    with pytest.raises(ValueError, match="broken.mp4"):
        video_info(bad)
    with pytest.raises(FileNotFoundError, match="missing.mp4"):
        read_frames(tmp_path / "missing.mp4")
    (tmp_path / "data.txt").write_text("x")
    with pytest.raises(ValueError, match="neither a folder"):
        read_frames(tmp_path / "data.txt")


def test_frame_folder_errors(tmp_path):
    folder = tmp_path / "clip"
    folder.mkdir()
    with pytest.raises(ValueError, match="holds no images"):
        read_frames(folder)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / "0.png")
    Image.fromarray(np.zeros((8, 9, 3), np.uint8)).save(folder / "1.png")
    with pytest.raises(ValueError, match=r"1\.png has size 9x8"):
        read_frames(folder)
    (folder / "1.png").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"cannot read image .*1\.png"):
        read_frames(folder)


def test_label_frames_8_and_16_bit(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 35, (3, 12, 20))
    write_label_frames(labels, tmp_path / "labels")
    with Image.open(tmp_path / "labels" / "00000.png") as image:
        assert image.mode == "L"
    back = read_label_frames(tmp_path / "labels")
    assert back.dtype == np.int64
    np.testing.assert_array_equal(back, labels)

    instances = rng.integers(0, 30000, (3, 12, 20))
    write_label_frames(instances, tmp_path / "inst")
    with Image.open(tmp_path / "inst" / "00000.png") as image:
        assert image.mode.startswith("I")
    np.testing.assert_array_equal(read_label_frames(tmp_path / "inst"), instances)
    write_label_frames(labels, tmp_path / "inst16", bit_depth=16)
    np.testing.assert_array_equal(read_label_frames(tmp_path / "inst16", [2]), labels[[2]])
    with pytest.raises(ValueError, match="do not fit an 8-bit PNG"):
        write_label_frames(instances, tmp_path / "x", bit_depth=8)


def test_label_frames_rgb_rules(tmp_path):
    grey_rgb = tmp_path / "grey"
    grey_rgb.mkdir()
    ids = np.arange(24, dtype=np.uint8).reshape(4, 6)
    Image.fromarray(np.repeat(ids[..., None], 3, axis=-1)).save(grey_rgb / "0.png")
    np.testing.assert_array_equal(read_label_frames(grey_rgb)[0], ids)

    colour = tmp_path / "colour"
    colour.mkdir()
    image = np.zeros((4, 6, 3), np.uint8)
    image[..., 0] = 7
    Image.fromarray(image).save(colour / "0.png")
    with pytest.raises(ValueError, match=r"0\.png is a colour RGB image"):
        read_label_frames(colour)


def test_label_frames_from_video_refused(tmp_path):
    video = write_video(smooth_pattern(2, 16, 16), tmp_path / "labels.mp4")
    with pytest.raises(ValueError, match="lossy video compression"):
        read_label_frames(video)
    with pytest.raises(FileNotFoundError):
        read_label_frames(tmp_path / "nothing")


def test_flow_cache_round_trip(tmp_path):
    path = flow_cache_path(tmp_path, "train", "clip_a")
    assert path == tmp_path / "train_flow" / "clip_a.safetensors"
    rng = np.random.default_rng(1)
    flow = (rng.standard_normal((4, 2, 6, 10)) * 20).astype(np.float32)
    flow[0] = 0
    confidence = rng.random((4, 1, 6, 10)) > 0.3
    save_flow_cache(path, flow, confidence, estimator="dis", extra_metadata={"note": "x"})
    assert sorted(p.name for p in path.parent.iterdir()) == ["clip_a.safetensors"]
    loaded, conf, meta = load_flow_cache(path)
    assert loaded.dtype == torch.float32 and conf.dtype == torch.float32
    assert loaded.shape == (4, 2, 6, 10) and conf.shape == (4, 1, 6, 10)
    # float16 storage: relative error <= 2^-11.
    assert torch.allclose(loaded, torch.from_numpy(flow), rtol=2**-10, atol=1e-3)
    assert torch.equal(conf, torch.from_numpy(confidence).float())
    assert meta == {"estimator": "dis", "convention": FLOW_CONVENTION, "note": "x"}
    part, part_conf, _ = load_flow_cache(path, 1, 3)
    assert torch.equal(part, loaded[1:3]) and torch.equal(part_conf, conf[1:3])
    assert read_flow_cache_shape(path)[0] == (4, 2, 6, 10)
    # Tensors work too, float confidence is thresholded.
    save_flow_cache(path, torch.from_numpy(flow), torch.full((4, 1, 6, 10), 0.7), estimator="raft")
    assert load_flow_cache(path)[1].min() == 1.0


def test_flow_cache_errors(tmp_path):
    path = tmp_path / "c.safetensors"
    with pytest.raises(FileNotFoundError, match="prepare-flow"):
        load_flow_cache(path)
    with pytest.raises(ValueError, match=r"flow must be \(T, 2, H, W\)"):
        save_flow_cache(path, np.zeros((3, 3, 4, 4), np.float32), np.zeros((3, 1, 4, 4)), "x")
    with pytest.raises(ValueError, match=r"confidence must be \(T, 1, H, W\)"):
        save_flow_cache(path, np.zeros((3, 2, 4, 4), np.float32), np.zeros((2, 1, 4, 4)), "x")
    with pytest.raises(ValueError, match="NaN"):
        save_flow_cache(path, np.full((1, 2, 4, 4), np.nan, np.float32), np.zeros((1, 1, 4, 4)), "x")
    assert list(tmp_path.iterdir()) == []
    from safetensors.torch import save_file

    save_file({"flow": torch.zeros(2, 2, 4, 4)}, str(path))
    with pytest.raises(ValueError, match="'flow' and 'confidence'"):
        load_flow_cache(path)
    save_file({"flow": torch.zeros(2, 2, 4, 4), "confidence": torch.zeros(2, 1, 4, 5)}, str(path))
    with pytest.raises(ValueError, match="confidence must be"):
        load_flow_cache(path)
    path.write_bytes(b"not safetensors")
    with pytest.raises(ValueError, match="cannot read flow cache"):
        load_flow_cache(path)
