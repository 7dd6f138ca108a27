"""Runtime plumbing against real processes: embedded Redis and PostgreSQL, /health, /ready.

Embedded services are started in a temporary var dir (and a free port), never in ./var, and
are always stopped at teardown.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
import redis

from api import create_app
from pipelines.core.settings import Settings
from pipelines.core.settings_loader import load_settings
from pipelines.dev.processes import ServiceError
from pipelines.dev.services import (
    embedded_status,
    ensure_services,
    resolve_services,
    stop_embedded,
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def var_settings(tmp_path: Path) -> Iterator[Settings]:
    """Development settings with a private var dir; whatever starts there is stopped."""
    settings = replace(
        load_settings({}),
        var_dir=tmp_path / "var",
        beat_schedule_filename=tmp_path / "var" / "celerybeat-schedule",
        embedded_redis_port=free_port(),
    )
    yield settings
    stop_embedded(settings.var_dir)


# -- embedded Redis ---------------------------------------------------------------------------


def test_embedded_redis_starts_is_reused_and_stops(var_settings: Settings) -> None:
    first = ensure_services(var_settings, need_postgres=False)
    url = first.settings.redis_url
    assert url == f"redis://127.0.0.1:{var_settings.embedded_redis_port}"
    assert first.started_redis and first.redis_embedded
    assert first.settings.database_url is None  # not asked for

    client = redis.Redis.from_url(first.settings.redis_db_url("broker"))
    assert client.ping()
    assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
    assert client.config_get("appendonly")["appendonly"] == "yes"
    assert client.config_get("bind")["bind"] == "127.0.0.1"
    client.set("manalytics:test", "kept")

    second = ensure_services(var_settings, need_postgres=False)
    assert second.settings.redis_url == url
    assert not second.started_redis  # reused, so not this call's to stop
    assert second.stop() == []
    assert client.get("manalytics:test") == b"kept"
    client.close()

    assert first.stop() == ["redis"]
    assert embedded_status(var_settings.var_dir)["redis"] is None
    assert not (var_settings.var_dir / "redis" / "redis.pid").exists()
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()


def test_embedded_redis_restarts_with_its_data(var_settings: Settings) -> None:
    handle = ensure_services(var_settings, need_postgres=False)
    client = redis.Redis.from_url(handle.settings.redis_db_url("locks"))
    client.set("survives", "restart")
    client.close()
    assert stop_embedded(var_settings.var_dir) == ["redis"]

    again = ensure_services(var_settings, need_postgres=False)
    assert again.started_redis
    client = redis.Redis.from_url(again.settings.redis_db_url("locks"))
    assert client.get("survives") == b"restart"  # appendonly file replayed
    client.close()


def test_embedded_redis_reports_a_taken_port(var_settings: Settings) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", var_settings.embedded_redis_port))
        squatter.listen()
        with pytest.raises(ServiceError) as info:
            ensure_services(var_settings, need_postgres=False)
    message = str(info.value)
    assert str(var_settings.embedded_redis_port) in message
    assert "EMBEDDED_REDIS_PORT" in message and "REDIS_URL" in message


def test_configured_urls_are_kept_and_nothing_starts(tmp_path: Path) -> None:
    settings = replace(
        load_settings({}),
        var_dir=tmp_path / "untouched",
        database_url="postgresql://u@db/x",
        redis_url="redis://cache:6379",
    )
    assert resolve_services(settings) == settings
    assert not (tmp_path / "untouched").exists()


# -- embedded PostgreSQL ----------------------------------------------------------------------


def test_embedded_postgres_starts_creates_the_database_and_is_reused(
    var_settings: Settings,
) -> None:
    first = ensure_services(var_settings, need_redis=False)
    assert first.started_postgres and first.postgres_embedded
    dsn = first.settings.database_url
    assert dsn is not None and "/manalytics" in dsn
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT current_database()").fetchone()
    assert row == ("manalytics",)

    second = ensure_services(var_settings, need_redis=False)
    assert second.settings.database_url == dsn
    assert not second.started_postgres
    assert second.stop() == []
    with psycopg.connect(dsn) as conn:  # still up: the reusing handle left it alone
        conn.execute("SELECT 1")

    assert first.stop() == ["postgres"]
    assert embedded_status(var_settings.var_dir)["postgres"] is None
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=2)

    # Starts again on the existing cluster (no initdb) with the database still there.
    third = ensure_services(var_settings, need_redis=False)
    assert third.started_postgres and third.settings.database_url == dsn


# -- API health -------------------------------------------------------------------------------

CLOSED = "redis://127.0.0.1:{port}"


def test_health_needs_no_dependency() -> None:
    app = create_app(
        {
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/none",
            "REDIS_URL": CLOSED.format(port=free_port()),
        }
    )
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_ready_when_database_and_redis_answer(pg_dsn: str, redis_url: str) -> None:
    app = create_app({"DATABASE_URL": pg_dsn, "REDIS_URL": redis_url})
    response = app.test_client().get("/ready")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "ok"
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_is_degraded_when_redis_is_down(pg_dsn: str) -> None:
    # Reads still answer from PostgreSQL without Redis: ready, but degraded (issue 5).
    app = create_app({"DATABASE_URL": pg_dsn, "REDIS_URL": CLOSED.format(port=free_port())})
    response = app.test_client().get("/ready")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"] == {
        "status": "down",
        "error": "ConnectionError",
        "ms": body["checks"]["redis"]["ms"],
    }
    assert body["checks"]["redis"]["ms"] < 3000


def test_ready_is_503_when_the_database_is_down(redis_url: str) -> None:
    dsn = f"postgresql://postgres@127.0.0.1:{free_port()}/manalytics"
    app = create_app({"DATABASE_URL": dsn, "REDIS_URL": redis_url})
    response = app.test_client().get("/ready")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"]["status"] == "down" and checks["redis"]["status"] == "ok"
    assert "postgres" not in str(checks)  # no connection string leaks into the body


# -- run command helpers ----------------------------------------------------------------------


def test_demo_set_is_generated_once_per_parameters(var_settings: Settings) -> None:
    from pipelines.dev.demo_cache import DEMO_STAMP, demo_cache_dir, prepare_demo_cache

    settings = replace(var_settings, demo_decks=40)
    assert not (demo_cache_dir(settings) / DEMO_STAMP).exists()  # nothing generated yet
    messages: list[str] = []
    root = prepare_demo_cache(settings, messages.append)
    assert (root / DEMO_STAMP).is_file() and any(root.rglob("*.json"))
    assert root == demo_cache_dir(settings)
    files = {p: p.stat().st_mtime_ns for p in root.rglob("*.json")}

    prepare_demo_cache(settings, messages.append)  # same parameters: untouched
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*.json")} == files
    assert "already generated" in messages[-1]

    prepare_demo_cache(replace(settings, demo_decks=60), messages.append)
    assert "generating" in " ".join(messages[-2:])
    assert not root.with_name(root.name + ".partial").exists()


def test_child_environment_carries_the_resolved_settings(tmp_path: Path) -> None:
    from pipelines.dev.processes import child_environment

    settings = replace(
        load_settings({}),
        database_url="postgresql://postgres:@/manalytics?host=/x",
        redis_url="redis://127.0.0.1:6390",
        var_dir=tmp_path,
        cache_dir=None,
    )
    env = child_environment(settings, EXTRA="1")
    assert env["DATABASE_URL"] == settings.database_url
    assert env["REDIS_URL"] == settings.redis_url
    assert env["MANALYTICS_VAR_DIR"] == str(tmp_path)
    assert "MANALYTICS_CACHE_DIR" not in env and env["EXTRA"] == "1"
    assert load_settings(env).database_url == settings.database_url


def test_stop_children_terminates_the_whole_process_group(tmp_path: Path) -> None:
    from pipelines.dev.processes import start_child, stop_children

    # A parent that ignores SIGTERM and has a grandchild: both must be gone afterwards.
    code = (
        "import signal, subprocess, sys, time;"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        "print('up', flush=True); time.sleep(60)"
    )
    child = start_child(
        "stubborn", [sys.executable, "-c", code], dict(os.environ), tmp_path / "c.log"
    )
    deadline = time.monotonic() + 10
    while "up" not in child.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop_children([child], timeout=1.0)
    assert child.popen.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(child.pid, 0)
