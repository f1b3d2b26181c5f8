"""The original's features.npy: read without running pickled code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vid2vid.convert.original_features import read_original_features


def test_reads_the_per_class_feature_dictionary(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    features = {k: rng.normal(size=(5, 17)).astype(np.float32) for k in range(7)}
    np.save(tmp_path / "features.npy", features, allow_pickle=True)  # as pix2pixHD writes it
    out = read_original_features(tmp_path / "features.npy")
    assert sorted(out) == [f"class_{k}" for k in range(7)]
    for k in range(7):  # the trailing area-ratio column is dropped, as the original does
        torch.testing.assert_close(out[f"class_{k}"], torch.from_numpy(features[k][:, :16]))
    kept = read_original_features(tmp_path / "features.npy", drop_last_column=False)
    assert kept["class_0"].shape == (5, 17)


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (open, (str(self.marker), "w"))  # would create the marker file when unpickled


def test_refuses_anything_but_arrays(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    evil = np.empty((), dtype=object)
    evil[()] = {0: _Payload(marker)}
    np.save(tmp_path / "evil.npy", evil, allow_pickle=True)
    with pytest.raises(ValueError, match="may only hold numpy arrays"):
        read_original_features(tmp_path / "evil.npy")
    assert not marker.exists()
    np.save(tmp_path / "plain.npy", np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match="non-empty dictionary"):
        read_original_features(tmp_path / "plain.npy")
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(ValueError, match="not a .npy file"):
        read_original_features(tmp_path / "junk.npy")
    with pytest.raises(FileNotFoundError):
        read_original_features(tmp_path / "missing.npy")
