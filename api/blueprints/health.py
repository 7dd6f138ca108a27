"""Liveness, readiness and metrics (root paths, no rate limit, plain HTTP allowed).

* ``GET /health`` — the process serves requests. No dependency, always 200 while it serves.
* ``GET /ready`` — per-check status of PostgreSQL (``SELECT 1``), Redis (``PING``), disk
  space and memory, each with a short timeout. PostgreSQL down → 503 ``unavailable`` (the
  API cannot answer anything useful: take it out of rotation). Redis down, or disk/memory
  low → 200 ``degraded``: reads still answer from PostgreSQL, only slower, so the instance
  stays in rotation. The latest refresh generation and its age are reported too.
* ``GET /metrics`` — Prometheus exposition (see :mod:`api.observability`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import redis
from flask import Blueprint, Response, current_app, jsonify
from flask.typing import ResponseReturnValue

from api.resources import redis_url, resources
from api.security import allow_plain_http
from pipelines.core import db
from pipelines.core.settings import Settings
from pipelines.discovery.store import latest_rates
from pipelines.stats.refresh import latest_generation

blueprint = Blueprint("health", __name__)

# libpq rounds connect_timeout up to 2 s minimum; the statement itself gets 1 s.
DB_CONNECT_TIMEOUT = 2
DB_STATEMENT_TIMEOUT_MS = 1000
REDIS_TIMEOUT = 1.0
# Below these the instance reports "degraded" (it still serves).
MIN_FREE_DISK_FRACTION = 0.05
MIN_FREE_DISK_BYTES = 200 * 1024 * 1024
MIN_AVAILABLE_MEMORY_FRACTION = 0.05


class Degraded(Exception):
    """A check whose failure degrades the service without stopping it."""


def check_database(settings: Settings) -> dict[str, Any]:
    """``SELECT 1`` on a fresh connection (raises on failure); reports the latest refresh."""
    assert settings.database_url
    with db.connect(
        settings.database_url,
        connect_timeout=DB_CONNECT_TIMEOUT,
        application_name="manalytics-ready",
        options=f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}",
        autocommit=True,
    ) as conn:
        conn.execute("SELECT 1").fetchone()
        try:
            latest = latest_generation(conn)
        except psycopg.errors.UndefinedTable:  # not migrated yet: still reachable
            return {"generation": None}
    if latest is None:
        return {"generation": None}
    return {
        "generation": latest.generation,
        "generation_age_s": round(time.time() - latest.finished_at.timestamp(), 1),
    }


def check_redis(settings: Settings) -> dict[str, Any]:
    """``PING`` Redis (the cache database; every purpose lives on the same server)."""
    client = redis.Redis.from_url(
        redis_url(current_app, settings, "cache"),
        socket_connect_timeout=REDIS_TIMEOUT,
        socket_timeout=REDIS_TIMEOUT,
        retry_on_timeout=False,
    )
    try:
        client.ping()
    finally:
        client.close()
    return {}


def check_disk(settings: Settings) -> dict[str, Any]:
    """Free space where the process writes (var dir, else its working directory)."""
    path = Path(settings.var_dir)
    if not path.exists():
        path = Path.cwd()
    usage = shutil.disk_usage(path)
    free = usage.free / usage.total if usage.total else 1.0
    details = {"free_bytes": usage.free, "free_fraction": round(free, 4)}
    if free < MIN_FREE_DISK_FRACTION or usage.free < MIN_FREE_DISK_BYTES:
        raise Degraded(f"low disk space: {details}")
    return details


def check_memory(settings: Settings) -> dict[str, Any]:
    """Available memory of the machine/container (``/proc/meminfo``; skipped elsewhere)."""
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        return {"skipped": "no /proc/meminfo"}
    info = {}
    for line in lines:
        name, _, rest = line.partition(":")
        if rest.strip():
            info[name] = int(rest.split()[0]) * 1024
    total, available = info.get("MemTotal", 0), info.get("MemAvailable", 0)
    fraction = available / total if total else 1.0
    details = {"available_bytes": available, "available_fraction": round(fraction, 4)}
    if fraction < MIN_AVAILABLE_MEMORY_FRACTION:
        raise Degraded(f"low memory: {details}")
    return details


# name -> (check, critical): a critical failure makes the instance unavailable (503).
CHECKS: dict[str, tuple[Callable[[Settings], dict[str, Any]], bool]] = {
    "database": (check_database, True),
    "redis": (check_redis, False),
    "disk": (check_disk, False),
    "memory": (check_memory, False),
}


def _run_check(check: Callable[[Settings], dict[str, Any]], settings: Settings) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        details = check(settings)
    except Degraded:
        status: dict[str, Any] = {"status": "low"}
    except Exception as exc:  # any failure means "down"; report its kind, not secrets
        status = {"status": "down", "error": type(exc).__name__}
    else:
        status = {"status": "ok", **details}
    status["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return status


@blueprint.get("/health")
@allow_plain_http
def health() -> ResponseReturnValue:
    """Liveness: answers while the process serves requests."""
    return jsonify(status="ok")


@blueprint.get("/ready")
@allow_plain_http
def ready() -> ResponseReturnValue:
    """Readiness with per-check status: ok (200), degraded (200) or unavailable (503)."""
    settings = resources().settings
    checks = {name: _run_check(check, settings) for name, (check, _) in CHECKS.items()}
    critical_down = any(
        checks[name]["status"] != "ok" for name, (_, critical) in CHECKS.items() if critical
    )
    degraded = any(result["status"] != "ok" for result in checks.values())
    status = "unavailable" if critical_down else "degraded" if degraded else "ok"
    response = jsonify(status=status, checks=checks)
    response.status_code = 503 if critical_down else 200
    response.headers["Cache-Control"] = "no-store"
    return response


def _source_metrics(res: Any) -> bytes:
    """Per-source fetch metrics from the run records (empty if the database is down)."""
    from pipelines.sources.metrics import render_source_metrics
    from pipelines.sources.status import source_status

    try:
        with res.db.read(timeout=1.0) as conn:
            return render_source_metrics(source_status(conn))
    except Exception:  # a scrape must not fail because the database does
        return b""


@blueprint.get("/metrics")
@allow_plain_http
def metrics() -> ResponseReturnValue:
    """Prometheus exposition of every worker's metrics plus the business gauges."""
    res = resources()
    generation: tuple[int, Any] | None
    rates: list[tuple[str, str, float, float, int]] = []
    try:
        with res.db.read(timeout=1.0) as conn:
            latest = latest_generation(conn)
        generation = (latest.generation, latest.finished_at) if latest else (0, None)
    except Exception:  # a scrape must not fail because the database does
        generation = None
    try:
        with res.db.read(timeout=1.0) as conn:
            rates = latest_rates(conn)
    except Exception:  # nor because discovery has not run yet
        rates = []
    body, content_type = res.metrics.render(generation, rates)
    body += _source_metrics(res)
    response = Response(body, mimetype=content_type.split(";")[0])
    response.headers["Content-Type"] = content_type
    response.headers["Cache-Control"] = "no-store"
    return response
