"""Benchmark of the list reads ``GET /api/v1/decks`` and ``/tournaments`` at archive scale.

Run ``python -m ops.bench.decks [--decks 100000]`` from the repository root. It (re)creates
the database ``manalytics_bench_decks``, ingests ``--decks`` decks from the demo generator
(spread over ``decks / 450`` days, the public archive's density), labels them
deterministically (:func:`ops.bench.refresh.label_decks`), analyzes, then times each query
shape of the API — the new queries (:mod:`api.listing`) and, as the baseline in the same run,
the queries they replaced (per-row label lookups and a window count) — and reports the
median milliseconds of ``--repeats`` runs. Ends with ``key=value`` lines.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from api.listing import deck_page, tournament_page
from ops.bench.common import headline, server_dsn
from ops.bench.refresh import label_decks, recreate_database
from pipelines.core.db import connect

BENCH_DB = "manalytics_bench_decks"
DECKS_PER_DAY = 450

# The queries before issue 12 (the baseline).
_OLD_DECKS = """
SELECT d.id, d.tournament_id, t.name AS tournament, t.event_date, t.format, t.event_kind,
       d.player, d.rank, d.result, d.record_wins AS wins, d.record_losses AS losses,
       d.record_draws AS draws, coalesce(l.archetype, 'Unknown') AS archetype, l.color,
       count(*) OVER () AS total
  FROM decks d
  JOIN tournaments t ON t.id = d.tournament_id
  LEFT JOIN LATERAL (
        SELECT a.archetype, a.color FROM current_deck_archetypes a
         WHERE a.deck_id = d.id ORDER BY a.version_id DESC LIMIT 1) l ON true
 WHERE (%(format)s::text IS NULL OR t.format = %(format)s)
   AND (%(archetype)s::text IS NULL OR coalesce(l.archetype, 'Unknown') = %(archetype)s)
   AND (%(player)s::text IS NULL OR lower(d.player) = lower(%(player)s))
   AND (%(tournament)s::bigint IS NULL OR d.tournament_id = %(tournament)s)
   AND (%(from)s::date IS NULL OR t.event_date >= %(from)s)
   AND (%(to)s::date IS NULL OR t.event_date <= %(to)s)
 ORDER BY t.event_date DESC, d.id DESC
 LIMIT %(limit)s OFFSET %(offset)s
"""
_OLD_TOURNAMENTS = """
SELECT t.id, t.name, t.event_date, t.format, t.event_kind, s.name AS source, t.uri,
       t.player_count, t.deck_count, t.match_count, count(*) OVER () AS total
  FROM tournaments t JOIN sources s ON s.id = t.source_id
 WHERE (%(format)s::text IS NULL OR t.format = %(format)s)
   AND (%(kind)s::text IS NULL OR t.event_kind = %(kind)s)
   AND (%(source)s::text IS NULL OR s.name = %(source)s)
   AND (%(from)s::date IS NULL OR t.event_date >= %(from)s)
   AND (%(to)s::date IS NULL OR t.event_date <= %(to)s)
 ORDER BY t.event_date DESC, t.id DESC
 LIMIT %(limit)s OFFSET %(offset)s
"""
_DECK_KEYS = ("format", "archetype", "player", "tournament", "from", "to")
_TOURNAMENT_KEYS = ("format", "kind", "source", "from", "to")


def load(dsn: str, decks: int) -> dict[str, Any]:
    """Generate, ingest, label and analyze; the values the query shapes use."""
    from pipelines.demo.generator import generate
    from pipelines.ingest.cache import ingest_cache
    from pipelines.storage import migrations

    migrations.upgrade(dsn)
    with tempfile.TemporaryDirectory(prefix="bench-decks-") as tmp:
        generate(Path(tmp), decks, 1, days=max(28, decks // DECKS_PER_DAY), indent=False)
        ingest_cache(dsn, Path(tmp))
    with connect(dsn) as conn:
        label_decks(conn)
        conn.commit()
        conn.execute("ANALYZE")
    return load_pick(dsn)


def shapes(pick: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Query shape name -> (list, filters) as the API would pass them."""
    from datetime import timedelta

    month = {"from": pick["last_day"] - timedelta(days=30), "to": pick["last_day"]}
    return {
        "decks_plain": ("decks", {}),
        "decks_format": ("decks", {"format": pick["format"]}),
        "decks_format_archetype": (
            "decks", {"format": pick["format"], "archetype": pick["archetype"]}
        ),
        "decks_unknown": ("decks", {"archetype": "Unknown"}),
        "decks_player": ("decks", {"player": pick["player"]}),
        "decks_tournament": ("decks", {"tournament": pick["tournament"]}),
        "decks_format_month": ("decks", {"format": pick["format"], **month}),
        "decks_offset_5000": ("decks", {"format": pick["format"], "offset": 5000}),
        "tournaments_format": ("tournaments", {"format": pick["format"]}),
    }  # fmt: skip


