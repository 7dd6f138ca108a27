"""``manalytics tasks list|show``: the run records, as operators see them in the API."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pipelines.runs import store

SubParsers = Any


def _connect() -> Any:
    from pipelines.cli import database_url
    from pipelines.core.db import connect

    return connect(database_url(), application_name="manalytics-cli")


def _age(run: store.Run) -> str:
    end = run.finished_at or run.heartbeat_at or run.started_at
    begin = run.started_at
    if begin is None or end is None:
        return "-"
    return f"{(end - begin).total_seconds():.1f}s"


def _list(args: argparse.Namespace) -> int:
    with _connect() as conn:
        runs, total = store.list_runs(
            conn, limit=args.limit, offset=0, kind=args.kind, state=args.state
        )
    if args.json:
        print(json.dumps([r.as_dict() for r in runs], default=str, indent=2))
        return 0
    print(f"{'id':36}  {'kind':10}  {'state':9}  {'try':>3}  {'took':>8}  requested_at")
    for run in runs:
        print(
            f"{run.id!s:36}  {run.kind:10}  {run.state:9}  {run.attempt:>3}  {_age(run):>8}  "
            f"{run.requested_at:%Y-%m-%d %H:%M:%S}"
        )
    print(f"({len(runs)} of {total})")
    return 0


def _show(args: argparse.Namespace) -> int:
    with _connect() as conn:
        try:
            run = store.get_run(conn, args.id)
        except ValueError:
            run = None
    if run is None:
        print(f"manalytics: no run {args.id}")
        return 1
    data = run.as_dict()
    if args.json:
        print(json.dumps(data, default=str, indent=2))
        return 0
    history = data.pop("history")
    for key, value in data.items():
        if isinstance(value, dict | list):
            value = json.dumps(value, default=str)
        print(f"{key:17} {value}")
    print("history:")
    for event in history:
        details = ", ".join(f"{k}={v}" for k, v in event.items() if k not in {"at", "event"})
        print(f"  {event.get('at', '?')}  {event['event']}  {details}")
    return 0


def register(sub: SubParsers) -> None:
    """Add ``tasks list`` and ``tasks show``."""
    tasks = sub.add_parser("tasks", help="background runs (ingest, classify, refresh, fetch)")
    tasks_sub = tasks.add_subparsers(dest="tasks_command", required=True)
    listing = tasks_sub.add_parser("list", help="recent runs, newest first")
    listing.add_argument("--kind", help="ingest, classify, reclassify, refresh, fetch...")
    listing.add_argument("--state", choices=[*store.ACTIVE_STATES, *store.FINAL_STATES])
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)
    show = tasks_sub.add_parser("show", help="one run: state, progress, attempts, history")
    show.add_argument("id", help="run id (the task id the API returned)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_show)
