"""A seeded database whose charts are rendered, shared by the chart and page tests.

``charts_template`` (session): a copy of ``seeded_template`` with the charts of Modern drawn
for a few windows and event groups (drawing everything would take minutes); ``api_dsn``
(per test, overriding the conftest's) is a fresh copy of it, so ``make_app`` serves it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from pipelines.charts.featured import featured_meta
from pipelines.charts.render import render_generation
from pipelines.core.vocabulary import DEFAULT_EVENT_GROUP
from tests.integration.conftest import create_database, drop_database, with_database

FORMAT = "Modern"
WINDOWS = ("last30", "last7")
GROUPS = ("all", "leagues")


def render_sample(dsn: str) -> None:
    """Draw the charts the tests read (a few seconds): Modern's, and the landing page's."""
    result = render_generation(dsn, formats=[FORMAT], windows=WINDOWS, groups=GROUPS, archetypes=3)
    assert result.status == "succeeded", result.as_dict()
    with psycopg.connect(dsn) as conn:
        chosen = featured_meta(conn, DEFAULT_EVENT_GROUP)
    assert chosen is not None
    if chosen.format != FORMAT or chosen.window not in WINDOWS:
        result = render_generation(
            dsn,
            formats=[chosen.format],
            windows=(chosen.window,),
            groups=(DEFAULT_EVENT_GROUP,),
            archetypes=0,
        )
        assert result.status == "succeeded", result.as_dict()


@pytest.fixture(scope="session")
def charts_template(pg_admin_dsn: str, seeded_template: str) -> Iterator[str]:
    name = f"manalytics_charts_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    dsn = create_database(pg_admin_dsn, name, template=seeded_template)
    render_sample(dsn)
    yield name
    drop_database(pg_admin_dsn, name)


@pytest.fixture
def api_dsn(pg_admin_dsn: str, charts_template: str) -> Iterator[str]:
    name = f"manalytics_charts_{uuid.uuid4().hex[:12]}"
    dsn = create_database(pg_admin_dsn, name, template=charts_template)
    yield dsn
    drop_database(pg_admin_dsn, name)


__all__ = [
    "FORMAT",
    "GROUPS",
    "WINDOWS",
    "api_dsn",
    "charts_template",
    "render_sample",
    "with_database",
]
