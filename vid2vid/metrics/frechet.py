"""The Fréchet distance between Gaussians fitted to feature sets (the core of FID and FVD).

``d² = |μ₁ - μ₂|² + tr(Σ₁) + tr(Σ₂) - 2 tr((Σ₁ Σ₂)^{1/2})`` (Dowson & Landau 1982; Heusel et
al. 2017). ``tr((Σ₁ Σ₂)^{1/2})`` is computed as the sum of the square roots of the eigenvalues
of the symmetric matrix ``Σ₁^{1/2} Σ₂ Σ₁^{1/2}`` (same spectrum as ``Σ₁ Σ₂``), in float64,
with tiny negative eigenvalues from rounding clamped to zero: no SciPy needed.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["frechet_distance", "GaussianStatistics"]


def _sqrtm_psd(a: Tensor) -> Tensor:
    vals, vecs = torch.linalg.eigh(a)
    return (vecs * vals.clamp(min=0).sqrt()) @ vecs.T


def frechet_distance(mu1: Tensor, sigma1: Tensor, mu2: Tensor, sigma2: Tensor) -> float:
    """Squared Fréchet (2-Wasserstein) distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    Args:
        mu1, mu2: ``(D,)`` means.
        sigma1, sigma2: ``(D, D)`` symmetric positive semi-definite covariances.

    Returns:
        The distance (``>= 0`` up to rounding) as a Python float.
    """
    mu1, mu2 = mu1.double().flatten(), mu2.double().flatten()
    s1, s2 = sigma1.double(), sigma2.double()
    d = mu1.numel()
    if mu2.numel() != d or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(
            f"means must be (D,) and covariances (D, D) with one D, got {tuple(mu1.shape)}, "
            f"{tuple(sigma1.shape)}, {tuple(mu2.shape)}, {tuple(sigma2.shape)}"
        )
    s1, s2 = (s1 + s1.T) / 2, (s2 + s2.T) / 2
    r1 = _sqrtm_psd(s1)
    middle = r1 @ s2 @ r1
    tr_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    dist = (mu1 - mu2).pow(2).sum() + torch.trace(s1) + torch.trace(s2) - 2 * tr_sqrt
    return float(dist)


class GaussianStatistics:
    """Running mean and covariance of feature vectors (float64 sums, unbiased covariance).

    Args:
        dim: feature dimension ``D``.
    """

    def __init__(self, dim: int) -> None:
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self.dim = dim
        self.count = 0
        self._sum = torch.zeros(dim, dtype=torch.float64)
        self._outer = torch.zeros(dim, dim, dtype=torch.float64)

    def update(self, features: Tensor) -> None:
        """Add ``(N, D)`` feature vectors."""
        if features.dim() != 2 or features.shape[1] != self.dim:
            raise ValueError(f"features must be (N, {self.dim}), got {tuple(features.shape)}")
        f = features.detach().double().cpu()
        self.count += f.shape[0]
        self._sum += f.sum(dim=0)
        self._outer += f.T @ f

    @property
    def mean(self) -> Tensor:
        """``(D,)`` float64 mean."""
        if self.count < 1:
            raise ValueError("no features were added")
        return self._sum / self.count

    @property
    def covariance(self) -> Tensor:
        """``(D, D)`` float64 unbiased covariance (needs at least 2 vectors)."""
        if self.count < 2:
            raise ValueError(f"a covariance needs at least 2 feature vectors, got {self.count}")
        mu = self.mean
        return (self._outer - self.count * torch.outer(mu, mu)) / (self.count - 1)

    def distance(self, other: GaussianStatistics) -> float:
        """Fréchet distance between the two fitted Gaussians."""
        return frechet_distance(self.mean, self.covariance, other.mean, other.covariance)


class FrechetMetric:
    """Fréchet distance between the features of a real and a generated set, accumulated in batches.

    The base of :class:`~vid2vid.metrics.fid.FrechetInceptionDistance` and
    :class:`~vid2vid.metrics.fvd.FrechetVideoDistance`: subclasses turn their inputs into
    ``(N, D)`` features in :meth:`_features`.
    """

    def __init__(self) -> None:
        self.real: GaussianStatistics | None = None
        self.fake: GaussianStatistics | None = None

    def _features(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def reset(self) -> None:
        """Forget both sets."""
        self.real = self.fake = None

    def update(self, x: Tensor, real: bool) -> None:
        """Add a batch to the real (``real=True``) or generated set."""
        feats = self._features(x)
        attr = "real" if real else "fake"
        stats = getattr(self, attr)
        if stats is None:
            stats = GaussianStatistics(feats.shape[1])
            setattr(self, attr, stats)
        stats.update(feats)

    def compute(self) -> float:
        """The distance (needs at least 2 samples in each set)."""
        if self.real is None or self.fake is None:
            raise ValueError(
                "add real and generated samples with update(x, real=True/False) before compute()"
            )
        return self.real.distance(self.fake)
