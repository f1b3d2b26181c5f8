"""Inference pipeline: label video in, synthesised video out (vid2vid §3, test-time protocol).

:class:`Vid2VidPipeline` bundles what a model folder (:mod:`vid2vid.model_folder`) holds: the
sequential generator, the first-frame policy and, optionally, the pix2pixHD first-frame
generator and per-class instance-feature clusters (multimodal synthesis, vid2vid §3.4). It
follows the diffusers / huggingface_hub conventions: ``from_pretrained`` (a local folder or a Hub
repo id), ``save_pretrained``, ``push_to_hub``, a chainable ``.to()``, and a ``__call__`` that
returns a dataclass (:class:`~vid2vid.pipeline_output.Vid2VidPipelineOutput`).

Frames are produced one time step at a time, exactly as the original's ``test.py``: the
generator sees the last ``n_frames_G`` label maps and its own ``n_frames_G - 1`` previous
outputs. The history before the first step comes from the first-frame policy:

* ``"real"``: the caller's real frames (``first_frames=``), output as they are;
* ``"image_generator"``: generated frame by frame by the bundled single-image generator, fed
  the one-hot labels without the instance-edge channel (``first_frame_input="labels"``, the
  original's ``--use_single_G``) or the full frame encoding, plus instance features chosen at
  random per class (seeded) or, as the original's face models, from the training image whose
  features are nearest to those the encoder extracts from the real first frames;
* ``"zeros"``: the history starts at zero (models trained with ``no_first_frame``); as in the
  original, the first output is frame ``n_frames_G - 1`` and the first ``n_frames_G - 1`` label
  maps only condition it (no padding), so a clip of ``T`` maps gives ``T - n_frames_G + 1`` frames.

Continuous input maps (face edges, pose renderings) are fed to the generator in the value range
the model was trained with (``input_range``, recorded in the model folder: ``[0, 1]`` for the
original's face models, ``[-1, 1]`` for its pose models); see ``docs/pipeline.md``.

:meth:`Vid2VidPipeline.stream` runs the same loop over iterables of frames with memory that
does not grow with the clip length.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from vid2vid.data.labels import check_label_ids
from vid2vid.hub import hub_license, resolve_model_folder
from vid2vid.model_folder import (
    DEFAULT_INPUT_RANGE,
    FEATURE_CHOICES,
    FEATURES_FILE,
    FIRST_FRAME_INPUTS,
    ModelFolder,
    check_first_frame_policy,
    check_input_range,
    default_first_frame_input,
    load_model_folder,
    save_model_folder,
)
from vid2vid.nn.feature_image_generator import FeatureImageGenerator
from vid2vid.nn.graphed_step import GraphedGeneratorStep
from vid2vid.nn.image_generator import ImageGenerator
from vid2vid.nn.input_window import InputWindow
from vid2vid.nn.instance_encoder import InstanceFeatureEncoder
from vid2vid.nn.sequential_generator import GeneratorState, SequentialGenerator, SequentialGeneratorConfig
from vid2vid.pipeline_io import (
    format_output,
    frames_to_uint8,
    id_clip,
    image_clip,
    streamed_frame,
)
from vid2vid.pipeline_output import Vid2VidPipelineOutput
from vid2vid.pipelines.base import PipelineBase, check_device_dtype, output_float
from vid2vid.pipelines.features import InstanceFeatureSampler

if TYPE_CHECKING:  # pragma: no cover
    from vid2vid.pipelines.image import Pix2PixHDPipeline

__all__ = [
    "Vid2VidPipeline",
    "Vid2VidPipelineOutput",
    "OUTPUT_TYPES",
    "resolve_model_folder",
    "frames_to_uint8",
]

OUTPUT_TYPES: tuple[str, ...] = ("pt", "np", "pil")


def _card_call(pipe: Vid2VidPipeline) -> list[str]:
    """The model card's call, with exactly the inputs this model takes."""
    c = pipe.config
    size = pipe.training_size
    hw = f"{size[1]}, {size[0]}" if size else "H, W"
    if c.label_nc:
        lines = [f"# labels: (T, {hw}) int64 class ids in [0, {c.label_nc})"]
    else:
        lines = [f"# labels: (T, {c.input_nc}, {hw}) float in [0, 1] (continuous input maps)"]
    args = ["labels"]
    if c.use_instance:
        lines.append(f"# instances: (T, {hw}) int64 instance ids (object ids: class_id * 1000 + k)")
        args.append("instances=instances")
    if pipe.first_frame == "real":
        lines.append(f"# first_frames: ({c.n_frames_G - 1}, 3, {hw}) float in [0, 1], the real first frames")
        args.append("first_frames=first_frames")
    return [*lines, f"out = pipe({', '.join(args)})  # out.frames: (T, 3, {hw}) in [0, 1]"]