def _values(kind: str, filters: dict[str, Any]) -> dict[str, Any]:
    keys = _DECK_KEYS if kind == "decks" else _TOURNAMENT_KEYS
    return {**dict.fromkeys(keys), "limit": 50, "offset": 0, **filters}


def _run(conn: psycopg.Connection[Any], statement: str, values: dict[str, Any]) -> Any:
    return conn.execute(statement, values).fetchall()  # constants


def _median_ms(run: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m ops.bench.decks``."""
    parser = argparse.ArgumentParser(prog="python -m ops.bench.decks", description=__doc__)
    parser.add_argument("--decks", type=int, default=100_000, help="decks to generate")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per query shape")
    parser.add_argument("--reuse", action="store_true", help="keep an existing bench database")
    args = parser.parse_args(argv)
    admin = server_dsn()
    started = time.perf_counter()
    if args.reuse:
        from ops.bench.refresh import with_database

        dsn = with_database(admin, BENCH_DB)
        with connect(dsn) as conn:
            row = conn.execute("SELECT count(*) FROM decks").fetchone()
        if not row or not row[0]:
            print("no bench database to reuse", file=sys.stderr)
            return 2
        pick = load_pick(dsn)
    else:
        dsn = recreate_database(admin, BENCH_DB)
        pick = load(dsn, args.decks)
    print(f"database: {pick['decks']} decks, loaded in {time.perf_counter() - started:.0f} s")
    figures: dict[str, object] = {"decks": pick["decks"]}
    worst_new = worst_old = 0.0
    with connect(dsn, row_factory=dict_row) as conn:
        conn.read_only = True
        for name, (kind, filters) in shapes(pick).items():
            values = _values(kind, filters)
            listing = deck_page if kind == "decks" else tournament_page
            old_sql = _OLD_DECKS if kind == "decks" else _OLD_TOURNAMENTS
            new_ms = _median_ms(partial(listing, conn, values), args.repeats)
            old_ms = _median_ms(partial(_run, conn, old_sql, values), args.repeats)
            rows, total, exact = listing(conn, values)
            print(
                f"{name:24s} new {new_ms:8.1f} ms  old {old_ms:8.1f} ms  "
                f"rows {len(rows):3d}  total {total}{'' if exact else '+'}"
            )
            figures[f"{name}_ms"] = new_ms
            figures[f"{name}_old_ms"] = old_ms
            worst_new, worst_old = max(worst_new, new_ms), max(worst_old, old_ms)
    figures["worst_new_ms"] = worst_new
    figures["worst_old_ms"] = worst_old
    headline(figures)
    return 0


def load_pick(dsn: str) -> dict[str, Any]:
    """The shape values of an existing bench database."""
    with connect(dsn, row_factory=dict_row) as conn:
        pick = conn.execute(
            """SELECT (SELECT count(*) FROM decks) AS decks,
                      (SELECT format FROM tournaments GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)
                          AS format,
                      (SELECT a.archetype FROM deck_archetypes a
                         JOIN decks d ON d.id = a.deck_id
                         JOIN tournaments t ON t.id = d.tournament_id
                        WHERE t.format = (SELECT format FROM tournaments GROUP BY 1
                                           ORDER BY count(*) DESC LIMIT 1)
                        GROUP BY 1 ORDER BY count(*) LIMIT 1) AS archetype,
                      (SELECT player FROM decks ORDER BY id LIMIT 1) AS player,
                      (SELECT tournament_id FROM decks ORDER BY id DESC LIMIT 1) AS tournament,
                      (SELECT max(event_date) FROM tournaments) AS last_day"""
        ).fetchone()
    assert pick is not None
    return dict(pick)


if __name__ == "__main__":
    sys.exit(main())
