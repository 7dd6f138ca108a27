"""Database backups that restore: ``pg_dump`` custom format, checksum, manifest, retention.

A backup is three files in the backup directory (``BACKUP_DIR``)::

    manalytics-20261202T030000Z.dump         pg_dump --format=custom
    manalytics-20261202T030000Z.dump.sha256  "<hex>  <name>" (sha256sum -c compatible)
    manalytics-20261202T030000Z.dump.json    manifest: schema version, row count per table

The dump is written under a temporary name and renamed once its checksum and manifest are
on disk, so a crash never leaves a file that looks like a complete backup. ``verify``
re-hashes the dump and has ``pg_restore`` read its table of contents; ``restore`` loads it
into an *empty* database and checks every table's row count against the manifest.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from psycopg import sql

from pipelines.core.db import connect

PREFIX = "manalytics-"
_NAME = re.compile(r"^manalytics-(\d{8}T\d{6}Z)\.dump$")
_CHUNK = 1 << 20


class BackupError(RuntimeError):
    """A backup could not be made, verified or restored; the message says why."""


@dataclass(frozen=True)
class Backup:
    path: Path
    created_at: datetime
    manifest: dict[str, Any]

    @property
    def checksum_path(self) -> Path:
        return self.path.with_name(self.path.name + ".sha256")

    @property
    def manifest_path(self) -> Path:
        return self.path.with_name(self.path.name + ".json")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found on PATH (install the PostgreSQL client)")
    return path


def _run(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        # libpq URLs may carry a password: never echo the command line.
        raise BackupError(f"{Path(argv[0]).name} failed: {result.stderr.strip()[-2000:]}")
    return result.stdout


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _counts(conn: Any) -> dict[str, int]:
    names = [
        row[0]
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    ]
    counts = {}
    for name in names:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))
        ).fetchone()
        counts[name] = int(row[0]) if row else 0
    return counts


def table_counts(dsn: str) -> dict[str, int]:
    """Exact row count of every ordinary table of the public schema."""
    with connect(dsn, application_name="manalytics-backup", autocommit=True) as conn:
        return _counts(conn)


def _schema_version(conn: Any) -> int | None:
    exists = conn.execute("SELECT to_regclass('public.schema_migrations')").fetchone()
    if not exists or exists[0] is None:
        return None
    row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0]) if row and row[0] is not None else None


def list_backups(directory: Path) -> list[Backup]:
    """Complete backups in ``directory`` (dump, checksum and manifest), newest first."""
    found: list[Backup] = []
    if not directory.is_dir():
        return found
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if not match:
            continue
        backup = Backup(
            path, datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC), {}
        )
        if not (backup.checksum_path.is_file() and backup.manifest_path.is_file()):
            continue
        manifest = json.loads(backup.manifest_path.read_text(encoding="utf-8"))
        found.append(Backup(path, backup.created_at, manifest))
    return sorted(found, key=lambda b: b.created_at, reverse=True)


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest backups (and stale temporary files); the removed."""
    removed = []
    for backup in list_backups(directory)[keep:]:
        for path in (backup.path, backup.checksum_path, backup.manifest_path):
            path.unlink(missing_ok=True)
        removed.append(backup.path)
    for partial in directory.glob(f"{PREFIX}*.partial"):
        if time.time() - partial.stat().st_mtime > 24 * 3600:  # a crashed run's leftover
            partial.unlink(missing_ok=True)
    return removed


