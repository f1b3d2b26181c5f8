"""Bundle a pix2pixHD image model into a vid2vid model folder as its first-frame generator.

A vid2vid generator continues a video from its ``n_frames_G - 1`` previous frames. A model
trained on real first frames needs them at test time, unless an image model makes them from
the labels (vid2vid §3, "the first frame ... is synthesised by an image-to-image model"): this
is what :func:`bundle_first_frame_model` (and ``vid2vid bundle``) writes, a labels-only model
folder with ``first_frame="image_generator"``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from vid2vid.image_model_folder import IMAGE_MODEL_TYPE, load_image_model, read_model_type
from vid2vid.model_folder import MODEL_TYPE, load_model_folder

__all__ = ["bundle_first_frame_model"]


def bundle_first_frame_model(
    video_model: str | os.PathLike[str],
    first_frame_model: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    revision: str | None = None,
    first_frame_revision: str | None = None,
) -> Path:
    """Write ``out``: the video model with the image model as its first-frame generator.

    Args:
        video_model: a vid2vid model folder or Hub repo id (``model_type: vid2vid_generator``).
        first_frame_model: an image-model folder or Hub repo id (``model_type:
            pix2pixhd_generator``: ``vid2vid train --model image`` or a converted pix2pixHD model).
        out: the new model folder (with a README.md model card).
        overwrite: replace the model files of an existing non-empty ``out``.
        revision, first_frame_revision: Hub revisions of the two models.

    Returns:
        ``out``. ``Vid2VidPipeline.from_pretrained(out)(labels)`` then needs no first frames.

    Raises:
        ValueError: a folder of the wrong kind, models whose inputs differ (label classes,
            instance maps, continuous channels, output channels), a multimodal image model
            without feature clusters, or ``out`` being an existing non-empty folder (without
            ``overwrite``) or one of the inputs.
    """
    from vid2vid.hub import resolve_model_folder
    from vid2vid.pipeline import Vid2VidPipeline

    video_dir = resolve_model_folder(video_model, revision)
    image_dir = resolve_model_folder(first_frame_model, first_frame_revision)
    out = Path(out)
    for name, folder, expected in (
        ("--video-model", video_dir, MODEL_TYPE),
        ("--first-frame-model", image_dir, IMAGE_MODEL_TYPE),
    ):
        found = read_model_type(folder)
        if found != expected:
            hint = {
                IMAGE_MODEL_TYPE: "a pix2pixHD image model (vid2vid train --model image, or vid2vid convert --kind "
                "pix2pixhd_global/local)",
                MODEL_TYPE: "a vid2vid video model",
            }.get(found or "", "not a model folder")
            raise ValueError(f"{name} {folder} has model_type {found!r} ({hint}); expected {expected!r}")
    if out.exists() and out.resolve() in (video_dir.resolve(), image_dir.resolve()):
        raise ValueError(f"--out {out} is one of the input models; write the bundle to a new folder")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not overwrite)):
        raise ValueError(
            f"--out {out} exists and is not an empty folder (pass --overwrite to replace its model)"
        )

    video = load_model_folder(video_dir)
    image = load_image_model(image_dir)
    v = video.generator.config
    problems = []
    if image.label_nc != v.label_nc:
        problems.append(f"label classes: video {v.label_nc}, image {image.label_nc}")
    elif v.label_nc == 0 and image.input_nc != v.input_nc:
        problems.append(f"continuous input channels: video {v.input_nc}, image {image.input_nc}")
    if image.use_instance != v.use_instance:
        problems.append(f"instance maps: video {v.use_instance}, image {image.use_instance}")
    if image.generator.config.output_nc != v.output_nc:
        problems.append(f"output channels: video {v.output_nc}, image {image.generator.config.output_nc}")
    if problems:
        raise ValueError(
            f"the first-frame model {image_dir} does not take the video model's inputs: "
            + "; ".join(problems)
        )
    if image.feature_channels > 0 and not image.feature_clusters:
        raise ValueError(
            f"the first-frame model {image_dir} takes {image.feature_channels} instance-feature channels but has "
            "no feature clusters (features.safetensors) to draw them from at test time"
        )
    record: dict[str, Any] = {"source": str(first_frame_model)}
    for key in ("license", "training", "converted_from"):
        if key in image.metadata:
            record[key] = image.metadata[key]
    metadata = {k: v for k, v in video.metadata.items() if k != "vid2vid_version"}
    metadata["first_frame_model"] = record
    if "license" in image.metadata and image.metadata.get("license") != video.metadata.get("license"):
        video_license = str(video.metadata.get("license", "not stated"))
        image_license = str(image.metadata["license"])
        # the more restrictive (non-commercial) licence first: the model card's licence tag reads it
        if image_license.lower().startswith("cc by-nc") and not video_license.lower().startswith("cc by-nc"):
            metadata["license"] = f"{image_license} (first-frame model); video model: {video_license}"
        else:
            metadata["license"] = f"{video_license} (video model); first-frame model: {image_license}"
    # the image model's clusters belong to its generator: they replace any the video folder had
    pipe = Vid2VidPipeline(
        video.generator,
        first_frame="image_generator",
        image_generator=image.generator,
        feature_clusters=image.feature_clusters if image.feature_channels > 0 else None,
        labels=video.labels or image.labels,
        metadata=metadata,
    )
    with torch.no_grad():
        return pipe.save_pretrained(out)
