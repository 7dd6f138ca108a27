"""Real PostgreSQL and Redis for integration tests.

The server is ``DATABASE_URL`` when set, else the local one at 127.0.0.1:5432 when it
answers, else the embedded server under ``./var`` (the project's no-configuration default).
A migrated template database is built once per test process; each test that asks for
``pg_dsn`` gets a fresh copy of it (``CREATE DATABASE ... TEMPLATE``), dropped afterwards.
Redis works the same way: ``REDIS_URL``, else 127.0.0.1:6379, else the embedded one; each
test process uses its own logical database, flushed per test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from psycopg import sql

from pipelines.core.settings import Settings
from pipelines.core.settings_loader import get_settings
from pipelines.dev.services import scratch_services
from pipelines.storage import migrations
from pipelines.storage.roles import grant

PROTECTED = {"test", "postgres", "root", "template0", "template1"}


def with_database(dsn: str, name: str) -> str:
    """``dsn`` pointing at database ``name`` (URL form; query such as host= is kept)."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def _worker(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return workerinput["workerid"] if workerinput else "main"


@pytest.fixture(scope="session")
def scratch_settings() -> Settings:
    """Settings with the servers tests use (see :func:`scratch_services`)."""
    return scratch_services(get_settings())


@pytest.fixture(scope="session")
def pg_admin_dsn(scratch_settings: Settings) -> str:
    """A DSN with the right to create databases."""
    assert scratch_settings.database_url
    return scratch_settings.database_url


def create_database(admin_dsn: str, name: str, template: str | None = None) -> str:
    """Create database ``name`` (optionally from a template) and return its DSN."""
    assert name not in PROTECTED
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    return with_database(admin_dsn, name)


def drop_database(admin_dsn: str, name: str) -> None:
    """Drop a test database (never one of the protected ones)."""
    assert name not in PROTECTED
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_template(pg_admin_dsn: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """Name of a migrated template database for this test process."""
    # The process id keeps two test runs on one server (two checkouts) from dropping each
    # other's template.
    name = f"manalytics_tmpl_{_worker(request.config)}_{os.getpid()}"
    dsn = create_database(pg_admin_dsn, name)
    migrations.upgrade(dsn)
    yield name
    drop_database(pg_admin_dsn, name)


@pytest.fixture
def pg_dsn(pg_admin_dsn: str, pg_template: str) -> Iterator[str]:
    """DSN of a fresh, migrated database for one test."""
    name = f"manalytics_t_{uuid.uuid4().hex[:12]}"
    dsn = create_database(pg_admin_dsn, name, template=pg_template)
    yield dsn
    drop_database(pg_admin_dsn, name)


@pytest.fixture
def empty_pg_dsn(pg_admin_dsn: str) -> Iterator[str]:
    """DSN of a fresh database with no schema at all (for migration tests)."""
    name = f"manalytics_e_{uuid.uuid4().hex[:12]}"
    dsn = create_database(pg_admin_dsn, name)
    yield dsn
    drop_database(pg_admin_dsn, name)


@pytest.fixture(scope="session")
def redis_base_url(scratch_settings: Settings) -> str:
    """A reachable Redis base URL."""
    assert scratch_settings.redis_url
    return scratch_settings.redis_url


@pytest.fixture
def redis_url(redis_base_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A flushed logical Redis database reserved for this test process (10 + worker)."""
    worker = _worker(request.config)
    index = 10 + (int(worker[2:]) if worker.startswith("gw") else 0) % 6
    parts = urlsplit(redis_base_url)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{index}", parts.query, ""))
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def roles(pg_dsn: str) -> Iterator[tuple[str, str]]:
    """An api and a worker login role (cluster-wide, so uniquely named) granted on ``pg_dsn``
    as ``manalytics db grant`` does; neither owns the tables nor is a member of their owner."""
    suffix = uuid.uuid4().hex[:10]
    api, worker = f"mt_api_{suffix}", f"mt_worker_{suffix}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        for role in (api, worker):
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        grant(conn, api=api, worker=worker)
    yield api, worker
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        for role in (api, worker):
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
