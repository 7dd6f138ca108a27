"""Discovery in PostgreSQL: read a format's decks, run a window, store what it found.

:func:`run_discovery` is what the CLI, the worker task and the benchmark's database path
call. Per format and window it stores a run (deck, Unknown and fallback counts: the rates
the metrics export), one suggestion per cluster (the drafted definition, its precision and
recall and the label moves it would cause — never applied to any definitions folder), and
the rule usage of every definition file. Per format it also refreshes what the API reads
on the request path: the k nearest decks of every deck across the format's history and the
nearest labelled archetype of every Unknown deck.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import psycopg

from pipelines.classify.definitions import FormatDefinitions
from pipelines.classify.result import Method
from pipelines.classify.versions import load_definitions
from pipelines.discovery.engine import Label, WindowDiscovery, discover
from pipelines.discovery.neighbours import beaten, nearest_archetypes, top_k
from pipelines.discovery.vectors import Deck, DeckVectors, build_vectors

NEIGHBOURS = 10
WINDOWS = ("all", "last7", "last14", "last30", "last90", "current")


class DiscoveryError(ValueError):
    """A request that cannot be served (unknown format or window)."""


@dataclass(frozen=True)
class StoredRun:
    run_id: int
    format: str
    window: str
    start: date | None
    end: date | None
    result: WindowDiscovery


_DECKS_SQL = """
SELECT d.id, t.event_date, d.main_card_ids, d.main_counts, d.side_card_ids, d.side_counts
  FROM decks d JOIN tournaments t ON t.id = d.tournament_id
 WHERE t.format = %s ORDER BY d.id
"""


def load_decks(
    conn: psycopg.Connection[Any], format_name: str
) -> tuple[list[Deck], dict[int, date], dict[str, str]]:
    """Every deck of the format (raw names), its event date, and name -> canonical name."""
    rows = conn.execute(_DECKS_SQL, (format_name,)).fetchall()
    ids = {i for row in rows for i in (*row[2], *row[4])}
    names: dict[int, str] = {}
    canonical: dict[str, str] = {}
    if ids:
        for card_id, name, canon in conn.execute(
            "SELECT id, name, canonical_name FROM cards WHERE id = ANY(%s)", (list(ids),)
        ):
            names[card_id] = name
            canonical[name] = canon
    decks, days = [], {}
    for deck_id, day, main_ids, main_counts, side_ids, side_counts in rows:
        main = tuple((names[i], n) for i, n in zip(main_ids, main_counts, strict=True))
        side = tuple((names[i], n) for i, n in zip(side_ids, side_counts, strict=True))
        decks.append(Deck(deck_id, main, side))
        days[deck_id] = day
    return decks, days, canonical


def window_dates(
    window: str, days: dict[int, date], fmt: FormatDefinitions
) -> tuple[date | None, date | None]:
    """First and last event date of a window, counted back from the format's latest event
    (``all`` = the whole history; ``current`` = the last meta period of the definitions)."""
    if window not in WINDOWS:
        raise DiscoveryError(f"unknown window {window!r}; one of {', '.join(WINDOWS)}")
    if not days:
        return None, None
    latest = max(days.values())
    if window == "all":
        return min(days.values()), latest
    if window == "current":
        starts = [start for start, _name in fmt.metas if start <= latest]
        return (max(starts) if starts else min(days.values())), latest
    return latest - timedelta(days=int(window.removeprefix("last")) - 1), latest


def run_discovery(
    conn: psycopg.Connection[Any],
    formats_dir: Path,
    format_name: str,
    window: str = "last30",
    requested_by: str | None = None,
    neighbours: bool = True,
) -> StoredRun:
    """Discover one format's window and store the run (committed by the caller)."""
    started = time.perf_counter()
    if window not in WINDOWS:
        raise DiscoveryError(f"unknown window {window!r}; one of {', '.join(WINDOWS)}")
    try:
        fmt = load_definitions(formats_dir, format_name)
    except Exception as exc:  # ClassificationError: no such folder
        raise DiscoveryError(str(exc)) from exc
    decks, days, canonical = load_decks(conn, format_name)
    if not decks:
        raise DiscoveryError(f"no deck of format {format_name!r}")
    start, end = window_dates(window, days, fmt)
    in_window = [d for d in decks if start is not None and start <= days[d.id] <= (end or start)]
    previous = _previous_clusters(conn, format_name, window)
    result = discover(
        fmt,
        in_window,
        lambda n: canonical.get(n, n),
        previous=previous,
        new_id=lambda: _next_cluster_id(conn),
    )
    run_id = _store_run(conn, format_name, window, start, end, fmt, result, requested_by, started)
    if neighbours:
        store_similarity(conn, fmt, decks, canonical)
    return StoredRun(run_id, format_name, window, start, end, result)


