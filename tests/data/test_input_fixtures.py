"""Our face / pose input builders against the original's test-time fixtures (tp_face_inputs, tp_pose_inputs).

The cases shipped in ``tests/fixtures/nvidia-vid2vid-test`` always run; cases of the same protocols
found in ``../shared/fixtures/nvidia-vid2vid-test`` (when present) run too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vid2vid.data.input_fixtures import FACE_KIND, load_fixture_tensors, replay_input_fixture

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "nvidia-vid2vid-test"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "nvidia-vid2vid-test"


def _cases() -> list[Path]:
    found: dict[str, Path] = {}
    for root in (HERE, SHARED):
        for kind in ("tp_face_inputs", "tp_pose_inputs"):
            folder = root / kind
            if folder.is_dir():
                for case in sorted(folder.iterdir()):
                    if (case / "config.json").is_file():
                        found.setdefault(f"{kind}/{case.name}", case)
    return list(found.values())


CASES = _cases()


def test_the_shipped_copy_is_complete():
    names = {case.name for case in CASES if HERE in case.parents}
    assert {"sq256_load64", "land320x240_load96"} <= names
    assert {"densepose_openpose_240x160_load128", "openpose_only_256x144_load128"} <= names


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_replay_matches_the_original(case: Path):
    replay = replay_input_fixture(case)
    diffs = replay.max_abs_diff()
    if replay.kind == FACE_KIND:
        assert np.array_equal(replay.ours["A_uint8"], replay.expected["A_uint8"])
        assert np.array_equal(replay.ours["inst"], replay.expected["inst"])
        assert np.array_equal(replay.ours["canny_full"], replay.expected["canny_full"])
        assert np.array_equal(replay.ours["crop_box"], replay.expected["crop_box"])
        assert diffs["B"] <= 1e-6
    else:
        assert np.array_equal(replay.ours["A"], replay.expected["A"])
        assert np.array_equal(replay.ours["openpose_drawn_full"], replay.expected["openpose_drawn_full"])
        assert diffs["B"] <= 1e-6


def test_shipped_copy_equals_the_shared_fixture():
    if not SHARED.is_dir():
        pytest.skip("no ../shared fixtures next to this clone (the shipped copy is checked above)")
    for kind in ("tp_face_inputs", "tp_pose_inputs"):
        for case in (HERE / kind).iterdir():
            if not (case / "config.json").is_file():
                continue
            ours, theirs = load_fixture_tensors(case), load_fixture_tensors(SHARED / kind / case.name)
            assert ours.keys() == theirs.keys()
            for key in ours:
                assert np.array_equal(ours[key], theirs[key]), (case.name, key)
