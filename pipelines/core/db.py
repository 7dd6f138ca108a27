"""Database connections: one-off psycopg connections and the per-process pool.

Rules (ENGINEERING.md §5/§6):

* nothing here touches the database at import time;
* one :class:`~psycopg_pool.ConnectionPool` per process, created and opened *after* fork
  (gunicorn ``post_fork``, Celery ``worker_process_init``) — a pool inherited across fork
  hands the same sockets to two processes.

No SQLAlchemy: queries are SQL text (files and module constants), composed with
:mod:`psycopg.sql` where filters vary (README, "Database access").
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from pipelines.core.setting_parsers import SettingsError
from pipelines.core.settings import Settings

DEFAULT_APPLICATION_NAME = "manalytics"
# Pool connection recycling (psycopg docs, "Connection quality").
POOL_MAX_LIFETIME = 3600.0
POOL_MAX_IDLE = 600.0
POOL_RECONNECT_TIMEOUT = 300.0
# PostgreSQL notices a vanished client only when it next talks to it: the query of a process
# killed mid-statement (kill -9, OOM, hard time limit) would run on for minutes, holding its
# locks (the refresh lock, a chunk's rows), so the redelivered run finds them busy. With this
# check (PostgreSQL >= 14) the server polls the socket while a query runs and aborts it.
CLIENT_CHECK_INTERVAL_MS = 1000


def _require_dsn(settings: Settings) -> str:
    if not settings.database_url:
        raise SettingsError(
            "DATABASE_URL is not resolved yet (call pipelines.dev.services.resolve_services)"
        )
    return settings.database_url


def connect(
    dsn: str,
    *,
    application_name: str = DEFAULT_APPLICATION_NAME,
    autocommit: bool = False,
    statement_timeout_ms: int | None = None,
    connect_timeout: int = 10,
    **kwargs: Any,
) -> psycopg.Connection[Any]:
    """Open one psycopg connection (autocommit off by default); the caller closes it.

    ``statement_timeout_ms`` is set for the whole session through the startup ``options``.
    """
    kwargs["options"] = session_options(kwargs.get("options"), statement_timeout_ms)
    return psycopg.connect(
        dsn,
        autocommit=autocommit,
        application_name=application_name,
        connect_timeout=connect_timeout,
        **kwargs,
    )


def session_options(options: str | None, statement_timeout_ms: int | None = None) -> str:
    """Startup ``options`` of every connection: the dead-client check, and a statement
    timeout when given."""
    extra = f"-c client_connection_check_interval={CLIENT_CHECK_INTERVAL_MS}"
    if statement_timeout_ms is not None:
        extra += f" -c statement_timeout={int(statement_timeout_ms)}"
    return f"{options} {extra}" if options else extra


def make_pool(
    settings: Settings,
    *,
    name: str = "manalytics",
    application_name: str = DEFAULT_APPLICATION_NAME,
    statement_timeout_ms: int | None = None,
    min_size: int | None = None,
    max_size: int | None = None,
    open: bool = True,
) -> ConnectionPool:
    """A psycopg pool sized from settings, opened explicitly (call it after fork).

    Connections are health-checked on checkout (``ConnectionPool.check_connection``) and
    recycled after an hour; ``timeout`` (``DB_POOL_TIMEOUT``) is kept below gunicorn's worker
    timeout so a starved request fails cleanly instead of the worker being killed.
    """
    kwargs: dict[str, Any] = {
        "application_name": application_name,
        "autocommit": False,
        "options": session_options(None, statement_timeout_ms),
    }
    pool = ConnectionPool(
        _require_dsn(settings),
        min_size=settings.db_pool_min if min_size is None else min_size,
        max_size=settings.db_pool_max if max_size is None else max_size,
        timeout=settings.db_pool_timeout,
        max_lifetime=POOL_MAX_LIFETIME,
        max_idle=POOL_MAX_IDLE,
        reconnect_timeout=POOL_RECONNECT_TIMEOUT,
        check=ConnectionPool.check_connection,
        kwargs=kwargs,
        name=name,
        # close() on a pooled connection returns it to the pool (psycopg_pool >= 3.3)
        # instead of closing the socket the pool counts as in use.
        close_returns=True,
        open=False,
    )
    if open:
        pool.open(wait=False)
    return pool


__all__ = ["connect", "make_pool"]
