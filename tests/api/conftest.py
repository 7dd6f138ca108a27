"""Fixtures of the API tests: a seeded database per test, the app, users and tokens.

The PostgreSQL/Redis fixtures of ``tests/integration/conftest.py`` are re-used by importing
them (pytest registers fixtures found in a conftest's namespace): ``pg_admin_dsn``,
``pg_template``/``pg_dsn`` (fresh migrated database) and ``redis_url`` (this test process's
own flushed logical Redis database). On top of them:

* ``seeded_template`` (session): a migrated database holding ``tests/fixtures/cache``
  ingested, classified with ``tests/fixtures/definitions`` and refreshed (generation 1);
* ``api_dsn``: a copy of it for one test (``CREATE DATABASE … TEMPLATE``, ~0.2 s);
* ``make_app``: ``create_app`` against ``api_dsn`` and ``redis_url`` (a URL with a database
  number: every Redis purpose in that one database), bcrypt at cost 4 (speed; production
  refuses < 12);
* ``accounts``: an admin, an operator and a plain user; ``tokens(name)`` logs one in.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import close_app, create_app
from pipelines.auth.users import create_user
from pipelines.classify.labels import classify_new_decks
from pipelines.core.settings import REPO_ROOT, Settings
from pipelines.core.settings_loader import load_settings
from pipelines.ingest.cache import ingest_cache
from pipelines.stats.periods import load_periods
from pipelines.stats.refresh import refresh_all
from pipelines.storage import migrations
from tests.integration.conftest import (  # noqa: F401  (fixtures, registered by name)
    create_database,
    drop_database,
    pg_admin_dsn,
    pg_dsn,
    pg_template,
    redis_base_url,
    redis_url,
    scratch_settings,
)

FIXTURE_CACHE = REPO_ROOT / "tests" / "fixtures" / "cache"
FIXTURE_DEFINITIONS = REPO_ROOT / "tests" / "fixtures" / "definitions"
PASSWORD = "Correct-Horse-7-Battery"
ACCOUNTS = {"admin": ["admin"], "oper": ["operator"], "reader": []}
HTTPS = {"X-Forwarded-Proto": "https"}


def seed(dsn: str) -> None:
    """Ingest, classify and refresh the repository's fixture tournaments into ``dsn``."""
    ingest_cache(dsn, FIXTURE_CACHE)
    classify_new_decks(dsn, FIXTURE_DEFINITIONS)
    refresh_all(dsn, periods=load_periods(FIXTURE_DEFINITIONS))


def refresh(dsn: str) -> int:
    """One more statistics refresh; the new generation."""
    result = refresh_all(dsn, periods=load_periods(FIXTURE_DEFINITIONS))
    assert result.generation is not None
    return result.generation


def _worker(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return workerinput["workerid"] if workerinput else "main"


@pytest.fixture(scope="session")
def seeded_template(pg_admin_dsn: str, request: pytest.FixtureRequest) -> Iterator[str]:  # noqa: F811
    """Name of a migrated, seeded template database for this test process."""
    # The pid too: two pytest sessions on one server (two people, or make test while an
    # editor runs one file) must not drop each other's template.
    name = f"manalytics_api_tmpl_{_worker(request.config)}_{os.getpid()}"
    dsn = create_database(pg_admin_dsn, name)
    migrations.upgrade(dsn)
    seed(dsn)
    yield name
    drop_database(pg_admin_dsn, name)


@pytest.fixture
def api_dsn(pg_admin_dsn: str, seeded_template: str) -> Iterator[str]:  # noqa: F811
    """A fresh copy of the seeded database for one test."""
    name = f"manalytics_api_{uuid.uuid4().hex[:12]}"
    dsn = create_database(pg_admin_dsn, name, template=seeded_template)
    yield dsn
    drop_database(pg_admin_dsn, name)


def settings_for(dsn: str, redis: str, **changes: Any) -> Settings:
    """Settings of a test app: test mode, fixture definitions, the given services."""
    base = load_settings(
        {"MANALYTICS_ENV": "test", "MANALYTICS_FORMATS_DIR": str(FIXTURE_DEFINITIONS)}
    )
    values: dict[str, Any] = {"database_url": dsn, "redis_url": redis, "db_pool_timeout": 3.0}
    values.update(changes)
    return replace(base, **values)


AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(api_dsn: str, redis_url: str) -> Iterator[AppFactory]:  # noqa: F811
    """Build apps against this test's database and Redis; ``settings=`` changes settings,
    other keyword arguments are Flask config overrides."""
    apps: list[Flask] = []

    def factory(settings: dict[str, Any] | None = None, **config: Any) -> Flask:
        overrides: dict[str, Any] = {
            "MANALYTICS_SETTINGS": settings_for(api_dsn, redis_url, **(settings or {})),
            "BCRYPT_ROUNDS": 4,
        }
        overrides.update(config)
        app = create_app(overrides)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        close_app(app)


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The default test app."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the default app."""
    return app.test_client()


@pytest.fixture
def accounts(api_dsn: str) -> dict[str, int]:
    """Users admin, oper and reader (password :data:`PASSWORD`): name -> id."""
    ids = {}
    with psycopg.connect(api_dsn) as conn:
        for name, roles in ACCOUNTS.items():
            ids[name] = create_user(conn, name, PASSWORD, roles, rounds=4).id
    return ids


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> dict[str, Any]:
    """POST /auth/token; the JSON answer (asserts 200)."""
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def bearer(token: str) -> dict[str, str]:
    """Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(client: FlaskClient, accounts: dict[str, int]) -> Callable[[str], dict[str, Any]]:
    """``tokens(name)``: a fresh token pair of one of :data:`ACCOUNTS`."""
    return lambda name: login(client, name)


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the problem+json shape with ``status`` (and ``code``)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert response.headers["Cache-Control"] == "no-store"
    if code is not None:
        assert body["code"] == code
    return body


def data_root() -> Path:
    """The fixture cache folder (an allowed ingestion root when configured)."""
    return FIXTURE_CACHE
