"""Instance features at test time (pix2pixHD §3.3 "instance-level feature embedding").

A multimodal image generator takes, after the encoded labels, an ``F``-channel feature map that
is constant inside every instance. At test time pix2pixHD fills it per instance with a cluster
centre drawn at random among the K-means clusters of that instance's class (its
``sample_features``); which centre is drawn selects a mode of appearance (a car's colour, a
road's texture). :class:`InstanceFeatureSampler` does this with a seeded generator and keeps each
instance's choice for as long as it lives, so that a clip synthesised frame by frame keeps every
object's appearance.

Instance ids follow Cityscapes: ``class_id * 1000 + k`` for countable objects, the class id for
the rest (an instance's class is ``id // 1000`` when ``id >= 1000``, else ``id``).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

__all__ = ["InstanceFeatureSampler"]


class InstanceFeatureSampler:
    """Per-instance feature maps drawn from per-class clusters, reproducibly.

    Args:
        clusters: ``"class_<id>"`` → ``(K, F)`` float cluster centres (classes without an entry,
            or with ``K == 0``, get zero features, as in pix2pixHD).
        feature_channels: ``F``.
        seed: seed of the draws (``None``: fresh randomness). Same seed and same instance ids in
            the same order → same features.

    One sampler serves one clip (or one batch of clips): instance ``i`` of batch element ``b``
    keeps its centre across calls.
    """

    def __init__(
        self, clusters: Mapping[str, Tensor], feature_channels: int, seed: int | None = None
    ) -> None:
        if feature_channels < 1:
            raise ValueError(f"feature_channels must be >= 1, got {feature_channels}")
        for key, centres in clusters.items():
            if not key.startswith("class_") or not key[len("class_") :].isdigit():
                raise ValueError(f"feature cluster keys must look like 'class_<id>', got {key!r}")
            if centres.dim() != 2 or (centres.shape[0] and centres.shape[1] != feature_channels):
                raise ValueError(
                    f"feature cluster {key} has shape {tuple(centres.shape)}; the generator expects "
                    f"(K, {feature_channels})"
                )
        self.clusters = {int(k[len("class_") :]): v.detach().float().cpu() for k, v in clusters.items()}
        self.feature_channels = feature_channels
        self.generator = torch.Generator().manual_seed(seed) if seed is not None else None
        self.chosen: dict[tuple[int, int], Tensor] = {}

    def _vector(self, batch_index: int, instance_id: int) -> Tensor:
        key = (batch_index, instance_id)
        if key not in self.chosen:
            cls = instance_id // 1000 if instance_id >= 1000 else instance_id
            centres = self.clusters.get(cls)
            if centres is None or centres.shape[0] == 0:
                vector = torch.zeros(self.feature_channels)
            else:
                k = int(torch.randint(centres.shape[0], (1,), generator=self.generator))
                vector = centres[k]
            self.chosen[key] = vector
        return self.chosen[key]

    def __call__(self, instances: Tensor, dtype: torch.dtype = torch.float32) -> Tensor:
        """Features for one frame.

        Args:
            instances: ``(B, H, W)`` int64 instance ids.
            dtype: floating dtype of the result.

        Returns:
            ``(B, F, H, W)`` on ``instances``' device, constant inside every instance.
        """
        if instances.dim() != 3 or instances.dtype.is_floating_point:
            raise ValueError(
                f"instances must be (B, H, W) integer ids, got {tuple(instances.shape)} {instances.dtype}"
            )
        b, h, w = instances.shape
        out = torch.zeros(b, self.feature_channels, h, w, dtype=dtype, device=instances.device)
        for i in range(b):
            ids, inverse = torch.unique(instances[i], return_inverse=True)
            table = torch.stack([self._vector(i, int(v)) for v in ids.tolist()])  # (N, F)
            out[i] = table.to(device=instances.device, dtype=dtype)[inverse].permute(2, 0, 1)
        return out
