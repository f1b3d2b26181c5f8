"""Image-to-image inference with a pix2pixHD generator (pix2pixHD §3, test-time protocol).

:class:`Pix2PixHDPipeline` runs an image-model folder (:mod:`vid2vid.image_model_folder`: one
trained with ``vid2vid train --model image`` or converted from an original pix2pixHD
checkpoint) on single label maps or, frame by frame, on whole clips: the per-frame baseline that
vid2vid is compared with. It follows the conventions of
:class:`~vid2vid.pipeline.Vid2VidPipeline`: ``from_pretrained`` (a local folder or a Hub repo id),
``save_pretrained``, ``push_to_hub``, a chainable ``.to()``, ``device``/``dtype`` arguments, the
same input forms and output types, and a ``__call__`` returning a
:class:`~vid2vid.pipeline_output.Vid2VidPipelineOutput`. ``Vid2VidPipeline.from_pretrained``
returns this class when pointed at an image-model folder, and ``vid2vid synthesize`` runs it.

Multimodal synthesis (pix2pixHD §3.3): a generator trained with instance features takes, after
the encoded labels, a feature map constant inside every instance. It is filled either from the
model's per-class feature clusters (a centre drawn per instance with ``seed``; see
:class:`~vid2vid.pipelines.features.InstanceFeatureSampler`) or, with ``reference_images``, by the
model's feature encoder from real images (the original's ``use_encoded_image``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from vid2vid.data.labels import check_label_ids, encode_label_map
from vid2vid.hub import hub_license, resolve_model_folder
from vid2vid.image_model_folder import (
    ENCODER_FILE,
    FEATURES_FILE,
    ImageModel,
    load_image_model,
    save_image_model,
)
from vid2vid.nn.image_generator import ImageGenerator, ImageGeneratorConfig
from vid2vid.nn.instance_encoder import InstanceFeatureEncoder
from vid2vid.pipeline_io import (
    format_output,
    frames_to_uint8,
    id_clip,
    image_clip,
    pil_image_type,
    streamed_frame,
)
from vid2vid.pipeline_output import Vid2VidPipelineOutput
from vid2vid.pipelines.base import PipelineBase, check_device_dtype
from vid2vid.pipelines.features import InstanceFeatureSampler

__all__ = ["Pix2PixHDPipeline", "OUTPUT_TYPES"]

OUTPUT_TYPES: tuple[str, ...] = ("pt", "np", "pil")
_IMAGE_FILE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def _is_single(value: Any, kind: str) -> bool:
    """Whether ``value`` is one image (not a clip): a 2-D id map / 3-D image tensor, a PIL image, an image file."""
    pil = pil_image_type()
    if pil is not None and isinstance(value, pil):
        return True
    if isinstance(value, (str, os.PathLike)):
        path = Path(value)
        return path.is_file() and path.suffix.lower() in _IMAGE_FILE_SUFFIXES
    ndim = getattr(value, "ndim", None)
    if ndim is None:
        return False
    return ndim == (2 if kind == "ids" else 3)


class Pix2PixHDPipeline(PipelineBase):
    """Label map(s) → synthesised image(s), one frame at a time, with a pix2pixHD generator.

    Args:
        generator: the image generator.
        label_nc: classes of the label maps, or 0 for continuous inputs of ``input_nc`` channels.
        use_instance: the generator's input holds an instance-edge channel after the labels
            (then ``instances`` are required).
        input_nc: channels of continuous inputs (``label_nc == 0``).
        encoder: optional instance-feature encoder (used with ``reference_images``).
        encoder_args: the encoder's constructor arguments (saved with it).
        feature_clusters: per-class instance-feature clusters ``{"class_<id>": (K, F)}``;
            needed to synthesise without reference images when the generator takes features.
        labels: optional label set ``{"names": [...], "colors": [[r, g, b], ...]}``.
        metadata: the rest of the folder's ``config.json`` (licence, training record, ...).
    """

    _commit_message = "Upload pix2pixHD model"

    def __init__(
        self,
        generator: ImageGenerator,
        *,
        label_nc: int,
        use_instance: bool = False,
        input_nc: int = 0,
        encoder: InstanceFeatureEncoder | None = None,
        encoder_args: Mapping[str, Any] | None = None,
        feature_clusters: Mapping[str, Tensor] | None = None,
        labels: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = ImageModel(
            generator=generator.eval(),
            label_nc=int(label_nc),
            use_instance=bool(use_instance),
            input_nc=int(input_nc) if label_nc == 0 else 0,
            encoder=encoder.eval() if encoder is not None else None,
            encoder_args=dict(encoder_args) if encoder_args is not None else None,
            feature_clusters=dict(feature_clusters) if feature_clusters else None,
            labels=dict(labels) if labels is not None else None,
            metadata=dict(metadata or {}),
        )
        m = self.model
        if m.label_nc == 0 and m.input_nc < 1:
            raise ValueError("label_nc=0 means continuous inputs: give their channels as input_nc >= 1")
        if m.feature_channels < 0:
            raise ValueError(
                f"the generator takes {generator.config.input_nc} input channels, fewer than the {m.frame_nc} "
                f"of one encoded frame (label_nc={m.label_nc}, input_nc={m.input_nc}, use_instance={m.use_instance})"
            )
        if encoder is not None and m.feature_channels > 0:
            enc_out = int((encoder_args or {}).get("output_nc", m.feature_channels))
            if enc_out != m.feature_channels:
                raise ValueError(
                    f"the encoder makes {enc_out} feature channels, the generator takes {m.feature_channels}"
                )
        if m.feature_channels > 0 and m.feature_clusters:
            InstanceFeatureSampler(m.feature_clusters, m.feature_channels)  # validates the clusters
        elif m.feature_channels > 0 and encoder is None:
            raise ValueError(
                f"the generator takes {m.feature_channels} instance-feature channels but there are neither "
                f"feature clusters ({FEATURES_FILE}) nor a feature encoder ({ENCODER_FILE}) to make them"
            )
        self._channels_last = False
        check_device_dtype(self.device, self.dtype)

    # ------------------------------------------------------------------ loading / saving
    @classmethod
    def from_image_model(cls, model: ImageModel) -> Pix2PixHDPipeline:
        """Build from a loaded :class:`~vid2vid.image_model_folder.ImageModel`."""
        return cls(
            model.generator,
            label_nc=model.label_nc,
            use_instance=model.use_instance,
            input_nc=model.input_nc,
            encoder=model.encoder,
            encoder_args=model.encoder_args,
            feature_clusters=model.feature_clusters,
            labels=model.labels,
            metadata=model.metadata,
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
        channels_last: bool = False,
        compile: bool = False,
    ) -> Pix2PixHDPipeline:
        """Load an image-model folder from disk or from the Hugging Face Hub.

        Arguments as :meth:`Vid2VidPipeline.from_pretrained <vid2vid.pipeline.Vid2VidPipeline.from_pretrained>`
        (``device`` default CPU; ``dtype`` ``float32`` default, ``bfloat16``, or ``float16`` on CUDA).
        Loading is strict: missing or unexpected tensors are errors naming them.
        """
        folder = resolve_model_folder(repo_id_or_path, revision, token, cache_dir, local_files_only)
        dev, dt = cls._placement(device, dtype)
        pipe = cls.from_image_model(load_image_model(folder, device=dev, dtype=dt))
        return pipe._apply_load_options(channels_last, compile)

    def save_pretrained(self, save_directory: str | os.PathLike[str]) -> Path:
        """Write the image-model folder (the layout ``from_pretrained`` reads) plus a README.md model card.

        Weights are written in the pipeline's current dtype.
        """
        m = self.model
        folder = save_image_model(
            save_directory,
            m.generator,
            label_nc=m.label_nc,
            use_instance=m.use_instance,
            input_nc=m.input_nc,
            encoder=m.encoder,
            encoder_args=m.encoder_args,
            feature_clusters=m.feature_clusters,
            labels=m.labels,
            metadata={k: v for k, v in m.metadata.items() if k != "vid2vid_version"},
        )
        from vid2vid.atomic import atomic_write_bytes

        atomic_write_bytes(folder / "README.md", self._model_card().encode("utf-8"))
        return folder

    def _model_card(self) -> str:
        m, c = self.model, self.config
        license_text = m.metadata.get("license")
        inputs = (
            f"label maps with {m.label_nc} classes" if m.label_nc else f"{m.input_nc}-channel continuous maps"
        )
        call = "pipe(labels, instances=instances)" if m.use_instance else "pipe(labels)"
        lines = [
            "---",
            "library_name: vid2vid",
            f"license: {hub_license(license_text)}",
            "tags:",
            "- image-to-image",
            "- pix2pixhd",
            "- safetensors",
            "---",
            "",
            "# pix2pixHD model",
            "",
            "An image-to-image generator (Wang et al., *High-Resolution Image Synthesis and Semantic "
            "Manipulation with Conditional GANs*, CVPR 2018) in the vid2vid library's image-model format; "
            "it also serves as the first-frame model of a vid2vid video model (`vid2vid bundle`).",
            "",
            "```python",
            "from vid2vid import Pix2PixHDPipeline",
            'pipe = Pix2PixHDPipeline.from_pretrained("<this repo>")',
            f"out = {call}  # (H, W) or (T, H, W) int64 ids -> out.frames in [0, 1]",
            "```",
            "",
            f"- inputs: {inputs}{' + instance maps' if m.use_instance else ''}",
            f"- instance features: {m.feature_channels} channels"
            + (f", clusters for {len(m.feature_clusters)} classes" if m.feature_clusters else ""),
            f"- local enhancers: {c.n_local_enhancers}; height and width must be multiples of {c.size_multiple}",
            f"- licence: {license_text or 'not stated'}",
        ]
        if "converted_from" in m.metadata:
            lines.append(f"- converted from: {m.metadata['converted_from']}")
        if "training" in m.metadata:
            lines.append(f"- training: {m.metadata['training']}")
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------------ properties / device
    @property
    def generator(self) -> ImageGenerator:
        """The pix2pixHD generator."""
        return self.model.generator

    @property
    def encoder(self) -> InstanceFeatureEncoder | None:
        """The instance-feature encoder, if the model has one."""
        return self.model.encoder

    @property
    def feature_clusters(self) -> dict[str, Tensor] | None:
        """Per-class instance-feature clusters ``"class_<id>"`` → ``(K, F)``, if the model has them."""
        return self.model.feature_clusters

    @property
    def config(self) -> ImageGeneratorConfig:
        """The generator's configuration."""
        return self.model.generator.config

    @property
    def label_nc(self) -> int:
        """Classes of the label maps (0: continuous inputs)."""
        return self.model.label_nc

    @property
    def use_instance(self) -> bool:
        """Whether instance maps are part of the input."""
        return self.model.use_instance

    @property
    def feature_channels(self) -> int:
        """Instance-feature channels the generator takes (0: not multimodal)."""
        return self.model.feature_channels

    @property
    def labels(self) -> dict[str, Any] | None:
        """The label set (names, colours), if known."""
        return self.model.labels

    @property
    def metadata(self) -> dict[str, Any]:
        """Licence, training or conversion record, ... of the model folder."""
        return self.model.metadata

    def _modules(self) -> list[torch.nn.Module]:
        return [m for m in (self.model.generator, self.model.encoder) if m is not None]

    def __repr__(self) -> str:
        m, c = self.model, self.config
        inputs = f"label_nc={m.label_nc}" if m.label_nc else f"input_nc={m.input_nc}"
        return (
            f"Pix2PixHDPipeline({inputs}, use_instance={m.use_instance}, feature_channels={m.feature_channels}, "
            f"n_local_enhancers={c.n_local_enhancers}, size_multiple={c.size_multiple}, "
            f"device={self.device}, dtype={self.dtype})"
        )

    # ------------------------------------------------------------------ synthesis
    def __call__(
        self,
        labels: Any,
        instances: Any = None,
        seed: int | None = None,
        output_type: str = "pt",
        progress: bool = True,
        reference_images: Any = None,
        frames_per_batch: int = 1,
    ) -> Vid2VidPipelineOutput:
        """Synthesise one image per label map.

        Args:
            labels: for label models (``label_nc > 0``): one map, ``(H, W)`` int ids, a
                single-channel PIL image or a PNG path; or a clip, ``(T, H, W)`` / ``(B, T, H, W)``
                int ids, a list of ``(T, H, W)`` clips, a list of PIL images or paths, or a folder
                of label PNGs. For continuous models (``label_nc == 0``): one map ``(C, H, W)``
                float in ``[0, 1]``, ``(H, W, C)`` uint8, a PIL image or an image file; or a clip
                ``([B,] T, C, H, W)`` float / channels-last uint8, a list of images/paths, a
                frame folder or a video file.
            instances: instance-id maps in the same forms as label ids, same size (required
                when the model uses instance maps or instance features).
            seed: picks the per-instance feature clusters of multimodal models (same seed →
                same images; each instance keeps its draw over the whole clip).
            output_type: ``"pt"``, ``"np"`` or ``"pil"``.
            progress: show a tqdm progress bar over the frames.
            reference_images: real images whose encoded instance features replace the clusters
                (pix2pixHD's ``use_encoded_image``; needs the model's feature encoder): same forms
                as ``labels`` of a continuous model with 3 channels, one per label map.
            frames_per_batch: time steps run through the generator at once (identical results:
                every frame is synthesised on its own; larger values are faster on GPUs, memory
                grows with them).

        Returns:
            :class:`~vid2vid.pipeline_output.Vid2VidPipelineOutput` whose ``frames`` are, in
            ``[0, 1]``: for one map, ``(3, H, W)`` float32 (``"pt"``), ``(H, W, 3)`` (``"np"``)
            or one PIL image; for a clip, ``([B,] T, 3, H, W)`` / ``([B,] T, H, W, 3)`` / a list
            of PIL images (a list of lists for a batch). ``flows`` and ``weights`` are ``None``.
        """
        if output_type not in OUTPUT_TYPES:
            raise ValueError(f"output_type must be one of {OUTPUT_TYPES}, got {output_type!r}")
        m = self.model
        kind, channels = ("ids", 0) if m.label_nc > 0 else ("frames", m.input_nc)
        single = _is_single(labels, kind)
        if single:
            label_clip, _ = streamed_frame(labels, "labels", kind, channels)
            batched = False
        elif kind == "ids":
            label_clip, batched = id_clip(labels, "labels")
        else:
            label_clip, batched = image_clip(labels, "labels", channels)
        batch, length = label_clip.shape[:2]
        height, width = label_clip.shape[-2:]
        if length < 1:
            raise ValueError("labels hold no frames")
        inst_clip = None
        if instances is not None:
            if single and _is_single(instances, "ids"):
                inst_clip, _ = streamed_frame(instances, "instances", "ids", 0)
            else:
                inst_clip, _ = id_clip(instances, "instances")
            if tuple(inst_clip.shape) != (batch, length, height, width):
                raise ValueError(
                    f"instances {tuple(inst_clip.shape)} must match labels (B, T, H, W) = "
                    f"{(batch, length, height, width)}"
                )
        ref_clip = None
        if reference_images is not None:
            if single and _is_single(reference_images, "frames"):
                ref_clip, _ = streamed_frame(reference_images, "reference_images", "frames", 3)
            else:
                ref_clip, _ = image_clip(reference_images, "reference_images", 3)
            if tuple(ref_clip.shape) != (batch, length, 3, height, width):
                raise ValueError(
                    f"reference_images {tuple(ref_clip.shape)} must be one RGB image per label map: "
                    f"(B, T, 3, H, W) = {(batch, length, 3, height, width)}"
                )
        steps = self._steps(
            (label_clip[:, t] for t in range(length)),
            None if inst_clip is None else (inst_clip[:, t] for t in range(length)),
            None if ref_clip is None else (ref_clip[:, t] for t in range(length)),
            seed,
            frames_per_batch,
        )
        images = []
        with torch.inference_mode():
            from tqdm.auto import tqdm

            show = progress and length > 1
            for image in tqdm(steps, total=length, disable=not show, desc="pix2pixHD", unit="frame"):
                images.append(((image.float() + 1.0) / 2.0).clamp(0.0, 1.0))
        frames = torch.stack(images, dim=1)
        out = format_output(frames, None, None, output_type, batched)
        if single:
            out.frames = out.frames[0]
        return out

    def stream(
        self,
        label_frames: Iterable[Any],
        instances: Iterable[Any] | None = None,
        seed: int | None = None,
        output_type: str = "pt",
        reference_images: Iterable[Any] | None = None,
    ) -> Iterator[Any]:
        """Yield one output image per streamed label frame; memory does not grow with the clip length.

        Args:
            label_frames: iterable of frames: ``(H, W)`` or ``(B, H, W)`` int ids, PIL images or
                PNG paths (continuous models: ``([B,] C, H, W)`` float in ``[0, 1]``, ``(H, W, C)``
                uint8, PIL images or paths).
            instances, reference_images: iterables of the same length, in the same per-frame forms.
            seed: as in :meth:`__call__` (instances keep their features over the whole stream).
            output_type: ``"pt"`` → ``([B,] 3, H, W)`` float32 in ``[0, 1]``; ``"np"`` →
                ``([B,] H, W, 3)``; ``"pil"`` → a PIL image (a list for batched frames).
        """
        if output_type not in OUTPUT_TYPES:
            raise ValueError(f"output_type must be one of {OUTPUT_TYPES}, got {output_type!r}")
        m = self.model
        kind, channels = ("ids", 0) if m.label_nc > 0 else ("frames", m.input_nc)
        batched_flags: list[bool] = []

        def label_iter() -> Iterator[Tensor]:
            for value in label_frames:
                frame, batched = streamed_frame(value, "labels", kind, channels)
                batched_flags.append(batched)
                yield frame[:, 0]

        inst_iter = None
        if instances is not None:
            inst_iter = (streamed_frame(v, "instances", "ids", 0)[0][:, 0] for v in instances)
        ref_iter = None
        if reference_images is not None:
            ref_iter = (streamed_frame(v, "reference_images", "frames", 3)[0][:, 0] for v in reference_images)
        with torch.inference_mode():
            for image in self._steps(label_iter(), inst_iter, ref_iter, seed):
                frame = ((image.float() + 1.0) / 2.0).clamp(0.0, 1.0)
                clip = format_output(frame.unsqueeze(1), None, None, output_type, True).frames
                if batched_flags[-1]:
                    yield [c[0] for c in clip] if output_type == "pil" else clip[:, 0]
                else:
                    yield clip[0][0] if output_type == "pil" else clip[0, 0]

    def save_video(
        self,
        output: Vid2VidPipelineOutput | Any,
        path: str | os.PathLike[str],
        fps: float = 15.0,
        clip_index: int | None = None,
    ) -> Path:
        """Write one clip of an output to ``.mp4``/``.gif``/... or a PNG folder (path without suffix).

        A single-image output is written as a one-frame clip; use :meth:`save_image` for one PNG.
        """
        from vid2vid.data.io import write_video

        frames = output.frames if isinstance(output, Vid2VidPipelineOutput) else output
        if isinstance(frames, Tensor) and frames.dim() == 3 or getattr(frames, "ndim", 0) == 3:
            frames = frames[None]
        elif pil_image_type() is not None and isinstance(frames, pil_image_type()):
            frames = [frames]
        return write_video(frames_to_uint8(frames, clip_index), path, fps=fps)

    def save_image(self, output: Vid2VidPipelineOutput | Any, path: str | os.PathLike[str]) -> Path:
        """Write a single-image output (``(3, H, W)`` tensor, ``(H, W, 3)`` array or PIL image) as a PNG/JPEG."""
        from PIL import Image

        frames = output.frames if isinstance(output, Vid2VidPipelineOutput) else output
        pil = pil_image_type()
        if pil is not None and isinstance(frames, pil):
            image = frames
        else:
            if isinstance(frames, Tensor):
                if frames.dim() != 3:
                    raise ValueError(
                        f"save_image writes one image (3, H, W), got {tuple(frames.shape)}; use save_video"
                    )
                frames = frames[None]
            elif getattr(frames, "ndim", 0) == 3:
                frames = frames[None]
            else:
                raise ValueError("save_image writes one image: the output of a single label map")
            image = Image.fromarray(frames_to_uint8(frames)[0])
        path = Path(path)
        if path.suffix.lower() not in _IMAGE_FILE_SUFFIXES:
            raise ValueError(f"save_image writes {', '.join(_IMAGE_FILE_SUFFIXES)} files, got {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        from vid2vid.atomic import atomic_path

        with atomic_path(path) as tmp:
            image.save(
                tmp, format="JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else path.suffix[1:].upper()
            )
        return path

    # ------------------------------------------------------------------ internals
    def _steps(
        self,
        label_iter: Iterator[Tensor],
        inst_iter: Iterator[Tensor] | None,
        ref_iter: Iterator[Tensor] | None,
        seed: int | None,
        frames_per_batch: int = 1,
    ) -> Iterator[Tensor]:
        """The per-frame loop of ``__call__`` and ``stream``: yields ``(B, 3, H, W)`` in ``[-1, 1]``.

        Each label frame is ``(B, H, W)`` ids or ``(B, C, H, W)`` in ``[-1, 1]``; instances
        ``(B, H, W)``; reference images ``(B, 3, H, W)`` in ``[-1, 1]``. ``frames_per_batch``
        time steps go through the generator together (every frame is independent of the others
        and normalised on its own, so the results do not change).
        """
        if not isinstance(frames_per_batch, int) or frames_per_batch < 1:
            raise ValueError(f"frames_per_batch must be a positive integer, got {frames_per_batch!r}")
        fmt = torch.channels_last if self._channels_last else torch.contiguous_format
        pending: list[tuple[Tensor, Tensor | None]] = []

        def run() -> Iterator[Tensor]:
            encoded = torch.cat([e for e, _ in pending])
            feats = None if pending[0][1] is None else torch.cat([f for _, f in pending])  # type: ignore[misc]
            out = self.generator(
                encoded.contiguous(memory_format=fmt),
                None if feats is None else feats.contiguous(memory_format=fmt),
            )
            yield from out.split(pending[0][0].shape[0])
            pending.clear()

        for item in self._frame_inputs(label_iter, inst_iter, ref_iter, seed):
            pending.append(item)
            if len(pending) == frames_per_batch:
                yield from run()
        if pending:
            yield from run()

    def _frame_inputs(
        self,
        label_iter: Iterator[Tensor],
        inst_iter: Iterator[Tensor] | None,
        ref_iter: Iterator[Tensor] | None,
        seed: int | None,
    ) -> Iterator[tuple[Tensor, Tensor | None]]:
        """Per frame: the encoded labels ``(B, frame_nc, H, W)`` and the features ``(B, F, H, W)`` or ``None``."""
        m = self.model
        feat_nc = m.feature_channels
        needs_instances = m.use_instance or (feat_nc > 0 and m.label_nc == 0)
        if needs_instances and inst_iter is None:
            raise ValueError(
                "this model uses instance maps"
                + (" (use_instance=True)" if m.use_instance else " for its instance features")
                + ": pass instances"
            )
        if not m.use_instance and feat_nc == 0 and inst_iter is not None:
            raise ValueError(
                "this model does not use instance maps (use_instance=False): do not pass instances"
            )
        if ref_iter is not None and (feat_nc == 0 or m.encoder is None):
            raise ValueError(
                "reference_images need a model trained with instance features and its feature encoder "
                f"({ENCODER_FILE}); this model has "
                + ("no instance features" if feat_nc == 0 else "no encoder")
            )
        if feat_nc > 0 and ref_iter is None and not m.feature_clusters:
            raise ValueError(
                f"this model takes {feat_nc} instance-feature channels but has no feature clusters "
                f"({FEATURES_FILE}): pass reference_images to encode features from real images"
            )
        sampler = (
            InstanceFeatureSampler(m.feature_clusters or {}, feat_nc, seed)
            if feat_nc > 0 and ref_iter is None
            else None
        )
        shape: tuple[int, int, int] | None = None
        dev, dt = self.device, self.dtype
        multiple = self.config.size_multiple
        for t, lab in enumerate(label_iter):
            batch, height, width = lab.shape[0], lab.shape[-2], lab.shape[-1]
            if shape is None:
                shape = (batch, height, width)
                if height % multiple or width % multiple:
                    raise ValueError(
                        f"frame size {height}x{width} (HxW) is not divisible by {multiple}, which this "
                        f"generator needs (2**(n_downsample + n_local_enhancers)); resize or pad to a multiple "
                        f"of {multiple}"
                    )
            elif (batch, height, width) != shape:
                raise ValueError(
                    f"frame {t} has shape (B, H, W) = {(batch, height, width)}, expected {shape}"
                )
            inst = None
            if inst_iter is not None:
                inst = next(inst_iter, None)
                if inst is None:
                    raise ValueError(
                        f"instances ended at frame {t} but labels go on: give one instance map per label map"
                    )
                if (inst.shape[0], *inst.shape[-2:]) != shape:
                    raise ValueError(
                        f"instances of frame {t} are {tuple(inst.shape)}, expected (B, H, W) = {shape}"
                    )
                inst = inst.to(dev)
            if m.label_nc > 0:
                check_label_ids(lab, m.label_nc)
                encoded = encode_label_map(
                    lab.to(dev), m.label_nc, instances=inst if m.use_instance else None, dtype=dt
                )
            else:
                encoded = encode_label_map(
                    None, 0, instances=inst if m.use_instance else None, inputs=lab.to(dev), dtype=dt
                )
            features = None
            if feat_nc > 0:
                # the instances own the features (label_feat models without instances: the labels)
                owner = inst if inst is not None else lab.to(dev)
                if ref_iter is not None:
                    ref = next(ref_iter, None)
                    if ref is None:
                        raise ValueError(f"reference_images ended at frame {t} but labels go on")
                    if (ref.shape[0], *ref.shape[-2:]) != shape:
                        raise ValueError(
                            f"reference image of frame {t} is {tuple(ref.shape)}, expected (B, 3, H, W) with "
                            f"(B, H, W) = {shape}"
                        )
                    assert m.encoder is not None
                    features = m.encoder(ref.to(device=dev, dtype=dt), owner)
                else:
                    assert sampler is not None
                    features = sampler(owner, dtype=dt)
            yield encoded, features
        if shape is None:
            raise ValueError("labels hold no frames")
        if inst_iter is not None and next(inst_iter, None) is not None:
            raise ValueError("instances hold more frames than labels")
        if ref_iter is not None and next(ref_iter, None) is not None:
            raise ValueError("reference_images hold more frames than labels")
