"""``manalytics sources list|status|fetch``: the operators' view of the sources."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any

from pipelines.core.settings_loader import get_settings
from pipelines.core.vocabulary import SOURCE_NAMES
from pipelines.sources.base import EventRef


def _iso_date(text: str) -> Any:
    from pipelines.cli import _iso_date as parse

    return parse(text)


def _progress(refs: Iterable[EventRef], total: int) -> Iterable[EventRef]:
    """A progress bar over the events being fetched, on a terminal only."""
    if not sys.stderr.isatty():
        return refs
    from tqdm import tqdm

    bar: Iterable[EventRef] = tqdm(refs, total=total, unit="event", desc="fetch", file=sys.stderr)
    return bar


def run_list(args: argparse.Namespace) -> int:
    """Every known source, enabled or not and why."""
    from pipelines.sources.registry import source_states

    for state in source_states(get_settings()):
        flag = "enabled " if state.enabled else "disabled"
        print(f"{state.name:12s} {flag}  {state.reason}".rstrip())
    return 0


def run_status(args: argparse.Namespace) -> int:
    """Last run, newest event, failures and quarantine per source."""
    from pipelines.cli import database_url
    from pipelines.core.db import connect
    from pipelines.sources.status import source_status

    with connect(database_url(), application_name="manalytics-cli") as conn:
        statuses = source_status(conn)
    if args.json:
        print(json.dumps([s.as_dict() for s in statuses], indent=2))
        return 0
    if not statuses:
        print("no source has run yet (manalytics sources fetch gitcache)")
        return 0
    header = f"{'source':12s} {'last run':20s} {'status':9s} {'newest event':12s} "
    print(header + f"{'failures (last run)':24s} quarantined")
    for s in statuses:
        when = s.last_started_at.strftime("%Y-%m-%d %H:%M UTC") if s.last_started_at else "-"
        failures = ", ".join(f"{k} {v}" for k, v in sorted(s.last_failures.items())) or "-"
        newest = s.newest_event.isoformat() if s.newest_event else "-"
        print(
            f"{s.source:12s} {when:20s} {s.last_status or '-':9s} {newest:12s} "
            f"{failures:24s} {s.quarantined}"
        )
        if s.last_error:
            print(f"{'':12s} error: {s.last_error}")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    """One run of a source, then (unless --no-chain) classify and refresh in this process."""
    from pipelines.cli import database_url
    from pipelines.sources.fetch import run_source

    settings = get_settings()
    dsn = database_url()
    report = run_source(
        dsn,
        settings,
        args.source,
        since=args.since,
        until=args.until,
        trigger="cli",
        progress=None if args.no_progress else _progress,
        refetch=_refetch(args),
    )
    result = report.as_dict()
    if report.ingested_anything and not args.no_chain:
        result["chain"] = _chain(dsn, settings)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        _print_report(result)
    return 1 if report.status in ("failed", "disabled") else 0


def _refetch(args: argparse.Namespace) -> str:
    if args.replay:
        return "replay"
    if args.force:
        return "all"
    return "quarantined" if args.retry_quarantined else "new"


def _chain(dsn: str, settings: Any) -> dict[str, Any]:
    """classify -> refresh, as the nightly chain does after a fetch."""
    from pipelines.classify.labels import classify_new_decks
    from pipelines.stats.periods import load_periods
    from pipelines.stats.refresh import refresh_all

    labelled = classify_new_decks(dsn, settings.definitions_dir)
    refreshed = refresh_all(dsn, periods=load_periods(settings.definitions_dir))
    return {"classified": labelled, "refresh": refreshed.status}


def _print_report(result: dict[str, Any]) -> None:
    keys = (
        "status",
        "listed",
        "fetched",
        "skipped",
        "failed",
        "quarantined",
        "documents",
        "pages",
        "retries",
        "newest_event",
    )
    print(f"source {result['source']} (run {result['run_id']})")
    for key in keys:
        print(f"  {key:12s} {result.get(key)}")
    for key in ("mode", "reason", "commit", "deleted", "shadowed"):
        if key in result:
            print(f"  {key:12s} {result[key]}")
    if result.get("failures"):
        print("  failures     " + ", ".join(f"{k} {v}" for k, v in result["failures"].items()))
    if result.get("ingest"):
        ingest = result["ingest"]
        print(
            f"  ingested     {ingest['files_new']} new, {ingest['files_changed']} changed files, "
            f"{ingest['decks']} decks"
        )
    if result.get("chain"):
        print(f"  then         {result['chain']}")
    if result.get("error"):
        print(f"  error        {result['error']}")


def register(sub: Any) -> None:
    """Add ``sources`` and its subcommands."""
    sources = sub.add_parser("sources", help="fetch tournament results from the sources")
    sources_sub = sources.add_subparsers(dest="sources_command", required=True)
    listing = sources_sub.add_parser("list", help="known sources, enabled or not and why")
    listing.set_defaults(func=run_list)
    status = sources_sub.add_parser(
        "status", help="last run, newest event, failures and quarantine per source"
    )
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=run_status)
    fetch = sources_sub.add_parser(
        "fetch", help="fetch one source now (new events only), ingest, classify, refresh"
    )
    fetch.add_argument(
        "source", choices=SOURCE_NAMES, metavar="SOURCE", help=f"one of {', '.join(SOURCE_NAMES)}"
    )
    fetch.add_argument("--since", type=_iso_date, help="first event date (default: lookback)")
    fetch.add_argument("--until", type=_iso_date, help="last event date (default: today)")
    again = fetch.add_mutually_exclusive_group()
    again.add_argument(
        "--force", action="store_true", help="re-fetch every listed event, even old ones"
    )
    again.add_argument(
        "--retry-quarantined",
        action="store_true",
        help="also re-fetch events quarantined earlier (after a parser fix)",
    )
    again.add_argument(
        "--replay",
        action="store_true",
        help="re-derive every listed event from the stored pages, fetching nothing",
    )
    fetch.add_argument("--no-chain", action="store_true", help="do not classify and refresh")
    fetch.add_argument("--no-progress", action="store_true", help="no progress bar")
    fetch.add_argument("--json", action="store_true", help="print the report as JSON")
    fetch.set_defaults(func=run_fetch)
