"""Adversarial losses for the image and temporal discriminators (vid2vid §3.2, pix2pixHD §3.2).

The original trains with least-squares GAN (LSGAN): the discriminator's patch predictions are
pushed to 1 on real and 0 on fake inputs with a mean squared error, summed over the
discriminator's scales. Hinge and non-saturating (binary cross-entropy on logits) objectives
are offered as well. Relative weights (λ) belong to the training configuration.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["GANLoss", "GAN_MODES", "DiscriminatorOutput", "prediction_maps"]

#: Accepted ``mode`` strings; ``"vanilla"`` is an alias of ``"non_saturating"``.
GAN_MODES: tuple[str, ...] = ("lsgan", "hinge", "non_saturating", "vanilla")
_ALIASES = {"vanilla": "non_saturating"}

#: What a discriminator returns: a tensor, a flat list of per-scale predictions, or a list over
#: scales of lists of per-layer feature maps whose last entry is the patch prediction.
DiscriminatorOutput = Tensor | Sequence[Tensor] | Sequence[Sequence[Tensor]]


def prediction_maps(predictions: DiscriminatorOutput) -> list[Tensor]:
    """The patch predictions (one per scale) held in a discriminator's output.

    Args:
        predictions: one of
            - a tensor ``(B, 1, h, w)``: a single prediction map;
            - a flat list of tensors: one prediction map per scale;
            - a list over scales of lists of per-layer feature maps (what our multi-scale
              discriminators return): the last entry of each inner list is the prediction.

    Returns:
        The prediction maps, one per scale, unchanged (same tensors, gradients intact).
    """
    if isinstance(predictions, Tensor):
        return [predictions]
    if not isinstance(predictions, Sequence) or isinstance(predictions, str) or len(predictions) == 0:
        raise ValueError(
            "discriminator output must be a tensor, a non-empty list of tensors (one per scale) or a "
            f"non-empty list over scales of lists of feature maps; got {_describe(predictions)}"
        )
    if all(isinstance(p, Tensor) for p in predictions):
        return list(predictions)
    maps = []
    for i, scale in enumerate(predictions):
        if (
            isinstance(scale, Tensor)
            or not isinstance(scale, Sequence)
            or len(scale) == 0
            or not all(isinstance(f, Tensor) for f in scale)
        ):
            raise ValueError(
                "discriminator output mixes tensors and lists or holds an empty/non-tensor scale: "
                f"scale {i} is {_describe(scale)}; expected a list over scales of lists of tensors"
            )
        maps.append(scale[-1])
    return maps


def _describe(obj: object) -> str:
    if isinstance(obj, Tensor):
        return f"tensor of shape {tuple(obj.shape)}"
    if isinstance(obj, Sequence) and not isinstance(obj, str):
        return f"{type(obj).__name__} of length {len(obj)}"
    return type(obj).__name__


class GANLoss(nn.Module):
    """Adversarial loss over (multi-scale) discriminator predictions, summed over scales.

    Modes (``x`` is one scale's prediction map, raw logits, any shape, float):

    - ``"lsgan"`` (the original's default): ``mean((x - target)²)`` with ``target`` =
      ``real_label`` or ``fake_label``; the generator uses ``target_is_real=True``.
    - ``"hinge"``: discriminator ``mean(relu(1 - x))`` on real, ``mean(relu(1 + x))`` on fake;
      generator ``-mean(x)`` (call with ``target_is_real=True, for_discriminator=False``).
      ``real_label``/``fake_label`` are not used.
    - ``"non_saturating"`` (alias ``"vanilla"``): binary cross-entropy with logits against
      ``real_label``/``fake_label``; the generator uses ``target_is_real=True``.

    Targets are made with ``torch.full_like`` on every call, so they follow the prediction's
    device and dtype. The result is a scalar tensor.
    """

    def __init__(self, mode: str = "lsgan", real_label: float = 1.0, fake_label: float = 0.0) -> None:
        super().__init__()
        if mode not in GAN_MODES:
            raise ValueError(f"unknown GAN loss mode {mode!r}; expected one of {', '.join(GAN_MODES)}")
        self.mode = _ALIASES.get(mode, mode)
        self.real_label = float(real_label)
        self.fake_label = float(fake_label)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, real_label={self.real_label}, fake_label={self.fake_label}"

    def forward(
        self, predictions: DiscriminatorOutput, target_is_real: bool, for_discriminator: bool = True
    ) -> Tensor:
        """Loss of ``predictions`` against the real or fake target.

        Args:
            predictions: a discriminator's output (see :func:`prediction_maps`); each scale's
                prediction ``(B, 1, h, w)`` holds raw scores (no sigmoid).
            target_is_real: ``True`` for real inputs (and for the generator's loss on fakes),
                ``False`` for fakes seen by the discriminator.
            for_discriminator: only matters for ``"hinge"``, whose generator loss is ``-mean(x)``.

        Returns:
            Scalar tensor: the per-scale losses summed, dtype of the predictions.
        """
        maps = prediction_maps(predictions)
        if self.mode == "hinge" and not for_discriminator and not target_is_real:
            raise ValueError(
                "hinge generator loss is -mean(D(fake)): call with target_is_real=True, "
                "for_discriminator=False"
            )
        losses = [self._scale_loss(x, target_is_real, for_discriminator) for x in maps]
        total = losses[0]
        for loss in losses[1:]:
            total = total + loss
        return total

    def _scale_loss(self, x: Tensor, target_is_real: bool, for_discriminator: bool) -> Tensor:
        if self.mode == "hinge":
            if not for_discriminator:
                return -x.mean()
            return F.relu(1.0 - x).mean() if target_is_real else F.relu(1.0 + x).mean()
        target = torch.full_like(x, self.real_label if target_is_real else self.fake_label)
        if self.mode == "lsgan":
            return F.mse_loss(x, target)
        return F.binary_cross_entropy_with_logits(x, target)
