"""The face crop of the original's face discriminator (``add_face_disc``, pose → body).

The original's ``Vid2VidModelD.get_face_region`` finds the face in the pose input maps of a chunk
and crops a square of ``fine_size // 32 * 8`` pixels around it, the same for every frame of the
chunk: with DensePose in the input, the face is where channel 2 exceeds 0.9 (the head parts of
the DensePose part index); with OpenPose only, where a pixel has the colour OpenPose renders the
face with (channel 0 in (0.19, 0.21), channel 1 < -0.99, channel 2 in (-0.61, -0.59), inputs in
``[-1, 1]``).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["face_region"]


def face_region(inputs: Tensor, crop: int, openpose_only: bool = False) -> tuple[int, int, int, int] | None:
    """The face box ``(y0, y1, x0, x1)`` of a chunk's input maps, or ``None`` when no face is visible.

    Args:
        inputs: ``(N, C, H, W)`` float pose input maps in ``[-1, 1]`` of the chunk's frames
            (``C >= 3``).
        crop: side of the square box (the original: ``fine_size // 32 * 8``).
        openpose_only: the inputs hold OpenPose renderings only (the face-colour rule).

    Returns:
        Slices ``[y0:y1, x0:x1]`` of side ``2 * (crop // 2)``, centred on the middle of the face's
        bounding box over all frames and moved inside the image.
    """
    if inputs.dim() != 4 or inputs.shape[1] < 3:
        raise ValueError(f"inputs must be (N, C >= 3, H, W) pose maps, got {tuple(inputs.shape)}")
    if crop < 2:
        raise ValueError(f"crop must be >= 2 pixels, got {crop}")
    _, _, h, w = inputs.shape
    if openpose_only:
        a = inputs
        mask = (a[:, 0] > 0.19) & (a[:, 0] < 0.21) & (a[:, 1] < -0.99) & (a[:, 2] > -0.61) & (a[:, 2] < -0.59)
    else:
        mask = inputs[:, 2] > 0.9
    hit = torch.nonzero(mask)
    if hit.shape[0] == 0:
        return None
    y, x = hit[:, 1], hit[:, 2]
    half = crop // 2
    yc = (int(y.min()) + int(y.max())) // 2
    xc = (int(x.min()) + int(x.max())) // 2
    yc = max(half, min(h - 1 - half, yc))
    xc = max(half, min(w - 1 - half, xc))
    return yc - half, yc + half, xc - half, xc + half
