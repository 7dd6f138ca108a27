"""The ``manalytics`` command line (argparse; ``--help`` on every level).

Every command stores its handler as ``func``; ``args.func(args)`` returns the exit code.
Commands that need PostgreSQL use ``DATABASE_URL`` or, when it is unset, the embedded
server under ``./var`` (started on demand, left running for the next command).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pipelines.core.setting_parsers import SettingsError
from pipelines.core.settings_export import settings_markdown
from pipelines.core.settings_loader import get_settings

SubParsers = Any  # argparse._SubParsersAction is private; keep the annotation honest


def database_url() -> str:
    """The database to use: ``DATABASE_URL``, else the embedded server (started if needed)."""
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    from pipelines.dev.services import resolve_services

    resolved = resolve_services(settings, need_redis=False)
    assert resolved.database_url is not None
    return resolved.database_url


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


# -- db -----------------------------------------------------------------------------------


def _db_upgrade(args: argparse.Namespace) -> int:
    from pipelines.storage import migrations

    applied = migrations.upgrade(database_url(), target=args.target)
    print("\n".join(f"applied {name}" for name in applied) or "database is up to date")
    return 0


def _db_downgrade(args: argparse.Namespace) -> int:
    from pipelines.storage import migrations

    reverted = migrations.downgrade(database_url(), steps=args.steps)
    print("\n".join(f"reverted {name}" for name in reverted) or "nothing to revert")
    return 0


def _db_status(args: argparse.Namespace) -> int:
    from pipelines.storage import migrations

    rows = migrations.status(database_url())
    for row in rows:
        state = "applied " + (row.applied_at or "") if row.applied else "pending"
        changed = "" if row.checksum_ok else "  (file changed since it was applied!)"
        print(f"{row.version:04d} {row.name:30s} {state}{changed}")
    return 0 if all(r.checksum_ok for r in rows) else 1


def _db_grant(args: argparse.Namespace) -> int:
    from pipelines.core.db import connect
    from pipelines.storage.roles import grant

    with connect(database_url(), autocommit=True) as conn:
        grant(conn, api=args.api_role, worker=args.worker_role)
    print(f"granted: {args.api_role} (read, accounts and tasks), {args.worker_role} (all)")
    return 0


def _register_db(sub: SubParsers) -> None:
    db = sub.add_parser("db", help="database migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply pending migrations")
    up.add_argument("--target", type=int, help="stop after this version")
    up.set_defaults(func=_db_upgrade)
    down = db_sub.add_parser("downgrade", help="revert the last N migrations")
    down.add_argument("steps", nargs="?", type=int, default=1, help="how many (default 1)")
    down.set_defaults(func=_db_downgrade)
    status = db_sub.add_parser("status", help="applied and pending migrations")
    status.set_defaults(func=_db_status)
    grants = db_sub.add_parser(
        "grant", help="grant the API and worker roles their privileges (run as the owner)"
    )
    grants.add_argument("--api-role", default="manalytics_api", help="the API's login role")
    grants.add_argument(
        "--worker-role", default="manalytics_worker", help="the workers' login role"
    )
    grants.set_defaults(func=_db_grant)


# -- stats --------------------------------------------------------------------------------


def _stats_refresh(args: argparse.Namespace) -> int:
    from pipelines.stats.periods import load_periods
    from pipelines.stats.refresh import refresh_all

    periods = load_periods(get_settings().definitions_dir)
    result = refresh_all(database_url(), periods=periods, full=args.full)
    print(json.dumps(result.as_dict(), default=str))
    return 0


def _register_stats(sub: SubParsers) -> None:
    stats = sub.add_parser("stats", help="statistics tables")
    stats_sub = stats.add_subparsers(dest="stats_command", required=True)
    refresh = stats_sub.add_parser(
        "refresh",
        help="refresh the statistics now: the days changed since the last refresh (what the"
        " task after each ingestion does), or everything with --full",
    )
    refresh.add_argument(
        "--full",
        action="store_true",
        help="recompute every day and format (after a change of statistics definitions or a"
        " migration; gives the same tables as the incremental refreshes)",
    )
    refresh.set_defaults(func=_stats_refresh)


# -- ingest -------------------------------------------------------------------------------


def _ingest_cache(args: argparse.Namespace) -> int:
    from pipelines.ingest.cache import ingest_cache

    summary = ingest_cache(
        database_url(),
        args.path,
        since=args.since,
        until=args.until,
        source=args.source,
        strict=args.strict,
        progress=not args.no_progress,
    )
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        print(summary.render())
    return 1 if args.strict and summary.files_quarantined else 0


def _register_ingest(sub: SubParsers) -> None:
    ingest = sub.add_parser("ingest", help="load tournament results")
    ingest_sub = ingest.add_subparsers(dest="ingest_command", required=True)
    cache = ingest_sub.add_parser(
        "cache", help="ingest a decklist-cache folder (<Source>/yyyy/mm/dd/*.json)"
    )
    cache.add_argument("path", type=Path, help="the cache's Tournaments folder")
    cache.add_argument("--since", type=_iso_date, help="first folder date (inclusive)")
    cache.add_argument("--until", type=_iso_date, help="last folder date (inclusive)")
    cache.add_argument("--source", help="only this source folder (MTGO, MTGmelee, ...)")
    cache.add_argument(
        "--strict", action="store_true", help="exit non-zero when a document was quarantined"
    )
    cache.add_argument("--no-progress", action="store_true", help="no progress bar")
    cache.add_argument("--json", action="store_true", help="print the summary as JSON")
    cache.set_defaults(func=_ingest_cache)


# -- run / settings -----------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    from pipelines.dev.runner import run

    return run(get_settings())


def _settings(args: argparse.Namespace) -> int:
    if args.markdown:
        print(settings_markdown())
        return 0
    settings = get_settings()
    for key, value in sorted(vars(settings).items()):
        if any(word in key for word in ("secret", "password", "api_key")):
            value = "***"
        print(f"{key} = {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The full command tree."""
    from pipelines.auth.cli import register as register_users
    from pipelines.backup.cli import register as register_backup
    from pipelines.classify.cli import register as register_classify
    from pipelines.demo.cli import register as register_demo
    from pipelines.discovery.cli import register as register_discover
    from pipelines.readiness.cli import register as register_readiness
    from pipelines.runs.cli import register as register_tasks
    from pipelines.sources.cli import register as register_sources

    parser = argparse.ArgumentParser(
        prog="manalytics", description="Magic: The Gathering metagame analysis."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="start services, migrate, run worker + beat, ingest demo data, serve HTTP"
    )
    run.set_defaults(func=_run)
    _register_db(sub)
    _register_ingest(sub)
    _register_stats(sub)
    register_classify(sub)
    register_demo(sub)
    register_users(sub)
    register_discover(sub)
    register_backup(sub)
    register_readiness(sub)
    register_sources(sub)
    register_tasks(sub)
    settings = sub.add_parser("settings", help="show the effective settings")
    settings.add_argument("--markdown", action="store_true", help="the README table")
    settings.set_defaults(func=_settings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``manalytics`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"manalytics: configuration error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"manalytics: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
