"""Input checks shared by the metrics (frames in ``[-1, 1]``, channels first)."""

from __future__ import annotations

from torch import Tensor


def check_frames(x: Tensor, name: str, channels: int | None = 3) -> Tensor:
    """``x`` as ``(N, C, H, W)`` floating point; a single ``(C, H, W)`` frame gets ``N = 1``.

    Raises:
        ValueError: not a float tensor of 3 or 4 dimensions (or the wrong channel count).
    """
    if not isinstance(x, Tensor):
        raise ValueError(
            f"{name} must be a torch.Tensor of frames (N, C, H, W) in [-1, 1], got {type(x).__name__}"
        )
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4:
        raise ValueError(f"{name} must be (N, C, H, W) frames in [-1, 1], got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(
            f"{name} must be a float tensor in [-1, 1], got {x.dtype} (convert uint8 frames with x / 127.5 - 1)"
        )
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name} must have {channels} channels, got shape {tuple(x.shape)}")
    return x


def check_pair(pred: Tensor, target: Tensor, channels: int | None = 3) -> tuple[Tensor, Tensor]:
    """Both checked with :func:`check_frames` and of the same shape."""
    pred, target = check_frames(pred, "pred", channels), check_frames(target, "target", channels)
    if pred.shape != target.shape:
        raise ValueError(
            f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must have the same shape"
        )
    return pred, target


def check_clip(x: Tensor, name: str) -> Tensor:
    """``x`` as ``(B, T, 3, H, W)`` float; a single ``(T, 3, H, W)`` clip gets ``B = 1``."""
    if not isinstance(x, Tensor):
        raise ValueError(
            f"{name} must be a torch.Tensor clip (B, T, 3, H, W) in [-1, 1], got {type(x).__name__}"
        )
    if x.dim() == 4:
        x = x.unsqueeze(0)
    if x.dim() != 5 or x.shape[2] != 3:
        raise ValueError(f"{name} must be a clip (B, T, 3, H, W) in [-1, 1], got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a float tensor in [-1, 1], got {x.dtype}")
    return x
