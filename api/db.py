"""PostgreSQL access of the API: one psycopg pool per worker process, opened on first use.

gunicorn runs ``create_app()`` in each worker after fork (``preload_app = False``), and the
pool is still created lazily at the first request and re-created if the process id changed,
so a pool is never shared across a fork (psycopg/psycopg#395). Reads run in ``READ ONLY``
``REPEATABLE READ`` transactions (several statements of one answer see one snapshot) with the
statement timeout ``DB_STATEMENT_TIMEOUT_MS``; the pool timeout (``DB_POOL_TIMEOUT``) stays
below gunicorn's worker timeout so a starved request gets a clean 503.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import IsolationLevel
from psycopg_pool import ConnectionPool

from pipelines.core.db import make_pool
from pipelines.core.settings import Settings


class Database:
    """The per-process pool of one app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: ConnectionPool | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def pool(self) -> ConnectionPool:
        """This process's pool (created on first use, after fork)."""
        if self._pool is None or self._pid != os.getpid():
            with self._lock:
                if self._pool is None or self._pid != os.getpid():
                    # A pool inherited from a parent process is unusable: drop, never close it.
                    self._pool = make_pool(
                        self.settings,
                        name="api",
                        application_name="manalytics-api",
                        statement_timeout_ms=self.settings.db_statement_timeout_ms,
                    )
                    self._pid = os.getpid()
        return self._pool

    @contextmanager
    def read(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection whose transaction is read-only, repeatable read (``timeout``:
        seconds to wait for a connection, default ``DB_POOL_TIMEOUT``)."""
        with self.pool().connection(timeout=timeout) as conn:
            conn.read_only = True
            conn.isolation_level = IsolationLevel.REPEATABLE_READ
            yield conn

    @contextmanager
    def write(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection for a short read-write transaction (committed on success)."""
        with self.pool().connection() as conn:
            conn.read_only = False
            conn.isolation_level = IsolationLevel.READ_COMMITTED
            yield conn

    def close(self) -> None:
        """Close this process's pool (tests; gunicorn workers just exit)."""
        if self._pool is not None and self._pid == os.getpid():
            self._pool.close(timeout=5.0)
        self._pool, self._pid = None, None


__all__ = ["Database"]
