"""Model folders on disk or on the Hugging Face Hub: one resolver for every pipeline and command."""

from __future__ import annotations

import os
import re
from pathlib import Path

from vid2vid.model_folder import CONFIG_FILE, FEATURES_FILE, FIRST_FRAME_DIR, MODEL_FILE

__all__ = ["REPO_ID", "hub_license", "resolve_model_folder"]

HUB_PATTERNS = [
    CONFIG_FILE,
    MODEL_FILE,
    FEATURES_FILE,
    f"{FIRST_FRAME_DIR}/*",
    "README.md",
    "encoder.safetensors",
]
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
"""A Hub repository id: ``org/name``."""


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
        repo_id_or_path: an existing local model folder (or a training run / checkpoint folder:
            its ``model/`` or ``latest/model/``), or a Hub repo id ``"org/name"``.
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
        # A training run's folder (checkpoints/x) or checkpoint (checkpoints/x/latest) holds the
        # model folder in model/: accept them as a user would expect.
        for candidate in (path, path / "model", path / "latest" / "model"):
            if (candidate / "config.json").is_file():
                return candidate
        return path
    text = str(repo_id_or_path)
    if not REPO_ID.match(text) or path.exists() or text.startswith((".", "/", "~")):
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
            allow_patterns=HUB_PATTERNS,
        )
    except LocalEntryNotFoundError as err:
        where = cache_dir or "the default Hugging Face cache"
        raise FileNotFoundError(
            f"model {text!r} (revision {revision or 'main'}) is not in {where} and the Hub cannot be "
            f"reached (offline or local_files_only): {err}"
        ) from err
    return Path(str(folder))


def hub_license(license_text: str | None) -> str:
    """The Hub model card's ``license`` tag for a licence text (``"other"`` when not a known one)."""
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
