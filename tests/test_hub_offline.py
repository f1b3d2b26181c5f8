"""Vid2VidPipeline.from_pretrained through huggingface_hub.snapshot_download, offline, from a Hub cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from vid2vid.nn import SequentialGenerator
from vid2vid.pipeline import Vid2VidPipeline

H, W = 32, 64
COMMIT_MAIN = "a" * 40
COMMIT_V1 = "b" * 40


def tiny_pipeline(seed: int) -> Vid2VidPipeline:
    torch.manual_seed(seed)
    gen = SequentialGenerator(label_nc=4, ngf=8, n_downsample=2, n_blocks=1, no_first_frame=True)
    return Vid2VidPipeline(gen.eval(), first_frame="zeros", metadata={"license": "MIT"})


def add_snapshot(cache: Path, repo: str, commit: str, pipe: Vid2VidPipeline, refs: tuple[str, ...]) -> None:
    """Lay out ``models--org--name/snapshots/<commit>/`` and ``refs/<ref>`` as huggingface_hub does."""
    root = cache / ("models--" + repo.replace("/", "--"))
    pipe.save_pretrained(root / "snapshots" / commit)
    (root / "refs").mkdir(parents=True, exist_ok=True)
    for ref in refs:
        (root / "refs" / ref).write_text(commit)


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import huggingface_hub.constants as constants

    cache = tmp_path / "hub"
    cache.mkdir()
    # huggingface_hub reads HF_HUB_OFFLINE / HF_HUB_CACHE into constants at import time: set both the
    # environment (read by from_pretrained at call time) and the constants (read by huggingface_hub).
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    return cache


def labels() -> torch.Tensor:
    return torch.randint(0, 4, (3, H, W), generator=torch.Generator().manual_seed(0))


def test_from_pretrained_repo_id_uses_the_cache(hub_cache: Path) -> None:
    source = tiny_pipeline(0)
    add_snapshot(hub_cache, "org/name", COMMIT_MAIN, source, refs=("main",))
    pipe = Vid2VidPipeline.from_pretrained("org/name")
    assert torch.equal(pipe(labels(), progress=False).frames, source(labels(), progress=False).frames)
    assert pipe.metadata["license"] == "MIT"


def test_revisions_tag_and_commit(hub_cache: Path) -> None:
    main, v1 = tiny_pipeline(0), tiny_pipeline(1)
    add_snapshot(hub_cache, "org/name", COMMIT_MAIN, main, refs=("main",))
    add_snapshot(hub_cache, "org/name", COMMIT_V1, v1, refs=("v1",))
    want_v1 = v1(labels(), progress=False).frames
    assert not torch.equal(want_v1, main(labels(), progress=False).frames)
    by_tag = Vid2VidPipeline.from_pretrained("org/name", revision="v1")
    assert torch.equal(by_tag(labels(), progress=False).frames, want_v1)
    by_commit = Vid2VidPipeline.from_pretrained("org/name", revision=COMMIT_V1)
    assert torch.equal(by_commit(labels(), progress=False).frames, want_v1)
    with pytest.raises(FileNotFoundError, match="revision v2"):
        Vid2VidPipeline.from_pretrained("org/name", revision="v2")


def test_explicit_cache_dir_and_missing_repo(
    hub_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "elsewhere"
    source = tiny_pipeline(2)
    add_snapshot(other, "org/other", COMMIT_MAIN, source, refs=("main",))
    pipe = Vid2VidPipeline.from_pretrained("org/other", cache_dir=other, local_files_only=True)
    assert torch.equal(pipe(labels(), progress=False).frames, source(labels(), progress=False).frames)
    with pytest.raises(FileNotFoundError, match="'org/other'.*not in"):
        Vid2VidPipeline.from_pretrained("org/other")  # not in HF_HUB_CACHE
    shutil.rmtree(other)
    with pytest.raises(FileNotFoundError, match="'org/missing'"):
        Vid2VidPipeline.from_pretrained("org/missing", cache_dir=other)


def test_incomplete_snapshot_names_the_missing_file(hub_cache: Path) -> None:
    add_snapshot(hub_cache, "org/broken", COMMIT_MAIN, tiny_pipeline(0), refs=("main",))
    (hub_cache / "models--org--broken" / "snapshots" / COMMIT_MAIN / "model.safetensors").unlink()
    with pytest.raises((FileNotFoundError, ValueError, OSError), match="model.safetensors"):
        Vid2VidPipeline.from_pretrained("org/broken")
