"""Evaluation metrics of video synthesis: quality, distribution and temporal consistency.

- quality against the ground truth, per frame: :func:`psnr`, :func:`ssim`, :class:`LPIPS`;
- distributions: :class:`FrechetInceptionDistance` (frames), :class:`FrechetVideoDistance`
  (clips), both on :func:`frechet_distance` of Gaussians fitted to a feature network's outputs;
- temporal consistency: :func:`warp_error` (along a reference flow), :func:`flicker` and
  :func:`temporal_change_ratio`, :func:`temporal_lpips` (tLP), :func:`temporal_flow_difference` (tOF);
- :class:`VideoEvaluator` computes them all over a set of clips; :func:`write_report` writes JSON,
  markdown and figures (``vid2vid evaluate`` does both with a model or a folder of videos).

Metrics use ``vid2vid.flow`` and ``vid2vid.data``, never ``vid2vid.training``. Frames are float
``(N, 3, H, W)`` in ``[-1, 1]``. The feature networks' weights are read from local files or the
torch hub cache (:mod:`vid2vid.metrics.weights`); ``weights=None`` gives random networks for tests.
"""

from vid2vid.metrics.evaluator import HIGHER_IS_BETTER, METRICS, ClipResult, VideoEvaluator
from vid2vid.metrics.fid import FrechetInceptionDistance, InceptionFeatures
from vid2vid.metrics.flicker import flicker, temporal_change_ratio
from vid2vid.metrics.flow_difference import temporal_flow_difference
from vid2vid.metrics.frechet import GaussianStatistics, frechet_distance
from vid2vid.metrics.fvd import FrechetVideoDistance, I3DFeatures
from vid2vid.metrics.i3d import InceptionI3d
from vid2vid.metrics.lpips import LPIPS
from vid2vid.metrics.psnr import psnr
from vid2vid.metrics.report import write_report
from vid2vid.metrics.ssim import ssim
from vid2vid.metrics.temporal_lpips import temporal_lpips
from vid2vid.metrics.warp_error import warp_error

__all__ = [
    "psnr",
    "ssim",
    "LPIPS",
    "frechet_distance",
    "GaussianStatistics",
    "FrechetInceptionDistance",
    "InceptionFeatures",
    "FrechetVideoDistance",
    "I3DFeatures",
    "InceptionI3d",
    "warp_error",
    "flicker",
    "temporal_change_ratio",
    "temporal_lpips",
    "temporal_flow_difference",
    "VideoEvaluator",
    "ClipResult",
    "METRICS",
    "HIGHER_IS_BETTER",
    "write_report",
]
