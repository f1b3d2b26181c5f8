"""Instance features for multimodal synthesis (pix2pixHD §3.3): encode the training set, K-means per class.

After training an :class:`~vid2vid.nn.InstanceFeatureEncoder` jointly with the image generator,
every instance of every training frame is encoded into one ``F``-dimensional vector (the encoder's
output is constant inside an instance); the vectors are grouped by semantic class and clustered
with K-means. At test time a cluster centre of each class is chosen to fill the feature map,
which selects a mode of appearance. The clusters are stored in a model folder's
``features.safetensors`` as ``"class_<id>" -> (K, F)``.

Instance ids follow Cityscapes: ``class_id * 1000 + k`` for countable objects, the class id for
the rest, so an instance's class is ``id // 1000`` when ``id >= 1000`` and ``id`` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

__all__ = ["instance_class", "encode_instance_features", "kmeans", "cluster_features"]


def instance_class(instance_id: int) -> int:
    """Semantic class of a Cityscapes-style instance id."""
    return instance_id // 1000 if instance_id >= 1000 else instance_id


@torch.no_grad()
def encode_instance_features(
    encoder: nn.Module, samples: Iterable[tuple[Tensor, Tensor]], device: torch.device | str = "cpu"
) -> dict[int, Tensor]:
    """One feature vector per instance of every frame, grouped by class.

    Args:
        encoder: an :class:`~vid2vid.nn.InstanceFeatureEncoder` (output constant per instance).
        samples: pairs ``(image (B, 3, H, W) in [-1, 1], instances (B, H, W) int64)``.
        device: where to run the encoder.

    Returns:
        ``{class_id: (N_c, F) float32}``, rows in encounter order.
    """
    grouped: dict[int, list[Tensor]] = {}
    was_training = encoder.training
    encoder.eval()
    param = next(encoder.parameters())
    for image, instances in samples:
        image = image.to(device=device, dtype=param.dtype)
        instances = instances.to(device)
        feats = encoder(image, instances)
        for b in range(image.shape[0]):
            for inst in torch.unique(instances[b]).tolist():
                ys, xs = torch.nonzero(instances[b] == inst, as_tuple=True)
                vector = feats[b, :, ys[0], xs[0]].float().cpu()
                grouped.setdefault(instance_class(int(inst)), []).append(vector)
    encoder.train(was_training)
    return {c: torch.stack(v) for c, v in sorted(grouped.items())}


def kmeans(points: Tensor, k: int, n_iter: int = 50, seed: int = 0) -> Tensor:
    """K-means (k-means++ seeding, Lloyd iterations), deterministic for a given ``seed``.

    Args:
        points: ``(N, F)`` float.
        k: number of clusters; ``min(k, number of distinct points)`` centres are returned.
        n_iter: maximum Lloyd iterations (stops earlier when assignments no longer change).
        seed: seed of the k-means++ draws.

    Returns:
        ``(K, F)`` cluster centres (dtype of ``points``), sorted by cluster size, largest first.
    """
    if points.dim() != 2 or points.shape[0] == 0:
        raise ValueError(f"points must be a non-empty (N, F) tensor, got shape {tuple(points.shape)}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    x = points.double()
    distinct = torch.unique(x, dim=0)
    k = min(k, distinct.shape[0])
    gen = torch.Generator().manual_seed(seed)
    centres = [x[torch.randint(x.shape[0], (1,), generator=gen).item()]]
    for _ in range(1, k):
        d2 = torch.cdist(x, torch.stack(centres)).pow(2).min(dim=1).values
        if float(d2.sum()) == 0.0:
            break
        centres.append(x[torch.multinomial(d2 / d2.sum(), 1, generator=gen).item()])
    c = torch.stack(centres)
    assign = torch.full((x.shape[0],), -1, dtype=torch.long)
    for _ in range(n_iter):
        new_assign = torch.cdist(x, c).argmin(dim=1)
        if torch.equal(new_assign, assign):
            break
        assign = new_assign
        for j in range(c.shape[0]):
            members = x[assign == j]
            if members.shape[0]:
                c[j] = members.mean(dim=0)
    counts = torch.bincount(assign, minlength=c.shape[0])
    order = torch.argsort(-counts, stable=True)
    return c[order].to(points.dtype)


def cluster_features(features: dict[int, Tensor], k: int = 10, seed: int = 0) -> dict[str, Tensor]:
    """K-means of each class's features: ``{"class_<id>": (K_c, F)}`` for a model folder."""
    return {f"class_{c}": kmeans(v, k, seed=seed + c) for c, v in sorted(features.items())}
