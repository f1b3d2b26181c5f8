"""``vid2vid bundle``: a labels-only model folder; ``vid2vid synthesize`` on image-model folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vid2vid import Pix2PixHDPipeline, Vid2VidPipeline
from vid2vid.cli.main import main
from vid2vid.image_model_folder import save_image_model
from vid2vid.model_folder import load_model_folder, save_model_folder
from vid2vid.nn import ImageGenerator, SequentialGenerator

LABEL_NC, H, W = 5, 16, 32
CLUSTERS = {"class_2": torch.tensor([[1.0, -1.0], [3.0, 0.5]])}


def make_models(
    tmp_path: Path, *, image_label_nc: int = LABEL_NC, image_instance: bool = True
) -> tuple[Path, Path]:
    torch.manual_seed(0)
    video = SequentialGenerator(label_nc=LABEL_NC, use_instance=True, ngf=4, n_downsample=1, n_blocks=1)
    save_model_folder(tmp_path / "video", video, first_frame="real", metadata={"license": "MIT"})
    frame_nc = image_label_nc + int(image_instance)
    image = ImageGenerator(input_nc=frame_nc + 2, ngf=4, n_downsample=2, n_blocks=1)
    save_image_model(
        tmp_path / "image",
        image,
        label_nc=image_label_nc,
        use_instance=image_instance,
        feature_clusters=CLUSTERS,
        metadata={"license": "CC BY-NC-SA 4.0 (converted)"},
    )
    return tmp_path / "video", tmp_path / "image"


def clip(t: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    labels = torch.randint(0, LABEL_NC, (t, H, W), generator=torch.Generator().manual_seed(0))
    labels[:, :8, :8] = 2
    instances = labels.clone()
    instances[:, :8, :8] = 2001
    return labels, instances


def test_bundle_makes_a_labels_only_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video, image = make_models(tmp_path)
    labels, instances = clip(4)
    plain = Vid2VidPipeline.from_pretrained(video)
    with pytest.raises(ValueError, match=r"vid2vid bundle --video-model .* --first-frame-model"):
        plain(labels, instances, progress=False)  # no first frames: the error names the command
    out = tmp_path / "bundled"
    assert (
        main(["bundle", "--video-model", str(video), "--first-frame-model", str(image), "--out", str(out)])
        == 0
    )
    assert "wrote" in capsys.readouterr().out
    folder = load_model_folder(out)
    assert folder.first_frame == "image_generator" and set(folder.feature_clusters) == {"class_2"}
    assert folder.metadata["license"].startswith("CC BY-NC-SA 4.0")  # the restrictive licence leads
    assert folder.metadata["first_frame_model"]["source"] == str(image)
    assert "license: cc-by-nc-sa-4.0" in (out / "README.md").read_text()
    pipe = Vid2VidPipeline.from_pretrained(out)
    frames = pipe(labels, instances, seed=3, progress=False).frames  # labels alone
    assert frames.shape == (4, 3, H, W)
    # the first n_frames_G - 1 = 2 frames are the image model's, with the same seeded features
    per_frame = Pix2PixHDPipeline.from_pretrained(image)(labels[:2], instances[:2], seed=3, progress=False)
    torch.testing.assert_close(frames[:2], per_frame.frames)
    # and the video generator continues from them, as with those frames given as real ones
    given = plain(labels, instances, first_frames=per_frame.frames, progress=False).frames
    torch.testing.assert_close(frames, given, atol=1e-4, rtol=0)  # (the [0, 1] round trip rounds)


def test_bundle_refuses_mismatched_or_wrong_models(tmp_path: Path) -> None:
    video, image = make_models(tmp_path / "a", image_label_nc=LABEL_NC + 1)
    with pytest.raises(ValueError, match="label classes: video 5, image 6"):
        main_raise(
            [
                "bundle",
                "--video-model",
                str(video),
                "--first-frame-model",
                str(image),
                "--out",
                str(tmp_path / "o"),
            ]
        )
    video, image = make_models(tmp_path / "b", image_instance=False)
    with pytest.raises(ValueError, match="instance maps: video True, image False"):
        main_raise(
            [
                "bundle",
                "--video-model",
                str(video),
                "--first-frame-model",
                str(image),
                "--out",
                str(tmp_path / "o"),
            ]
        )
    with pytest.raises(ValueError, match="--first-frame-model .* model_type 'vid2vid_generator'"):
        main_raise(
            [
                "bundle",
                "--video-model",
                str(video),
                "--first-frame-model",
                str(video),
                "--out",
                str(tmp_path / "o"),
            ]
        )
    video, image = make_models(tmp_path / "c")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("keep")
    with pytest.raises(ValueError, match="not an empty folder"):
        main_raise(
            [
                "bundle",
                "--video-model",
                str(video),
                "--first-frame-model",
                str(image),
                "--out",
                str(tmp_path / "full"),
            ]
        )


def main_raise(argv: list[str]) -> None:
    """Run the command's function directly (the CLI would print the error and return 2)."""
    from vid2vid.cli.main import build_parser

    args = build_parser().parse_args(argv)
    args.func(args)


def test_bundle_cli_prints_errors_not_tracebacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video, _ = make_models(tmp_path)
    code = main(
        ["bundle", "--video-model", str(video), "--first-frame-model", str(tmp_path / "nope"), "--out", "x"]
    )
    assert code == 2 and "vid2vid bundle: error:" in capsys.readouterr().err


def test_synthesize_runs_image_models_frame_by_frame(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, image = make_models(tmp_path)
    labels, instances = clip(3)
    for name, maps in (("labels", labels), ("inst", instances)):
        (tmp_path / name).mkdir()
        for t, m in enumerate(maps):
            Image.fromarray(m.numpy().astype(np.uint16)).save(tmp_path / name / f"{t:03d}.png")
    args = [
        "synthesize",
        "--model",
        str(image),
        "--instances",
        str(tmp_path / "inst"),
        "--device",
        "cpu",
        "--quiet",
    ]
    assert main([*args, "--labels", str(tmp_path / "labels"), "--out", str(tmp_path / "out")]) == 0
    assert "wrote 3 frames" in capsys.readouterr().out
    written = sorted((tmp_path / "out").glob("*.png"))
    expected = Pix2PixHDPipeline.from_pretrained(image)(labels, instances, seed=0, progress=False).frames
    assert len(written) == 3
    got = np.asarray(Image.open(written[1]))
    assert np.abs(got.astype(int) - np.round(expected[1].permute(1, 2, 0).numpy() * 255)).max() <= 1
    # one label PNG → one image
    one = [
        "synthesize",
        "--model",
        str(image),
        "--labels",
        str(tmp_path / "labels" / "001.png"),
        "--instances",
        str(tmp_path / "inst" / "001.png"),
        "--out",
        str(tmp_path / "one.png"),
        "--quiet",
    ]
    assert main(one) == 0 and np.array_equal(np.asarray(Image.open(tmp_path / "one.png")), got)
    code = main([*args, "--labels", str(tmp_path / "labels"), "--out", "x.mp4", "--first-frames", "y"])
    assert code == 2 and "--first-frames applies to video models" in capsys.readouterr().err
