"""Benchmark of the list reads ``GET /api/v1/decks`` and ``/tournaments`` at archive scale.

Run ``python -m ops.bench.decks [--decks 500000]`` from the repository root. It takes a
fresh copy of the cached archive of :mod:`ops.bench.scale_db` (built once by the real
pipeline: generator, ingestion, classification, refresh), then times every filter of both
lists — first page and a deep offset — with the queries of :mod:`pipelines.reads` and, as
the baseline in the same run, the queries they replaced (``api/listing.py`` before issue 14:
per-archetype id arrays, an anti-join for Unknown, a count over joined tables), under the
API's 5 s statement timeout (a timeout prints as ``5000``, the 503 a client gets).

Each figure is the server time of the whole request (page, then the bounded count when the
page does not tell the total), first execution on a new connection whose catalog caches
were warmed by EXPLAINing the request's statements (as a pooled API connection's are): no
plan or response cache — a cold request. PostgreSQL's and the OS's buffer caches are shared
by the machine and not dropped. ``measure_lists(dsn)`` is what ``python -m ops.bench.scale``
calls on its own copy. Ends with ``key=value`` lines (``lists_worst_ms``, ``list_<shape>_ms``, and
``list_<shape>_old_ms`` for the baseline).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ops.bench.common import headline
from pipelines.core.db import connect
from pipelines.reads.deck_list import deck_page, deck_query
from pipelines.reads.events import tournament_page, tournament_query
from pipelines.reads.paging import MAX_LIST_OFFSET, TOTAL_CAP

API_TIMEOUT_MS = 5000
DECK_KEYS = ("format", "archetype", "player", "tournament", "from", "to")
TOURNAMENT_KEYS = ("format", "kind", "source", "from", "to")
DEEP = MAX_LIST_OFFSET - 50

# The baseline: api/listing.py as it was before issue 14 (same filters, same answer).
_OLD_DECK_FILTERS: Mapping[str, str] = {
    "format": "t.format = %(format)s",
    "player": "lower(d.player) = lower(%(player)s)",
    "tournament": "d.tournament_id = %(tournament)s",
    "from": "t.event_date >= %(from)s",
    "to": "t.event_date <= %(to)s",
    "archetype": """d.id = ANY (ARRAY(
        SELECT c.deck_id FROM current_deck_archetypes c WHERE c.archetype = %(archetype)s))""",
}
_OLD_UNKNOWN = """NOT EXISTS (SELECT 1 FROM current_deck_archetypes c
         WHERE c.deck_id = d.id AND c.archetype <> %(archetype)s)"""
_OLD_DECK_PAGE = """
WITH page AS (
    SELECT d.id, t.event_date FROM decks d JOIN tournaments t ON t.id = d.tournament_id
     WHERE {filters} ORDER BY t.event_date DESC, d.id DESC LIMIT %(limit)s OFFSET %(offset)s)
SELECT d.id, d.tournament_id, t.name AS tournament, t.event_date, t.format, t.event_kind,
       d.player, d.rank, d.result, d.record_wins AS wins, d.record_losses AS losses,
       d.record_draws AS draws, coalesce(l.archetype, 'Unknown') AS archetype, l.color
  FROM page JOIN decks d ON d.id = page.id JOIN tournaments t ON t.id = d.tournament_id
  LEFT JOIN LATERAL (SELECT a.archetype, a.color FROM current_deck_archetypes a
         WHERE a.deck_id = d.id ORDER BY a.version_id DESC LIMIT 1) l ON true
 ORDER BY page.event_date DESC, page.id DESC"""
_OLD_DECK_COUNT = """SELECT count(*) FROM (SELECT 1 FROM decks d
    JOIN tournaments t ON t.id = d.tournament_id WHERE {filters} LIMIT %(cap)s) capped"""
_OLD_TOURNAMENT_FILTERS: Mapping[str, str] = {
    "format": "t.format = %(format)s",
    "kind": "t.event_kind = %(kind)s",
    "source": "t.source_id = (SELECT id FROM sources WHERE name = %(source)s)",
    "from": "t.event_date >= %(from)s",
    "to": "t.event_date <= %(to)s",
}
_OLD_TOURNAMENT_PAGE = """
SELECT t.id, t.name, t.event_date, t.format, t.event_kind, s.name AS source, t.uri,
       t.player_count, t.deck_count, t.match_count
  FROM tournaments t JOIN sources s ON s.id = t.source_id WHERE {filters}
 ORDER BY t.event_date DESC, t.id DESC LIMIT %(limit)s OFFSET %(offset)s"""
_OLD_TOURNAMENT_COUNT = """SELECT count(*) FROM (SELECT 1 FROM tournaments t
    WHERE {filters} LIMIT %(cap)s) capped"""


def _old_where(fragments: Mapping[str, str], values: Mapping[str, Any]) -> sql.Composable:
    chosen = []
    for name, fragment in fragments.items():
        if values.get(name) is not None:
            unknown = name == "archetype" and values[name] == "Unknown"
            chosen.append(sql.SQL(_OLD_UNKNOWN if unknown else fragment))
    return sql.SQL(" AND ").join(chosen) if chosen else sql.SQL("true")


def old_statements(kind: str, values: Mapping[str, Any]) -> list[tuple[sql.Composed, Any]]:
    """The baseline's page and count statements with their parameters."""
    decks = kind == "decks"
    where = _old_where(_OLD_DECK_FILTERS if decks else _OLD_TOURNAMENT_FILTERS, values)
    page = sql.SQL(_OLD_DECK_PAGE if decks else _OLD_TOURNAMENT_PAGE).format(filters=where)
    count = sql.SQL(_OLD_DECK_COUNT if decks else _OLD_TOURNAMENT_COUNT).format(filters=where)
    params = {**values, "cap": TOTAL_CAP + 1}
    return [(page, params), (count, params)]


