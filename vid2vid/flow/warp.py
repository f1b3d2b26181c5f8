"""Backward warping with optical flow (vid2vid §3.1: ``w̃_{t-1}(x̃_{t-1})``).

Convention (design notes §1): flow is ``(B, 2, H, W)`` in pixels, channel 0 = x. The
backward flow of frame ``t`` says where each pixel of frame ``t`` comes from in frame
``t-1``, so ``flow_warp(frame[t-1], flow[t]) ≈ frame[t]``. Sampling is bilinear with border
padding on a pixel-centre grid (``align_corners=True``), which is what the original
implementation computes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["FlowWarp", "flow_warp", "base_grid"]


def _check_warp_inputs(image: Tensor, flow: Tensor) -> None:
    if image.dim() != 4:
        raise ValueError(f"image must be (B, C, H, W), got shape {tuple(image.shape)}")
    if flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"flow must be (B, 2, H, W) in pixels, got shape {tuple(flow.shape)}")
    if image.shape[0] != flow.shape[0] or image.shape[-2:] != flow.shape[-2:]:
        raise ValueError(
            f"image {tuple(image.shape)} and flow {tuple(flow.shape)} must share batch size, height and width"
        )
    if image.shape[-2] < 2 or image.shape[-1] < 2:
        raise ValueError(f"warping needs height and width >= 2, got {tuple(image.shape[-2:])}")


def base_grid(
    height: int, width: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None
) -> Tensor:
    """Identity sampling grid in ``grid_sample``'s normalised coordinates.

    Returns:
        ``(1, 2, H, W)`` with channel 0 = x, channel 1 = y, both in ``[-1, 1]`` with the corners
        at pixel centres (``align_corners=True``).
    """
    xs = torch.linspace(-1.0, 1.0, width, device=device, dtype=dtype)
    ys = torch.linspace(-1.0, 1.0, height, device=device, dtype=dtype)
    grid_x = xs.view(1, 1, 1, width).expand(1, 1, height, width)
    grid_y = ys.view(1, 1, height, 1).expand(1, 1, height, width)
    return torch.cat([grid_x, grid_y], dim=1)


def _flow_scale(height: int, width: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    # Pixels -> normalised coordinates: (1, 2, 1, 1) holding ((W - 1) / 2, (H - 1) / 2).
    return torch.tensor([(width - 1.0) / 2.0, (height - 1.0) / 2.0], dtype=dtype).to(device).view(1, 2, 1, 1)


def flow_warp(image: Tensor, flow: Tensor, grid: Tensor | None = None, scale: Tensor | None = None) -> Tensor:
    """Warp ``image`` backwards with ``flow``.

    Args:
        image: ``(B, C, H, W)`` float, any range.
        flow: ``(B, 2, H, W)`` float, displacements in pixels (channel 0 = x).
        grid: optional ``(1, 2, H, W)`` identity grid from :func:`base_grid` (same device/dtype
            as ``flow``), to avoid rebuilding it on every call.
        scale: optional ``(1, 2, 1, 1)`` tensor ``((W - 1) / 2, (H - 1) / 2)`` on ``flow``'s
            device/dtype, likewise (a cached one keeps host-to-device copies out of the call,
            which CUDA-graph capture requires).

    Returns:
        ``(B, C, H, W)``, same dtype as ``image``: ``out[:, :, y, x] = image(x + flow_x, y + flow_y)``
        sampled bilinearly, coordinates outside the image clamped to the border.
    """
    _check_warp_inputs(image, flow)
    height, width = image.shape[-2:]
    if grid is None:
        grid = base_grid(height, width, device=flow.device, dtype=flow.dtype)
    if scale is None:
        scale = _flow_scale(height, width, flow.device, flow.dtype)
    sample_grid = (grid + flow / scale).permute(0, 2, 3, 1)
    if sample_grid.dtype != image.dtype:
        sample_grid = sample_grid.to(image.dtype)
    return F.grid_sample(image, sample_grid, mode="bilinear", padding_mode="border", align_corners=True)


class FlowWarp(nn.Module):
    """Backward warping module: :func:`flow_warp` with the identity grid cached.

    The cache holds one grid (and pixel-to-grid scale) per ``(H, W, device, dtype)`` (it is not
    part of the state dict); the module has no parameters and follows the input's device and dtype.
    """

    def __init__(self, max_cached_grids: int = 8) -> None:
        super().__init__()
        self.max_cached_grids = max_cached_grids
        self._grids: dict[tuple[int, int, torch.device, torch.dtype], Tensor] = {}
        self._scales: dict[tuple[int, int, torch.device, torch.dtype], Tensor] = {}

    def grid(self, height: int, width: int, device: torch.device, dtype: torch.dtype) -> Tensor:
        """Cached ``(1, 2, H, W)`` identity grid (see :func:`base_grid`)."""
        key = (height, width, device, dtype)
        grid = self._grids.get(key)
        if grid is None:
            if len(self._grids) >= self.max_cached_grids:
                oldest = next(iter(self._grids))
                self._grids.pop(oldest)
                self._scales.pop(oldest, None)
            grid = base_grid(height, width, device=device, dtype=dtype)
            self._grids[key] = grid
            self._scales[key] = _flow_scale(height, width, device, dtype)
        return grid

    def forward(self, image: Tensor, flow: Tensor) -> Tensor:
        """``image``: ``(B, C, H, W)``; ``flow``: ``(B, 2, H, W)`` pixels → warped ``(B, C, H, W)``."""
        _check_warp_inputs(image, flow)
        key = (image.shape[-2], image.shape[-1], flow.device, flow.dtype)
        grid = self.grid(*key)
        return flow_warp(image, flow, grid, self._scales[key])
