"""Pipeline speed options: the input window, label_gather, CUDA graphs (refused off CUDA), compile."""

from __future__ import annotations

import pytest
import torch

from vid2vid.nn import SequentialGenerator
from vid2vid.pipeline import Vid2VidPipeline

H, W = 32, 64


def street_pipeline(n_scales: int = 2) -> Vid2VidPipeline:
    torch.manual_seed(0)
    gen = SequentialGenerator(
        label_nc=6, use_instance=True, ngf=8, n_downsample=2, n_blocks=2, n_blocks_local=1,
        n_scales=n_scales, use_foreground=True, fg_labels=[2], no_first_frame=True,
    ).eval()  # fmt: skip
    return Vid2VidPipeline(gen, first_frame="zeros")


def street_clip(t: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(5)
    labels = (
        torch.randint(0, 6, (t, H // 4, W // 4), generator=g).repeat_interleave(4, 1).repeat_interleave(4, 2)
    )
    return labels, labels * 1000 + (torch.arange(W) // 16)


def test_pipeline_window_is_bit_identical_to_generate_on_the_padded_clip() -> None:
    pipe = street_pipeline()
    labels, instances = street_clip()
    frames = pipe(labels, instances, progress=False).frames
    streamed = torch.stack(list(pipe.stream(list(labels), list(instances))))
    # Independent path: the zeros policy pads the clip with its first frame twice, then generate.
    gen = pipe.generator
    padded_labels = torch.cat([labels[:1], labels[:1], labels])[None]
    padded_inst = torch.cat([instances[:1], instances[:1], instances])[None]
    with torch.no_grad():
        ref = gen.generate(gen.encode_inputs(padded_labels, padded_inst)).image[0]
    expected = ((ref + 1) / 2).clamp(0, 1)
    assert torch.equal(frames, expected) and torch.equal(streamed, expected)


def test_label_gather_option() -> None:
    labels, instances = street_clip()
    exact = street_pipeline()(labels, instances, progress=False).frames
    pipe = street_pipeline().enable_label_gather()
    fast = pipe(labels, instances, progress=False).frames
    assert not torch.equal(fast, exact)
    torch.testing.assert_close(fast, exact, atol=2e-3, rtol=0)  # float rounding, fed back through 5 frames
    assert torch.equal(pipe.enable_label_gather(False)(labels, instances, progress=False).frames, exact)
    continuous = Vid2VidPipeline(
        SequentialGenerator(label_nc=0, input_nc=3, ngf=8, n_downsample=2, n_blocks=2, no_first_frame=True),
        first_frame="zeros",
    )
    with pytest.raises(ValueError, match="label_gather needs a label model"):
        continuous.enable_label_gather()


def test_cuda_graphs_are_refused_off_cuda(tmp_path) -> None:
    pipe = street_pipeline()
    with pytest.raises(ValueError, match="CUDA graphs need a CUDA device; the pipeline is on cpu"):
        pipe.enable_cuda_graphs()
    assert pipe.enable_cuda_graphs(False) is pipe
    folder = pipe.save_pretrained(tmp_path / "model")
    with pytest.raises(ValueError, match="CUDA graphs need a CUDA device"):
        Vid2VidPipeline.from_pretrained(folder, cuda_graphs=True)
    loaded = Vid2VidPipeline.from_pretrained(folder, label_gather=True)
    assert loaded._label_gather
    from vid2vid.nn.graphed_step import GraphedGeneratorStep

    with pytest.raises(ValueError, match="CUDA graphs need the generator on a CUDA device"):
        GraphedGeneratorStep(pipe.generator)


def test_compiled_pipeline_matches_eager() -> None:
    labels, instances = street_clip(4)
    eager = street_pipeline(n_scales=1)(labels, instances, progress=False).frames
    # The "eager" backend traces the generator with TorchDynamo (graph breaks, guards on the
    # window pyramid) without needing a C++ compiler: the wiring, not inductor's kernels.
    compiled = street_pipeline(n_scales=1).compile(backend="eager")
    torch.testing.assert_close(compiled(labels, instances, progress=False).frames, eager, atol=1e-6, rtol=0)
