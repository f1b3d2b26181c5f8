"""vid2vid's sequential generator F (vid2vid §3.1, coarse-to-fine §3.3).

``F(x̃_{t-L}^{t-1}, s_{t-L}^t)`` produces frame ``t`` from the last ``L + 1 = n_frames_G`` label
maps and the ``L`` previously generated frames. Spatially it is a stack of
:class:`~vid2vid.nn.composite_generator.CompositeGenerator` networks, coarse to fine: scale 0
(the global network) runs at ``1 / 2**(n_scales - 1)`` of the output resolution on
average-pooled inputs and its own history of outputs; every finer scale adds the coarser
scale's features. The module is stateless: the caller holds a :class:`GeneratorState`
(per-scale histories) and threads it through :meth:`SequentialGenerator.step`, exactly as the
original's test loop does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from vid2vid.config_io import JsonConfig
from vid2vid.data.labels import encode_label_map
from vid2vid.nn.blocks import PADDING_TYPES
from vid2vid.nn.composite_generator import CompositeFeatures, CompositeGenerator, CompositeOutput, LabelIds
from vid2vid.nn.input_window import InputWindow
from vid2vid.nn.norm import check_norm
from vid2vid.nn.pyramid import build_pyramid

__all__ = [
    "SequentialGeneratorConfig",
    "SequentialGenerator",
    "GeneratorOutput",
    "GeneratorState",
    "InputWindow",
]


@dataclass
class SequentialGeneratorConfig(JsonConfig):
    """Every argument that changes the function the generator computes (JSON-serialisable).

    Attributes:
        label_nc: number of semantic classes (one-hot input); 0 for continuous inputs.
        input_nc: channels of a continuous input frame (used when ``label_nc == 0``).
        use_instance: append an instance-boundary channel to every input frame.
        output_nc: channels of a generated frame.
        n_frames_G: frames in the generator's window (labels); it sees ``n_frames_G - 1``
            previous outputs.
        ngf: width of the first layer of the coarsest scale; scale ``s`` uses ``ngf // 2**s``.
        n_downsample: stride-2 convolutions of the coarsest scale.
        n_blocks: residual blocks of the coarsest scale (``n_blocks - n_blocks // 2`` in each
            encoder, ``n_blocks // 2`` in each head; all of them in the foreground branch).
        n_blocks_local: residual blocks of each finer scale's heads.
        n_scales: number of spatial scales (1 = global network only).
        norm: normalisation (``instance_affine`` reproduces the original's BatchNorm at test time).
        padding_type: padding of the residual blocks.
        no_flow: no flow/occlusion heads: every frame is hallucinated.
        use_foreground: add the foreground branch (street scenes).
        fg_labels: class ids synthesised by the foreground branch (Cityscapes car = 26).
        no_first_frame: the model was trained to start from zero history: the first step
            outputs the hallucinated frame without warping.
    """

    label_nc: int = 35
    input_nc: int = 3
    use_instance: bool = False
    output_nc: int = 3
    n_frames_G: int = 3
    ngf: int = 128
    n_downsample: int = 3
    n_blocks: int = 9
    n_blocks_local: int = 3
    n_scales: int = 1
    norm: str = "instance_affine"
    padding_type: str = "reflect"
    no_flow: bool = False
    use_foreground: bool = False
    fg_labels: list[int] = field(default_factory=lambda: [26])
    no_first_frame: bool = False

    def __post_init__(self) -> None:
        check_norm(self.norm)
        if self.padding_type not in PADDING_TYPES:
            raise ValueError(f"padding_type must be one of {PADDING_TYPES}, got {self.padding_type!r}")
        if self.label_nc < 0:
            raise ValueError(f"label_nc must be >= 0, got {self.label_nc}")
        if self.label_nc == 0 and self.input_nc < 1:
            raise ValueError(f"label_nc=0 needs input_nc >= 1 continuous channels, got {self.input_nc}")
        if self.n_frames_G < 2:
            raise ValueError(
                f"n_frames_G must be >= 2 (the generator conditions on past frames), got {self.n_frames_G}"
            )
        if self.n_scales < 1 or self.n_downsample < 1:
            raise ValueError(
                f"n_scales and n_downsample must be >= 1, got {self.n_scales}, {self.n_downsample}"
            )
        if self.ngf // 2 ** (self.n_scales - 1) < 1:
            raise ValueError(
                f"ngf={self.ngf} is too small for n_scales={self.n_scales} (scale s uses ngf // 2**s)"
            )
        self.fg_labels = [int(x) for x in self.fg_labels]
        if self.use_foreground:
            if self.label_nc == 0:
                raise ValueError("use_foreground needs semantic labels (label_nc > 0)")
            bad = [x for x in self.fg_labels if not 0 <= x < self.label_nc]
            if not self.fg_labels or bad:
                raise ValueError(
                    f"fg_labels must be non-empty class ids in [0, {self.label_nc}), got {self.fg_labels}"
                )

    @property
    def frame_nc(self) -> int:
        """Channels of one encoded input frame (one-hot or continuous, + instance edges)."""
        return (self.label_nc if self.label_nc > 0 else self.input_nc) + int(self.use_instance)

    @property
    def size_multiple(self) -> int:
        """Height and width must be divisible by this: ``2**(n_downsample + n_scales - 1)``."""
        return 2 ** (self.n_downsample + self.n_scales - 1)


@dataclass
class GeneratorOutput:
    """Output of one time step (full resolution unless noted).

    Attributes:
        image: ``(B, output_nc, H, W)`` in ``[-1, 1]``, the generated frame.
        raw: ``(B, output_nc, H, W)`` in ``[-1, 1]``, the hallucinated frame.
        flow: ``(B, 2, H, W)`` pixels (backward flow onto the previous frame), or ``None``.
        weight: ``(B, 1, H, W)`` in ``[0, 1]`` occlusion weight of ``raw``, or ``None``.
        scale_images: per-scale outputs, finest first (``scale_images[0] is image``); each
            scale's history is made of these.
    """

    image: Tensor
    raw: Tensor
    flow: Tensor | None
    weight: Tensor | None
    scale_images: list[Tensor]


@dataclass
class GeneratorState:
    """Per-scale history of generated frames, threaded through :meth:`SequentialGenerator.step`.

    Attributes:
        history: one tensor per scale, finest first: ``(B, n_frames_G - 1, output_nc, H_s, W_s)``,
            oldest frame first.
        is_first: no frame has been generated yet.
    """

    history: list[Tensor]
    is_first: bool = True

    def advance(self, scale_images: list[Tensor]) -> GeneratorState:
        """New state with each scale's newest output appended (oldest dropped)."""
        if len(scale_images) != len(self.history):
            raise ValueError(f"expected {len(self.history)} scale images, got {len(scale_images)}")
        history = [
            torch.cat([h[:, 1:], img.unsqueeze(1)], dim=1)
            for h, img in zip(self.history, scale_images, strict=True)
        ]
        return GeneratorState(history, is_first=False)

    def detach(self) -> GeneratorState:
        """Same state cut from the autograd graph (truncated back-propagation through time)."""
        return GeneratorState([h.detach() for h in self.history], self.is_first)


class SequentialGenerator(nn.Module):
    """The vid2vid generator: coarse-to-fine composite networks with per-scale histories.

    Build from a :class:`SequentialGeneratorConfig`. ``scales[0]`` is the coarsest (global)
    network, ``scales[s]`` the local enhancer at ``2**s`` times its resolution.
    """

    def __init__(self, config: SequentialGeneratorConfig | None = None, **kwargs: Any) -> None:
        super().__init__()
        if config is None:
            config = SequentialGeneratorConfig(**kwargs)
        elif kwargs:
            raise ValueError("pass either a config or keyword arguments, not both")
        self.config = config
        c = config
        input_nc = c.n_frames_G * c.frame_nc
        prev_nc = (c.n_frames_G - 1) * c.output_nc
        scales: list[CompositeGenerator] = []
        for s in range(c.n_scales):
            ngf = c.ngf // 2**s
            fg_ngf = ngf // 2 if c.n_downsample > 2 else ngf
            is_global = s == 0
            scales.append(
                CompositeGenerator(
                    input_nc,
                    prev_nc,
                    output_nc=c.output_nc,
                    ngf=ngf,
                    n_downsample=c.n_downsample if is_global else 1,
                    n_encoder_blocks=(c.n_blocks - c.n_blocks // 2) if is_global else 0,
                    n_decoder_blocks=(c.n_blocks // 2) if is_global else c.n_blocks_local,
                    flow_multiplier=20.0 * 2**s,
                    takes_coarse_features=not is_global,
                    no_flow=c.no_flow,
                    use_foreground=c.use_foreground,
                    fg_ngf=fg_ngf,
                    fg_encoder_blocks=0,
                    fg_decoder_blocks=c.n_blocks if is_global else c.n_blocks_local,
                    norm=c.norm,
                    padding_type=c.padding_type,
                )
            )
        self.scales = nn.ModuleList(scales)
        # Foreground class ids as a device tensor (not saved): indexing with it needs no
        # host-to-device copy per call (CUDA-graph capture forbids those).
        self.register_buffer("fg_index", torch.tensor(c.fg_labels, dtype=torch.long), persistent=False)

    # ------------------------------------------------------------------ inputs
    def encode_inputs(
        self, labels: Tensor | None = None, instances: Tensor | None = None, inputs: Tensor | None = None
    ) -> Tensor:
        """Encode a clip into the generator's per-frame input.

        Args:
            labels: ``(B, T, H, W)`` int64 in ``[0, label_nc)`` (when ``label_nc > 0``).
            instances: ``(B, T, H, W)`` int64 instance ids (required iff ``use_instance``).
            inputs: ``(B, T, input_nc, H, W)`` float continuous maps (when ``label_nc == 0``).

        Returns:
            ``(B, T, frame_nc, H, W)`` float32.
        """
        c = self.config
        if c.use_instance and instances is None:
            raise ValueError("this generator uses instance maps (use_instance=True): pass instances")
        if not c.use_instance and instances is not None:
            raise ValueError("this generator was built without instance maps (use_instance=False)")
        if c.label_nc > 0 and (labels is None or labels.dim() != 4):
            shape = None if labels is None else tuple(labels.shape)
            raise ValueError(f"labels must be (B, T, H, W) int64, got {shape}")
        if c.label_nc == 0 and (inputs is None or inputs.dim() != 5 or inputs.shape[2] != c.input_nc):
            shape = None if inputs is None else tuple(inputs.shape)
            raise ValueError(f"inputs must be (B, T, {c.input_nc}, H, W) float, got {shape}")
        return encode_label_map(labels, c.label_nc, instances=instances, inputs=inputs)

    def check_size(self, height: int, width: int) -> None:
        """Raise ``ValueError`` unless ``height`` and ``width`` are multiples of ``size_multiple``."""
        m = self.config.size_multiple
        if height % m or width % m:
            raise ValueError(
                f"frame size {height}x{width} (HxW) is not divisible by {m} = 2**(n_downsample + n_scales - 1) "
                f"= 2**({self.config.n_downsample} + {self.config.n_scales} - 1); resize or pad to a multiple of {m}"
            )

    def _foreground_mask(self, window: Tensor) -> Tensor:
        # window: (B, T, C, h, w) encoded; mask of the newest frame, (B, 1, h, w) clamped to [0, 1].
        channels = window[:, -1].index_select(1, self.fg_index)
        return channels.sum(dim=1, keepdim=True).clamp(0, 1)

    # ----------------------------------------------------------------- forward
    def forward(
        self,
        window: Tensor | Sequence[Tensor],
        history: list[Tensor],
        use_raw_only: bool = False,
        detach_coarse: bool = False,
        label_gather: bool = False,
    ) -> GeneratorOutput:
        """Generate the frame at the end of a window of inputs.

        Args:
            window: ``(B, n_frames_G, frame_nc, H, W)`` float, encoded inputs (see
                :meth:`encode_inputs`), oldest first; the output is the frame of the last one.
                Or the window's average-pool pyramid, finest first (``n_scales`` tensors
                ``(B, n_frames_G, frame_nc, H / 2**s, W / 2**s)``, as :func:`build_pyramid` or
                :meth:`InputWindow.levels` give), which saves pooling it again.
            history: per-scale previous outputs, finest first, each
                ``(B, n_frames_G - 1, output_nc, H / 2**s, W / 2**s)`` in ``[-1, 1]``.
            use_raw_only: output the hallucinated frame without warping.
            detach_coarse: cut the gradient through every scale but the finest (train only the
                finest scale, as the original does for ``niter_fix_global`` epochs).
            label_gather: compute the finest scale's 7×7 label stems as gathers of weight columns
                (label models only; the finest window's label channels must be one-hot, as
                :meth:`encode_inputs` makes them). Mathematically the same function, faster on
                CPU, not bit-identical (within ~1e-6 per stem value); off by default.
        """
        c = self.config
        if isinstance(window, Tensor):
            levels = None
            finest = window
        else:
            levels = list(window)
            if len(levels) != c.n_scales:
                raise ValueError(
                    f"a window pyramid must hold n_scales={c.n_scales} levels, got {len(levels)}"
                )
            finest = levels[0]
        if finest.dim() != 5 or finest.shape[1] != c.n_frames_G or finest.shape[2] != c.frame_nc:
            raise ValueError(
                f"window must be (B, n_frames_G={c.n_frames_G}, frame_nc={c.frame_nc}, H, W), "
                f"got {tuple(finest.shape)}"
            )
        batch, _, _, height, width = finest.shape
        self.check_size(height, width)
        if levels is not None:
            for s, lvl in enumerate(levels):
                expected = (batch, c.n_frames_G, c.frame_nc, height // 2**s, width // 2**s)
                if tuple(lvl.shape) != expected:
                    raise ValueError(f"window pyramid level {s} must be {expected}, got {tuple(lvl.shape)}")
        if len(history) != c.n_scales:
            raise ValueError(f"history must hold {c.n_scales} per-scale tensors, got {len(history)}")
        for s, h in enumerate(history):
            expected = (batch, c.n_frames_G - 1, c.output_nc, height // 2**s, width // 2**s)
            if tuple(h.shape) != expected:
                raise ValueError(f"history[{s}] must be {expected}, got {tuple(h.shape)}")
        if label_gather and c.label_nc == 0:
            raise ValueError(
                "label_gather needs a label model (label_nc > 0); this one takes continuous inputs"
            )

        window_pyramid = levels if levels is not None else build_pyramid(finest, c.n_scales)
        coarse: CompositeFeatures | None = None
        outputs: list[CompositeOutput] = []
        for s in range(c.n_scales):
            level = c.n_scales - 1 - s  # pyramid index: 0 = full resolution
            win = window_pyramid[level]
            h = history[level]
            ids = None
            if label_gather and level == 0:
                ids = LabelIds(
                    win[:, :, : c.label_nc].argmax(dim=2),
                    win[:, :, c.label_nc :] if c.use_instance else None,
                    c.label_nc,
                )
            out = self.scales[s](
                win.flatten(1, 2),
                h.flatten(1, 2),
                fg_mask=self._foreground_mask(win) if c.use_foreground else None,
                coarse=coarse,
                use_raw_only=use_raw_only,
                label_ids=ids,
            )
            coarse = out.features
            if detach_coarse and s != c.n_scales - 1:
                coarse = coarse.detach()
                out = CompositeOutput(out.image.detach(), out.raw, out.flow, out.weight, coarse)
            outputs.append(out)
        finest_out = outputs[-1]
        return GeneratorOutput(
            image=finest_out.image,
            raw=finest_out.raw,
            flow=finest_out.flow,
            weight=finest_out.weight,
            scale_images=[o.image for o in reversed(outputs)],
        )

    # ------------------------------------------------------------ state / loop
    def init_state(
        self,
        first_frames: Tensor | None = None,
        batch_size: int | None = None,
        height: int | None = None,
        width: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> GeneratorState:
        """History before the first step.

        Args:
            first_frames: ``(B, n_frames_G - 1, output_nc, H, W)`` in ``[-1, 1]`` (real or
                generated first frames); ``None`` starts from zeros (then give ``batch_size``,
                ``height`` and ``width``).
        """
        c = self.config
        if first_frames is None:
            if batch_size is None or height is None or width is None:
                raise ValueError("init_state without first_frames needs batch_size, height and width")
            param = next(self.parameters())
            first_frames = torch.zeros(
                batch_size,
                c.n_frames_G - 1,
                c.output_nc,
                height,
                width,
                device=device if device is not None else param.device,
                dtype=dtype if dtype is not None else param.dtype,
            )
        expected = (c.n_frames_G - 1, c.output_nc)
        if first_frames.dim() != 5 or tuple(first_frames.shape[1:3]) != expected:
            raise ValueError(
                f"first_frames must be (B, n_frames_G - 1 = {expected[0]}, {expected[1]}, H, W), "
                f"got {tuple(first_frames.shape)}"
            )
        self.check_size(*first_frames.shape[-2:])
        return GeneratorState(build_pyramid(first_frames, c.n_scales), is_first=True)

    def step(
        self,
        window: Tensor | Sequence[Tensor] | InputWindow,
        state: GeneratorState,
        detach_coarse: bool = False,
        label_gather: bool = False,
    ) -> tuple[GeneratorOutput, GeneratorState]:
        """One time step: generate from ``window`` and ``state``; return the output and the next state.

        ``window`` is a window tensor, its pyramid (see :meth:`forward`), or an
        :class:`InputWindow` holding ``n_frames_G`` frames (its levels are used as they are: each
        frame was pooled once when it was pushed). On the first step of a model with
        ``no_first_frame`` the hallucinated frame is output without warping (the history holds
        only zeros). Shapes as in :meth:`forward`.
        """
        if isinstance(window, InputWindow):
            if not window.full:
                raise ValueError(
                    f"the input window holds {len(window)} frames; the generator needs n_frames_G = "
                    f"{self.config.n_frames_G}"
                )
            if window.n_levels != self.config.n_scales:
                raise ValueError(
                    f"the input window has {window.n_levels} levels; this generator has n_scales = "
                    f"{self.config.n_scales}"
                )
            window = window.levels()
        use_raw_only = self.config.no_first_frame and state.is_first
        out = self(
            window,
            state.history,
            use_raw_only=use_raw_only,
            detach_coarse=detach_coarse,
            label_gather=label_gather,
        )
        return out, state.advance(out.scale_images)

    def generate(
        self, inputs: Tensor, first_frames: Tensor | None = None, label_gather: bool = False
    ) -> GeneratorOutput:
        """Run a whole encoded clip window by window (the original's test-time protocol).

        The clip is pooled into its pyramid once (every frame once, not once per window it
        appears in); each step reads its window as views of the pyramid levels.

        Args:
            inputs: ``(B, T, frame_nc, H, W)`` encoded inputs, ``T >= n_frames_G``.
            first_frames: ``(B, n_frames_G - 1, output_nc, H, W)`` history before the first
                window, or ``None`` for zeros.
            label_gather: the finest scale's label stems as gathers (see :meth:`forward`).

        Returns:
            :class:`GeneratorOutput` whose tensors have a time axis after the batch axis:
            ``image``/``raw`` ``(B, N, output_nc, H, W)``, ``flow`` ``(B, N, 2, H, W)``, ``weight``
            ``(B, N, 1, H, W)`` with ``N = T - n_frames_G + 1`` (frame ``i`` of the output is
            input frame ``i + n_frames_G - 1``); ``scale_images`` holds the finest-first per-scale
            clips.
        """
        tg = self.config.n_frames_G
        if inputs.dim() != 5 or inputs.shape[1] < tg:
            raise ValueError(f"inputs must be (B, T >= {tg}, C, H, W), got {tuple(inputs.shape)}")
        batch, length, _, height, width = inputs.shape
        state = self.init_state(
            first_frames,
            batch_size=batch,
            height=height,
            width=width,
            device=inputs.device,
            dtype=inputs.dtype,
        )
        pyramid = build_pyramid(inputs, self.config.n_scales)
        steps: list[GeneratorOutput] = []
        for i in range(length - tg + 1):
            out, state = self.step([lvl[:, i : i + tg] for lvl in pyramid], state, label_gather=label_gather)
            steps.append(out)

        def stack(values: list[Tensor | None]) -> Tensor | None:
            return None if values[0] is None else torch.stack(values, dim=1)  # type: ignore[arg-type]

        return GeneratorOutput(
            image=torch.stack([o.image for o in steps], dim=1),
            raw=torch.stack([o.raw for o in steps], dim=1),
            flow=stack([o.flow for o in steps]),
            weight=stack([o.weight for o in steps]),
            scale_images=[
                torch.stack([o.scale_images[s] for o in steps], dim=1) for s in range(self.config.n_scales)
            ],
        )
