"""What every pipeline shares: device and dtype, moving, memory format, compiling, the Hub upload.

:class:`PipelineBase` is the common base of :class:`~vid2vid.pipeline.Vid2VidPipeline` and
:class:`~vid2vid.pipelines.image.Pix2PixHDPipeline`. A subclass lists its networks in
:meth:`PipelineBase._modules` (the main one first: its parameters give :attr:`device` and
:attr:`dtype`) and writes its folder in ``save_pretrained``; moving, memory format, compiling and
uploading then behave the same for every pipeline.
"""

from __future__ import annotations

import tempfile
from typing import Any, TypeVar

import torch
from torch import nn

from vid2vid.hub import REPO_ID
from vid2vid.validation import resolve_device

__all__ = ["PipelineBase", "PIPELINE_DTYPES", "check_device_dtype", "output_float", "resolve_dtype"]

# float64 is for reference checks (e.g. the parity replays' rounding floor), not for speed.
PIPELINE_DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float64": torch.float64,
}

_P = TypeVar("_P", bound="PipelineBase")


def resolve_dtype(dtype: torch.dtype | str | None) -> torch.dtype | None:
    """``dtype`` (a ``torch.dtype`` or its name, ``"torch."`` prefix allowed) as a ``torch.dtype``.

    Raises:
        ValueError: not one of :data:`PIPELINE_DTYPES`.
    """
    if dtype is None or isinstance(dtype, torch.dtype):
        if dtype is not None and dtype not in PIPELINE_DTYPES.values():
            raise ValueError(f"dtype must be one of {', '.join(PIPELINE_DTYPES)}, got {dtype}")
        return dtype
    name = str(dtype).removeprefix("torch.")
    if name not in PIPELINE_DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(PIPELINE_DTYPES)}, got {dtype!r}")
    return PIPELINE_DTYPES[name]


def check_device_dtype(device: torch.device, dtype: torch.dtype) -> None:
    """Refuse float16 on CPU (most CPU kernels are slow or missing in half precision)."""
    if device.type == "cpu" and dtype == torch.float16:
        raise ValueError(
            "float16 inference is not supported on CPU (most CPU kernels are slow or missing in half "
            "precision): use dtype=torch.bfloat16 or torch.float32 on CPU, or device='cuda' for float16"
        )


def output_float(t: torch.Tensor) -> torch.Tensor:
    """Output frames are float32, or float64 for a float64 pipeline (reference checks)."""
    return t if t.dtype == torch.float64 else t.float()


class PipelineBase:
    """Device, dtype, memory format, ``torch.compile`` and Hub upload of a pipeline's networks."""

    _channels_last: bool = False
    _commit_message: str = "Upload model"

    # ------------------------------------------------------------------ for subclasses
    def _modules(self) -> list[nn.Module]:
        """The pipeline's networks, the main one first."""
        raise NotImplementedError

    def _compiled_modules(self) -> list[nn.Module]:
        """The networks :meth:`compile` compiles (default: all of them)."""
        return self._modules()

    def _before_move(self, device: torch.device, dtype: torch.dtype) -> None:
        """Called by :meth:`to` before moving (raise to refuse the move)."""

    def _after_move(self) -> None:
        """Called by :meth:`to` after moving."""

    def save_pretrained(self, save_directory: Any) -> Any:
        """Write the pipeline's folder (subclasses)."""
        raise NotImplementedError

    @staticmethod
    def _placement(
        device: str | torch.device | None, dtype: torch.dtype | str | None
    ) -> tuple[torch.device, torch.dtype]:
        """Device and dtype to load onto (defaults: CPU, float32), checked together."""
        dev = resolve_device(device)
        dt = resolve_dtype(dtype) or torch.float32
        check_device_dtype(dev, dt)
        return dev, dt

    def _apply_load_options(self: _P, channels_last: bool, compile: bool) -> _P:
        if channels_last:
            self.enable_channels_last()
        if compile:
            self.compile()
        return self

    # ------------------------------------------------------------------ shared behaviour
    @property
    def device(self) -> torch.device:
        """Device of the networks."""
        return next(self._modules()[0].parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        """Floating dtype of the networks (inference runs in it; outputs are float32, float64 for float64)."""
        return next(self._modules()[0].parameters()).dtype

    def to(self: _P, device: str | torch.device | None = None, dtype: torch.dtype | str | None = None) -> _P:
        """Move the networks (``float16`` is refused on CPU); returns ``self`` like diffusers."""
        dev = resolve_device(device) if device is not None else self.device
        dt = resolve_dtype(dtype) or self.dtype
        check_device_dtype(dev, dt)
        self._before_move(dev, dt)
        for module in self._modules():
            module.to(device=dev, dtype=dt)
            if self._channels_last:
                module.to(memory_format=torch.channels_last)
        self._after_move()
        return self

    def enable_channels_last(self: _P) -> _P:
        """Use the channels-last memory format for the networks' weights and inputs."""
        self._channels_last = True
        for module in self._modules():
            module.to(memory_format=torch.channels_last)
        return self

    def compile(self: _P, **kwargs: Any) -> _P:
        """``torch.compile`` the networks in place (``nn.Module.compile``; weights and keys unchanged)."""
        for module in self._compiled_modules():
            module.compile(**kwargs)
        return self

    def push_to_hub(
        self,
        repo_id: str,
        token: str | None = None,
        private: bool = False,
        commit_message: str | None = None,
        revision: str | None = None,
    ) -> str:
        """Save to a temporary folder and upload it to the Hub repo ``repo_id`` (created if needed).

        Uses ``huggingface_hub.HfApi.create_repo`` and ``upload_folder``; needs network access and
        a write token. Returns the URL of the commit.
        """
        if not isinstance(repo_id, str) or not REPO_ID.match(repo_id):
            raise ValueError(f"repo_id must look like 'org/name', got {repo_id!r}")
        from huggingface_hub import HfApi

        api = HfApi(token=token)
        repo = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        with tempfile.TemporaryDirectory() as tmp:
            self.save_pretrained(tmp)
            commit = api.upload_folder(
                repo_id=getattr(repo, "repo_id", repo_id),
                folder_path=tmp,
                repo_type="model",
                commit_message=commit_message or self._commit_message,
                revision=revision,
            )
        return str(getattr(commit, "commit_url", commit))
