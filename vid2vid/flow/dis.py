"""DIS reference flow (Kroeger et al., ECCV 2016) through OpenCV: CPU, no weights.

A stand-in for the original's FlowNet2 reference flow (vid2vid paper §3.2) that needs neither
a GPU nor a download. Flow is computed on 8-bit grayscale frames, one pair at a time.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from vid2vid.flow.estimator import FlowEstimator

__all__ = ["DISFlow", "DIS_PRESETS"]

DIS_PRESETS: tuple[str, ...] = ("ultrafast", "fast", "medium")


def _to_gray_uint8(frames: Tensor) -> np.ndarray:
    """``(B, 3, H, W)`` float in ``[-1, 1]`` → ``(B, H, W)`` uint8 luma (ITU-R BT.601 weights)."""
    rgb = ((frames.clamp(-1.0, 1.0) + 1.0) * 127.5).detach().cpu()
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=rgb.dtype).view(1, 3, 1, 1)
    gray = (rgb * weights).sum(dim=1).round().clamp(0, 255)
    return gray.to(torch.uint8).numpy()


class DISFlow(FlowEstimator):
    """Backward flow with OpenCV's Dense Inverse Search.

    Args:
        preset: ``"medium"`` (most accurate), ``"fast"`` or ``"ultrafast"``.

    Runs on CPU whatever the input device; the result is returned on the input's device.
    """

    def __init__(self, preset: str = "medium") -> None:
        import cv2

        presets = {
            "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
            "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
            "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
        }
        if preset not in presets:
            raise ValueError(f"DIS preset must be one of {', '.join(DIS_PRESETS)}, got {preset!r}")
        self.preset = preset
        self.name = f"dis_{preset}"
        self._dis = cv2.DISOpticalFlow_create(presets[preset])

    def _estimate(self, frame: Tensor, prev_frame: Tensor) -> Tensor:
        current = _to_gray_uint8(frame)
        previous = _to_gray_uint8(prev_frame)
        flows = []
        for cur, prev in zip(current, previous, strict=True):
            # calc(I0, I1) gives u on I0's grid with I0(x) ≈ I1(x + u(x)): with (frame t, frame t-1)
            # that is the backward flow of frame t.
            flow = self._dis.calc(np.ascontiguousarray(cur), np.ascontiguousarray(prev), None)
            flows.append(torch.from_numpy(np.ascontiguousarray(flow.transpose(2, 0, 1))))
        return torch.stack(flows).float()

    def __repr__(self) -> str:
        return f"DISFlow(preset={self.preset!r})"
