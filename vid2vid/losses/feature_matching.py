"""Discriminator feature matching loss (pix2pixHD §3.2, used by vid2vid for both discriminators).

The generator is asked to reproduce, at every layer of every discriminator scale, the features
the discriminator extracts from the real input. The original weights each layer's L1 distance by
``4 / (n_layers_D + 1)`` and each scale by ``1 / num_D`` (and the whole term by
``lambda_feat = 10``, which lives in the training configuration).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["FeatureMatchingLoss"]


class FeatureMatchingLoss(nn.Module):
    """L1 between a discriminator's features of the fake and of the real input.

    ``loss = Σ_i Σ_{j < L_i - 1}  (1 / num_D) · (4 / (n_layers_D + 1)) · mean|F_ij(fake) - F_ij(real)|``

    where ``i`` runs over the ``num_D`` scales (inferred from the inputs), ``j`` over each scale's
    feature maps except the last entry (the patch prediction, not matched), and ``L_i`` is the
    number of entries of scale ``i``. A PatchGAN with ``n_layers_D`` strided layers returns
    ``n_layers_D + 2`` entries, so ``n_layers_D + 1`` feature maps are matched per scale and the
    per-layer weights of one scale sum to 4 (whatever ``n_layers_D``), the scales' to 4 in all.

    Args:
        n_layers_D: the discriminator's ``n_layers_D``; when given, each scale must have exactly
            ``n_layers_D + 2`` entries. ``None`` infers it per scale as ``L_i - 2``.
        num_D: the ``num_D`` of the ``1 / num_D`` scale weight; ``None`` uses the number of scales
            given. (The original's face discriminator has ``max(1, num_D - 2)`` scales but is
            weighted with the main discriminator's ``1 / num_D``.)
    """

    def __init__(self, n_layers_D: int | None = None, num_D: int | None = None) -> None:
        super().__init__()
        if n_layers_D is not None and n_layers_D < 0:
            raise ValueError(f"n_layers_D must be >= 0, got {n_layers_D}")
        if num_D is not None and num_D < 1:
            raise ValueError(f"num_D must be >= 1, got {num_D}")
        self.n_layers_D = n_layers_D
        self.num_D = num_D

    def extra_repr(self) -> str:
        return f"n_layers_D={self.n_layers_D}, num_D={self.num_D}"

    def forward(
        self, fake_features: Sequence[Sequence[Tensor]], real_features: Sequence[Sequence[Tensor]]
    ) -> Tensor:
        """Weighted L1 between matching feature maps; the real features are detached.

        Args:
            fake_features: list over scales of lists of feature maps ``(B, C_ij, h_ij, w_ij)``
                from the discriminator run on the generated input (keeps its graph).
            real_features: the same structure and shapes, from the real input.

        Returns:
            Scalar tensor, dtype of the features.
        """
        self._check_structure(fake_features, real_features)
        num_d = self.num_D if self.num_D is not None else len(fake_features)
        total: Tensor | None = None
        for i, (fake_scale, real_scale) in enumerate(zip(fake_features, real_features, strict=True)):
            n_layers = self.n_layers_D if self.n_layers_D is not None else len(fake_scale) - 2
            if len(fake_scale) != n_layers + 2:
                raise ValueError(
                    f"scale {i} has {len(fake_scale)} entries but n_layers_D={self.n_layers_D} "
                    f"implies {n_layers + 2} (n_layers_D + 1 feature maps and the prediction)"
                )
            weight = (4.0 / (n_layers + 1)) / num_d
            for fake, real in zip(fake_scale[:-1], real_scale[:-1], strict=True):
                term = F.l1_loss(fake, real.detach()) * weight
                total = term if total is None else total + term
        assert total is not None  # _check_structure guarantees at least one matched map
        return total

    @staticmethod
    def _check_structure(fake: Sequence[Sequence[Tensor]], real: Sequence[Sequence[Tensor]]) -> None:
        for name, feats in (("fake_features", fake), ("real_features", real)):
            if isinstance(feats, Tensor) or not isinstance(feats, Sequence) or len(feats) == 0:
                raise ValueError(f"{name} must be a non-empty list over scales of lists of feature maps")
            for i, scale in enumerate(feats):
                if isinstance(scale, Tensor) or not isinstance(scale, Sequence):
                    raise ValueError(
                        f"{name}[{i}] must be a list of feature maps (the discriminator must return "
                        f"intermediate features), got {type(scale).__name__}"
                    )
                if len(scale) < 2:
                    raise ValueError(
                        f"{name}[{i}] has {len(scale)} entries: feature matching needs the intermediate "
                        "features followed by the prediction (build the discriminator with "
                        "intermediate features enabled)"
                    )
        if len(fake) != len(real):
            raise ValueError(f"fake_features has {len(fake)} scales but real_features has {len(real)}")
        for i, (fake_scale, real_scale) in enumerate(zip(fake, real, strict=True)):
            if len(fake_scale) != len(real_scale):
                raise ValueError(
                    f"scale {i}: fake has {len(fake_scale)} feature maps but real has {len(real_scale)}"
                )
            for j, (f, r) in enumerate(zip(fake_scale, real_scale, strict=True)):
                if f.shape != r.shape:
                    raise ValueError(
                        f"scale {i} layer {j}: fake shape {tuple(f.shape)} != real shape {tuple(r.shape)}"
                    )
