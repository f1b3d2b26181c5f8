"""VGG19 perceptual loss (pix2pixHD §3.2 / vid2vid §3.2, "VGG feature matching").

A frozen ImageNet VGG19 extracts ``relu1_1 … relu5_1``; the loss is the L1 distance of those
features between the generated and the real frame, weighted ``1/32, 1/16, 1/8, 1/4, 1``. As in
the original, frames in ``[-1, 1]`` go into the network as they are (no ImageNet normalisation)
and frames wider than 1024 pixels are average-pooled 2×2 until they are not.

Weights: torchvision's ``VGG19_Weights.IMAGENET1K_V1`` (file ``vgg19-dcbb9e9d.pth``). Without
network access, put that file in ``$TORCH_HOME/hub/checkpoints/`` or point the environment
variable ``VID2VID_VGG19_WEIGHTS`` (or the ``weights`` argument) at it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file as load_safetensors
from torch import Tensor, nn
from torchvision.models import VGG19_Weights
from torchvision.models.vgg import cfgs, make_layers

__all__ = [
    "VGG19Features",
    "VGGLoss",
    "VGG19_LAYER_INDICES",
    "DEFAULT_VGG_LAYERS",
    "DEFAULT_VGG_LAYER_WEIGHTS",
    "VGG19_WEIGHTS_ENV",
    "VGG19_WEIGHTS_FILENAME",
]

#: Environment variable naming a local copy of torchvision's VGG19 ImageNet weights.
VGG19_WEIGHTS_ENV = "VID2VID_VGG19_WEIGHTS"
#: torchvision's file name for ``VGG19_Weights.IMAGENET1K_V1`` (the prefix is its SHA-256).
VGG19_WEIGHTS_FILENAME = os.path.basename(VGG19_Weights.IMAGENET1K_V1.url)
_HASH_PREFIX = VGG19_WEIGHTS_FILENAME.split("-")[-1].split(".")[0]

#: Index (in ``torchvision.models.vgg19().features``) of the module producing each ReLU output.
VGG19_LAYER_INDICES: dict[str, int] = {
    "relu1_1": 1,
    "relu1_2": 3,
    "relu2_1": 6,
    "relu2_2": 8,
    "relu3_1": 11,
    "relu3_2": 13,
    "relu3_3": 15,
    "relu3_4": 17,
    "relu4_1": 20,
    "relu4_2": 22,
    "relu4_3": 24,
    "relu4_4": 26,
    "relu5_1": 29,
    "relu5_2": 31,
    "relu5_3": 33,
    "relu5_4": 35,
}
DEFAULT_VGG_LAYERS: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
DEFAULT_VGG_LAYER_WEIGHTS: tuple[float, ...] = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)


def _default_weights_path() -> Path:
    """Where torch.hub keeps torchvision's download: ``$TORCH_HOME/hub/checkpoints/<file>``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG19_WEIGHTS_FILENAME


def _offline_message(path: Path, reason: str) -> str:
    return (
        f"VGG19 ImageNet weights are not available ({reason}). The VGG perceptual loss needs "
        f"torchvision's '{VGG19_WEIGHTS_FILENAME}' ({VGG19_Weights.IMAGENET1K_V1.url}). Without network "
        f"access, copy that file to '{path}' (the torch hub cache, $TORCH_HOME/hub/checkpoints/), or set "
        f"the environment variable {VGG19_WEIGHTS_ENV}=/path/to/{VGG19_WEIGHTS_FILENAME}, or pass "
        "VGG19Features(weights='/path/to/file') (vid2vid train --vgg-weights /path/to/file). Or train "
        "without the perceptual term: vid2vid train --vgg-weights none (TrainConfig(vgg_weights='none'); "
        "the tiny preset does), at some cost in detail."
    )


def _resolve_default_weights() -> Path:
    """Local path of the default weights: env variable, then hub cache, then a download."""
    env_path = os.environ.get(VGG19_WEIGHTS_ENV)
    if env_path:
        path = Path(env_path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"{VGG19_WEIGHTS_ENV} points to '{path}', which is not a file; expected torchvision's "
                f"{VGG19_WEIGHTS_FILENAME}"
            )
        return path
    path = _default_weights_path()
    if path.is_file():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Downloads to a temporary file, checks the SHA-256 prefix, then moves it into place.
        torch.hub.download_url_to_file(
            VGG19_Weights.IMAGENET1K_V1.url, str(path), hash_prefix=_HASH_PREFIX, progress=True
        )
    except Exception as error:  # network errors come in many types (URLError, OSError, HTTPError...)
        raise RuntimeError(_offline_message(path, f"download failed: {error}")) from error
    return path


