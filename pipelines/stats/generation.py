"""The standard-window tables of one refresh generation (``stats_windows``,
``meta_window_totals``, ``meta_window_stats``, ``matchup_window_stats``).

:func:`write_windows` writes a new generation's rows: the formats whose windows may have
changed are computed again (:func:`pipelines.stats.window_stats.compute_window_stats`); the
rows of every other format are copied from the previous generation, which holds exactly what
computing them again would give (same aggregates, same window bounds, same parameters).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import psycopg
from psycopg import sql

from pipelines.core.vocabulary import CURRENT_WINDOW, EVENT_GROUPS
from pipelines.stats.periods import Periods, WindowSpec, standard_windows
from pipelines.stats.samples import SampleRules
from pipelines.stats.window_stats import (
    ARCHETYPE_COLUMNS,
    MATCHUP_COLUMNS,
    TOTAL_COLUMNS,
    compute_window_stats,
)

__all__ = ["GENERATION_TABLES", "WindowsWritten", "prune_generations", "write_windows"]

# Tables holding one generation's rows, each deleted by generation once superseded.
GENERATION_TABLES: Final = (
    "stats_windows",
    "meta_window_totals",
    "meta_window_stats",
    "matchup_window_stats",
)
_WINDOW_COLUMNS: Final = (
    "format",
    "window_key",
    "start_date",
    "end_date",
    "latest_date",
    "period_name",
)
_STAT_TABLES: Final = (
    ("meta_window_totals", TOTAL_COLUMNS),
    ("meta_window_stats", ARCHETYPE_COLUMNS),
    ("matchup_window_stats", MATCHUP_COLUMNS),
)


@dataclass(frozen=True, slots=True)
class WindowsWritten:
    """What :func:`write_windows` did: windows of the generation, formats computed again
    (the others were copied), archetype rows and matchup cells written."""

    windows: list[WindowSpec]
    computed: frozenset[str]
    meta_rows: int
    matchup_rows: int


def copy_rows(
    conn: psycopg.Connection[Any],
    table: str,
    columns: Sequence[str],
    generation: int,
    rows: Iterable[Mapping[str, Any]],
) -> int:
    """COPY ``rows`` (dicts) into ``table`` with ``generation`` prepended; returns the count."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.Identifier(c) for c in ("generation", *columns)),
    )
    count = 0
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row((generation, *(row[c] for c in columns)))
            count += 1
    return count


def _carry_rows(
    conn: psycopg.Connection[Any],
    table: str,
    columns: Sequence[str],
    previous: int,
    generation: int,
    formats: list[str],
) -> int:
    """Copy the rows of ``formats`` from generation ``previous`` to ``generation``."""
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    cur = conn.execute(
        sql.SQL(
            "INSERT INTO {table} (generation, {cols}) SELECT %s, {cols} FROM {table}"
            " WHERE generation = %s AND format = ANY(%s)"
        ).format(table=sql.Identifier(table), cols=cols),
        (generation, previous, formats),
    )
    return cur.rowcount


def _previous_windows(
    conn: psycopg.Connection[Any], previous: int
) -> dict[str, set[tuple[Any, ...]]]:
    out: dict[str, set[tuple[Any, ...]]] = {}
    for row in conn.execute(
        "SELECT format, window_key, start_date, end_date, latest_date, period_name"
        " FROM stats_windows WHERE generation = %s",
        (previous,),
    ):
        out.setdefault(row[0], set()).add(tuple(row))
    return out


def _window_row(w: WindowSpec) -> tuple[Any, ...]:
    return (w.format, w.key, w.start, w.end, w.latest, w.period_name)


def write_windows(
    conn: psycopg.Connection[Any],
    generation: int,
    *,
    previous: int | None,
    changed_formats: Iterable[str],
    periods: Periods | None,
    confidence: float,
    rules: SampleRules | None,
) -> WindowsWritten:
    """Write the standard windows of every format for ``generation``.

    ``previous`` is the generation to copy unchanged formats from (``None``: compute every
    format); ``changed_formats`` are the formats whose statistics tables changed. A format
    whose window bounds differ from ``previous`` (a new meta period) is computed too.
    """
    latest: dict[str, date] = {
        fmt: day
        for fmt, day in conn.execute(
            "SELECT format, max(event_date) FROM mv_archetype_daily GROUP BY format"
        )
    }
    windows = standard_windows(latest, periods)
    by_format: dict[str, list[WindowSpec]] = {}
    for w in windows:
        by_format.setdefault(w.format, []).append(w)
    before = _previous_windows(conn, previous) if previous is not None else {}
    changed = set(changed_formats)
    computed = frozenset(
        fmt
        for fmt, specs in by_format.items()
        if previous is None
        or fmt in changed
        or {_window_row(w) for w in specs} != before.get(fmt, set())
    )
    copy_rows(
        conn,
        "stats_windows",
        _WINDOW_COLUMNS,
        generation,
        (dict(zip(_WINDOW_COLUMNS, _window_row(w), strict=True)) for w in windows),
    )
    stats = compute_window_stats(
        conn,
        [w for w in windows if w.format in computed],
        EVENT_GROUPS,
        confidence,
        rules=rules,
    )
    counts = {
        table: copy_rows(conn, table, columns, generation, rows)
        for (table, columns), rows in zip(
            _STAT_TABLES, (stats.totals, stats.archetypes, stats.matchups), strict=True
        )
    }
    carried = sorted(set(by_format) - computed)
    if carried and previous is not None:
        for table, columns in _STAT_TABLES:
            counts[table] += _carry_rows(conn, table, columns, previous, generation, carried)
    return WindowsWritten(
        windows=windows,
        computed=computed,
        meta_rows=counts["meta_window_stats"],
        matchup_rows=counts["matchup_window_stats"],
    )


def current_periods(windows: Iterable[WindowSpec]) -> dict[str, Any]:
    """``{format: {name, start}}`` of the current meta period of each format (refresh_log)."""
    return {
        w.format: {"name": w.period_name, "start": w.start.isoformat()}
        for w in windows
        if w.key == CURRENT_WINDOW
    }


def prune_generations(conn: psycopg.Connection[Any], oldest_kept: int) -> None:
    """Delete the window rows of generations older than ``oldest_kept``."""
    for table in GENERATION_TABLES:
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE generation < %s").format(sql.Identifier(table)),
            (oldest_kept,),
        )