def create_backup(dsn: str, directory: Path, keep: int) -> Backup:
    """Dump ``dsn`` into ``directory``, write checksum and manifest, apply retention."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(microsecond=0)
    name = f"{PREFIX}{now:%Y%m%dT%H%M%SZ}.dump"
    final = directory / name
    if final.exists():
        raise BackupError(f"{final} already exists (two backups in the same second?)")
    partial = directory / (name + ".partial")
    started = time.monotonic()
    # The dump and the manifest's row counts see one snapshot: pg_dump joins the snapshot
    # this transaction exports, so restore can demand exactly these counts.
    with connect(dsn, application_name="manalytics-backup") as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        counts = _counts(conn)
        version_of_schema = _schema_version(conn)
        _run([_tool("pg_dump"), "--format=custom", "--compress=6", "--no-owner",
              f"--snapshot={snapshot}", f"--file={partial}", f"--dbname={dsn}"])  # fmt: skip
        conn.rollback()
    version = _run([_tool("pg_dump"), "--version"]).strip()
    checksum = sha256_file(partial)
    manifest = {
        "file": name,
        "created_at": now.isoformat(),
        "bytes": partial.stat().st_size,
        "sha256": checksum,
        "schema_version": version_of_schema,
        "tables": counts,
        "pg_dump": version,
        "seconds": round(time.monotonic() - started, 3),
    }
    backup = Backup(final, now, manifest)
    backup.checksum_path.write_text(f"{checksum}  {name}\n", encoding="utf-8")
    backup.manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    partial.rename(final)
    prune(directory, keep)
    return backup


def _resolve(path_or_dir: Path) -> Backup:
    if path_or_dir.is_dir():
        backups = list_backups(path_or_dir)
        if not backups:
            raise BackupError(f"no complete backup in {path_or_dir}")
        return backups[0]
    match = _NAME.match(path_or_dir.name)
    if not match or not path_or_dir.is_file():
        raise BackupError(f"{path_or_dir} is not a backup file ({PREFIX}<timestamp>.dump)")
    for backup in list_backups(path_or_dir.parent):
        if backup.path == path_or_dir:
            return backup
    raise BackupError(f"{path_or_dir}: checksum or manifest file missing")


def verify_backup(path_or_dir: Path) -> Backup:
    """Checksum matches and ``pg_restore`` reads the dump (a directory: its newest backup)."""
    backup = _resolve(path_or_dir)
    expected = backup.checksum_path.read_text(encoding="utf-8").split()[0]
    actual = sha256_file(backup.path)
    if actual != expected or actual != backup.manifest.get("sha256"):
        raise BackupError(
            f"{backup.path.name}: checksum mismatch (file {actual}, recorded {expected})"
        )
    listing = _run([_tool("pg_restore"), "--list", str(backup.path)])
    for table in backup.manifest.get("tables", {}):
        if not re.search(rf" TABLE DATA public {re.escape(table)} ", listing):
            raise BackupError(f"{backup.path.name}: no data for table {table} in the dump")
    return backup


def restore_backup(path_or_dir: Path, target_dsn: str, jobs: int = 2) -> dict[str, int]:
    """Restore into the empty database ``target_dsn``; row counts checked against the manifest.

    Refuses a database that already has tables (restore into a new database, then switch
    ``DATABASE_URL``: the old one stays as it was until you drop it).
    """
    backup = verify_backup(path_or_dir)
    if table_counts(target_dsn):
        raise BackupError("target database is not empty: restore into a new database")
    _run([_tool("pg_restore"), "--exit-on-error", "--no-owner", f"--jobs={jobs}",
          f"--dbname={target_dsn}", str(backup.path)])  # fmt: skip
    restored = table_counts(target_dsn)
    expected: dict[str, int] = backup.manifest["tables"]
    problems = [
        f"{table}: {restored.get(table)} rows, manifest {count}"
        for table, count in expected.items()
        if restored.get(table) != count
    ]
    if problems:
        raise BackupError("restored database differs from the manifest: " + "; ".join(problems))
    return restored


def write_metrics(path: Path, backup: Backup) -> None:
    """Prometheus textfile (node-exporter's textfile collector) about the newest backup."""
    text = (
        "# HELP manalytics_backup_last_success_timestamp_seconds End of the newest backup.\n"
        "# TYPE manalytics_backup_last_success_timestamp_seconds gauge\n"
        f"manalytics_backup_last_success_timestamp_seconds {backup.created_at.timestamp():.0f}\n"
        "# HELP manalytics_backup_size_bytes Size of the newest backup.\n"
        "# TYPE manalytics_backup_size_bytes gauge\n"
        f"manalytics_backup_size_bytes {backup.manifest.get('bytes', 0)}\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.rename(path)  # the collector never reads half a file