def _load_features_state_dict(path: Path) -> dict[str, Tensor]:
    """Read a VGG19 state dict (full torchvision model or ``features`` only) from ``path``."""
    if not path.is_file():
        raise FileNotFoundError(f"VGG19 weights file '{path}' does not exist")
    if path.suffix == ".safetensors":
        try:
            state = {k: v.float() for k, v in load_safetensors(str(path)).items()}
        except Exception as error:
            raise ValueError(f"could not read VGG19 weights from '{path}' (safetensors): {error}") from error
        return {key.removeprefix("features."): v for key, v in state.items()}
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(
            f"could not read VGG19 weights from '{path}' as a tensor state dict (torch.load with "
            f"weights_only=True): {error}"
        ) from error
    if not isinstance(state, Mapping) or not all(isinstance(v, Tensor) for v in state.values()):
        raise ValueError(
            f"'{path}' does not hold a state dict of tensors; expected a torchvision vgg19 state dict "
            "(keys 'features.N.weight', ...) or its features only (keys 'N.weight', ...)"
        )
    if any(key.startswith("features.") for key in state):
        return {key.removeprefix("features."): v for key, v in state.items() if key.startswith("features.")}
    return dict(state)


class VGG19Features(nn.Module):
    """Frozen VGG19 feature extractor returning the requested ReLU activations.

    The convolutional part of ``torchvision.models.vgg19``, truncated after the deepest
    requested layer. Parameters never require gradients and the module stays in eval mode
    (it has no dropout or normalisation, so modes do not change its output).

    Args:
        weights: ``"default"`` — torchvision's ``VGG19_Weights.IMAGENET1K_V1``, taken from the
            file named by ``$VID2VID_VGG19_WEIGHTS``, else from the torch hub cache
            (``$TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth``), else downloaded there; a
            ``RuntimeError`` explains how to supply the file when none of that works.
            A path — a state dict saved with ``torch.save`` or a ``.safetensors`` file: a full
            torchvision vgg19 state dict (keys ``features.N.weight``) or the ``features`` part
            only (keys ``N.weight``); half-precision files are read as float32.
            ``None`` — random initialisation, for tests only.
        layers: names from :data:`VGG19_LAYER_INDICES` (``"relu1_1"`` … ``"relu5_4"``); the
            outputs come in this order.
    """

    def __init__(
        self, weights: str | Path | None = "default", layers: Sequence[str] = DEFAULT_VGG_LAYERS
    ) -> None:
        super().__init__()
        layers = tuple(layers)
        if not layers:
            raise ValueError("layers must name at least one VGG19 layer")
        unknown = [name for name in layers if name not in VGG19_LAYER_INDICES]
        if unknown:
            raise ValueError(
                f"unknown VGG19 layers {unknown}; expected names from {list(VGG19_LAYER_INDICES)}"
            )
        self.layers = layers
        self._indices = tuple(VGG19_LAYER_INDICES[name] for name in layers)
        self._deepest = max(layers, key=VGG19_LAYER_INDICES.__getitem__)
        state: dict[str, Tensor] | None = None
        source = ""
        if weights is not None:  # read the file first: a bad path fails before building anything
            path = _resolve_default_weights() if weights == "default" else Path(weights).expanduser()
            state, source = _load_features_state_dict(path), str(path)
        features = make_layers(cfgs["E"], batch_norm=False)[: max(self._indices) + 1]
        for module in features:
            if isinstance(module, nn.ReLU):
                module.inplace = False  # outputs are returned, so they must not be overwritten
            elif isinstance(module, nn.Conv2d):  # torchvision's VGG initialisation
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)
        self.features = features
        #: smallest height/width that survives the max-poolings before the deepest layer
        self.min_size = 2 ** sum(isinstance(m, nn.MaxPool2d) for m in features)
        if state is not None:
            self._load(state, source=source)
        self.requires_grad_(False)
        self.eval()

    def _load(self, state: dict[str, Tensor], source: str) -> None:
        expected = self.features.state_dict()
        missing = [key for key in expected if key not in state]
        if missing:
            raise ValueError(
                f"VGG19 weights '{source}' lack {len(missing)} tensors needed up to layer "
                f"{self._deepest}: "
                f"{', '.join('features.' + key for key in missing)}"
            )
        for key, tensor in expected.items():
            if state[key].shape != tensor.shape:
                raise ValueError(
                    f"VGG19 weights '{source}': features.{key} has shape {tuple(state[key].shape)}, "
                    f"expected {tuple(tensor.shape)} (is this a VGG19 state dict?)"
                )
        self.features.load_state_dict({key: state[key] for key in expected})

    def train(self, mode: bool = True) -> VGG19Features:
        """Stays in eval mode: the extractor is frozen."""
        return super().train(False)

    def forward(self, x: Tensor) -> list[Tensor]:
        """``x``: ``(B, 3, H, W)`` float → one ``(B, C_l, H / 2^k, W / 2^k)`` map per requested layer."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"VGG19 expects (B, 3, H, W) images, got shape {tuple(x.shape)}")
        if min(x.shape[-2:]) < self.min_size:
            raise ValueError(
                f"VGG19 up to {self._deepest} needs images of at least "
                f"{self.min_size}×{self.min_size} pixels, got {tuple(x.shape[-2:])}"
            )
        outputs: dict[int, Tensor] = {}
        wanted = set(self._indices)
        for index, module in enumerate(self.features):
            x = module(x)
            if index in wanted:
                outputs[index] = x
        return [outputs[index] for index in self._indices]


class VGGLoss(nn.Module):
    """Perceptual loss: weighted L1 between VGG19 features of a frame and of its target.

    ``loss = Σ_l w_l · mean|φ_l(x) - φ_l(y)|`` with ``φ_l`` the extractor's layers. Inputs are
    fed as they are (no ImageNet normalisation, like the original); while their width exceeds
    ``max_width`` both are average-pooled 2×2 (stride 2).

    Args:
        extractor: the feature network; ``None`` builds ``VGG19Features()`` (ImageNet weights,
            see :class:`VGG19Features` for providing them offline).
        layer_weights: one weight per extractor layer (the original: 1/32, 1/16, 1/8, 1/4, 1).
        max_width: largest width fed to the extractor.
    """

    def __init__(
        self,
        extractor: VGG19Features | None = None,
        layer_weights: Sequence[float] = DEFAULT_VGG_LAYER_WEIGHTS,
        max_width: int = 1024,
    ) -> None:
        super().__init__()
        if extractor is None:
            extractor = VGG19Features()
        layer_weights = tuple(float(w) for w in layer_weights)
        if len(layer_weights) != len(extractor.layers):
            raise ValueError(
                f"layer_weights has {len(layer_weights)} entries but the extractor returns "
                f"{len(extractor.layers)} layers {extractor.layers}"
            )
        if max_width < 1:
            raise ValueError(f"max_width must be >= 1, got {max_width}")
        self.extractor = extractor
        self.layer_weights = layer_weights
        self.max_width = max_width

    def extra_repr(self) -> str:
        return f"layer_weights={self.layer_weights}, max_width={self.max_width}"

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """Loss of the generated ``x`` against the target ``y`` (gradients reach ``x`` only).

        Args:
            x: ``(B, 3, H, W)`` float in ``[-1, 1]``, the generated frame.
            y: ``(B, 3, H, W)`` float in ``[-1, 1]``, the real frame (detached).

        Returns:
            Scalar tensor.
        """
        if x.shape != y.shape:
            raise ValueError(
                f"VGGLoss inputs must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}"
            )
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"VGGLoss expects (B, 3, H, W) frames in [-1, 1], got shape {tuple(x.shape)}")
        y = y.detach()
        while x.shape[-1] > self.max_width:
            x, y = F.avg_pool2d(x, kernel_size=2, stride=2), F.avg_pool2d(y, kernel_size=2, stride=2)
        x_features = self.extractor(x)
        with torch.no_grad():
            y_features = self.extractor(y)
        total: Tensor | None = None
        for weight, fx, fy in zip(self.layer_weights, x_features, y_features, strict=True):
            term = weight * F.l1_loss(fx, fy)
            total = term if total is None else total + term
        assert total is not None
        return total
