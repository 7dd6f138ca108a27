"""Shared pytest fixtures.

Database and Redis fixtures live in ``tests/integration/conftest.py``; this file only holds
what every test may need.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.settings_loader import get_settings

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The real sample (``MANALYTICS_DATA_DIR``, default ``../shared/data``); skips when absent."""
    path = get_settings().data_dir
    if not (path / "tournaments").is_dir() or not (path / "formats").is_dir():
        pytest.skip(f"real sample not found at {path} (set MANALYTICS_DATA_DIR to use it)")
    return path


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The repository's own small hand-written fixtures."""
    return FIXTURES


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The query-plan tests' database copy is shared by the xdist workers: the controller
    drops it once they are all done (see ``tests/plans/conftest.py``)."""
    from tests.plans.database import drop_run_copy

    drop_run_copy(session.config)
