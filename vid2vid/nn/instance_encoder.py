"""Instance-wise feature encoder E (pix2pixHD §3.3; vid2vid §3.3 multimodal synthesis).

An encoder-decoder maps the real image to a low-dimensional feature map, which is then
averaged inside every instance so that each object carries one feature vector. At test time
features are drawn per class from clusters of the training set's features, which makes the
synthesis multimodal.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from vid2vid.nn.blocks import OutputConv
from vid2vid.nn.conv_stacks import DownsamplingEncoder, UpsamplingDecoder

__all__ = ["InstanceFeatureEncoder", "instance_average_pool"]


def instance_average_pool(features: Tensor, instances: Tensor) -> Tensor:
    """Replace every channel, inside each instance, by its mean over that instance.

    Vectorised with scatter-adds over ``(batch, instance)`` segments: no loop over instances
    or channels.

    Args:
        features: ``(B, C, H, W)`` float.
        instances: ``(B, H, W)`` or ``(B, 1, H, W)`` integer instance ids (any values).

    Returns:
        ``(B, C, H, W)``, constant inside every instance of every batch element.
    """
    if instances.dim() == 4 and instances.shape[1] == 1:
        instances = instances[:, 0]
    if features.dim() != 4 or instances.shape != (features.shape[0], *features.shape[-2:]):
        raise ValueError(
            f"features must be (B, C, H, W) and instances (B, H, W) of the same size, "
            f"got {tuple(features.shape)} and {tuple(instances.shape)}"
        )
    if instances.dtype.is_floating_point:
        raise ValueError(f"instances must be integer ids, got dtype {instances.dtype}")
    batch, channels, height, width = features.shape
    # Segment id = position of (batch, instance id) among the unique pairs.
    flat_ids = instances.reshape(batch, -1).long()
    batch_index = torch.arange(batch, device=features.device).unsqueeze(1).expand_as(flat_ids)
    pairs = torch.stack([batch_index, flat_ids], dim=-1).reshape(-1, 2)
    _, segment = torch.unique(pairs, dim=0, return_inverse=True)
    n_segments = int(segment.max()) + 1
    values = features.permute(0, 2, 3, 1).reshape(-1, channels)  # (B*H*W, C)
    sums = values.new_zeros(n_segments, channels).index_add_(0, segment, values)
    counts = values.new_zeros(n_segments).index_add_(0, segment, values.new_ones(segment.shape[0]))
    means = sums / counts.unsqueeze(1)
    return means[segment].reshape(batch, height, width, channels).permute(0, 3, 1, 2).contiguous()


class InstanceFeatureEncoder(nn.Module):
    """Encoder-decoder + instance-wise average pooling.

    Args:
        input_nc: channels of the image (3).
        output_nc: feature channels (3 in pix2pixHD, 16 for edge2face).
        ngf: width of the first layer.
        n_downsample: stride-2 convolutions (and as many transposed convolutions).
        norm: normalisation name (the original: ``instance``).
    """

    def __init__(
        self,
        input_nc: int = 3,
        output_nc: int = 3,
        ngf: int = 16,
        n_downsample: int = 4,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        self.n_downsample = n_downsample
        self.encoder = DownsamplingEncoder(input_nc, ngf, n_downsample, 0, norm)
        self.decoder = UpsamplingDecoder(ngf, n_downsample, 0, norm)
        self.out = OutputConv(ngf, output_nc, "tanh")

    def forward(self, image: Tensor, instances: Tensor) -> Tensor:
        """Encode and pool.

        Args:
            image: ``(B, input_nc, H, W)`` in ``[-1, 1]``; ``H, W`` divisible by ``2**n_downsample``.
            instances: ``(B, H, W)`` int64 instance ids.

        Returns:
            ``(B, output_nc, H, W)`` in ``[-1, 1]``, constant inside each instance.
        """
        m = 2**self.n_downsample
        if image.dim() != 4 or image.shape[-2] % m or image.shape[-1] % m:
            raise ValueError(
                f"image must be (B, C, H, W) with H, W divisible by {m}, got {tuple(image.shape)}"
            )
        return instance_average_pool(self.out(self.decoder(self.encoder(image))), instances)
