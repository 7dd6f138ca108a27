"""``manalytics backup create|verify|restore|list``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pipelines.backup import (
    BackupError,
    create_backup,
    list_backups,
    restore_backup,
    verify_backup,
    write_metrics,
)
from pipelines.core.settings_loader import get_settings


def _directory(args: argparse.Namespace) -> Path:
    return Path(args.dir) if args.dir else get_settings().backup_dir


def _create(args: argparse.Namespace) -> int:
    from pipelines.cli import database_url

    settings = get_settings()
    keep = args.keep if args.keep is not None else settings.backup_keep
    backup = create_backup(database_url(), _directory(args), keep)
    if args.metrics_file:
        write_metrics(Path(args.metrics_file), backup)
    tables = backup.manifest["tables"]
    print(f"{backup.path}  {backup.manifest['bytes']} bytes  sha256 {backup.manifest['sha256']}")
    print(f"schema version {backup.manifest['schema_version']}, {len(tables)} tables, "
          f"{sum(tables.values())} rows, {backup.manifest['seconds']} s")  # fmt: skip
    return 0


def _verify(args: argparse.Namespace) -> int:
    backup = verify_backup(Path(args.file) if args.file else _directory(args))
    created = f"{backup.created_at:%Y-%m-%d %H:%M:%SZ}"
    print(f"OK {backup.path} (sha256 {backup.manifest['sha256']}, created {created})")
    return 0


def _restore(args: argparse.Namespace) -> int:
    counts = restore_backup(Path(args.file), args.target_url, jobs=args.jobs)
    rows = sum(counts.values())
    print(f"restored {rows} rows in {len(counts)} tables; row counts match the manifest")
    return 0


def _list(args: argparse.Namespace) -> int:
    backups = list_backups(_directory(args))
    if args.json:
        print(json.dumps([{"file": str(b.path), **b.manifest} for b in backups], indent=2))
        return 0
    for backup in backups:
        print(f"{backup.path.name}  {backup.manifest.get('bytes', 0):>12} bytes  "
              f"schema {backup.manifest.get('schema_version')}")  # fmt: skip
    return 0


def _guarded(func: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            return int(func(args))
        except BackupError as exc:
            print(f"manalytics backup: {exc}")
            return 1

    return run


def register(sub: Any) -> None:
    backup = sub.add_parser("backup", help="database backups: create, verify, restore, list")
    backup_sub = backup.add_subparsers(dest="backup_command", required=True)
    create = backup_sub.add_parser(
        "create", help="pg_dump to BACKUP_DIR with checksum and manifest"
    )
    create.add_argument("--dir", help="backup directory (default BACKUP_DIR)")
    create.add_argument("--keep", type=int, help="backups kept, newest first (default BACKUP_KEEP)")
    create.add_argument("--metrics-file", help="write a Prometheus textfile about this backup")
    create.set_defaults(func=_guarded(_create))
    verify = backup_sub.add_parser("verify", help="checksum and pg_restore --list of a backup")
    verify.add_argument("file", nargs="?", help="a .dump file (default: newest in --dir)")
    verify.add_argument("--dir", help="backup directory (default BACKUP_DIR)")
    verify.set_defaults(func=_guarded(_verify))
    restore = backup_sub.add_parser("restore", help="restore into an empty database")
    restore.add_argument("file", help="a .dump file or a backup directory (its newest)")
    restore.add_argument("--target-url", required=True, help="libpq URL of an EMPTY database")
    restore.add_argument("--jobs", type=int, default=2, help="parallel pg_restore jobs")
    restore.set_defaults(func=_guarded(_restore))
    listing = backup_sub.add_parser("list", help="complete backups, newest first")
    listing.add_argument("--dir", help="backup directory (default BACKUP_DIR)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_guarded(_list))
