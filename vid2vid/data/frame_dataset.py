"""Every frame of a clip dataset as one sample: the image model's epoch (pix2pixHD §4).

pix2pixHD trains on a set of images and an epoch visits each once. On a video dataset,
:class:`FrameDataset` makes that epoch: sample ``i`` is frame ``t`` of clip ``c`` (clips in
order, frames in order), with its own random augmentation, so an image model's schedule
(``niter`` + ``niter_decay`` epochs) counts passes over the training frames and its iterations
per epoch are ``frames // batch_size``.
"""

from __future__ import annotations

from torch import Tensor
from torch.utils.data import Dataset

from vid2vid.data.clip_dataset import ClipDataset
from vid2vid.data.transforms import sample_augment_params

__all__ = ["FrameDataset"]


class FrameDataset(Dataset):
    """Single frames of a :class:`ClipDataset`.

    Args:
        clips: the clip dataset (its geometry, flips, seed and label settings apply).

    A sample is a :class:`ClipDataset` sample with ``T = 1``: ``"labels"`` ``(1, H, W)`` int64
    (or ``"inputs"`` ``(1, C, H, W)``), ``"instances"`` ``(1, H, W)``, ``"frames"`` ``(1, 3, H, W)``
    float32 in ``[-1, 1]``, ``"clip"``, ``"start"`` (the frame's index in its clip).
    """

    def __init__(self, clips: ClipDataset) -> None:
        super().__init__()
        self.clips = clips
        self.index: list[tuple[int, int]] = [
            (c, t) for c, info in enumerate(clips.clips) for t in range(info.length)
        ]

    def __len__(self) -> int:
        """Number of frames over all clips."""
        return len(self.index)

    @property
    def n_clips(self) -> int:
        """Number of clips."""
        return len(self.clips)

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch of the per-sample randomness (see :meth:`ClipDataset.set_epoch`)."""
        self.clips.set_epoch(epoch)

    def set_n_frames(self, n_frames: int) -> None:
        """Samples are single frames: only ``n_frames == 1`` is accepted."""
        if n_frames != 1:
            raise ValueError(f"a FrameDataset yields single frames, got n_frames={n_frames}")

    def load_clip(self, clip: str | int) -> dict[str, Tensor | str | int]:
        """A whole clip for inference (see :meth:`ClipDataset.load_clip`)."""
        return self.clips.load_clip(clip)

    def __getitem__(self, index: int) -> dict[str, Tensor | str | int]:
        if not -len(self.index) <= index < len(self.index):
            raise IndexError(f"frame index {index} out of range for {len(self.index)} frames")
        index %= len(self.index)
        c, t = self.index[index]
        info = self.clips.clips[c]
        rng = self.clips._rng(index)  # seeded by (seed, epoch, frame index)
        params = sample_augment_params(info.size, self.clips.geometry, self.clips.flip, rng)
        sample = self.clips._load(info, [t], params)
        sample["t_step"] = 1
        return sample