def old_page(conn: psycopg.Connection[Any], kind: str, values: Mapping[str, Any]) -> int:
    """The baseline request: its page, then its count unless the page is the last."""
    (page, params), (count, _) = old_statements(kind, values)
    rows = conn.execute(page, params).fetchall()
    if len(rows) < values["limit"] and (rows or values["offset"] == 0):
        return len(rows)
    conn.execute(count, params).fetchone()
    return len(rows)


def picks(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Filter values: the biggest format, its most and least common archetypes, the most
    prolific player, the newest tournament, the last month."""
    row = conn.execute(
        """WITH f AS (SELECT format FROM tournaments GROUP BY 1 ORDER BY count(*) DESC LIMIT 1),
                a AS (SELECT c.archetype, count(*) AS n FROM current_deck_archetypes c
                        JOIN decks d ON d.id = c.deck_id
                        JOIN tournaments t ON t.id = d.tournament_id
                       WHERE t.format = (SELECT format FROM f) AND c.archetype <> 'Unknown'
                       GROUP BY 1)
           SELECT (SELECT count(*) FROM decks) AS decks, (SELECT format FROM f) AS format,
                  (SELECT archetype FROM a ORDER BY n DESC LIMIT 1) AS common,
                  (SELECT archetype FROM a ORDER BY n LIMIT 1) AS rare,
                  (SELECT player FROM decks GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)
                      AS player,
                  (SELECT max(tournament_id) FROM decks) AS tournament,
                  (SELECT max(event_date) FROM tournaments) AS last_day"""
    ).fetchone()
    assert row is not None
    return dict(
        zip(("decks", "format", "common", "rare", "player", "tournament", "last"), row, strict=True)
    )


def shapes(pick: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Shape name -> (list, filters): every filter of both lists, first page and deep."""
    month = {"from": pick["last"] - timedelta(days=30), "to": pick["last"]}
    fmt, common, rare = pick["format"], pick["common"], pick["rare"]
    return {
        "decks_plain": ("decks", {}),
        "decks_plain_deep": ("decks", {"offset": DEEP}),
        "decks_format": ("decks", {"format": fmt}),
        "decks_format_deep": ("decks", {"format": fmt, "offset": DEEP}),
        "decks_format_month": ("decks", {"format": fmt, **month}),
        "decks_archetype": ("decks", {"format": fmt, "archetype": common}),
        "decks_archetype_deep": ("decks", {"format": fmt, "archetype": common, "offset": DEEP}),
        "decks_archetype_rare": ("decks", {"format": fmt, "archetype": rare}),
        "decks_archetype_any_format": ("decks", {"archetype": common}),
        "decks_unknown": ("decks", {"archetype": "Unknown"}),
        "decks_unknown_deep": ("decks", {"archetype": "Unknown", "offset": DEEP}),
        "decks_format_unknown": ("decks", {"format": fmt, "archetype": "Unknown"}),
        "decks_player": ("decks", {"player": pick["player"]}),
        "decks_player_archetype": ("decks", {"player": pick["player"], "archetype": common}),
        "decks_tournament": ("decks", {"tournament": pick["tournament"]}),
        "tournaments_plain": ("tournaments", {}),
        "tournaments_plain_deep": ("tournaments", {"offset": DEEP}),
        "tournaments_format": ("tournaments", {"format": fmt}),
        "tournaments_kind": ("tournaments", {"kind": "challenge"}),
        "tournaments_source_month": ("tournaments", {"source": "MTGO", **month}),
    }  # fmt: skip


def _values(kind: str, filters: Mapping[str, Any]) -> dict[str, Any]:
    keys = DECK_KEYS if kind == "decks" else TOURNAMENT_KEYS
    return {**dict.fromkeys(keys), "limit": 50, "offset": 0, **filters}


def _cold_ms(
    dsn: str,
    run: Callable[[psycopg.Connection[Any]], Any],
    statements: Callable[[psycopg.Connection[Any]], list[tuple[sql.Composed, Any]]],
) -> float:
    """Milliseconds of ``run``, the first execution of its statements on a connection whose
    catalog caches are warm (as a pooled API connection's are: its statements are EXPLAINed
    first, which reads no table), under the API's statement timeout; a timeout counts as
    the timeout."""
    with connect(dsn, statement_timeout_ms=API_TIMEOUT_MS, row_factory=dict_row) as conn:
        conn.read_only = True
        for statement, params in statements(conn):
            conn.execute(sql.SQL("EXPLAIN {}").format(statement), params, prepare=False)
        start = time.perf_counter()
        try:
            run(conn)
        except psycopg.errors.QueryCanceled:
            return float(API_TIMEOUT_MS)
        return (time.perf_counter() - start) * 1000


def _new_statements(
    conn: psycopg.Connection[Any], kind: str, values: Mapping[str, Any]
) -> list[tuple[sql.Composed, Any]]:
    query = deck_query(conn, values) if kind == "decks" else tournament_query(values)
    return [
        (query.rows, query.page_params(values["limit"], values["offset"])),
        (query.count, query.count_params()),
    ]


def measure_lists(dsn: str, *, baseline: bool = True, verbose: bool = False) -> dict[str, float]:
    """Cold server time of every list shape (new, and with ``baseline`` the old queries)."""
    with connect(dsn) as conn:
        pick = picks(conn)
    figures: dict[str, float] = {}
    for name, (kind, filters) in shapes(pick).items():
        values = _values(kind, filters)

        def new(conn: psycopg.Connection[Any], kind: str = kind, values: Any = values) -> Any:
            return (deck_page if kind == "decks" else tournament_page)(conn, values)

        def old(conn: psycopg.Connection[Any], kind: str = kind, values: Any = values) -> Any:
            return old_page(conn, kind, values)

        def new_sql(conn: psycopg.Connection[Any], kind: str = kind, values: Any = values) -> Any:
            return _new_statements(conn, kind, values)

        def old_sql(conn: psycopg.Connection[Any], kind: str = kind, values: Any = values) -> Any:
            return old_statements(kind, values)

        figures[f"list_{name}_ms"] = _cold_ms(dsn, new, new_sql)
        if baseline:
            figures[f"list_{name}_old_ms"] = _cold_ms(dsn, old, old_sql)
        if verbose:
            with connect(dsn, row_factory=dict_row) as conn:
                found = new(conn)
            before = figures.get(f"list_{name}_old_ms")
            print(
                f"{name:28s} new {figures[f'list_{name}_ms']:8.1f} ms"
                + (f"  old {before:8.1f} ms" if before is not None else "")
                + f"  rows {len(found.items):3d}  total {found.total}{'' if found.exact else '+'}"
            )
    news = [v for k, v in figures.items() if not k.endswith("_old_ms")]
    figures["lists_worst_ms"] = max(news)
    if baseline:
        figures["lists_worst_old_ms"] = max(v for k, v in figures.items() if k.endswith("_old_ms"))
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m ops.bench.decks``."""
    from ops.bench.scale_db import drop_database, scale_database

    parser = argparse.ArgumentParser(prog="python -m ops.bench.decks", description=__doc__)
    parser.add_argument("--decks", type=int, default=500_000, help="archive size (decks)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the old queries")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    name = f"bench_lists_{args.decks}"
    dsn = scale_database(name, args.decks)
    try:
        print(f"database ready in {time.perf_counter() - started:.0f} s")
        figures: dict[str, object] = {"decks": args.decks}
        figures.update(measure_lists(dsn, baseline=not args.no_baseline, verbose=True))
    finally:
        drop_database(name)
    headline(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
