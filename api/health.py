"""Liveness and readiness endpoints.

* ``GET /health`` — the process is up. No dependency, no auth, always 200 while it serves.
* ``GET /ready`` — can serve traffic: PostgreSQL answers ``SELECT 1`` and Redis answers
  ``PING``, each with a short timeout. 503 with per-check details when one is down, so a
  load balancer or ``compose`` health check stops routing to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
import redis
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from pipelines.core.settings import Settings

blueprint = Blueprint("health", __name__)

# libpq rounds connect_timeout up to 2 s minimum; the statement itself gets 1 s.
DB_CONNECT_TIMEOUT = 2
DB_STATEMENT_TIMEOUT_MS = 1000
REDIS_TIMEOUT = 1.0


def _settings() -> Settings:
    from api import app_settings

    return app_settings(current_app)


def check_database(settings: Settings) -> None:
    """``SELECT 1`` on a fresh connection (raises on failure)."""
    assert settings.database_url
    with psycopg.connect(
        settings.database_url,
        connect_timeout=DB_CONNECT_TIMEOUT,
        application_name="manalytics-ready",
        options=f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}",
        autocommit=True,
    ) as conn:
        conn.execute("SELECT 1").fetchone()


def check_redis(settings: Settings) -> None:
    """``PING`` the broker database (raises on failure)."""
    client = redis.Redis.from_url(
        settings.redis_db_url("broker"),
        socket_connect_timeout=REDIS_TIMEOUT,
        socket_timeout=REDIS_TIMEOUT,
        retry_on_timeout=False,
    )
    try:
        client.ping()
    finally:
        client.close()


CHECKS: dict[str, Callable[[Settings], None]] = {
    "database": check_database,
    "redis": check_redis,
}


def _run_check(check: Callable[[Settings], None], settings: Settings) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check(settings)
    except Exception as exc:  # any failure means "not ready"; report its kind, not secrets
        status: dict[str, Any] = {"status": "down", "error": type(exc).__name__}
    else:
        status = {"status": "ok"}
    status["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return status


@blueprint.get("/health")
def health() -> ResponseReturnValue:
    """Liveness: answers while the process serves requests."""
    return jsonify(status="ok")


@blueprint.get("/ready")
def ready() -> ResponseReturnValue:
    """Readiness: every dependency answers, else 503 with per-check status."""
    settings = _settings()
    checks = {name: _run_check(check, settings) for name, check in CHECKS.items()}
    ok = all(result["status"] == "ok" for result in checks.values())
    response = jsonify(status="ok" if ok else "unavailable", checks=checks)
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response
