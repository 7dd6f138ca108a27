"""Fixtures of the query-plan tests (issue 14 point 4): every request-path read query,
explained on a database of at least 100k decks (:mod:`tests.plans.database`).

Read-only: tests explain queries, they never write. Add a module per area
(``test_<area>_plans.py``) with one test per request-path query, using
:func:`tests.plans.plan_check.assert_plan`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from pipelines.core import db
from tests.plans.database import run_copy


@pytest.fixture(scope="session")
def plan_dsn(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """DSN of this run's copy of the ≥100k-deck database (shared: never write to it)."""
    return run_copy(request.config, tmp_path_factory)


@pytest.fixture(scope="session")
def plan_conn(plan_dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """A read-only autocommit connection to the plan database, for this test process."""
    with db.connect(plan_dsn, autocommit=True, application_name="manalytics-plan-tests") as conn:
        conn.read_only = True
        yield conn
