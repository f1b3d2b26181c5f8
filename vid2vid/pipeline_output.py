"""The dataclass :class:`~vid2vid.pipeline.Vid2VidPipeline` returns (diffusers-style pipeline output)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Vid2VidPipelineOutput"]


@dataclass
class Vid2VidPipelineOutput:
    """Synthesised video(s).

    The leading batch axis ``B`` is present only when the labels were given as a batch
    (``(B, T, H, W)`` tensor/array or a list of clips); a single clip drops it.

    Attributes:
        frames: the output frames, values in ``[0, 1]``; frame ``i`` belongs to input frame
            ``first_index + i``. ``T`` frames (one per input frame) with real or image-generator
            first frames; ``T - n_frames_G + 1`` with the ``"zeros"`` policy, whose first
            ``n_frames_G - 1`` input frames only condition the first output (as the original's
            ``test.py``). Types:
            ``output_type="pt"``: float32 tensor ``([B,] T, 3, H, W)`` (on the pipeline's device);
            ``"np"``: float32 array ``([B,] T, H, W, 3)``;
            ``"pil"``: a list of ``T`` RGB ``PIL.Image`` (a list of such lists for a batch).
        flows: with ``return_flows=True``, the generator's backward flow of every frame in pixels
            (channel 0 = x; frame ``t`` warped from frame ``t-1``), float32 ``([B,] T, 2, H, W)``
            tensor (``"pt"``) or array (``"np"``/``"pil"``); zero for frames not produced by the
            sequential generator (given or image-generator first frames) and for ``no_flow``
            models. ``None`` otherwise.
        weights: with ``return_flows=True``, the occlusion weight ``m`` of the hallucinated
            frame, float32 ``([B,] T, 1, H, W)`` in ``[0, 1]`` (1 = fully hallucinated; 1 for frames
            not produced by the sequential generator). ``None`` otherwise.
        first_index: index of the input frame that ``frames[0]`` (``frames[:, 0]``) belongs to:
            0, or ``n_frames_G - 1`` with the ``"zeros"`` policy.
    """

    frames: Any
    flows: Any | None = None
    weights: Any | None = None
    first_index: int = 0
