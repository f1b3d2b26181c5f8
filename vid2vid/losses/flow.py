"""Flow, warp and occlusion-mask losses (vid2vid §3.2, "flow estimation loss").

All terms are L1 distances masked by the reference flow's photometric confidence
``c`` (``(B, 1, H, W)`` in ``{0, 1}``, see :func:`vid2vid.flow.flow_confidence`), computed as
the original's ``MaskedL1Loss``: both sides are multiplied by the mask (broadcast over
channels) and the absolute difference is averaged over *all* ``B·C·H·W`` elements, not over
the confident ones only. The terms of the original (``vid2vid_model_D.py``), with their weights
(which live in the training configuration):

=============  ===============================================================  ==================
original name  computation                                                      weight
=============  ===============================================================  ==================
``F_Flow``     :class:`FlowLoss` ``(flow, flow_ref, conf)``                     ``10 / 2^(S-1)``
``F_Warp``     :class:`WarpLoss` ``(real_prev, flow, real, conf)``              ``10``
``G_Warp``     :class:`WarpLoss` ``(fake_prev, flow_ref, fake, conf)``,         ``10``
               with ``detach_warped=True``
``W``          :class:`OcclusionMaskLoss` ``(weight, conf)`` (only when the     ``1``
               model starts without real first frames)
=============  ===============================================================  ==================

``flow`` is the generator's flow, ``flow_ref`` the reference (estimated) flow, ``weight`` the
generator's occlusion mask ``m`` of ``x = h·m + warp(x_prev, flow)·(1-m)``, and ``S`` the
number of spatial scales.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from vid2vid.flow.warp import FlowWarp

__all__ = ["masked_l1_loss", "FlowLoss", "WarpLoss", "OcclusionMaskLoss"]


def masked_l1_loss(input: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """``mean(|input·mask - target·mask|)`` over all elements (the original's ``MaskedL1Loss``).

    Args:
        input: ``(B, C, H, W)`` float.
        target: ``(B, C, H, W)`` float.
        mask: ``(B, 1, H, W)`` or ``(B, C, H, W)``, values in ``[0, 1]`` (float or bool);
            detached, broadcast over channels.

    Returns:
        Scalar tensor, dtype of ``input``.
    """
    if input.dim() != 4:
        raise ValueError(f"input must be (B, C, H, W), got shape {tuple(input.shape)}")
    if input.shape != target.shape:
        raise ValueError(
            f"input {tuple(input.shape)} and target {tuple(target.shape)} must have the same shape"
        )
    b, c, h, w = input.shape
    if mask.dim() != 4 or mask.shape[0] != b or mask.shape[1] not in (1, c) or mask.shape[-2:] != (h, w):
        raise ValueError(
            f"mask must be (B, 1, H, W) or (B, C, H, W) = ({b}, 1 or {c}, {h}, {w}), got {tuple(mask.shape)}"
        )
    mask = mask.detach().to(input.dtype)
    return F.l1_loss(input * mask, target * mask)


class FlowLoss(nn.Module):
    """Masked L1 between the generated flow and the reference flow (the original's ``F_Flow``)."""

    def forward(self, flow: Tensor, flow_ref: Tensor, conf: Tensor) -> Tensor:
        """Loss of the generated flow against the reference.

        Args:
            flow: ``(B, 2, H, W)`` float, generated backward flow in pixels (keeps its graph).
            flow_ref: ``(B, 2, H, W)`` float, reference flow in pixels (detached).
            conf: ``(B, 1, H, W)`` in ``{0, 1}``, confidence of ``flow_ref``.

        Returns:
            Scalar tensor: ``mean(|flow·c - flow_ref·c|)`` over ``B·2·H·W`` elements.
        """
        if flow.dim() != 4 or flow.shape[1] != 2:
            raise ValueError(f"flow must be (B, 2, H, W) in pixels, got shape {tuple(flow.shape)}")
        return masked_l1_loss(flow, flow_ref.detach(), conf)


class WarpLoss(nn.Module):
    """Masked L1 between a previous frame warped by a flow and the current frame.

    ``loss = mean(|warp(prev_frame, flow)·c - frame·c|)`` (bilinear backward warping, see
    :func:`vid2vid.flow.flow_warp`). The original uses it twice:

    - ``F_Warp`` (teaches the flow): ``WarpLoss()(real_prev, flow, real, conf)`` — the generated
      flow must carry the previous real frame onto the current real frame; gradients reach
      ``flow``.
    - ``G_Warp`` (teaches temporal consistency of the frames):
      ``WarpLoss(detach_warped=True)(fake_prev, flow_ref, fake, conf)`` — the current generated
      frame must match the previous generated frame carried by the *reference* flow; the warped
      frame is a fixed target, gradients reach ``fake`` only.

    Args:
        detach_warped: stop gradients through the warped previous frame (and so into
            ``prev_frame`` and ``flow``).
    """

    def __init__(self, detach_warped: bool = False) -> None:
        super().__init__()
        self.detach_warped = detach_warped
        self.warp = FlowWarp()

    def extra_repr(self) -> str:
        return f"detach_warped={self.detach_warped}"

    def forward(self, prev_frame: Tensor, flow: Tensor, frame: Tensor, conf: Tensor) -> Tensor:
        """Loss between ``warp(prev_frame, flow)`` and ``frame``.

        Args:
            prev_frame: ``(B, C, H, W)`` float in ``[-1, 1]``, frame ``t-1``.
            flow: ``(B, 2, H, W)`` float, backward flow of frame ``t`` in pixels.
            frame: ``(B, C, H, W)`` float in ``[-1, 1]``, frame ``t``.
            conf: ``(B, 1, H, W)`` in ``{0, 1}``, confidence of the reference flow.

        Returns:
            Scalar tensor, averaged over ``B·C·H·W`` elements.
        """
        if prev_frame.shape != frame.shape:
            raise ValueError(
                f"prev_frame {tuple(prev_frame.shape)} and frame {tuple(frame.shape)} "
                "must have the same shape"
            )
        warped = self.warp(prev_frame, flow)
        if self.detach_warped:
            warped = warped.detach()
        return masked_l1_loss(warped, frame, conf)


class OcclusionMaskLoss(nn.Module):
    """Pushes the occlusion mask toward 0 where the reference flow is confident (the original's ``W``).

    With ``x = h·m + warp(x_prev, flow)·(1-m)``, ``m → 0`` means "reuse the warped previous
    frame"; where the reference flow explains the motion the generator should do so. The original
    adds this term only when training without real first frames (``no_first_img``).
    """

    def forward(self, weight: Tensor, conf: Tensor) -> Tensor:
        """Loss ``mean(|m·c|)``.

        Args:
            weight: ``(B, 1, H, W)`` float in ``[0, 1]``, the generator's occlusion mask ``m``.
            conf: ``(B, 1, H, W)`` in ``{0, 1}``, confidence of the reference flow.

        Returns:
            Scalar tensor, averaged over ``B·H·W`` elements.
        """
        if weight.dim() != 4 or weight.shape[1] != 1:
            raise ValueError(f"weight must be (B, 1, H, W) in [0, 1], got shape {tuple(weight.shape)}")
        return masked_l1_loss(weight, weight.new_zeros(()).expand_as(weight), conf)
