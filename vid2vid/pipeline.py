"""Inference pipeline: label video in, synthesised video out (vid2vid §3, test-time protocol).

:class:`Vid2VidPipeline` bundles what a model folder (:mod:`vid2vid.model_folder`) holds: the
sequential generator, the first-frame policy and, optionally, the pix2pixHD first-frame
generator and per-class instance-feature clusters (multimodal synthesis, vid2vid §3.4). It
follows the diffusers / huggingface_hub conventions: ``from_pretrained`` (a local folder or a Hub
repo id), ``save_pretrained``, ``push_to_hub``, a chainable ``.to()``, and a ``__call__`` that
returns a dataclass (:class:`~vid2vid.pipeline_output.Vid2VidPipelineOutput`).

Frames are produced one time step at a time, exactly as the original's test loop: the generator
sees the last ``n_frames_G`` label maps and its own ``n_frames_G - 1`` previous outputs. The
first ``n_frames_G - 1`` frames come from the first-frame policy:

* ``"real"``: the caller's real frames (``first_frames=``), output as they are;
* ``"image_generator"``: generated frame by frame by the bundled pix2pixHD generator;
* ``"zeros"``: the label sequence is padded at the start by repeating its first label map
  ``n_frames_G - 1`` times and the history starts at zero, so the sequential generator itself
  produces all ``T`` frames (for models trained with ``no_first_frame``).

:meth:`Vid2VidPipeline.stream` runs the same loop over iterables of frames with memory that
does not grow with the clip length.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from vid2vid.data.labels import check_label_ids
from vid2vid.model_folder import (
    CONFIG_FILE,
    FEATURES_FILE,
    FIRST_FRAME_DIR,
    MODEL_FILE,
    ModelFolder,
    check_first_frame_policy,
    load_model_folder,
    save_model_folder,
)
from vid2vid.nn.graphed_step import GraphedGeneratorStep
from vid2vid.nn.image_generator import ImageGenerator
from vid2vid.nn.input_window import InputWindow
from vid2vid.nn.sequential_generator import GeneratorState, SequentialGenerator, SequentialGeneratorConfig
from vid2vid.pipeline_io import (
    format_output,
    frames_to_uint8,
    id_clip,
    image_clip,
    streamed_frame,
)
from vid2vid.pipeline_output import Vid2VidPipelineOutput

__all__ = [
    "Vid2VidPipeline",
    "Vid2VidPipelineOutput",
    "OUTPUT_TYPES",
    "resolve_model_folder",
    "frames_to_uint8",
]

OUTPUT_TYPES: tuple[str, ...] = ("pt", "np", "pil")
_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
_HUB_PATTERNS = [CONFIG_FILE, MODEL_FILE, FEATURES_FILE, f"{FIRST_FRAME_DIR}/*", "README.md"]
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


# --------------------------------------------------------------------------------------------
# device / dtype


def _resolve_dtype(dtype: torch.dtype | str | None) -> torch.dtype | None:
    if dtype is None or isinstance(dtype, torch.dtype):
        if dtype is not None and dtype not in _DTYPES.values():
            raise ValueError(f"dtype must be one of float32, float16, bfloat16, got {dtype}")
        return dtype
    name = str(dtype).removeprefix("torch.")
    if name not in _DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
    return _DTYPES[name]


def _check_device_dtype(device: torch.device, dtype: torch.dtype) -> None:
    if device.type == "cpu" and dtype == torch.float16:
        raise ValueError(
            "float16 inference is not supported on CPU (most CPU kernels are slow or missing in half "
            "precision): use dtype=torch.bfloat16 or torch.float32 on CPU, or device='cuda' for float16"
        )


# --------------------------------------------------------------------------------------------
# Hub / local folders


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def resolve_model_folder(
    repo_id_or_path: str | os.PathLike[str],
    revision: str | None = None,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool | None = None,
) -> Path:
    """A local model folder, or the snapshot folder of a Hub repo (downloaded or from the cache).

    Args:
        repo_id_or_path: an existing local folder, or a Hub repo id ``"org/name"``.
        revision: branch, tag or commit hash (Hub only).
        token: Hub token (``None``: the stored login / ``HF_TOKEN``).
        cache_dir: Hub cache folder (``None``: ``HF_HUB_CACHE`` from the environment, read at call
            time, else huggingface_hub's default).
        local_files_only: never touch the network (``None``: true when ``HF_HUB_OFFLINE`` is set).

    Raises:
        FileNotFoundError: a path-like argument that does not exist, or a repo not in the cache
            while offline.
        ValueError: a string that is neither a folder nor a valid repo id.
    """
    path = Path(repo_id_or_path)
    if path.is_dir():
        if revision is not None:
            raise ValueError(f"revision={revision!r} only applies to Hub repos, but {path} is a local folder")
        return path
    text = str(repo_id_or_path)
    if not _REPO_ID.match(text) or path.exists() or text.startswith((".", "/", "~")):
        raise FileNotFoundError(
            f"{text} is neither an existing model folder nor a Hub repo id of the form 'org/name'"
        )
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    if cache_dir is None and os.environ.get("HF_HUB_CACHE"):
        cache_dir = os.environ["HF_HUB_CACHE"]
    if local_files_only is None:
        local_files_only = _env_true("HF_HUB_OFFLINE")
    try:
        folder = snapshot_download(
            text,
            revision=revision,
            token=token,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
            allow_patterns=_HUB_PATTERNS,
        )
    except LocalEntryNotFoundError as err:
        where = cache_dir or "the default Hugging Face cache"
        raise FileNotFoundError(
            f"model {text!r} (revision {revision or 'main'}) is not in {where} and the Hub cannot be "
            f"reached (offline or local_files_only): {err}"
        ) from err
    return Path(str(folder))


def _hub_license(license_text: str | None) -> str:
    if not license_text:
        return "other"
    low = license_text.lower()
    if low.startswith("cc by-nc-sa 4.0") or low.startswith("cc-by-nc-sa-4.0"):
        return "cc-by-nc-sa-4.0"
    if low.startswith("mit"):
        return "mit"
    if low.startswith("apache"):
        return "apache-2.0"
    return "other"


def _model_card(pipe: Vid2VidPipeline) -> str:
    meta = pipe.metadata
    license_text = meta.get("license")
    c = pipe.config
    lines = [
        "---",
        "library_name: vid2vid",
        f"license: {_hub_license(license_text)}",
        "tags:",
        "- video-to-video",
        "- vid2vid",
        "- safetensors",
        "---",
        "",
        "# vid2vid model",
        "",
        "A video-to-video synthesis generator (Wang et al., *Video-to-Video Synthesis*, NeurIPS 2018) "
        "in the [vid2vid](https://github.com/vid2vid/vid2vid) library's model-folder format.",
        "",
        "```python",
        "from vid2vid import Vid2VidPipeline",
        'pipe = Vid2VidPipeline.from_pretrained("<this repo>")',
        "out = pipe(labels)  # labels: (T, H, W) int64 class ids",
        "```",
        "",
        f"- inputs: {'label maps with ' + str(c.label_nc) + ' classes' if c.label_nc else str(c.input_nc) + '-channel continuous maps'}"
        f"{' + instance maps' if c.use_instance else ''}",
        f"- frames in the generator's window (n_frames_G): {c.n_frames_G}; spatial scales: {c.n_scales}",
        f"- first frames: {pipe.first_frame}",
        f"- height and width must be multiples of {c.size_multiple}",
        f"- licence: {license_text or 'not stated'}",
    ]
    if "converted_from" in meta:
        lines.append(f"- converted from: {meta['converted_from']}")
    if "training" in meta:
        lines.append(f"- training: {meta['training']}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# the pipeline


@dataclass
class _Step:
    """One output time step: image ``(B, 3, H, W)`` in [-1, 1]; flow/weight or None (not generated)."""

    image: Tensor
    flow: Tensor | None
    weight: Tensor | None


class Vid2VidPipeline:
    """Label video → synthesised video, with a vid2vid sequential generator.

    Args:
        generator: the sequential generator.
        first_frame: first-frame policy, one of ``"real"``, ``"zeros"``, ``"image_generator"``.
        image_generator: the pix2pixHD first-frame generator (needed by ``"image_generator"``).
        feature_clusters: per-class instance-feature clusters ``{"class_<id>": (K, F)}`` consumed
            by the image generator (multimodal synthesis); required when the image generator's
            ``input_nc`` exceeds the label encoding's channels.
        labels: optional label set ``{"names": [...], "colors": [[r, g, b], ...]}``.
        metadata: the rest of the model folder's ``config.json`` (licence, training record, ...).
    """

    def __init__(
        self,
        generator: SequentialGenerator,
        first_frame: str = "real",
        image_generator: ImageGenerator | None = None,
        feature_clusters: Mapping[str, Tensor] | None = None,
        labels: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        check_first_frame_policy(first_frame, image_generator is not None)
        self.generator = generator.eval()
        self.image_generator = image_generator.eval() if image_generator is not None else None
        self.first_frame = first_frame
        self.feature_clusters = dict(feature_clusters) if feature_clusters else None
        self.labels = dict(labels) if labels is not None else None
        self.metadata = dict(metadata or {})
        self._channels_last = False
        self._label_gather = False
        self._graphed: GraphedGeneratorStep | None = None
        feat_nc = self.feature_channels
        if feat_nc < 0:
            raise ValueError(
                f"the image generator takes {image_generator.config.input_nc} channels, fewer than the "  # type: ignore[union-attr]
                f"{generator.config.frame_nc} of the label encoding"
            )
        if feat_nc > 0 and not self.feature_clusters:
            raise ValueError(
                f"the image generator expects {feat_nc} instance-feature channels but no feature_clusters "
                f"were given (the model folder needs {FEATURES_FILE})"
            )
        _check_device_dtype(self.device, self.dtype)

    # ------------------------------------------------------------------ loading / saving
    @classmethod
    def from_model_folder(cls, folder: ModelFolder) -> Vid2VidPipeline:
        """Build from a loaded :class:`~vid2vid.model_folder.ModelFolder`."""
        return cls(
            folder.generator,
            first_frame=folder.first_frame,
            image_generator=folder.image_generator,
            feature_clusters=folder.feature_clusters,
            labels=folder.labels,
            metadata=folder.metadata,
        )

    @classmethod
    def from_pretrained(
        cls,
        repo_id_or_path: str | os.PathLike[str],
        revision: str | None = None,
        device: str | torch.device | None = None,
        dtype: torch.dtype | str | None = None,
        token: str | bool | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        local_files_only: bool | None = None,
        *,
        first_frame: str | None = None,
        channels_last: bool = False,
        compile: bool = False,
        label_gather: bool = False,
        cuda_graphs: bool = False,
    ) -> Vid2VidPipeline:
        """Load a model folder from disk or from the Hugging Face Hub.

        Args:
            repo_id_or_path: a local model folder or a Hub repo id (``"org/name"``), downloaded
                with ``huggingface_hub.snapshot_download`` (honours its cache, ``HF_HUB_OFFLINE``,
                ``HF_HUB_CACHE``, ``HF_TOKEN``).
            revision: Hub branch, tag or commit hash (default ``main``).
            device: where to put the networks (default CPU).
            dtype: ``float32`` (default), ``bfloat16``, or ``float16`` (CUDA only).
            token, cache_dir, local_files_only: passed to ``snapshot_download``
                (``local_files_only=None`` means "true when ``HF_HUB_OFFLINE`` is set").
            first_frame: override the folder's first-frame policy.
            channels_last: use the channels-last memory format (faster convolutions on recent GPUs).
            compile: wrap the generators with ``torch.compile``.
            label_gather: compute the finest label stems as gathers (see
                :meth:`enable_label_gather`; label models, off by default).
            cuda_graphs: replay generator steps as CUDA graphs (see :meth:`enable_cuda_graphs`;
                CUDA only, off by default).

        Loading is strict: missing or unexpected tensors are errors naming them.
        """
        folder = resolve_model_folder(repo_id_or_path, revision, token, cache_dir, local_files_only)
        dev = torch.device(device) if device is not None else torch.device("cpu")
        dt = _resolve_dtype(dtype) or torch.float32
        _check_device_dtype(dev, dt)
        pipe = cls.from_model_folder(load_model_folder(folder, device=dev, dtype=dt))
        if first_frame is not None:
            pipe.set_first_frame(first_frame)
        if channels_last:
            pipe.enable_channels_last()
        if compile:
            pipe.compile()
        if label_gather:
            pipe.enable_label_gather()
        if cuda_graphs:
            pipe.enable_cuda_graphs()
        return pipe

    def save_pretrained(self, save_directory: str | os.PathLike[str]) -> Path:
        """Write the model folder (same layout ``from_pretrained`` reads) plus a README.md model card.

        Weights are written in the pipeline's current dtype.
        """
        folder = save_model_folder(
            save_directory,
            self.generator,
            first_frame=self.first_frame,
            image_generator=self.image_generator,
            feature_clusters=self.feature_clusters,
            labels=self.labels,
            metadata={k: v for k, v in self.metadata.items() if k != "vid2vid_version"},
        )
        from vid2vid.atomic import atomic_write_bytes

        atomic_write_bytes(folder / "README.md", _model_card(self).encode("utf-8"))
        return folder

    def push_to_hub(
        self,
        repo_id: str,
        token: str | None = None,
        private: bool = False,
        commit_message: str = "Upload vid2vid model",
        revision: str | None = None,
    ) -> str:
        """Save to a temporary folder and upload it to the Hub repo ``repo_id`` (created if needed).

        Uses ``huggingface_hub.HfApi.create_repo`` and ``upload_folder``; needs network access and
        a write token. Returns the URL of the commit.
        """
        if not isinstance(repo_id, str) or not _REPO_ID.match(repo_id):
            raise ValueError(f"repo_id must look like 'org/name', got {repo_id!r}")
        from huggingface_hub import HfApi

        api = HfApi(token=token)
        repo = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        target = getattr(repo, "repo_id", repo_id)
        with tempfile.TemporaryDirectory() as tmp:
            self.save_pretrained(tmp)
            commit = api.upload_folder(
                repo_id=target,
                folder_path=tmp,
                repo_type="model",
                commit_message=commit_message,
                revision=revision,
            )
        return str(getattr(commit, "commit_url", commit))

    # ------------------------------------------------------------------ device / dtype / speed
    @property
    def config(self) -> SequentialGeneratorConfig:
        """The sequential generator's configuration."""
        return self.generator.config

    @property
    def device(self) -> torch.device:
        """Device of the networks."""
        return next(self.generator.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        """Floating dtype of the networks (inference runs in it; outputs are float32)."""
        return next(self.generator.parameters()).dtype

    @property
    def feature_channels(self) -> int:
        """Instance-feature channels the image generator consumes (0 without features)."""
        if self.image_generator is None:
            return 0
        return self.image_generator.config.input_nc - self.generator.config.frame_nc

    def to(
        self, device: str | torch.device | None = None, dtype: torch.dtype | str | None = None
    ) -> Vid2VidPipeline:
        """Move the networks (``float16`` is refused on CPU); returns ``self`` like diffusers."""
        dev = torch.device(device) if device is not None else self.device
        dt = _resolve_dtype(dtype) or self.dtype
        _check_device_dtype(dev, dt)
        if self._graphed is not None and dev.type != "cuda":
            raise ValueError("CUDA graphs are enabled: call enable_cuda_graphs(False) before moving off CUDA")
        fmt = torch.channels_last if self._channels_last else None
        for module in (self.generator, self.image_generator):
            if module is not None:
                module.to(device=dev, dtype=dt)
                if fmt is not None:
                    module.to(memory_format=fmt)
        if self._graphed is not None:
            self._graphed = GraphedGeneratorStep(self.generator)  # captured again on the new device/dtype
        return self

    def set_first_frame(self, policy: str) -> Vid2VidPipeline:
        """Change the default first-frame policy (``"real"``, ``"zeros"``, ``"image_generator"``)."""
        self._check_policy(policy)
        self.first_frame = policy
        return self

    def enable_channels_last(self) -> Vid2VidPipeline:
        """Use the channels-last memory format for the networks' weights and inputs."""
        self._channels_last = True
        for module in (self.generator, self.image_generator):
            if module is not None:
                module.to(memory_format=torch.channels_last)
        return self

    def compile(self, **kwargs: Any) -> Vid2VidPipeline:
        """``torch.compile`` the networks in place (``nn.Module.compile``; weights and keys unchanged)."""
        for module in (self.generator, self.image_generator):
            if module is not None:
                module.compile(**kwargs)
        return self

    def enable_label_gather(self, enabled: bool = True) -> Vid2VidPipeline:
        """Compute the finest scale's 7×7 label stems as gathers of weight columns (off by default).

        Label models only. Mathematically the same network, not bit-identical (the stem sums run
        in another order: about 1e-6 per value); faster on CPU, where the stems are a large share
        of the time (see docs/performance.md). Not combinable with CUDA graphs.
        """
        if enabled and self.config.label_nc == 0:
            raise ValueError(
                "label_gather needs a label model (label_nc > 0); this one takes continuous inputs"
            )
        if enabled and self._graphed is not None:
            raise ValueError(
                "label_gather cannot be combined with CUDA graphs (it checks its input on the host)"
            )
        self._label_gather = enabled
        return self

    def enable_cuda_graphs(self, enabled: bool = True) -> Vid2VidPipeline:
        """Replay each generator step as a CUDA graph (:class:`~vid2vid.nn.graphed_step.GraphedGeneratorStep`).

        CUDA only; captured at the first step of a clip size, re-captured when the size changes.
        Outputs equal the eager steps'. The first step of a ``no_first_frame`` model runs eagerly.
        Call it after :meth:`to` / :meth:`enable_channels_last` (the capture records the layout).
        """
        if not enabled:
            self._graphed = None
            return self
        if self.device.type != "cuda":
            raise ValueError(f"CUDA graphs need a CUDA device; the pipeline is on {self.device}")
        if self._label_gather:
            raise ValueError("CUDA graphs cannot be combined with label_gather: disable it first")
        self._graphed = GraphedGeneratorStep(self.generator)
        return self

    def _check_policy(self, policy: str) -> None:
        check_first_frame_policy(policy, self.image_generator is not None)

    # ------------------------------------------------------------------ synthesis
    def __call__(
        self,
        labels: Any,
        instances: Any = None,
        first_frames: Any = None,
        seed: int | None = None,
        output_type: str = "pt",
        return_flows: bool = False,
        progress: bool = True,
        first_frame: str | None = None,
    ) -> Vid2VidPipelineOutput:
        """Synthesise one video per label clip.

        Args:
            labels: the label clip(s). For label models (``label_nc > 0``): integer class ids as a
                ``(T, H, W)`` or ``(B, T, H, W)`` tensor/array, a list of ``(T, H, W)`` clips, a list
                of single-channel PIL images or PNG paths, or a folder of label PNGs. For continuous
                models (``label_nc == 0``): ``(T, C, H, W)`` / ``(B, T, C, H, W)`` float in ``[0, 1]``,
                channels-last uint8, a list of images/paths, a frame folder or a video file.
            instances: instance-id maps in the same forms as label ids (required iff the model
                uses instance maps), same length and size as ``labels``.
            first_frames: real frames for the ``"real"`` policy: ``([B,] T0, 3, H, W)`` float in
                ``[0, 1]``, channels-last uint8, a list of images/paths, a folder or a video;
                ``T0 >= n_frames_G - 1`` (only the first ``n_frames_G - 1`` are used). Giving
                them selects the ``"real"`` policy.
            seed: picks the per-instance features of multimodal models (same seed → same video).
            output_type: ``"pt"``, ``"np"`` or ``"pil"`` (see :class:`Vid2VidPipelineOutput`).
            return_flows: also return the generator's flows and occlusion weights.
            progress: show a tqdm progress bar.
            first_frame: override the first-frame policy for this call.

        Returns:
            :class:`Vid2VidPipelineOutput` with ``T`` frames per clip, values in ``[0, 1]``.
        """
        if output_type not in OUTPUT_TYPES:
            raise ValueError(f"output_type must be one of {OUTPUT_TYPES}, got {output_type!r}")
        c = self.config
        if c.label_nc > 0:
            label_clip, batched = id_clip(labels, "labels")
        else:
            label_clip, batched = image_clip(labels, "labels", c.input_nc)
        batch, length = label_clip.shape[:2]
        height, width = label_clip.shape[-2:]
        if length < 1:
            raise ValueError("labels hold no frames")
        inst_clip = None
        if instances is not None:
            inst_clip, _ = id_clip(instances, "instances")
            if tuple(inst_clip.shape) != (batch, length, height, width):
                raise ValueError(
                    f"instances {tuple(inst_clip.shape)} must match labels (B, T, H, W) = "
                    f"{(batch, length, height, width)}"
                )
        first = None
        if first_frames is not None:
            first = self._first_frames_tensor(first_frames, batch, height, width)

        total = length
        with torch.inference_mode():
            steps = self._steps(
                (label_clip[:, t : t + 1] for t in range(length)),
                None if inst_clip is None else (inst_clip[:, t : t + 1] for t in range(length)),
                first,
                seed,
                first_frame,
            )
            images, flows, weights = [], [], []
            from tqdm.auto import tqdm

            for step in tqdm(steps, total=total, disable=not progress, desc="vid2vid", unit="frame"):
                images.append(((step.image.float() + 1.0) / 2.0).clamp(0.0, 1.0))
                if return_flows:
                    flows.append(
                        step.flow.float()
                        if step.flow is not None
                        else step.image.new_zeros(batch, 2, height, width).float()
                    )
                    weights.append(
                        step.weight.float()
                        if step.weight is not None
                        else step.image.new_ones(batch, 1, height, width).float()
                    )
        frames = torch.stack(images, dim=1)
        flow_t = torch.stack(flows, dim=1) if return_flows else None
        weight_t = torch.stack(weights, dim=1) if return_flows else None
        return format_output(frames, flow_t, weight_t, output_type, batched)

    def stream(
        self,
        label_frames: Iterable[Any],
        instances: Iterable[Any] | None = None,
        first_frames: Any = None,
        seed: int | None = None,
        output_type: str = "pt",
        first_frame: str | None = None,
    ) -> Iterator[Any]:
        """Yield output frames one at a time; memory does not grow with the clip length.

        Args:
            label_frames: iterable of label frames: ``(H, W)`` or ``(B, H, W)`` integer ids (tensor
                or array), single-channel PIL images or PNG paths; for continuous models
                ``([B,] C, H, W)`` float in ``[0, 1]``, ``(H, W, C)`` uint8, PIL images or paths.
            instances: iterable of instance maps in the same forms (required iff the model uses them).
            first_frames, seed, first_frame: as in :meth:`__call__`.
            output_type: ``"pt"`` → ``(3, H, W)`` (``(B, 3, H, W)`` for batched frames) float32 in
                ``[0, 1]``; ``"np"`` → ``([B,] H, W, 3)`` float32; ``"pil"`` → a PIL image (a list for
                batched frames).

        Only a window of ``n_frames_G`` encoded label maps and the generator's history are kept.
        """
        if output_type not in OUTPUT_TYPES:
            raise ValueError(f"output_type must be one of {OUTPUT_TYPES}, got {output_type!r}")
        c = self.config
        kind, channels = ("ids", 0) if c.label_nc > 0 else ("frames", c.input_nc)
        inst_iter = None
        if instances is not None:
            inst_iter = (streamed_frame(v, "instances", "ids", 0)[0] for v in instances)
        batched_holder: list[bool] = []

        def labels_with_batch_flag() -> Iterator[Tensor]:
            for value in label_frames:
                frame, batched = streamed_frame(value, "labels", kind, channels)
                if not batched_holder:
                    batched_holder.append(batched)
                yield frame

        first_state: dict[str, Tensor | None] = {"first": None}
        pending_first = first_frames

        def first_provider(batch: int, height: int, width: int) -> Tensor | None:
            if pending_first is None:
                return None
            if first_state["first"] is None:
                first_state["first"] = self._first_frames_tensor(pending_first, batch, height, width)
            return first_state["first"]

        with torch.inference_mode():
            for step in self._steps(labels_with_batch_flag(), inst_iter, first_provider, seed, first_frame):
                frame = ((step.image.float() + 1.0) / 2.0).clamp(0.0, 1.0)
                batched = bool(batched_holder and batched_holder[0])
                clip = format_output(frame.unsqueeze(1), None, None, output_type, True).frames
                if output_type == "pil":
                    yield [c[0] for c in clip] if batched else clip[0][0]
                else:
                    yield clip[:, 0] if batched else clip[0, 0]

    # ------------------------------------------------------------------ internals
    def _first_frames_tensor(self, value: Any, batch: int, height: int, width: int) -> Tensor:
        """Real first frames → ``(B, n_frames_G - 1, 3, H, W)`` in [-1, 1] on the pipeline's device/dtype."""
        c = self.config
        need = c.n_frames_G - 1
        frames, _ = image_clip(value, "first_frames", c.output_nc)
        if frames.shape[0] == 1 and batch > 1:
            raise ValueError(f"labels hold {batch} clips but first_frames hold one clip; give one per clip")
        if frames.shape[0] != batch or tuple(frames.shape[-2:]) != (height, width):
            raise ValueError(
                f"first_frames {tuple(frames.shape)} must be (B={batch}, T0, {c.output_nc}, H={height}, W={width})"
            )
        if frames.shape[1] < need:
            raise ValueError(
                f"first_frames hold {frames.shape[1]} frames but the model needs n_frames_G - 1 = {need}"
            )
        return frames[:, :need].to(device=self.device, dtype=self.dtype)

    def _encode(self, labels: Tensor, instances: Tensor | None) -> Tensor:
        """One frame ``(B, 1, H, W)`` ids (or ``(B, 1, C, H, W)`` inputs) → ``(B, 1, frame_nc, H, W)``."""
        c = self.config
        if c.label_nc > 0:
            check_label_ids(labels, c.label_nc)
            encoded = self.generator.encode_inputs(labels=labels.to(self.device), instances=instances)
        else:
            encoded = self.generator.encode_inputs(inputs=labels.to(self.device), instances=instances)
        return encoded.to(self.dtype)

    def _steps(
        self,
        label_iter: Iterator[Tensor],
        inst_iter: Iterator[Tensor] | None,
        first: Tensor | Any | None,
        seed: int | None,
        policy_override: str | None,
    ) -> Iterator[_Step]:
        """The synthesis loop shared by ``__call__`` and ``stream`` (runs under inference mode)."""
        c = self.config
        n_prev = c.n_frames_G - 1
        if c.use_instance and inst_iter is None:
            raise ValueError("this model uses instance maps (use_instance=True): pass instances")
        if not c.use_instance and inst_iter is not None:
            raise ValueError(
                "this model does not use instance maps (use_instance=False): do not pass instances"
            )
        window = InputWindow(c.n_frames_G, c.n_scales)  # preallocated; each frame pooled once
        state: GeneratorState | None = None
        history: list[Tensor] = []
        features: _FeatureSampler | None = None
        policy = policy_override or self.first_frame
        shape: tuple[int, int, int] | None = None
        for t, lab in enumerate(label_iter):
            inst = None
            if inst_iter is not None:
                inst = next(inst_iter, None)
                if inst is None:
                    raise ValueError(
                        f"instances ended at frame {t} but labels go on: give one instance map per label map"
                    )
                inst = inst.to(self.device)
            batch, height, width = lab.shape[0], lab.shape[-2], lab.shape[-1]
            if shape is None:
                shape = (batch, height, width)
                self.generator.check_size(height, width)
                first_t = first(batch, height, width) if callable(first) else first
                if first_t is not None:
                    policy = "real"
                self._check_policy(policy)
                if policy == "real" and first_t is None:
                    raise ValueError(
                        f"this model starts from real frames (first_frame='real'): pass first_frames with "
                        f"n_frames_G - 1 = {n_prev} frames, or choose first_frame='zeros'"
                        + (" or 'image_generator'" if self.image_generator is not None else "")
                    )
                if policy == "image_generator":
                    assert self.image_generator is not None
                    m = self.image_generator.config.size_multiple
                    if height % m or width % m:
                        raise ValueError(
                            f"frame size {height}x{width} (HxW) is not divisible by {m}, which the first-frame "
                            f"image generator needs; resize or pad to a multiple of {m}"
                        )
                    features = _FeatureSampler(self, seed)
            elif (batch, height, width) != shape:
                raise ValueError(
                    f"frame {t} has shape (B, H, W) = {(batch, height, width)}, expected {shape}"
                )
            if inst is not None and (inst.shape[0], *inst.shape[-2:]) != shape:
                raise ValueError(
                    f"instances of frame {t} are {tuple(inst.shape)}, expected (B, 1, H, W) = {shape}"
                )
            encoded = self._encode(lab, inst)
            if policy == "zeros" and state is None:
                window.push(encoded[:, 0], repeat=n_prev)
                state = self.generator.init_state(
                    None, batch, height, width, device=self.device, dtype=self.dtype
                )
            window.push(encoded[:, 0])
            if state is None:
                # Still inside the first n_frames_G - 1 frames of the "real"/"image_generator" policies.
                if policy == "real":
                    image = first_t[:, t]  # type: ignore[index]
                else:
                    assert self.image_generator is not None and features is not None
                    frame_in = encoded[:, 0]
                    feats = features.sample(inst[:, 0] if inst is not None else None, frame_in)
                    image = self.image_generator(frame_in, feats)
                history.append(image)
                if len(history) == n_prev:
                    # The history holds real/generated frames: warp from them even in models trained
                    # with no_first_frame (whose first step otherwise skips warping).
                    state = GeneratorState(
                        self.generator.init_state(torch.stack(history, dim=1)).history, False
                    )
                    history = []
                yield _Step(image, None, None)
                continue
            if self._graphed is not None and not (c.no_first_frame and state.is_first):
                out = self._graphed(window.levels(), state.history)
                state = state.advance(out.scale_images)
            else:
                out, state = self.generator.step(window, state, label_gather=self._label_gather)
            yield _Step(out.image, out.flow, out.weight)
        if shape is None:
            raise ValueError("labels hold no frames")
        if inst_iter is not None and next(inst_iter, None) is not None:
            raise ValueError("instances hold more frames than labels")

    def save_video(
        self,
        output: Vid2VidPipelineOutput | Any,
        path: str | os.PathLike[str],
        fps: float = 15.0,
        clip_index: int | None = None,
    ) -> Path:
        """Write one clip of an output to ``.mp4``/``.gif``/... or a PNG folder (path without suffix).

        Args:
            output: a :class:`Vid2VidPipelineOutput` (any ``output_type``) or its ``frames``.
            path: destination (see :func:`vid2vid.data.io.write_video`).
            fps: frames per second.
            clip_index: which clip of a batched output to write (required when it holds several).
        """
        from vid2vid.data.io import write_video

        return write_video(frames_to_uint8(output, clip_index), path, fps=fps)


class _FeatureSampler:
    """Per-instance feature maps for the image generator, drawn from the class clusters with a seed.

    Each instance id keeps its feature vector for the whole clip; instance ids ``>= 1000`` belong
    to class ``id // 1000`` (Cityscapes convention), smaller ids are their own class. Classes
    without clusters get zero features.
    """

    def __init__(self, pipe: Vid2VidPipeline, seed: int | None) -> None:
        self.pipe = pipe
        self.n_feat = pipe.feature_channels
        self.rng = torch.Generator().manual_seed(seed) if seed is not None else None
        self.chosen: dict[tuple[int, int], Tensor] = {}

    def sample(self, instances: Tensor | None, frame_in: Tensor) -> Tensor | None:
        """Features ``(B, F, H, W)`` for one frame's instance ids ``(B, H, W)``; ``None`` without features."""
        if self.n_feat == 0:
            return None
        if instances is None:
            raise ValueError("the first-frame generator uses instance features: pass instances")
        clusters = self.pipe.feature_clusters or {}
        b, h, w = instances.shape
        out = torch.zeros(b, self.n_feat, h, w, device=frame_in.device, dtype=frame_in.dtype)
        for i in range(b):
            for inst_id in torch.unique(instances[i]).tolist():
                key = (i, int(inst_id))
                if key not in self.chosen:
                    cls = inst_id // 1000 if inst_id >= 1000 else inst_id
                    centres = clusters.get(f"class_{cls}")
                    if centres is None or centres.shape[0] == 0:
                        vec = torch.zeros(self.n_feat)
                    else:
                        if centres.shape[1] != self.n_feat:
                            raise ValueError(
                                f"feature cluster class_{cls} has {centres.shape[1]} features, the image "
                                f"generator expects {self.n_feat}"
                            )
                        k = int(torch.randint(centres.shape[0], (1,), generator=self.rng))
                        vec = centres[k].float().cpu()
                    self.chosen[key] = vec
                mask = instances[i] == inst_id
                out[i][:, mask] = self.chosen[key].to(out)[:, None]
        return out
