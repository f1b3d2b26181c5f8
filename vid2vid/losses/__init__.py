"""Training losses (vid2vid §3.2, pix2pixHD §3.2): adversarial, feature matching, VGG, flow/warp.

Every loss is a plain ``nn.Module`` over tensors returning a scalar; the weights (λ) and their
schedules belong to the training configuration. See ``docs/losses.md``.
"""

from vid2vid.losses.feature_matching import FeatureMatchingLoss
from vid2vid.losses.flow import FlowLoss, OcclusionMaskLoss, WarpLoss, masked_l1_loss
from vid2vid.losses.gan import GAN_MODES, GANLoss, prediction_maps
from vid2vid.losses.vgg import VGG19_WEIGHTS_ENV, VGG19_WEIGHTS_FILENAME, VGG19Features, VGGLoss

__all__ = [
    "GANLoss",
    "GAN_MODES",
    "prediction_maps",
    "FeatureMatchingLoss",
    "VGG19Features",
    "VGGLoss",
    "VGG19_WEIGHTS_ENV",
    "VGG19_WEIGHTS_FILENAME",
    "FlowLoss",
    "WarpLoss",
    "OcclusionMaskLoss",
    "masked_l1_loss",
]
