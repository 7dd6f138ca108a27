"""Plain-SQL migration runner.

Migrations live in ``sql/migrations`` as ``NNNN_slug.up.sql`` / ``NNNN_slug.down.sql``. The
runner records applied versions (with a checksum of the up script) in ``schema_migrations``,
holds a global advisory lock so two runners at once are safe (the second waits, then finds
nothing to do), and applies each migration in its own transaction with ``lock_timeout`` and
``statement_timeout`` set. A file whose first line is ``-- manalytics:no-transaction`` runs
outside a transaction (for ``CREATE INDEX CONCURRENTLY``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from pipelines.core import db
from pipelines.core.settings import REPO_ROOT
from pipelines.core.settings_loader import get_settings

MIGRATIONS_DIR = REPO_ROOT / "sql" / "migrations"
NO_TRANSACTION_MARKER = "-- manalytics:no-transaction"
# Arbitrary but fixed: every runner of every process contends for this one lock.
MIGRATION_LOCK_KEY = 0x4D414E41  # "MANA"
_FILE_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$")

_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(RuntimeError):
    """The migration files or the recorded history are inconsistent."""


@dataclass(frozen=True)
class Migration:
    """One numbered migration with its up and down scripts."""

    version: int
    name: str
    up_path: Path
    down_path: Path

    @property
    def up_sql(self) -> str:
        return self.up_path.read_text(encoding="utf-8")

    @property
    def down_sql(self) -> str:
        return self.down_path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.up_path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class MigrationStatus:
    """A migration and whether it is applied (and whether its file changed since)."""

    version: int
    name: str
    applied: bool
    applied_at: str | None
    checksum_ok: bool


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """All migrations in ``directory``, paired up/down, in number order.

    Numbers may have gaps: each line of work is assigned its own number, and the runner
    applies whatever is not applied yet (by set), so work landing out of order still applies.
    """
    found: dict[int, dict[str, Path]] = {}
    names: dict[int, str] = {}
    for path in sorted(directory.iterdir()):
        match = _FILE_RE.match(path.name)
        if not match:
            if path.suffix == ".sql":
                raise MigrationError(f"migration file name not understood: {path.name}")
            continue
        version, name, direction = int(match[1]), match[2], match[3]
        if names.setdefault(version, name) != name:
            raise MigrationError(f"two migrations numbered {version:04d}")
        found.setdefault(version, {})[direction] = path
    migrations = []
    for version in sorted(found):
        pair = found[version]
        if set(pair) != {"up", "down"}:
            missing = ({"up", "down"} - set(pair)).pop()
            raise MigrationError(f"migration {version:04d} has no {missing} script")
        migrations.append(Migration(version, names[version], pair["up"], pair["down"]))
    return migrations


@contextmanager
def _locked(dsn: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection holding the global migration lock."""
    with db.connect(dsn, autocommit=True, application_name="manalytics-migrate") as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            conn.execute(_BOOTSTRAP)
            yield conn
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))


def _applied(conn: psycopg.Connection) -> dict[int, tuple[str, str]]:
    rows = conn.execute("SELECT version, checksum, applied_at::text FROM schema_migrations")
    return {version: (checksum, applied_at) for version, checksum, applied_at in rows}


def _timeouts(scope: str) -> str:
    """``SET`` statements for the migration lock and statement timeouts."""
    settings = get_settings()
    return (
        f"SET {scope} lock_timeout = {int(settings.migration_lock_timeout_ms)};"
        f"SET {scope} statement_timeout = {int(settings.migration_statement_timeout_ms)}"
    )


def upgrade(dsn: str, target: int | None = None, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations up to ``target`` (default: all); return the names applied."""
    migrations = discover(directory)
    done: list[str] = []
    with _locked(dsn) as conn:
        applied = _applied(conn)
        _check_history(migrations, applied)
        for migration in migrations:
            if migration.version in applied:
                continue
            if target is not None and migration.version > target:
                break
            _apply(conn, migration)
            done.append(f"{migration.version:04d}_{migration.name}")
    return done


def _apply(conn: psycopg.Connection, migration: Migration) -> None:
    sql = migration.up_sql
    if sql.lstrip().startswith(NO_TRANSACTION_MARKER):
        # CREATE INDEX CONCURRENTLY and friends cannot run inside a transaction.
        conn.execute(_timeouts("SESSION"))
        conn.execute(sql)  # trusted file from sql/migrations
        conn.execute("RESET lock_timeout; RESET statement_timeout")
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
            (migration.version, migration.name, migration.checksum),
        )
        return
    # Script and bookkeeping commit together: a failed migration leaves no trace.
    with conn.transaction():
        conn.execute(_timeouts("LOCAL"))
        conn.execute(sql)
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
            (migration.version, migration.name, migration.checksum),
        )


def downgrade(dsn: str, steps: int = 1, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Revert the last ``steps`` applied migrations (newest first); return their names."""
    if steps < 0:
        raise MigrationError("steps must be >= 0")
    migrations = {m.version: m for m in discover(directory)}
    reverted: list[str] = []
    with _locked(dsn) as conn:
        applied = sorted(_applied(conn), reverse=True)
        for version in applied[:steps]:
            migration = migrations.get(version)
            if migration is None:
                raise MigrationError(f"applied migration {version:04d} has no file to revert it")
            with conn.transaction():
                conn.execute(_timeouts("LOCAL"))
                conn.execute(migration.down_sql)
                conn.execute("DELETE FROM schema_migrations WHERE version = %s", (version,))
            reverted.append(f"{version:04d}_{migration.name}")
    return reverted


def status(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[MigrationStatus]:
    """Every known migration with whether it is applied and unchanged."""
    migrations = discover(directory)
    with _locked(dsn) as conn:
        applied = _applied(conn)
    return [
        MigrationStatus(
            version=m.version,
            name=m.name,
            applied=m.version in applied,
            applied_at=applied[m.version][1] if m.version in applied else None,
            checksum_ok=m.version not in applied or applied[m.version][0] == m.checksum,
        )
        for m in migrations
    ]


def _check_history(migrations: list[Migration], applied: dict[int, tuple[str, str]]) -> None:
    """Refuse to run when the database knows a migration the files do not."""
    known = {m.version for m in migrations}
    unknown = sorted(set(applied) - known)
    if unknown:
        raise MigrationError(
            f"database has migrations this code does not know: {unknown}; deploy newer code"
        )
