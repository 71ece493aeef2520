"""Shared fixtures. `../shared` (reference data beside the checkout) is optional: tests that need
it skip with a message when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest
from podman_engine import podman_engine  # noqa: F401 (a session fixture)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "mlebench-reference").is_dir():
        pytest.skip(f"reference data not found at {SHARED} (optional; see README 'Tests')")
    return SHARED


@pytest.fixture(scope="session")
def registry():
    from mlepipe.registry import Registry

    return Registry(REPO / "competitions")


@pytest.fixture(scope="session")
def practice_data(tmp_path_factory, registry) -> Path:
    """A data dir with every practice competition prepared (once per test session)."""
    from mlepipe.prepare import prepare

    data = tmp_path_factory.mktemp("practice-data")
    for cid in registry.split("practice"):
        prepare(registry.get(cid), data)
    return data
