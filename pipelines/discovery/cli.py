"""``manalytics discover FORMAT [--window W]``: run discovery, list suggestions, rule usage.

* ``discover FORMAT`` runs discovery on the window (stores the run) and prints the Unknown
  and fallback rates, then each cluster: size, distinctive cards, the drafted rule's
  precision and recall on the window and the decks it would relabel;
* ``--stored`` lists the latest stored suggestions without running anything;
* ``--out DIR`` writes each suggested definition as ``DIR/<Format>-<cluster id>.json``
  (MTGOFormatData shape, ready for a curator to review and copy into ``Archetypes/``);
* ``--usage`` prints how many decks each definition file labelled in the window (0 first).

Nothing is ever written to a definitions folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from pipelines.core.db import connect
from pipelines.core.settings_loader import get_settings
from pipelines.discovery.store import (
    WINDOWS,
    DiscoveryError,
    list_suggestions,
    rule_usage,
    run_discovery,
)


def register(sub: Any) -> None:
    """Add ``discover`` to the main CLI."""
    cmd = sub.add_parser("discover", help="find decks no rule names yet and draft their rules")
    cmd.add_argument("format_name", metavar="FORMAT")
    cmd.add_argument("--window", default="last30", choices=WINDOWS, help="default: last30")
    cmd.add_argument("--definitions", type=Path, help="Formats folder (default: settings)")
    cmd.add_argument("--stored", action="store_true", help="list stored suggestions only")
    cmd.add_argument("--usage", action="store_true", help="decks per definition file")
    cmd.add_argument("--out", type=Path, help="write the suggested definitions here")
    cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run (or list) discovery for one format's window."""
    from pipelines.cli import database_url  # the CLI owns service resolution

    formats_dir = args.definitions or get_settings().definitions_dir
    try:
        with connect(database_url(), application_name="manalytics-discover") as conn:
            if not args.stored:
                stored = run_discovery(conn, formats_dir, args.format_name, args.window, "cli")
                conn.commit()
                r = stored.result
                print(
                    f"{args.format_name} {args.window} ({stored.start} .. {stored.end}): "
                    f"{r.decks} decks, Unknown {_rate(r.unknown, r.decks)}, "
                    f"fallback {_rate(r.fallback, r.decks)}; {len(r.suggestions)} clusters "
                    f"(run {stored.run_id})"
                )
            rows, _total = list_suggestions(conn, args.format_name, args.window, limit=1000)
            usage = rule_usage(conn, args.format_name, args.window) if args.usage else {}
    except DiscoveryError as exc:
        print(f"manalytics: discover: {exc}", file=sys.stderr)
        return 2
    for row in rows:
        _print_suggestion(row)
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            path = args.out / f"{args.format_name}-{row['cluster_id']}.json"
            path.write_bytes(orjson.dumps(row["definition"], option=orjson.OPT_INDENT_2) + b"\n")
            print(f"  written to {path}")
    if not rows:
        print("no suggestion stored for this window")
    if args.usage:
        print("\nrule usage (decks labelled in the window, unused first):")
        for file, decks in usage.items():
            print(f"{decks:6d}  {file}")
    return 0


def _rate(part: int, whole: int) -> str:
    return f"{part} ({part / whole:.1%})" if whole else "0"


def _print_suggestion(row: dict[str, Any]) -> None:
    flag = "" if row["exclusive"] else "  NOT EXCLUSIVE"
    print(
        f"\ncluster {row['cluster_id']}: {row['name']} — {row['decks']} decks; rule precision "
        f"{row['precision']:.2f}, recall {row['recall']:.2f}{flag}"
    )
    for cond in row["definition"]["Conditions"]:
        print(f"  {cond['Type']}: {', '.join(cond['Cards'])}")
    for move in row["relabel"]:
        print(f"  would relabel {move['decks']:4d}  {move['from']}  ->  {move['to']}")
    for note in row["notes"]:
        print(f"  note: {note}")


__all__ = ["register", "run"]
