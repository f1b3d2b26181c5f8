"""Shared test configuration: tiny CPU runs, deterministic seeds, the reference fixtures.

Reference fixtures: a test that takes a ``reference_case`` argument and carries
``@pytest.mark.fixture_set("<set name>")`` runs once per case of the compact copy carried in
``tests/fixtures/<set name>`` (ids ``<case>``) and, where the full set is present
(``$VID2VID_FIXTURES/<set name>`` or ``../shared/fixtures/<set name>`` beside the checkout), once
per case of the full set too (ids ``full-<case>``). ``VID2VID_REQUIRE_FULL_FIXTURES=1`` (set by
``.ci/run`` when ``../shared`` exists) turns a missing full set into an error.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from vid2vid.reference_fixtures import FIXTURES_ENV, find_fixture_set, fixture_cases

REPO_ROOT = Path(__file__).resolve().parents[1]

# The tests use tiny models: a single thread is fastest (thread synchronisation dominates tiny
# convolutions) and does not fight other processes for the cores.
torch.set_num_threads(1)
# The CLI's default --threads (auto) follows OMP_NUM_THREADS: tests calling main() stay single-threaded.
os.environ["OMP_NUM_THREADS"] = "1"
BUNDLED_FIXTURES = REPO_ROOT / "tests" / "fixtures"
REQUIRE_FULL_ENV = "VID2VID_REQUIRE_FULL_FIXTURES"


def bundled_fixture_set(name: str) -> Path:
    """The compact copy of fixture set ``name`` carried in the repository (must exist)."""
    root = find_fixture_set(name, [BUNDLED_FIXTURES])
    if root is None:
        raise FileNotFoundError(f"fixture set {name!r} is not carried in {BUNDLED_FIXTURES}")
    return root


def full_fixture_set(name: str) -> Path | None:
    """The full fixture set ``name`` beside the checkout, or ``None`` (a fresh clone)."""
    root = find_fixture_set(name, [os.environ.get(FIXTURES_ENV), REPO_ROOT.parent / "shared" / "fixtures"])
    if root is None and os.environ.get(REQUIRE_FULL_ENV) == "1":
        raise FileNotFoundError(
            f"{REQUIRE_FULL_ENV}=1 but the full fixture set {name!r} is in neither ${FIXTURES_ENV} "
            f"nor {REPO_ROOT.parent / 'shared' / 'fixtures'}"
        )
    return root


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fixture_set(name): parametrise the test's reference_case over that fixture set's cases"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "reference_case" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("fixture_set")
    if marker is None or not marker.args:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: reference_case needs @pytest.mark.fixture_set(name)"
        )
    name = marker.args[0]
    params = [pytest.param(c, id=c.name) for c in fixture_cases(bundled_fixture_set(name))]
    full = full_fixture_set(name)
    if full is not None:
        params += [pytest.param(c, id=f"full-{c.name}") for c in fixture_cases(full)]
    metafunc.parametrize("reference_case", params)


@pytest.fixture(autouse=True)
def _deterministic() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The compact nvidia-vid2vid network fixtures carried in the repository."""
    return bundled_fixture_set("nvidia-vid2vid")


@pytest.fixture(scope="session")
def full_fixtures() -> Callable[[str], Path | None]:
    """``full_fixtures(set_name)``: the full fixture set beside the checkout, or ``None``."""
    return full_fixture_set
