"""One spatial scale of vid2vid's sequential generator (vid2vid §3.1 and §3.3).

A composite generator sees a window of ``n_frames_G`` encoded label maps and the
``n_frames_G - 1`` previously generated frames. Two encoders (labels, previous frames) are
summed; an image head decodes the hallucinated frame ``h``, a flow head decodes the backward
flow ``w`` and the occlusion weight ``m``, and the output is

    x = h · m + warp(x_prev, w) · (1 - m)

An optional foreground branch (street scenes) synthesises the foreground classes from the
labels alone and replaces the output inside the foreground mask. The coarsest scale (the
"global" network) downsamples ``n_downsample`` times; every finer scale (a "local enhancer")
downsamples once and adds the coarser scale's decoder inputs to its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vid2vid.flow.warp import FlowWarp
from vid2vid.nn.blocks import OutputConv
from vid2vid.nn.conv_stacks import DownsamplingEncoder, UpsamplingDecoder
from vid2vid.nn.label_gather import one_hot_conv2d

__all__ = ["CompositeGenerator", "CompositeFeatures", "CompositeOutput", "LabelIds"]


@dataclass
class LabelIds:
    """The label window as class ids, for the gather fast path of the label stems.

    Attributes:
        ids: ``(B, T, h, w)`` int64 class ids in ``[0, num_classes)``, oldest frame first.
        extra: ``(B, T, E, h, w)`` float channels that follow each frame's one-hot channels
            (instance edges), or ``None``.
        num_classes: one-hot channels per frame.
    """

    ids: Tensor
    extra: Tensor | None
    num_classes: int


@dataclass
class CompositeFeatures:
    """Decoder outputs a finer scale adds to its own (all ``(B, C, h, w)`` at this scale's size)."""

    image: Tensor
    flow: Tensor | None = None
    foreground: Tensor | None = None

    def detach(self) -> CompositeFeatures:
        """Same features cut from the autograd graph."""
        return CompositeFeatures(
            self.image.detach(),
            None if self.flow is None else self.flow.detach(),
            None if self.foreground is None else self.foreground.detach(),
        )


@dataclass
class CompositeOutput:
    """Result of one scale for one time step.

    Attributes:
        image: ``(B, output_nc, h, w)`` in ``[-1, 1]``, the final frame.
        raw: ``(B, output_nc, h, w)`` in ``[-1, 1]``, the hallucinated frame (after the foreground
            replacement).
        flow: ``(B, 2, h, w)`` pixels, backward flow onto the previous frame; ``None`` with ``no_flow``.
        weight: ``(B, 1, h, w)`` in ``[0, 1]``, weight of the hallucinated frame; ``None`` with ``no_flow``.
        features: what the next finer scale consumes.
    """

    image: Tensor
    raw: Tensor
    flow: Tensor | None
    weight: Tensor | None
    features: CompositeFeatures


class CompositeGenerator(nn.Module):
    """One scale of the sequential generator.

    Args:
        input_nc: channels of the stacked label window (``n_frames_G × per-frame channels``).
        prev_nc: channels of the stacked previous frames (``(n_frames_G - 1) × output_nc``).
        output_nc: channels of a frame (3).
        ngf: width of the first layer at this scale.
        n_downsample: stride-2 convolutions of the encoders (``n_downsample`` for the global
            network, 1 for a local enhancer).
        n_encoder_blocks: residual blocks at the end of each encoder.
        n_decoder_blocks: residual blocks at the start of each head.
        flow_multiplier: the flow head's raw output is multiplied by this (20 · 2**scale).
        takes_coarse_features: whether :meth:`forward` adds a coarser scale's features.
        no_flow: drop the flow/weight head (output = hallucinated frame).
        use_foreground: add the foreground branch.
        fg_ngf: width of the foreground branch.
        fg_encoder_blocks / fg_decoder_blocks: residual blocks of the foreground branch.
        norm: normalisation name (see :func:`vid2vid.nn.norm.make_norm`).
        padding_type: padding of the residual blocks.
    """

    def __init__(
        self,
        input_nc: int,
        prev_nc: int,
        output_nc: int = 3,
        ngf: int = 64,
        n_downsample: int = 3,
        n_encoder_blocks: int = 5,
        n_decoder_blocks: int = 4,
        flow_multiplier: float = 20.0,
        takes_coarse_features: bool = False,
        no_flow: bool = False,
        use_foreground: bool = False,
        fg_ngf: int = 32,
        fg_encoder_blocks: int = 0,
        fg_decoder_blocks: int = 9,
        norm: str = "instance_affine",
        padding_type: str = "reflect",
    ) -> None:
        super().__init__()
        self.output_nc = output_nc
        self.flow_multiplier = flow_multiplier
        self.takes_coarse_features = takes_coarse_features
        self.no_flow = no_flow
        self.use_foreground = use_foreground

        def encoder(in_ch: int, width: int, blocks: int) -> DownsamplingEncoder:
            return DownsamplingEncoder(in_ch, width, n_downsample, blocks, norm, padding_type)

        def decoder(width: int, blocks: int) -> UpsamplingDecoder:
            return UpsamplingDecoder(width, n_downsample, blocks, norm, padding_type)

        self.label_encoder = encoder(input_nc, ngf, n_encoder_blocks)
        self.prev_encoder = encoder(prev_nc, ngf, n_encoder_blocks)
        self.image_decoder = decoder(ngf, n_decoder_blocks)
        self.image_out = OutputConv(ngf, output_nc, "tanh")
        if not no_flow:
            self.flow_decoder = decoder(ngf, n_decoder_blocks)
            self.flow_out = OutputConv(ngf, 2, "none")
            self.weight_out = OutputConv(ngf, 1, "sigmoid")
            self.warp = FlowWarp()
        if use_foreground:
            self.fg_encoder = encoder(input_nc, fg_ngf, fg_encoder_blocks)
            self.fg_decoder = decoder(fg_ngf, fg_decoder_blocks)
            self.fg_out = OutputConv(fg_ngf, output_nc, "tanh")

    def forward(
        self,
        inputs: Tensor,
        prev_frames: Tensor,
        fg_mask: Tensor | None = None,
        coarse: CompositeFeatures | None = None,
        use_raw_only: bool = False,
        label_ids: LabelIds | None = None,
    ) -> CompositeOutput:
        """Generate one frame at this scale.

        Args:
            inputs: ``(B, input_nc, h, w)`` float, the label window stacked frame-major (oldest first).
            prev_frames: ``(B, prev_nc, h, w)`` in ``[-1, 1]``, previous outputs stacked oldest
                first; the last ``output_nc`` channels are the most recent frame (the one warped).
            fg_mask: ``(B, 1, h, w)`` in ``[0, 1]``, required with ``use_foreground``.
            coarse: the coarser scale's :class:`CompositeFeatures`, required for a local enhancer.
            use_raw_only: output the hallucinated frame without warping (first frame of a
                model trained to start from nothing).
            label_ids: ``inputs`` as class ids: the 7×7 stems of the label and foreground
                encoders are then computed as gathers of weight columns (:mod:`vid2vid.nn.label_gather`),
                equal to the convolutions up to float rounding; ``inputs`` must be the one-hot
                encoding of these ids.

        Without autograd (inference) the flow and occlusion-weight output convolutions run as
        one 3-channel convolution over one padded tensor: on CPU this gives the same bits as
        two convolutions, in about half the time. With autograd the layers run one by one.
        """
        if self.takes_coarse_features and coarse is None:
            raise ValueError("this local enhancer needs the coarser scale's features (coarse=...)")
        if not self.takes_coarse_features and coarse is not None:
            raise ValueError("the global (coarsest) network takes no coarser features")
        if label_ids is None:
            label_features = self.label_encoder(inputs)
            fg_in = self.fg_encoder(inputs) if self.use_foreground else None
        else:
            label_features, fg_in = self._gathered_label_encoders(label_ids)
        shared = label_features + self.prev_encoder(prev_frames)

        image_features = self.image_decoder(shared if coarse is None else shared + coarse.image)
        raw = self.image_out(image_features)

        flow = weight = flow_features = None
        if not self.no_flow:
            flow_in = shared if coarse is None else shared + coarse.flow
            flow_features = self.flow_decoder(flow_in)
            if torch.is_grad_enabled() and flow_features.requires_grad:
                flow = self.flow_out(flow_features) * self.flow_multiplier
                weight = self.weight_out(flow_features)
            else:
                flow, weight = self._fused_flow_weight(flow_features)

        if self.no_flow or use_raw_only:
            image = raw
        else:
            warped = self.warp(prev_frames[:, -self.output_nc :], flow)
            image = raw * weight + warped * (1 - weight)

        fg_features = None
        if self.use_foreground:
            if fg_mask is None:
                raise ValueError("use_foreground=True needs fg_mask (B, 1, h, w)")
            assert fg_in is not None
            if coarse is not None:
                fg_in = fg_in + coarse.foreground
            fg_features = self.fg_decoder(fg_in)
            foreground = self.fg_out(fg_features)
            image = foreground * fg_mask + image * (1 - fg_mask)
            raw = foreground * fg_mask + raw * (1 - fg_mask)

        return CompositeOutput(
            image, raw, flow, weight, CompositeFeatures(image_features, flow_features, fg_features)
        )

    # ------------------------------------------------------------------ fast paths
    def _fused_flow_weight(self, features: Tensor) -> tuple[Tensor, Tensor]:
        """Flow ``(B, 2, h, w)`` and weight ``(B, 1, h, w)`` from one convolution over one padded input."""
        flow_conv, weight_conv = self.flow_out.conv, self.weight_out.conv
        weight = torch.cat([flow_conv.weight, weight_conv.weight])
        bias = torch.cat([flow_conv.bias, weight_conv.bias])
        pad = flow_conv.padding[1], flow_conv.padding[1], flow_conv.padding[0], flow_conv.padding[0]
        both = F.conv2d(F.pad(features, pad, mode=flow_conv.padding_mode), weight, bias)
        flow = self.flow_out.act(both[:, :2]) * self.flow_multiplier
        return flow, self.weight_out.act(both[:, 2:])

    def _gathered_label_encoders(self, label_ids: LabelIds) -> tuple[Tensor, Tensor | None]:
        """Label (and foreground) encoder outputs with their stems computed by gathers (one pass)."""
        stems = [self.label_encoder.stem.conv]
        if self.use_foreground:
            stems.append(self.fg_encoder.stem.conv)
        weight = torch.cat([c.weight for c in stems]) if len(stems) > 1 else stems[0].weight
        bias = torch.cat([c.bias for c in stems]) if len(stems) > 1 else stems[0].bias
        conv = one_hot_conv2d(
            label_ids.ids, label_ids.extra, weight, bias, label_ids.num_classes, stems[0].padding_mode
        )
        width = stems[0].out_channels
        label_features = self.label_encoder.forward_from_stem(conv[:, :width])
        fg_in = self.fg_encoder.forward_from_stem(conv[:, width:]) if self.use_foreground else None
        return label_features, fg_in
