"""Temporal discriminator D_V (vid2vid §3.2, multi-scale in time).

Given ``n_frames_D`` (K) consecutive frames and the K-1 reference flows between them, D_V
tells real sequences from generated ones. There are ``n_scales_temporal`` of them: temporal
scale ``s`` sees frames sampled every ``n_frames_D**s`` frames (s = 0 is consecutive
frames), each a :class:`~vid2vid.nn.discriminator.MultiScaleDiscriminator` over space. Flows
enter divided by 20, as in the original.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from vid2vid.nn.discriminator import MultiScaleDiscriminator

__all__ = ["TemporalDiscriminator"]


class TemporalDiscriminator(nn.Module):
    """Temporal discriminators, one per temporal scale.

    Args:
        n_frames_D: frames per window (K).
        output_nc: channels of a frame.
        ndf, n_layers, num_D, norm, ndf_max: as :class:`MultiScaleDiscriminator`.
        n_scales_temporal: number of temporal scales (``TrainConfig.n_scales_temporal``, the
            original's ``n_scales_temporal``; the old keyword ``n_temporal_scales`` still works
            with a ``DeprecationWarning``).
        flow_scale: multiplier of the flows (pixels) before they are concatenated (1/20).
    """

    def __init__(
        self,
        n_frames_D: int = 3,
        output_nc: int = 3,
        ndf: int = 64,
        n_layers: int = 3,
        num_D: int = 2,
        norm: str = "batch",
        ndf_max: int = 64,
        n_scales_temporal: int = 2,
        flow_scale: float = 1.0 / 20.0,
        *,
        n_temporal_scales: int | None = None,
    ) -> None:
        super().__init__()
        if n_temporal_scales is not None:
            import warnings

            warnings.warn(
                "TemporalDiscriminator(n_temporal_scales=...) is deprecated: use n_scales_temporal "
                "(the name TrainConfig and the original use)",
                DeprecationWarning,
                stacklevel=2,
            )
            n_scales_temporal = n_temporal_scales
        if n_frames_D < 2:
            raise ValueError(f"n_frames_D must be >= 2, got {n_frames_D}")
        if n_scales_temporal < 1:
            raise ValueError(f"n_scales_temporal must be >= 1, got {n_scales_temporal}")
        self.n_frames_D = n_frames_D
        self.output_nc = output_nc
        self.flow_scale = flow_scale
        input_nc = output_nc * n_frames_D + 2 * (n_frames_D - 1)
        self.scales = nn.ModuleList(
            MultiScaleDiscriminator(input_nc, ndf, n_layers, num_D, norm, ndf_max)
            for _ in range(n_scales_temporal)
        )

    def frame_stride(self, temporal_scale: int) -> int:
        """Distance between the frames of one window at ``temporal_scale``: ``n_frames_D**temporal_scale``."""
        return self.n_frames_D**temporal_scale

    def forward(self, frames: Tensor, flows: Tensor, temporal_scale: int = 0) -> list[list[Tensor]]:
        """Score windows of frames.

        Args:
            frames: ``(B, n_frames_D, output_nc, H, W)`` in ``[-1, 1]``, oldest first, sampled every
                :meth:`frame_stride` frames.
            flows: ``(B, n_frames_D - 1, 2, H, W)`` pixels: the backward flow of frames 1..K-1 of
                the window onto their predecessor in the window.
            temporal_scale: which temporal discriminator.

        Returns:
            The multi-scale discriminator's features (see :class:`MultiScaleDiscriminator`).
        """
        k = self.n_frames_D
        if not 0 <= temporal_scale < len(self.scales):
            raise ValueError(f"temporal_scale must be in [0, {len(self.scales)}), got {temporal_scale}")
        if frames.dim() != 5 or frames.shape[1] != k or frames.shape[2] != self.output_nc:
            raise ValueError(f"frames must be (B, {k}, {self.output_nc}, H, W), got {tuple(frames.shape)}")
        expected_flow = (frames.shape[0], k - 1, 2, *frames.shape[-2:])
        if tuple(flows.shape) != expected_flow:
            raise ValueError(f"flows must be {expected_flow}, got {tuple(flows.shape)}")
        x = torch.cat([frames.flatten(1, 2), flows.flatten(1, 2) * self.flow_scale], dim=1)
        return self.scales[temporal_scale](x)
