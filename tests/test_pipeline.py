"""Vid2VidPipeline: inputs, first-frame policies, outputs, streaming memory, save/load, video writing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vid2vid.nn import ImageGenerator, SequentialGenerator
from vid2vid.pipeline import Vid2VidPipeline, Vid2VidPipelineOutput, frames_to_uint8
from vid2vid.profiling import LiveTensorBytes

LABEL_NC, H, W = 6, 32, 64
FEAT_NC = 2


def tiny_generator(**overrides: object) -> SequentialGenerator:
    kwargs: dict = dict(label_nc=LABEL_NC, use_instance=True, ngf=8, n_downsample=2, n_blocks=2, n_frames_G=3)
    kwargs.update(overrides)
    return SequentialGenerator(**kwargs).eval()


def tiny_pipeline(first_frame: str = "zeros", **overrides: object) -> Vid2VidPipeline:
    torch.manual_seed(0)
    gen = tiny_generator(no_first_frame=first_frame == "zeros", **overrides)
    image_gen, clusters = None, None
    if first_frame == "image_generator":
        image_gen = ImageGenerator(
            input_nc=gen.config.frame_nc + FEAT_NC, ngf=4, n_downsample=2, n_blocks=1
        ).eval()
        clusters = {"class_2": torch.randn(4, FEAT_NC) * 3, "class_3": torch.randn(3, FEAT_NC) * 3}
    return Vid2VidPipeline(
        gen,
        first_frame=first_frame,
        image_generator=image_gen,
        feature_clusters=clusters,
        labels={
            "names": [f"c{i}" for i in range(LABEL_NC)],
            "colors": [[i * 40, 0, 0] for i in range(LABEL_NC)],
        },
        metadata={"license": "MIT"},
    )


def clip(t: int = 5, batch: int | None = None, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    shape = (t, H, W) if batch is None else (batch, t, H, W)
    labels = torch.randint(0, LABEL_NC, shape, generator=g)
    # Instances: class 2 and 3 things (ids 2000+k, 3000+k) in blocks, stuff elsewhere.
    instances = labels.clone()
    instances[..., :16, :32] = 2000
    instances[..., 16:, 32:] = 3001
    labels[..., :16, :32] = 2
    labels[..., 16:, 32:] = 3
    return labels, instances


# ------------------------------------------------------------------------------------- outputs


def test_zeros_policy_is_the_originals_test_loop_without_padding() -> None:
    """As test.py with no_first_img: window i covers labels i..i+2, history starts at zero, no padding."""
    pipe = tiny_pipeline("zeros")
    labels, instances = clip(5)
    out = pipe(labels, instances, progress=False, return_flows=True)
    assert isinstance(out, Vid2VidPipelineOutput)
    assert out.first_index == 2
    assert out.frames.shape == (3, 3, H, W) and out.frames.dtype == torch.float32
    assert 0.0 <= float(out.frames.min()) and float(out.frames.max()) <= 1.0
    assert out.flows.shape == (3, 2, H, W) and out.weights.shape == (3, 1, H, W)
    # Independent replay: hand-written window loop over the raw generator modules.
    gen = pipe.generator
    with torch.inference_mode():
        enc = gen.encode_inputs(labels[None], instances[None])
        history = torch.zeros(1, 2, 3, H, W)
        for i in range(3):
            o = gen(enc[:, i : i + 3], [history], use_raw_only=i == 0)
            torch.testing.assert_close(out.frames[i], ((o.image[0] + 1) / 2).clamp(0, 1), atol=0, rtol=0)
            history = torch.cat([history[:, 1:], o.image[:, None]], dim=1)
    with pytest.raises(ValueError, match="needs at least n_frames_G = 3"):
        pipe(labels[:2], instances[:2], progress=False)
    with pytest.raises(ValueError, match="needs at least n_frames_G = 3"):
        list(pipe.stream(iter(labels[:2]), iter(instances[:2])))


def test_output_types_agree() -> None:
    pipe = tiny_pipeline("zeros")
    labels, instances = clip(4)
    pt = pipe(labels, instances, progress=False).frames
    arr = pipe(labels, instances, progress=False, output_type="np")
    assert arr.first_index == 2
    arr = arr.frames
    pil = pipe(labels, instances, progress=False, output_type="pil").frames
    assert arr.shape == (2, H, W, 3) and arr.dtype == np.float32
    np.testing.assert_allclose(arr, pt.permute(0, 2, 3, 1).numpy(), atol=1e-6)
    assert len(pil) == 2 and pil[0].size == (W, H) and pil[0].mode == "RGB"
    np.testing.assert_array_equal(np.stack([np.asarray(p) for p in pil]), frames_to_uint8(pt))
    with pytest.raises(ValueError, match="output_type"):
        pipe(labels, instances, progress=False, output_type="jpg")


def test_batch_of_clips_matches_single_clips() -> None:
    pipe = tiny_pipeline("zeros")
    labels, instances = clip(5, batch=2)
    out = pipe(labels, instances, progress=False)
    assert out.frames.shape == (2, 3, 3, H, W)
    # A batch and a single clip take different kernels; a random network amplifies their float32
    # rounding (the zero history is normalised as constant planes, ~1/sqrt(eps) per layer, and the
    # recurrence compounds it), so compare every frame in float64, where that rounding is ~1e-13.
    pipe64 = tiny_pipeline("zeros").to(dtype=torch.float64)
    out64 = pipe64(labels, instances, progress=False).frames
    assert out64.dtype == torch.float64
    for b in range(2):
        single = pipe64(labels[b], instances[b], progress=False).frames
        torch.testing.assert_close(out64[b], single, atol=1e-9, rtol=0)
    as_list = pipe([labels[0], labels[1]], [instances[0], instances[1]], progress=False).frames
    assert torch.equal(as_list, out.frames)


def test_real_first_frames_are_output_as_given() -> None:
    pipe = tiny_pipeline("real")
    labels, instances = clip(5)
    real = torch.rand(4, 3, H, W)
    out = pipe(labels, instances, first_frames=real, progress=False, return_flows=True)
    assert out.frames.shape == (5, 3, H, W)
    assert torch.equal(out.frames[:2], real[:2])  # only n_frames_G - 1 = 2 are used
    assert torch.equal(out.flows[:2], torch.zeros(2, 2, H, W))
    assert not torch.equal(out.frames[2], out.frames[1])
    uint8 = (real * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    out8 = pipe(labels, instances, first_frames=uint8, progress=False)
    torch.testing.assert_close(out8.frames[:2], torch.from_numpy(uint8[:2]).permute(0, 3, 1, 2) / 255.0)
    with pytest.raises(ValueError, match="starts from real frames"):
        pipe(labels, instances, progress=False)
    with pytest.raises(ValueError, match="n_frames_G - 1 = 2"):
        pipe(labels, instances, first_frames=real[:1], progress=False)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        pipe(labels, instances, first_frames=real * 2 - 1, progress=False)
    # Frames in the library's internal range are taken as they are.
    internal = pipe(labels, instances, first_frames=real * 2 - 1, first_frames_range=(-1, 1), progress=False)
    torch.testing.assert_close(internal.frames[:2], real[:2], atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match=r"first_frames_range must be \(0, 1\) or \(-1, 1\)"):
        pipe(labels, instances, first_frames=real, first_frames_range=(0, 255), progress=False)
    with pytest.raises(ValueError, match="input_range applies to continuous inputs"):
        Vid2VidPipeline(pipe.generator, "real", input_range=(0, 1))
    zeros = pipe(labels, instances, progress=False, first_frame="zeros")
    assert zeros.frames.shape == (3, 3, H, W) and zeros.first_index == 2


def test_image_generator_first_frames_and_seeded_features() -> None:
    pipe = tiny_pipeline("image_generator")
    labels, instances = clip(4)
    a = pipe(labels, instances, seed=1, progress=False).frames
    b = pipe(labels, instances, seed=1, progress=False).frames
    assert torch.equal(a, b)
    seeds = [pipe(labels, instances, seed=s, progress=False).frames for s in range(2, 8)]
    assert any(not torch.equal(a[0], other[0]) for other in seeds)
    # The first n_frames_G - 1 frames are the image generator's, with the seed's features.
    ig = pipe.image_generator
    with torch.inference_mode():
        enc = pipe.generator.encode_inputs(labels[None, :1], instances[None, :1])[:, 0]
        direct = ig(enc, torch.zeros(1, FEAT_NC, H, W))
    no_feat = ((direct[0] + 1) / 2).clamp(0, 1)
    assert not torch.equal(a[0], no_feat)  # features are not all zero


def test_instance_features_constant_per_instance() -> None:
    from vid2vid.pipeline import _FeatureSampler

    pipe = tiny_pipeline("image_generator")
    _, instances = clip(1)
    sampler = _FeatureSampler(pipe, seed=0)
    feats = sampler.sample(instances[:1], torch.zeros(1, 1, H, W))
    assert feats.shape == (1, FEAT_NC, H, W)
    block = feats[0, :, :16, :32]
    assert torch.equal(block, block[:, :1, :1].expand_as(block))
    centres = pipe.feature_clusters["class_2"]
    assert any(torch.allclose(block[:, 0, 0], c) for c in centres)
    assert torch.equal(feats[0, :, 0, 40], torch.zeros(FEAT_NC)) or int(instances[0, 0, 40]) in (2, 3)


# -------------------------------------------------------------------------------------- inputs


def test_numpy_pil_paths_and_folder_inputs_agree(tmp_path: Path) -> None:
    pipe = tiny_pipeline("zeros")
    labels, instances = clip(3)
    ref = pipe(labels, instances, progress=False).frames
    lab_np, inst_np = labels.numpy().astype(np.uint8), instances.numpy().astype(np.int32)
    assert torch.equal(pipe(lab_np, inst_np, progress=False).frames, ref)
    lab_dir, inst_dir = tmp_path / "labels", tmp_path / "inst"
    lab_dir.mkdir()
    inst_dir.mkdir()
    for t in range(3):
        Image.fromarray(lab_np[t]).save(lab_dir / f"{t:03d}.png")
        Image.fromarray(inst_np[t].astype(np.uint16)).save(inst_dir / f"{t:03d}.png")
    assert torch.equal(pipe(lab_dir, inst_dir, progress=False).frames, ref)
    paths = sorted(lab_dir.glob("*.png"))
    pils = [Image.open(p) for p in paths]
    assert torch.equal(pipe(pils, sorted(inst_dir.glob("*.png")), progress=False).frames, ref)


def test_input_validation_messages() -> None:
    pipe = tiny_pipeline("zeros")
    labels, instances = clip(3)
    with pytest.raises(ValueError, match=r"class id 9, outside \[0, 6\)"):
        bad = labels.clone()
        bad[0, 0, 0] = 9
        pipe(bad, instances, progress=False)
    with pytest.raises(ValueError, match="not divisible by 4.*resize"):
        pipe(labels[:, :30], instances[:, :30], progress=False)
    with pytest.raises(ValueError, match="integer ids.*float32"):
        pipe(labels.float(), instances, progress=False)
    with pytest.raises(ValueError, match="pass instances"):
        pipe(labels, progress=False)
    with pytest.raises(ValueError, match="must match labels"):
        pipe(labels, instances[:2], progress=False)
    with pytest.raises(ValueError, match=r"\(T, H, W\) or \(B, T, H, W\)"):
        pipe(labels[0, 0], instances, progress=False)
    no_inst = Vid2VidPipeline(tiny_generator(use_instance=False, no_first_frame=True), first_frame="zeros")
    with pytest.raises(ValueError, match="does not use instance maps"):
        no_inst(labels, instances, progress=False)
    with pytest.raises(FileNotFoundError, match="label folder"):
        pipe("/nonexistent/labels", instances, progress=False)


def test_dtype_policy_on_cpu() -> None:
    pipe = tiny_pipeline("zeros")
    with pytest.raises(ValueError, match="float16 inference is not supported on CPU.*bfloat16"):
        pipe.to(dtype=torch.float16)
    assert pipe.dtype == torch.float32
    labels, instances = clip(3)
    ref = pipe(labels, instances, progress=False).frames
    assert pipe.to(dtype="bfloat16") is pipe and pipe.dtype == torch.bfloat16
    out = pipe(labels, instances, progress=False).frames
    assert out.dtype == torch.float32
    # A random net's instance norms amplify bf16 rounding; on average the frames stay close.
    assert float((out - ref).abs().mean()) < 0.1
    # float64 (reference checks): outputs keep the precision, streamed frames too
    exact = tiny_pipeline("zeros").to(dtype="float64")
    assert exact(labels, instances, progress=False).frames.dtype == torch.float64
    assert next(iter(exact.stream(iter(labels), iter(instances)))).dtype == torch.float64
    with pytest.raises(ValueError, match="dtype must be one of float32, float16, bfloat16, float64"):
        exact.to(dtype=torch.int32)
    fast = tiny_pipeline("zeros").enable_channels_last()  # same seed, same weights as ``ref``
    torch.testing.assert_close(fast(labels, instances, progress=False).frames[:2], ref[:2], atol=1e-3, rtol=0)


# ------------------------------------------------------------------------------------ streaming


def test_stream_matches_call() -> None:
    pipe = tiny_pipeline("real")
    labels, instances = clip(5)
    real = torch.rand(2, 3, H, W)
    full = pipe(labels, instances, first_frames=real, progress=False).frames
    streamed = list(pipe.stream(iter(labels), iter(instances), first_frames=real))
    assert len(streamed) == 5 and streamed[0].shape == (3, H, W)
    assert torch.equal(torch.stack(streamed), full)
    batched = list(
        pipe.stream(
            iter(labels[None].transpose(0, 1)), iter(instances[None].transpose(0, 1)), first_frames=real[None]
        )
    )
    assert batched[0].shape == (1, 3, H, W)
    with pytest.raises(ValueError, match="instances ended at frame 3"):
        list(pipe.stream(iter(labels), iter(instances[:3]), first_frames=real))


def _stream_peak(pipe: Vid2VidPipeline, n_frames: int, keep: bool = False) -> int:
    kept = []
    mode = LiveTensorBytes()
    with mode:
        frames = (torch.randint(0, LABEL_NC, (H, W)) for _ in range(n_frames))
        for out in pipe.stream(frames, (torch.zeros(H, W, dtype=torch.long) for _ in range(n_frames))):
            if keep:
                kept.append(out)
    assert len(kept) == (n_frames - 2 if keep else 0)
    return mode.peak


def test_stream_memory_does_not_grow_with_length() -> None:
    pipe = tiny_pipeline("zeros")
    short, long = _stream_peak(pipe, 20), _stream_peak(pipe, 200)
    assert short > 0
    assert long <= 1.1 * short, (short, long)
    # The meter sees growth: keeping every output frame raises the peak by >= 180 frames' bytes.
    leaky = _stream_peak(pipe, 200, keep=True)
    assert leaky - long >= 180 * 3 * H * W * 4


# -------------------------------------------------------------------------------- save / load


def test_save_pretrained_round_trip(tmp_path: Path) -> None:
    pipe = tiny_pipeline("image_generator")
    labels, instances = clip(4)
    ref = pipe(labels, instances, seed=3, progress=False, return_flows=True)
    folder = pipe.save_pretrained(tmp_path / "model")
    assert {p.name for p in folder.iterdir()} >= {
        "config.json",
        "model.safetensors",
        "first_frame",
        "README.md",
    }
    card = (folder / "README.md").read_text()
    assert "license: mit" in card and "first frames: image_generator" in card
    loaded = Vid2VidPipeline.from_pretrained(folder)
    assert loaded.first_frame == "image_generator" and loaded.labels == pipe.labels
    assert loaded.metadata["license"] == "MIT"
    out = loaded(labels, instances, seed=3, progress=False, return_flows=True)
    assert torch.equal(out.frames, ref.frames) and torch.equal(out.flows, ref.flows)
    override = Vid2VidPipeline.from_pretrained(folder, first_frame="zeros")
    assert override.first_frame == "zeros"
    with pytest.raises(ValueError, match="revision.*local folder"):
        Vid2VidPipeline.from_pretrained(folder, revision="v1")
    with pytest.raises(ValueError, match="float16 inference is not supported on CPU"):
        Vid2VidPipeline.from_pretrained(folder, dtype="float16")


def test_strict_loading_names_missing_tensors(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    folder = tiny_pipeline("zeros").save_pretrained(tmp_path / "model")
    state = load_file(folder / "model.safetensors")
    dropped = sorted(state)[0]
    del state[dropped]
    save_file(state, folder / "model.safetensors")
    with pytest.raises(KeyError, match=dropped.replace(".", r"\.")):
        Vid2VidPipeline.from_pretrained(folder)


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="neither an existing model folder nor a Hub repo id"):
        Vid2VidPipeline.from_pretrained(str(tmp_path / "nope"))


def test_push_to_hub_uploads_saved_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import huggingface_hub

    calls: dict = {}

    class RecordingApi:
        def __init__(self, token: str | None = None) -> None:
            calls["token"] = token

        def create_repo(self, repo_id: str, private: bool, exist_ok: bool, repo_type: str) -> object:
            calls["create"] = (repo_id, private, exist_ok, repo_type)
            return type("Repo", (), {"repo_id": repo_id})()

        def upload_folder(self, repo_id: str, folder_path: str, **kwargs: object) -> str:
            import shutil

            shutil.copytree(folder_path, tmp_path / "uploaded")
            calls["upload"] = (repo_id, kwargs["commit_message"])
            return f"https://huggingface.co/{repo_id}/commit/abc"

    monkeypatch.setattr(huggingface_hub, "HfApi", RecordingApi)
    pipe = tiny_pipeline("zeros")
    url = pipe.push_to_hub("org/tiny", token="hf_x", private=True)
    assert url.endswith("/commit/abc")
    assert calls["token"] == "hf_x" and calls["create"] == ("org/tiny", True, True, "model")
    assert (tmp_path / "uploaded" / "README.md").is_file()
    labels, instances = clip(3)
    reloaded = Vid2VidPipeline.from_pretrained(tmp_path / "uploaded")
    assert torch.equal(
        reloaded(labels, instances, progress=False).frames, pipe(labels, instances, progress=False).frames
    )
    with pytest.raises(ValueError, match="org/name"):
        pipe.push_to_hub("not a repo id")


# ------------------------------------------------------------------------------------ save_video


@pytest.mark.parametrize("name", ["out.mp4", "out.gif", "frames"])
def test_save_video(tmp_path: Path, name: str) -> None:
    from vid2vid.data.io import read_frames

    pipe = tiny_pipeline("zeros")
    labels, instances = clip(5)
    out = pipe(labels, instances, progress=False)
    path = pipe.save_video(out, tmp_path / name, fps=10)
    frames = read_frames(path)
    assert frames.shape[0] == 3 and frames.shape[1:3] == (H, W)
    if name == "frames":  # lossless PNGs
        np.testing.assert_array_equal(frames, frames_to_uint8(out))
    batch = pipe(*clip(3, batch=2), progress=False)
    with pytest.raises(ValueError, match="pass clip_index"):
        pipe.save_video(batch, tmp_path / "b.gif")
    assert pipe.save_video(batch, tmp_path / "b.gif", clip_index=1).is_file()


def test_import_vid2vid_is_light() -> None:
    code = "import sys, vid2vid; assert 'torch' not in sys.modules; print(vid2vid.Vid2VidPipeline.__name__)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[1]
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Vid2VidPipeline"


def test_continuous_inputs_from_tensor_folder_and_video(tmp_path: Path) -> None:
    from vid2vid.data.io import write_video

    torch.manual_seed(0)
    gen = SequentialGenerator(label_nc=0, input_nc=3, ngf=8, n_downsample=2, n_blocks=1, no_first_frame=True)
    pipe = Vid2VidPipeline(gen.eval(), first_frame="zeros")
    frames = np.random.default_rng(0).integers(0, 256, (5, H, W, 3), dtype=np.uint8)
    ref = pipe(frames, progress=False).frames
    assert ref.shape == (3, 3, H, W) and pipe.input_range == (-1.0, 1.0)
    # Floats are given in the model's input range ([-1, 1] unless the folder records another).
    as_float = pipe(torch.from_numpy(frames).permute(0, 3, 1, 2) / 127.5 - 1.0, progress=False).frames
    torch.testing.assert_close(as_float, ref, atol=1e-5, rtol=0)
    folder = write_video(frames, tmp_path / "inputs")
    assert torch.equal(pipe(folder, progress=False).frames, ref)
    video = write_video(frames, tmp_path / "inputs.mp4")
    assert pipe(video, progress=False).frames.shape == (3, 3, H, W)  # lossy: shape only
    with pytest.raises(ValueError, match=r"channels-first \(\.\.\., 3, H, W\)"):
        pipe(torch.rand(3, 4, H, W), progress=False)


def test_inference_benchmark_smoke_prints_a_result_row(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    path = Path(__file__).parents[1] / "benchmarks" / "inference.py"
    spec = importlib.util.spec_from_file_location("bench_inference", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_inference", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    assert module.main(["--smoke", "--stream-lengths", "3"]) == 0
    printed = capsys.readouterr().out
    rows = [
        line for line in printed.splitlines() if line.startswith("| cpu | float32 | no | 256x128 | 1 | 32 |")
    ]
    assert len(rows) == 1
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert float(cells[6]) > 0 and float(cells[8]) > 0  # frames/s and peak MiB
    assert "| cpu | 128x64 | 32 | 3 |" in printed
