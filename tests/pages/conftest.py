"""Fixtures of the browser tests: one Chromium per test session, one live app per session
(threaded werkzeug on loopback) over a copy of the chart-rendered sample database.

Without Chromium the tests are skipped locally and fail under CI (``CI=true``), where
``.ci/run`` installs it. Screenshots go to ``var/test-artifacts/screenshots`` (gitignored).
"""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from api import close_app, create_app
from ops.browser import chromium_path, launch, live_server
from pipelines.core.settings import REPO_ROOT
from tests.api.charts_fixtures import charts_template  # noqa: F401  (fixture)
from tests.api.conftest import seeded_template, settings_for  # noqa: F401  (fixture)
from tests.integration.conftest import (  # noqa: F401  (fixtures)
    create_database,
    drop_database,
    pg_admin_dsn,
    redis_base_url,
    scratch_settings,
)

SCREENSHOTS = REPO_ROOT / "var" / "test-artifacts" / "screenshots"
# Logical Redis database of the live app (the per-test fixtures use 10-15 and flush them).
LIVE_REDIS_DB = 9


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing (.ci/run installs it: apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    with launch() as chromium:
        yield chromium


@pytest.fixture(scope="session")
def live_url(pg_admin_dsn: str, charts_template: str, redis_base_url: str) -> Iterator[str]:  # noqa: F811
    name = f"manalytics_pages_{uuid.uuid4().hex[:12]}"
    dsn = create_database(pg_admin_dsn, name, template=charts_template)
    parts = urlsplit(redis_base_url)
    redis_url = urlunsplit((parts.scheme, parts.netloc, f"/{LIVE_REDIS_DB}", parts.query, ""))
    redis.Redis.from_url(redis_url).flushdb()
    app = create_app(
        {
            "MANALYTICS_SETTINGS": settings_for(dsn, redis_url),
            "REDIS_SINGLE_DB": True,
            "FORCE_HTTPS": False,
        }
    )
    try:
        with live_server(app) as url:
            yield url
    finally:
        close_app(app)
        drop_database(pg_admin_dsn, name)


@pytest.fixture
def api(live_url: str) -> Callable[[str], Any]:
    """``api(path)``: the live app's JSON answer."""

    def get(path: str) -> Any:
        with urllib.request.urlopen(live_url + path, timeout=10) as response:
            return json.load(response)

    return get


class PageWatch:
    """Console errors, page errors, failed requests and HTTP errors of one page."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        page.on(
            "console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}")
        )
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        page.on(
            "response",
            lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"),
        )


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    tab.watch = PageWatch(tab)
    yield tab
    context.close()


def screenshot(page: Any, name: str) -> None:
    """Save a full-page screenshot as a test artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