def _model_card(pipe: Vid2VidPipeline) -> str:
    meta = pipe.metadata
    license_text = meta.get("license")
    c = pipe.config
    lines = [
        "---",
        "library_name: vid2vid",
        f"license: {hub_license(license_text)}",
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
        *_card_call(pipe),
        'pipe.save_video(out, "out.mp4")',
        "```",
        "",
        f"- inputs: {'label maps with ' + str(c.label_nc) + ' classes' if c.label_nc else str(c.input_nc) + '-channel continuous maps'}"
        f"{' + instance maps' if c.use_instance else ''}",
        f"- frames in the generator's window (n_frames_G): {c.n_frames_G}; spatial scales: {c.n_scales}",
        f"- first frames: {pipe.first_frame}",
        *([f"- continuous input range: {list(pipe.input_range)}"] if pipe.input_range is not None else []),
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


class Vid2VidPipeline(PipelineBase):
    """Label video → synthesised video, with a vid2vid sequential generator.

    Args:
        generator: the sequential generator.
        first_frame: first-frame policy, one of ``"real"``, ``"zeros"``, ``"image_generator"``.
        image_generator: the first-frame generator (needed by ``"image_generator"``): a pix2pixHD
            :class:`~vid2vid.nn.ImageGenerator` (features, if any, concatenated to its input) or a
            :class:`~vid2vid.nn.FeatureImageGenerator` (features at every level, face models).
        feature_clusters: per-class instance features ``{"class_<id>": (K, F)}`` consumed by the
            image generator (multimodal synthesis): cluster centres, or one row per training image
            for the ``"nearest"`` choice; required when the image generator takes features.
        labels: optional label set ``{"names": [...], "colors": [[r, g, b], ...]}``.
        metadata: the rest of the model folder's ``config.json`` (licence, training record, ...).
        input_range: value range ``(lo, hi)`` of the continuous input maps the generator was
            trained with (``label_nc == 0`` only; default ``(-1, 1)``).
        first_frame_input: what the image generator is fed: ``"encoded"`` (the generator's frame
            encoding, instance-edge channel included) or ``"labels"`` (one-hot labels / continuous
            maps only, the original's ``--use_single_G``). Default: ``"labels"`` when the image
            generator takes exactly the label channels of an instance-using model, else ``"encoded"``.
        feature_encoder: the instance-feature encoder, for ``feature_choice="nearest"``.
        feature_choice: ``"random"`` (seeded random row per instance) or ``"nearest"`` (the
            training row nearest to the encoded real first frame, as the original's face models).
    """

    _commit_message = "Upload vid2vid model"

    def __init__(
        self,
        generator: SequentialGenerator,
        first_frame: str = "real",
        image_generator: ImageGenerator | FeatureImageGenerator | None = None,
        feature_clusters: Mapping[str, Tensor] | None = None,
        labels: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        input_range: tuple[float, float] | None = None,
        first_frame_input: str | None = None,
        feature_encoder: InstanceFeatureEncoder | None = None,
        feature_choice: str = "random",
    ) -> None:
        check_first_frame_policy(first_frame, image_generator is not None)
        self.generator = generator.eval()
        self.image_generator = image_generator.eval() if image_generator is not None else None
        self.feature_encoder = feature_encoder.eval() if feature_encoder is not None else None
        self.first_frame = first_frame
        self.feature_clusters = dict(feature_clusters) if feature_clusters else None
        self.labels = dict(labels) if labels is not None else None
        self.metadata = dict(metadata or {})
        self._channels_last = False
        self._input_range = check_input_range(input_range)
        if self._input_range is not None and generator.config.label_nc > 0:
            raise ValueError("input_range applies to continuous inputs (label_nc == 0), not to label models")
        self.first_frame_input = (
            first_frame_input
            if first_frame_input is not None
            else default_first_frame_input(generator.config, image_generator)
        )
        if self.first_frame_input not in FIRST_FRAME_INPUTS:
            raise ValueError(
                f"first_frame_input must be one of {FIRST_FRAME_INPUTS}, got {self.first_frame_input!r}"
            )
        if feature_choice not in FEATURE_CHOICES:
            raise ValueError(f"feature_choice must be one of {FEATURE_CHOICES}, got {feature_choice!r}")
        self.feature_choice = feature_choice
        self._label_gather = False
        self._graphed: GraphedGeneratorStep | None = None
        feat_nc = self.feature_channels
        if feat_nc < 0:
            raise ValueError(
                f"the image generator takes {image_generator.config.input_nc} channels, fewer than the "  # type: ignore[union-attr]
                f"{self._first_frame_input_nc} of its input ({self.first_frame_input!r})"
            )
        if feat_nc > 0 and not self.feature_clusters:
            raise ValueError(
                f"the image generator expects {feat_nc} instance-feature channels but no feature_clusters "
                f"were given (the model folder needs {FEATURES_FILE})"
            )
        if feature_choice == "nearest":
            if feature_encoder is None or feat_nc == 0:
                raise ValueError(
                    "feature_choice='nearest' needs an image generator that takes features and a feature_encoder"
                )
            enc_nc = feature_encoder.out.conv.out_channels
            if enc_nc != feat_nc:
                raise ValueError(
                    f"the feature encoder makes {enc_nc} channels, the image generator expects {feat_nc}"
                )
        check_device_dtype(self.device, self.dtype)

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
            input_range=folder.input_range,
            first_frame_input=folder.first_frame_input,
            feature_encoder=folder.feature_encoder,
            feature_choice=folder.feature_choice,
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
    ) -> Vid2VidPipeline | Pix2PixHDPipeline:
        """Load a model folder from disk or from the Hugging Face Hub.

        An image-model folder (``model_type: pix2pixhd_generator``, e.g. from ``vid2vid train
        --model image``) gives a :class:`~vid2vid.pipelines.image.Pix2PixHDPipeline` (same
        conventions; synthesises clips frame by frame).

        Args:
            repo_id_or_path: a local model folder or a Hub repo id (``"org/name"``), downloaded
                with ``huggingface_hub.snapshot_download`` (honours its cache, ``HF_HUB_OFFLINE``,
                ``HF_HUB_CACHE``, ``HF_TOKEN``).
            revision: Hub branch, tag or commit hash (default ``main``).
            device: where to put the networks (default CPU).
            dtype: ``float32`` (default), ``bfloat16``, or ``float16`` (CUDA only); ``float64`` for reference checks.
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
        from vid2vid.image_model_folder import IMAGE_MODEL_TYPE, read_model_type

        if read_model_type(folder) == IMAGE_MODEL_TYPE:  # a pix2pixHD image model: its own pipeline
            if first_frame is not None:
                raise ValueError(f"{repo_id_or_path} is a pix2pixHD image model: first_frame does not apply")
            from vid2vid.pipelines.image import Pix2PixHDPipeline

            return Pix2PixHDPipeline.from_pretrained(
                folder, device=device, dtype=dtype, channels_last=channels_last, compile=compile
            )
        dev, dt = cls._placement(device, dtype)
        pipe = cls.from_model_folder(load_model_folder(folder, device=dev, dtype=dt))
        if first_frame is not None:
            pipe.set_first_frame(first_frame)
        pipe._apply_load_options(channels_last, compile)
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
            input_range=self._input_range,
            first_frame_input=self.first_frame_input,
            feature_encoder=self.feature_encoder,
            feature_choice=self.feature_choice,
        )
        from vid2vid.atomic import atomic_write_bytes

        atomic_write_bytes(folder / "README.md", _model_card(self).encode("utf-8"))
        return folder

    # ------------------------------------------------------------------ device / dtype / speed
    @property
    def config(self) -> SequentialGeneratorConfig:
        """The sequential generator's configuration."""
        return self.generator.config

    def _modules(self) -> list[torch.nn.Module]:
        return [m for m in (self.generator, self.image_generator, self.feature_encoder) if m is not None]

    def _compiled_modules(self) -> list[torch.nn.Module]:
        # the feature encoder runs once per clip at most: not worth a compilation
        return [m for m in (self.generator, self.image_generator) if m is not None]

    def _before_move(self, device: torch.device, dtype: torch.dtype) -> None:
        if self._graphed is not None and device.type != "cuda":
            raise ValueError("CUDA graphs are enabled: call enable_cuda_graphs(False) before moving off CUDA")

    def _after_move(self) -> None:
        if self._graphed is not None:
            self._graphed = GraphedGeneratorStep(self.generator)  # captured again on the new device/dtype

    @property
    def input_range(self) -> tuple[float, float] | None:
        """Value range of the continuous input maps (``None`` for label models)."""
        if self.generator.config.label_nc > 0:
            return None
        return self._input_range if self._input_range is not None else DEFAULT_INPUT_RANGE

    @property
    def _first_frame_input_nc(self) -> int:
        c = self.generator.config
        if self.first_frame_input == "labels":
            return c.label_nc if c.label_nc > 0 else c.input_nc
        return c.frame_nc

    @property
    def training_size(self) -> tuple[int, int] | None:
        """``(width, height)`` of the frames the model was trained on, when its folder records it."""
        size = (self.metadata.get("training") or {}).get("size")
        if (
            isinstance(size, Mapping)
            and isinstance(size.get("width"), int)
            and isinstance(size.get("height"), int)
        ):
            return size["width"], size["height"]
        return None

    def __repr__(self) -> str:
        c = self.config
        inputs = f"label_nc={c.label_nc}" if c.label_nc else f"input_nc={c.input_nc}"
        size = self.training_size
        trained = f", trained at {size[0]}x{size[1]}" if size else ""
        return (
            f"{type(self).__name__}({inputs}, use_instance={c.use_instance}, first_frame={self.first_frame!r}, "
            f"n_scales={c.n_scales}, ngf={c.ngf}, device={self.device}, dtype={self.dtype}"
            f"{', image_generator' if self.image_generator is not None else ''}{trained})"
        )

    @property
    def feature_channels(self) -> int:
        """Instance-feature channels the image generator consumes (0 without features)."""
        ig = self.image_generator
        if ig is None:
            return 0
        if isinstance(ig, FeatureImageGenerator):
            if ig.config.input_nc != self._first_frame_input_nc:
                raise ValueError(
                    f"the image generator takes {ig.config.input_nc} input channels but its input "
                    f"({self.first_frame_input!r}) has {self._first_frame_input_nc}"
                )
            return ig.config.feature_nc
        return ig.config.input_nc - self._first_frame_input_nc

    def set_first_frame(self, policy: str) -> Vid2VidPipeline:
        """Change the default first-frame policy (``"real"``, ``"zeros"``, ``"image_generator"``)."""
        self._check_policy(policy)
        self.first_frame = policy
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
        first_frames_range: tuple[float, float] = (0.0, 1.0),
    ) -> Vid2VidPipelineOutput:
        """Synthesise one video per label clip.

        Args:
            labels: the label clip(s). For label models (``label_nc > 0``): integer class ids as a
                ``(T, H, W)`` or ``(B, T, H, W)`` tensor/array, a list of ``(T, H, W)`` clips, a list
                of single-channel PIL images or PNG paths, or a folder of label PNGs. For continuous
                models (``label_nc == 0``): ``(T, C, H, W)`` / ``(B, T, C, H, W)`` float in the model's
                :attr:`input_range` (fed to the generator unchanged), or channels-last uint8 / a list
                of images or paths / a frame folder / a video (``[0, 255]`` mapped onto that range).
            instances: instance-id maps in the same forms as label ids, same length and size as
                ``labels``: required iff the model uses instance maps, or its first-frame generator
                uses instance features (then e.g. the face-part label maps).
            first_frames: real frames ``([B,] T0, 3, H, W)`` float in ``first_frames_range``,
                channels-last uint8, a list of images/paths, a folder or a video; ``T0 >= n_frames_G - 1``
                (only the first ``n_frames_G - 1`` are used). They are the history before the first
                step (``"real"`` policy, selected by giving them) or, for an image generator with
                ``feature_choice="nearest"`` under the ``"image_generator"`` policy, the frames whose
                encoded features pick the training features (as the original's face models).
            seed: picks the per-instance features of multimodal models (same seed → same video).
            output_type: ``"pt"``, ``"np"`` or ``"pil"`` (see :class:`Vid2VidPipelineOutput`).
            return_flows: also return the generator's flows and occlusion weights.
            progress: show a tqdm progress bar.
            first_frame: override the first-frame policy for this call.
            first_frames_range: value range of float ``first_frames``: ``(0, 1)`` (default, the
                pipeline's output range) or ``(-1, 1)`` (the library's internal range, used as is).

        Returns:
            :class:`Vid2VidPipelineOutput`, values in ``[0, 1]``: ``T`` frames per clip, or
            ``T - n_frames_G + 1`` with the ``"zeros"`` policy (``first_index`` says which input
            frame the first output belongs to).
        """
        if output_type not in OUTPUT_TYPES:
            raise ValueError(f"output_type must be one of {OUTPUT_TYPES}, got {output_type!r}")
        c = self.config
        if c.label_nc > 0:
            label_clip, batched = id_clip(labels, "labels")
        else:
            label_clip, batched = image_clip(labels, "labels", c.input_nc, *self._input_ranges())
            self._warn_on_range(label_clip)
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
        policy = self._resolve_policy(first_frame, first_frames is not None)
        first = None
        if first_frames is not None:
            first = self._first_frames_tensor(first_frames, batch, height, width, first_frames_range)
        first_index = self._first_index(policy)
        if length <= first_index:
            raise ValueError(self._too_short_message(length))
        self._check_memory(batch, length, height, width, return_flows)

        total = length - first_index
        with torch.inference_mode():
            steps = self._steps(
                (label_clip[:, t : t + 1] for t in range(length)),
                None if inst_clip is None else (inst_clip[:, t : t + 1] for t in range(length)),
                first,
                seed,
                policy,
            )
            images, flows, weights = [], [], []
            from tqdm.auto import tqdm

            for step in tqdm(steps, total=total, disable=not progress, desc="vid2vid", unit="frame"):
                images.append(((output_float(step.image) + 1.0) / 2.0).clamp(0.0, 1.0))
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
        return format_output(frames, flow_t, weight_t, output_type, batched, first_index)

    def stream(
        self,
        label_frames: Iterable[Any],
        instances: Iterable[Any] | None = None,
        first_frames: Any = None,
        seed: int | None = None,
        output_type: str = "pt",
        first_frame: str | None = None,
        first_frames_range: tuple[float, float] = (0.0, 1.0),
    ) -> Iterator[Any]:
        """Yield output frames one at a time; memory does not grow with the clip length.

        Args:
            label_frames: iterable of label frames: ``(H, W)`` or ``(B, H, W)`` integer ids (tensor
                or array), single-channel PIL images or PNG paths; for continuous models
                ``([B,] C, H, W)`` float in the model's :attr:`input_range`, ``(H, W, C)`` uint8, PIL
                images or paths.
            instances: iterable of instance maps in the same forms (see :meth:`__call__`).
            first_frames, seed, first_frame, first_frames_range: as in :meth:`__call__`.
            output_type: ``"pt"`` → ``(3, H, W)`` (``(B, 3, H, W)`` for batched frames) float32 in
                ``[0, 1]``; ``"np"`` → ``([B,] H, W, 3)`` float32; ``"pil"`` → a PIL image (a list for
                batched frames).

        Only a window of ``n_frames_G`` encoded label maps and the generator's history are kept.
        With the ``"zeros"`` policy the first output comes after ``n_frames_G`` input frames (it is
        frame ``n_frames_G - 1``), as in :meth:`__call__`.
        """
        if output_type not in OUTPUT_TYPES:
            raise ValueError(f"output_type must be one of {OUTPUT_TYPES}, got {output_type!r}")
        c = self.config
        kind, channels = ("ids", 0) if c.label_nc > 0 else ("frames", c.input_nc)
        ranges = self._input_ranges() if c.label_nc == 0 else ((0.0, 1.0), (-1.0, 1.0))
        inst_iter = None
        if instances is not None:
            inst_iter = (streamed_frame(v, "instances", "ids", 0)[0] for v in instances)
        batched_holder: list[bool] = []
        policy = self._resolve_policy(first_frame, first_frames is not None)

        def labels_with_batch_flag() -> Iterator[Tensor]:
            for value in label_frames:
                frame, batched = streamed_frame(value, "labels", kind, channels, *ranges)
                if not batched_holder:
                    batched_holder.append(batched)
                    if c.label_nc == 0:
                        self._warn_on_range(frame)
                yield frame

        first_state: dict[str, Tensor | None] = {"first": None}
        pending_first = first_frames

        def first_provider(batch: int, height: int, width: int) -> Tensor | None:
            if pending_first is None:
                return None
            if first_state["first"] is None:
                first_state["first"] = self._first_frames_tensor(
                    pending_first, batch, height, width, first_frames_range
                )
            return first_state["first"]

        with torch.inference_mode():
            for step in self._steps(labels_with_batch_flag(), inst_iter, first_provider, seed, policy):
                frame = ((output_float(step.image) + 1.0) / 2.0).clamp(0.0, 1.0)
                batched = bool(batched_holder and batched_holder[0])
                clip = format_output(frame.unsqueeze(1), None, None, output_type, True).frames
                if output_type == "pil":
                    yield [c[0] for c in clip] if batched else clip[0][0]
                else:
                    yield clip[:, 0] if batched else clip[0, 0]

    # ------------------------------------------------------------------ internals
    def _input_ranges(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """(range the caller's float maps are in, range fed to the generator): both the model's."""
        rng = self.input_range or DEFAULT_INPUT_RANGE
        return rng, rng

    def _warn_on_range(self, clip: Tensor) -> None:
        rng = self.input_range
        if rng is None or rng[0] >= 0 or clip.numel() == 0 or float(clip.min()) < 0:
            return
        warnings.warn(
            f"this model was trained with input maps in [{rng[0]:g}, {rng[1]:g}] but every value given is "
            f">= 0; pass the maps in the model's range (images and uint8 arrays are mapped automatically)",
            UserWarning,
            stacklevel=3,
        )

    def _resolve_policy(self, override: str | None, has_first_frames: bool) -> str:
        """The policy for one call: the override or the default; real frames select ``"real"``
        unless they are the nearest-feature references of the ``"image_generator"`` policy."""
        policy = override or self.first_frame
        if has_first_frames and not (policy == "image_generator" and self._needs_references):
            policy = "real"
        self._check_policy(policy)
        return policy

    @property
    def _needs_references(self) -> bool:
        return self.feature_choice == "nearest" and self.feature_channels > 0

    def _first_index(self, policy: str) -> int:
        return self.config.n_frames_G - 1 if policy == "zeros" else 0

    def _too_short_message(self, length: int) -> str:
        tg = self.config.n_frames_G
        return (
            f"labels hold {length} frame(s) but the 'zeros' first-frame policy needs at least n_frames_G = {tg}: "
            f"the first output is frame {tg - 1}, conditioned on frames 0..{tg - 1} (as the original's test.py)"
        )

    def _check_memory(self, batch: int, length: int, height: int, width: int, return_flows: bool) -> None:
        """Fail up front when the output (float32, on the CPU) or one step cannot fit in memory."""
        from vid2vid.validation import check_memory

        per_frame = (3 + (3 if return_flows else 0)) * height * width * 4
        check_memory(
            batch * length * per_frame,
            f"the output of {batch} clip(s) x {length} frames of {width}x{height}",
            "cpu",
            hint="use pipe.stream(...) for constant memory, fewer frames or a smaller size",
        )
        # A lower bound of one step's working set: its stacked input window and the two
        # full-resolution encoder outputs of the finest scale (never a false alarm).
        c = self.config
        itemsize = torch.empty((), dtype=self.dtype).element_size()
        finest = c.ngf // 2 ** (c.n_scales - 1)
        channels = c.n_frames_G * (c.label_nc + c.input_nc + 1) + 2 * finest
        check_memory(
            channels * batch * height * width * itemsize,
            f"one step at {width}x{height} (batch {batch})",
            self.device,
            hint="use a smaller size or batch",
        )

    def _first_frames_tensor(
        self, value: Any, batch: int, height: int, width: int, value_range: tuple[float, float] = (0.0, 1.0)
    ) -> Tensor:
        """Real first frames → ``(B, n_frames_G - 1, 3, H, W)`` in [-1, 1] on the pipeline's device/dtype."""
        c = self.config
        need = c.n_frames_G - 1
        rng = check_input_range(value_range)
        if rng not in ((0.0, 1.0), (-1.0, 1.0)):
            raise ValueError(f"first_frames_range must be (0, 1) or (-1, 1), got {value_range!r}")
        frames, _ = image_clip(value, "first_frames", c.output_nc, rng)
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
        if not c.use_instance:
            instances = None  # only the first-frame features use them
        if c.label_nc > 0:
            check_label_ids(labels, c.label_nc)
            encoded = self.generator.encode_inputs(labels=labels.to(self.device), instances=instances)
        else:
            encoded = self.generator.encode_inputs(inputs=labels.to(self.device), instances=instances)
        return encoded.to(self.dtype)

    def _first_frame_image(
        self, encoded: Tensor, inst: Tensor | None, features: _FeatureSampler | None, reference: Tensor | None
    ) -> Tensor:
        """One first frame from the image generator: ``encoded`` ``(B, 1, frame_nc, H, W)`` → ``(B, 3, H, W)``."""
        assert self.image_generator is not None and features is not None
        frame_in = encoded[:, 0, : self._first_frame_input_nc]
        if self.feature_channels == 0:
            return self.image_generator(frame_in)
        inst_frame = inst[:, 0] if inst is not None else None
        if reference is not None:
            feats = features.nearest(inst_frame, reference, frame_in)
        else:
            feats = features.sample(inst_frame, frame_in)
        return self.image_generator(frame_in, feats)

    def _steps(
        self,
        label_iter: Iterator[Tensor],
        inst_iter: Iterator[Tensor] | None,
        first: Tensor | Any | None,
        seed: int | None,
        policy: str,
    ) -> Iterator[_Step]:
        """The synthesis loop shared by ``__call__`` and ``stream`` (runs under inference mode).

        ``policy`` is already resolved (:meth:`_resolve_policy`).
        """
        c = self.config
        n_prev = c.n_frames_G - 1
        uses_features = policy == "image_generator" and self.feature_channels > 0
        if c.use_instance and inst_iter is None:
            raise ValueError("this model uses instance maps (use_instance=True): pass instances")
        if uses_features and inst_iter is None:
            raise ValueError(
                "the first-frame generator uses instance features: pass instances (the instance / part "
                "label maps the features are pooled in)"
            )
        if not c.use_instance and inst_iter is not None and not uses_features:
            raise ValueError(
                "this model does not use instance maps (use_instance=False) and its first frames need no "
                "instance features: do not pass instances"
            )
        window = InputWindow(c.n_frames_G, c.n_scales)  # preallocated; each frame pooled once
        state: GeneratorState | None = None
        history: list[Tensor] = []
        features: _FeatureSampler | None = None
        references: Tensor | None = None
        shape: tuple[int, int, int] | None = None
        first_t: Tensor | None = None
        count = 0
        for t, lab in enumerate(label_iter):
            count = t + 1
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
                trained = self.training_size
                if trained is not None and trained != (width, height):
                    warnings.warn(
                        f"synthesising {width}x{height} frames with a model trained on {trained[0]}x{trained[1]}: "
                        "expect lower quality (resize the inputs to the training size)",
                        stacklevel=3,
                    )
                first_t = first(batch, height, width) if callable(first) else first
                if policy == "real" and first_t is None:
                    raise ValueError(
                        f"this model starts from real frames (first_frame='real'): pass first_frames with "
                        f"n_frames_G - 1 = {n_prev} frames, or choose first_frame='zeros'"
                        + (
                            " or 'image_generator'"
                            if self.image_generator is not None
                            else "; to synthesise from labels alone, bundle a first-frame image model: "
                            "vid2vid bundle --video-model VIDEO --first-frame-model IMAGE --out FOLDER"
                        )
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
                    if self._needs_references:
                        if first_t is None:
                            raise ValueError(
                                "this model's first-frame generator picks the training features nearest to the "
                                f"real first frames (feature_choice='nearest'): pass first_frames ({n_prev} real "
                                "frames; the generated frames replace them), or set feature_choice='random'"
                            )
                        references = first_t
            elif (batch, height, width) != shape:
                raise ValueError(
                    f"frame {t} has shape (B, H, W) = {(batch, height, width)}, expected {shape}"
                )
            if inst is not None and (inst.shape[0], *inst.shape[-2:]) != shape:
                raise ValueError(
                    f"instances of frame {t} are {tuple(inst.shape)}, expected (B, 1, H, W) = {shape}"
                )
            encoded = self._encode(lab, inst)
            window.push(encoded[:, 0])
            if policy == "zeros":
                if len(window) < c.n_frames_G:
                    continue  # the first n_frames_G - 1 maps only condition the first output
                if state is None:
                    state = self.generator.init_state(
                        None, batch, height, width, device=self.device, dtype=self.dtype
                    )
            elif state is None:
                # Still inside the first n_frames_G - 1 frames of the "real"/"image_generator" policies.
                if policy == "real":
                    image = first_t[:, t]  # type: ignore[index]
                else:
                    reference = references[:, t] if references is not None else None
                    image = self._first_frame_image(encoded, inst, features, reference)
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
        if policy == "zeros" and count < c.n_frames_G:
            raise ValueError(self._too_short_message(count))
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
    """Per-instance feature maps for the first-frame generator, from the per-class feature rows.

    Instance ids ``>= 1000`` belong to class ``id // 1000`` (Cityscapes convention), smaller ids
    are their own class (e.g. face-part labels). Classes without rows get zero features.

    * :meth:`sample` (``feature_choice="random"``): each instance id draws one row of its class
      with the seeded generator and keeps it for the whole clip.
    * :meth:`nearest` (``feature_choice="nearest"``, the original's face models): the encoder
      extracts per-instance features from a real frame; the training image (row index) whose
      rows are jointly nearest to them — summed squared distance over every class present — is
      chosen, and each instance takes its class's row of that image.
    """

    def __init__(self, pipe: Vid2VidPipeline, seed: int | None) -> None:
        self.pipe = pipe
        self.n_feat = pipe.feature_channels
        self.seed = seed
        self.random: InstanceFeatureSampler | None = None

    @staticmethod
    def _class_of(inst_id: int) -> int:
        return inst_id // 1000 if inst_id >= 1000 else inst_id

    def _rows(self, cls: int) -> Tensor | None:
        rows = (self.pipe.feature_clusters or {}).get(f"class_{cls}")
        if rows is None or rows.shape[0] == 0:
            return None
        if rows.dim() != 2 or rows.shape[1] != self.n_feat:
            raise ValueError(
                f"feature rows class_{cls} have shape {tuple(rows.shape)}, the image generator expects "
                f"(K, {self.n_feat})"
            )
        return rows

    def sample(self, instances: Tensor | None, frame_in: Tensor) -> Tensor:
        """Features ``(B, F, H, W)`` for one frame's instance ids ``(B, H, W)`` (seeded random rows:
        the draws of :class:`~vid2vid.pipelines.features.InstanceFeatureSampler`)."""
        if instances is None:
            raise ValueError("the first-frame generator uses instance features: pass instances")
        if self.random is None:
            self.random = InstanceFeatureSampler(self.pipe.feature_clusters or {}, self.n_feat, self.seed)
        return self.random(instances.long(), dtype=frame_in.dtype).to(frame_in.device)

    def nearest(self, instances: Tensor | None, reference: Tensor, frame_in: Tensor) -> Tensor:
        """Features ``(B, F, H, W)`` from the training rows nearest to the encoded ``reference``.

        Args:
            instances: ``(B, H, W)`` instance / part ids of this frame.
            reference: ``(B, 3, H, W)`` real frame in ``[-1, 1]``.
            frame_in: the image generator's input (gives device and dtype).
        """
        if instances is None:
            raise ValueError("the first-frame generator uses instance features: pass instances")
        encoder = self.pipe.feature_encoder
        assert encoder is not None
        encoded = encoder(reference.to(next(encoder.parameters()).dtype), instances)
        b, h, w = instances.shape
        out = torch.zeros(b, self.n_feat, h, w, device=frame_in.device, dtype=frame_in.dtype)
        for i in range(b):
            flat = instances[i].reshape(-1)
            present = []
            for inst_id in torch.unique(flat).tolist():
                rows = self._rows(self._class_of(int(inst_id)))
                if rows is None:
                    continue
                first_pixel = int((flat == inst_id).nonzero()[0, 0])
                value = encoded[i].reshape(self.n_feat, -1)[:, first_pixel].float().cpu()
                present.append((int(inst_id), rows.float().cpu(), value))
            if not present:
                continue
            n_rows = min(rows.shape[0] for _, rows, _ in present)
            ref = torch.stack([rows[:n_rows].T for _, rows, _ in present])  # (L, F, N)
            ori = torch.stack([value for _, _, value in present])[:, :, None]  # (L, F, 1)
            dists = ((ori - ref) ** 2).sum(dim=0).sum(dim=0)  # (N,)
            index = int(torch.argmin(dists))
            for inst_id, rows, _ in present:
                mask = instances[i] == inst_id
                out[i][:, mask] = rows[min(index, rows.shape[0] - 1)].to(out)[:, None]
        return out
