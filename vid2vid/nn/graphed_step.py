"""One generator time step replayed as a CUDA graph (static input and output buffers).

A sequential-generator step launches a few hundred small kernels; at video rates on a large GPU
their launch cost matters. :class:`GraphedGeneratorStep` captures the forward pass once into a
``torch.cuda.CUDAGraph`` over static buffers for the window pyramid and the per-scale history;
each call copies the current window and history into them, replays the graph and returns clones
of the outputs (the static outputs are overwritten by the next replay). Outputs equal the eager
forward's (same kernels, same order). CUDA only; inference only (run it under
``torch.inference_mode()``); shapes, dtypes and devices are fixed per capture (a new shape
captures again).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from vid2vid.nn.sequential_generator import GeneratorOutput, SequentialGenerator

__all__ = ["GraphedGeneratorStep"]


class GraphedGeneratorStep:
    """``generator(window_levels, history)`` as a replayed CUDA graph.

    Args:
        generator: a sequential generator on a CUDA device, in eval mode.
        warmup: eager iterations on a side stream before the capture (cuDNN autotuning, lazy
            initialisation).
    """

    def __init__(self, generator: SequentialGenerator, warmup: int = 3) -> None:
        device = next(generator.parameters()).device
        if device.type != "cuda":
            raise ValueError(f"CUDA graphs need the generator on a CUDA device, it is on {device}")
        self.generator = generator
        self.warmup = warmup
        self.graph: torch.cuda.CUDAGraph | None = None
        self._key: tuple | None = None
        self._static_in: list[Tensor] = []
        self._static_out: GeneratorOutput | None = None

    def __call__(self, window_levels: Sequence[Tensor], history: Sequence[Tensor]) -> GeneratorOutput:
        """Generate one frame (no warping shortcut: not for the first step of ``no_first_frame`` models).

        Args:
            window_levels: the window pyramid, finest first (see :meth:`SequentialGenerator.forward`).
            history: per-scale previous outputs, finest first.
        """
        inputs = [*window_levels, *history]
        key = tuple((tuple(t.shape), t.dtype, t.device) for t in inputs)
        if self.graph is None or key != self._key:
            self._capture(inputs, len(window_levels))
            self._key = key
        for static, value in zip(self._static_in, inputs, strict=True):
            static.copy_(value)
        assert self.graph is not None and self._static_out is not None
        self.graph.replay()
        out = self._static_out
        return GeneratorOutput(
            image=out.image.clone(),
            raw=out.raw.clone(),
            flow=None if out.flow is None else out.flow.clone(),
            weight=None if out.weight is None else out.weight.clone(),
            scale_images=[img.clone() for img in out.scale_images],
        )

    def _capture(self, inputs: list[Tensor], n_levels: int) -> None:
        self._static_in = [t.clone() for t in inputs]
        levels, history = self._static_in[:n_levels], self._static_in[n_levels:]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(self.warmup):
                self.generator(levels, history)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self._static_out = self.generator(levels, history)
        self.graph = graph