def _next_cluster_id(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT nextval('discovery_cluster_ids')").fetchone()
    assert row is not None
    return int(row[0])


def _previous_clusters(
    conn: psycopg.Connection[Any], format_name: str, window: str
) -> dict[int, frozenset[int]]:
    rows = conn.execute(
        """SELECT s.cluster_id, s.members FROM discovery_suggestions s
            WHERE s.run_id = (SELECT max(id) FROM discovery_runs
                               WHERE format = %s AND window_key = %s)""",
        (format_name, window),
    ).fetchall()
    return {int(cid): frozenset(members) for cid, members in rows}


def _store_run(
    conn: psycopg.Connection[Any],
    format_name: str,
    window: str,
    start: date | None,
    end: date | None,
    fmt: FormatDefinitions,
    result: WindowDiscovery,
    requested_by: str | None,
    started: float,
) -> int:
    row = conn.execute(
        """INSERT INTO discovery_runs (format, window_key, start_date, end_date, definitions,
                  decks, unknown, fallback, clusters, seconds, requested_by)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (
            format_name,
            window,
            start,
            end,
            fmt.version,
            result.decks,
            result.unknown,
            result.fallback,
            len(result.suggestions),
            round(time.perf_counter() - started, 3),
            requested_by,
        ),
    ).fetchone()
    assert row is not None
    run_id = int(row[0])
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO discovery_suggestions (run_id, cluster_id, name, cards, members,
                      definition, exclusive, precision, recall, relabel, notes)
               VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s::jsonb, %s)""",
            [
                (
                    run_id,
                    s.cluster_id,
                    s.name,
                    list(s.cards),
                    list(s.members),
                    orjson.dumps(s.definition).decode(),
                    s.draft.exclusive,
                    s.precision,
                    s.recall,
                    orjson.dumps(
                        [{"from": o, "to": n, "decks": k} for o, n, k in s.relabel]
                    ).decode(),
                    list(s.draft.notes),
                )
                for s in result.suggestions
            ],
        )
        cur.executemany(
            "INSERT INTO discovery_rule_usage (run_id, file, decks) VALUES (%s, %s, %s)",
            [(run_id, file, n) for file, n in sorted(result.usage.items())],
        )
    return run_id


def store_similarity(
    conn: psycopg.Connection[Any],
    fmt: FormatDefinitions,
    decks: list[Deck],
    canonical: dict[str, str],
    full: bool = False,
) -> int:
    """Nearest decks of the format's new decks (and of the old decks a new one enters), or of
    every deck when ``full``; the nearest archetype of every Unknown deck. Returns the number
    of neighbour lists written."""
    from pipelines.discovery.engine import Labeller

    vectors = build_vectors(decks, lambda n: canonical.get(n, n))
    ids = [d.id for d in decks]
    rows = _rows_to_update(conn, vectors, ids, full)
    changed = [ids[r] for r in rows]
    conn.execute("DELETE FROM deck_neighbours WHERE deck_id = ANY(%s)", (changed,))
    with conn.cursor().copy(
        "COPY deck_neighbours (deck_id, rank, neighbour_id, similarity) FROM STDIN"
    ) as copy:
        for n in top_k(vectors, NEIGHBOURS, rows):
            copy.write_row((n.deck_id, n.rank, n.neighbour_id, n.similarity))
    labeller = Labeller(fmt)
    labels: dict[int, Label] = {d.id: labeller.label(d) for d in decks}
    ruled = {i: label.display for i, label in labels.items() if label.method is Method.RULE}
    unknown = [i for i, label in labels.items() if label.method is Method.UNKNOWN]
    conn.execute("DELETE FROM deck_nearest_archetype WHERE deck_id = ANY(%s)", (ids,))
    with conn.cursor().copy(
        "COPY deck_nearest_archetype (deck_id, archetype, similarity) FROM STDIN"
    ) as copy:
        for a in nearest_archetypes(vectors, ruled, unknown):
            copy.write_row((a.deck_id, a.archetype, a.similarity))
    return len(rows)


def _rows_to_update(
    conn: psycopg.Connection[Any], vectors: DeckVectors, ids: list[int], full: bool
) -> list[int]:
    """Rows without a complete list (new decks), plus the old rows one of them enters."""
    if full:
        return list(range(len(ids)))
    kth = dict(
        conn.execute(
            "SELECT deck_id, similarity FROM deck_neighbours WHERE rank = %s AND deck_id = ANY(%s)",
            (min(NEIGHBOURS, len(ids) - 1), ids),
        ).fetchall()
    )
    new = [r for r, deck_id in enumerate(ids) if deck_id not in kth]
    if not new:
        return []
    floor = np.array([kth.get(deck_id, np.inf) for deck_id in ids], dtype=np.float64)
    return sorted({*new, *beaten(vectors, new, floor)})


# -- readers ------------------------------------------------------------------------------


_SUGGESTION_KEYS = (
    *("run_id", "format", "window", "start_date", "end_date", "created_at", "cluster_id"),
    *("name", "cards", "decks", "definition", "exclusive", "precision", "recall", "relabel"),
    "notes",
)


def list_suggestions(
    conn: psycopg.Connection[Any],
    format_name: str | None = None,
    window: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Suggestions of the latest run of each (format, window), largest clusters first."""
    params = {"format": format_name, "window": window, "limit": limit, "offset": offset}
    rows = conn.execute(
        """WITH latest AS (
               SELECT DISTINCT ON (format, window_key) * FROM discovery_runs
                WHERE (%(format)s::text IS NULL OR format = %(format)s)
                  AND (%(window)s::text IS NULL OR window_key = %(window)s)
                ORDER BY format, window_key, id DESC)
           SELECT r.id, r.format, r.window_key, r.start_date, r.end_date, r.created_at,
                  s.cluster_id, s.name, s.cards, cardinality(s.members), s.definition,
                  s.exclusive, s.precision, s.recall, s.relabel, s.notes,
                  count(*) OVER ()
             FROM latest r JOIN discovery_suggestions s ON s.run_id = r.id
            ORDER BY r.format, r.window_key, cardinality(s.members) DESC, s.cluster_id
            LIMIT %(limit)s OFFSET %(offset)s""",
        params,
    ).fetchall()
    keys = _SUGGESTION_KEYS
    total = int(rows[0][-1]) if rows else 0
    return [dict(zip(keys, row[:-1], strict=True)) for row in rows], total


def rule_usage(conn: psycopg.Connection[Any], format_name: str, window: str) -> dict[str, int]:
    """Decks per definition file in the latest run of the format's window."""
    rows = conn.execute(
        """SELECT u.file, u.decks FROM discovery_rule_usage u
            WHERE u.run_id = (SELECT max(id) FROM discovery_runs
                               WHERE format = %s AND window_key = %s)
            ORDER BY u.decks, u.file""",
        (format_name, window),
    ).fetchall()
    return {str(f): int(n) for f, n in rows}


def latest_rates(conn: psycopg.Connection[Any]) -> list[tuple[str, str, float, float, int]]:
    """(format, window, unknown rate, fallback rate, decks) of each latest run."""
    rows = conn.execute(
        """SELECT DISTINCT ON (format, window_key) format, window_key, unknown, fallback, decks
             FROM discovery_runs ORDER BY format, window_key, id DESC"""
    ).fetchall()
    return [(f, w, u / d if d else 0.0, fb / d if d else 0.0, int(d)) for f, w, u, fb, d in rows]


def discover_all(
    dsn: str, formats_dir: Path, windows: tuple[str, ...] = ("last30",)
) -> dict[str, Any]:
    """Discovery for every format that has decks and definitions (the worker's job after a
    statistics refresh). A format that fails is reported and the others still run."""
    from pipelines.core.db import connect

    done: dict[str, Any] = {}
    with connect(dsn, application_name="manalytics-discover") as conn:
        formats = [r[0] for r in conn.execute("SELECT DISTINCT format FROM tournaments")]
        for format_name in sorted(formats):
            if not (formats_dir / format_name / "Archetypes").is_dir():
                continue
            for index, window in enumerate(windows):
                try:
                    # Neighbours span the whole history: once per format is enough.
                    run = run_discovery(
                        conn, formats_dir, format_name, window, "worker", neighbours=index == 0
                    )
                    conn.commit()
                    done[f"{format_name}/{window}"] = {
                        "run_id": run.run_id,
                        "clusters": len(run.result.suggestions),
                        "unknown": run.result.unknown,
                        "fallback": run.result.fallback,
                    }
                except Exception as exc:  # one bad format must not stop the others
                    conn.rollback()
                    done[f"{format_name}/{window}"] = {"error": f"{type(exc).__name__}: {exc}"}
    return done


__all__ = [
    "NEIGHBOURS",
    "WINDOWS",
    "DiscoveryError",
    "StoredRun",
    "discover_all",
    "latest_rates",
    "list_suggestions",
    "load_decks",
    "rule_usage",
    "run_discovery",
    "store_similarity",
    "window_dates",
]
