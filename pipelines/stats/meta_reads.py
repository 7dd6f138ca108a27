"""Meta tables, matchup cells and matrices, trends and the formats overview: the stored rows of
a standard window, or a custom window computed on request (:mod:`pipelines.stats.window_stats`).
Conventions: :mod:`pipelines.stats.store`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import psycopg
from psycopg.rows import dict_row

from pipelines.core.vocabulary import DEFAULT_EVENT_GROUP, STANDARD_WINDOW_KEYS
from pipelines.stats.archetype_rows import BASES, DEFAULT_BASIS
from pipelines.stats.intervals import DEFAULT_CONFIDENCE
from pipelines.stats.matchups import MatchupMatrix, build_matrix
from pipelines.stats.read_window import (
    NotFound,
    ResolvedWindow,
    WindowArg,
    check_group,
    check_min,
    generation_info,
    resolve_window,
    week_bucket,
)
from pipelines.stats.rows import ARCHETYPE_STAT_FIELDS, MATCHUP_CELL_FIELDS, TOTAL_STAT_FIELDS
from pipelines.stats.samples import SampleRules
from pipelines.stats.window_stats import WindowStats, compute_window_stats

__all__ = ["formats_overview", "matchup_cells", "matchup_matrix", "meta_rows", "trends"]

_META_KEYS: Final = ARCHETYPE_STAT_FIELDS
_TOTAL_KEYS: Final = TOTAL_STAT_FIELDS

# One statement (one snapshot): the window, its totals and its archetype rows.
_META_SQL = f"""
SELECT w.generation, w.start_date, w.end_date, w.latest_date, w.period_name,
       r.finished_at AS as_of,
       {", ".join(f"t.{k} AS t_{k}" for k in TOTAL_STAT_FIELDS)},
       {", ".join(f"s.{k}" for k in ARCHETYPE_STAT_FIELDS)}
  FROM stats_windows w
  JOIN refresh_log r ON r.generation = w.generation
  LEFT JOIN meta_window_totals t
    ON t.generation = w.generation AND t.format = w.format AND t.window_key = w.window_key
   AND t.event_group = %(group)s AND t.basis = %(basis)s
  LEFT JOIN meta_window_stats s
    ON s.generation = w.generation AND s.format = w.format AND s.window_key = w.window_key
   AND s.event_group = %(group)s AND s.basis = %(basis)s
   AND s.decks >= %(min_decks)s AND s.seats >= %(min_seats)s
 WHERE w.generation = coalesce(%(generation)s::bigint,
                            (SELECT max(generation) FROM refresh_log
                              WHERE status = 'succeeded'))
   AND w.format = %(format)s AND w.window_key = %(key)s
 ORDER BY s.decks DESC, s.archetype
"""  # noqa: S608 - column names are the module's constants


_COUNT_TOTALS: Final = frozenset(
    {"decks", "players", "matches", "seats", "archetypes", "covered", "coverage"}
)


def _check_basis(basis: str) -> str:
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}; one of {list(BASES)}")
    return basis


def _empty_totals() -> dict[str, Any]:
    return {key: (0 if key in _COUNT_TOTALS else None) for key in _TOTAL_KEYS}


def meta_rows(
    conn: psycopg.Connection[Any],
    fmt: str,
    window: WindowArg = "last30",
    event_group: str = DEFAULT_EVENT_GROUP,
    *,
    basis: str = DEFAULT_BASIS,
    min_decks: int = 0,
    min_seats: int = 0,
    generation: int | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
    rules: SampleRules | None = None,
) -> dict[str, Any]:
    """The meta table (presence, win rates, intervals, tiers) of one window, event group and
    win-rate basis (``matches`` or ``records``, METHODOLOGY.md §4).

    Returns ``{"format", "event_group", "basis", "window": {key, start, end, latest_date,
    period_name}, "generation", "as_of", "totals": {...TOTAL_STAT_FIELDS}, "archetypes":
    [row, ...]}`` with rows in presence order (decks, then name). Row keys:
    :data:`~pipelines.stats.window_stats.ARCHETYPE_STAT_FIELDS`.

    ``min_decks``/``min_seats`` only hide rows: shares and tiers are over all archetypes
    of the window. ``confidence`` and ``rules`` apply to custom windows (standard windows use
    those of their refresh).
    """
    check_group(event_group)
    _check_basis(basis)
    check_min("min_decks", min_decks)
    check_min("min_seats", min_seats)
    if isinstance(window, str):
        params = {
            "generation": generation,
            "format": fmt,
            "key": window,
            "group": event_group,
            "basis": basis,
            "min_decks": min_decks,
            "min_seats": min_seats,
        }
        if window not in STANDARD_WINDOW_KEYS:
            resolve_window(conn, fmt, window)  # raises the ValueError
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(_META_SQL, params).fetchall()
        if not rows:
            raise NotFound(f"window {window!r} of format {fmt!r} is not available")
        first = rows[0]
        resolved = ResolvedWindow.from_row(fmt, window, first)
        totals = (
            {key: first[f"t_{key}"] for key in _TOTAL_KEYS}
            if first["t_decks"] is not None
            else _empty_totals()
        )
        return {
            "format": fmt,
            "event_group": event_group,
            "basis": basis,
            "window": resolved.as_dict(),
            "generation": first["generation"],
            "as_of": first["as_of"],
            "totals": totals,
            "archetypes": [
                {key: r[key] for key in _META_KEYS} for r in rows if r["archetype"] is not None
            ],
        }

    resolved = resolve_window(conn, fmt, window)
    stats = _custom_stats(
        conn, resolved, event_group, confidence, rules, matchups=False, basis=basis
    )
    return _custom_meta(conn, resolved, event_group, basis, stats, min_decks, min_seats)


def _custom_stats(
    conn: psycopg.Connection[Any],
    resolved: ResolvedWindow,
    event_group: str,
    confidence: float,
    rules: SampleRules | None,
    *,
    matchups: bool,
    basis: str = DEFAULT_BASIS,
) -> WindowStats:
    """Statistics of a custom window in one basis."""
    return compute_window_stats(
        conn, [resolved], [event_group], confidence, matchups=matchups,
        rules=rules, bases=(basis,),
    )  # fmt: skip


def _custom_meta(
    conn: psycopg.Connection[Any],
    resolved: ResolvedWindow,
    event_group: str,
    basis: str,
    stats: WindowStats,
    min_decks: int = 0,
    min_seats: int = 0,
) -> dict[str, Any]:
    """:func:`meta_rows`' answer for a custom window from its statistics."""
    mine = [t for t in stats.totals if t["basis"] == basis]
    totals = {k: mine[0][k] for k in _TOTAL_KEYS} if mine else _empty_totals()
    return {
        "format": resolved.format,
        "event_group": event_group,
        "basis": basis,
        "window": resolved.as_dict(),
        **generation_info(conn),
        "totals": totals,
        "archetypes": [
            {key: r[key] for key in _META_KEYS}
            for r in stats.archetypes
            if r["basis"] == basis and r["decks"] >= min_decks and r["seats"] >= min_seats
        ],
    }


_CELL_KEYS: Final = MATCHUP_CELL_FIELDS

_MATCHUP_SQL = """
SELECT w.generation, w.start_date, w.end_date, w.latest_date, w.period_name,
       r.finished_at AS as_of,
       c.archetype, c.opponent, c.wins, c.losses, c.draws, c.mirrors, c.win_rate, c.cp_lower,
       c.cp_upper
  FROM stats_windows w
  JOIN refresh_log r ON r.generation = w.generation
  LEFT JOIN matchup_window_stats c
    ON c.generation = w.generation AND c.format = w.format AND c.window_key = w.window_key
   AND c.event_group = %(group)s
   AND c.wins + c.losses + c.draws + c.mirrors >= %(min_matches)s
 WHERE w.generation = coalesce(%(generation)s::bigint,
                            (SELECT max(generation) FROM refresh_log
                              WHERE status = 'succeeded'))
   AND w.format = %(format)s AND w.window_key = %(key)s
 ORDER BY c.archetype, c.opponent
"""


def matchup_cells(
    conn: psycopg.Connection[Any],
    fmt: str,
    window: WindowArg = "last30",
    event_group: str = DEFAULT_EVENT_GROUP,
    *,
    min_matches: int = 0,
    generation: int | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, Any]:
    """Matchup cells of one window and event group.

    Returns ``{"format", "event_group", "window", "generation", "as_of", "cells": [...]}``;
    each cell: ``archetype`` (row, whose view the counts take), ``opponent``, ``wins,
    losses, draws, win_rate`` (``wins / (wins + losses)``, ``None`` when undecided),
    ``cp_lower, cp_upper`` (Clopper–Pearson), ``mirrors``. Only cells with at least one
    match and at least ``min_matches`` matches (wins + losses + draws + mirrors); ``[A, A]``
    holds A's mirror matches, each once, in ``mirrors`` (its wins/losses/draws are 0).
    """
    check_group(event_group)
    check_min("min_matches", min_matches)
    if isinstance(window, str):
        if window not in STANDARD_WINDOW_KEYS:
            resolve_window(conn, fmt, window)
        params = {
            "generation": generation,
            "format": fmt,
            "key": window,
            "group": event_group,
            "min_matches": min_matches,
        }
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(_MATCHUP_SQL, params).fetchall()
        if not rows:
            raise NotFound(f"window {window!r} of format {fmt!r} is not available")
        first = rows[0]
        resolved = ResolvedWindow.from_row(fmt, window, first)
        return {
            "format": fmt,
            "event_group": event_group,
            "window": resolved.as_dict(),
            "generation": first["generation"],
            "as_of": first["as_of"],
            "cells": [
                {key: r[key] for key in _CELL_KEYS} for r in rows if r["archetype"] is not None
            ],
        }
    resolved = resolve_window(conn, fmt, window)
    stats = _custom_stats(conn, resolved, event_group, confidence, None, matchups=True)
    return _custom_cells(conn, resolved, event_group, stats, min_matches)


def _custom_cells(
    conn: psycopg.Connection[Any],
    resolved: ResolvedWindow,
    event_group: str,
    stats: WindowStats,
    min_matches: int = 0,
) -> dict[str, Any]:
    """:func:`matchup_cells`' answer for a custom window from its statistics."""
    return {
        "format": resolved.format,
        "event_group": event_group,
        "window": resolved.as_dict(),
        **generation_info(conn),
        "cells": [
            {key: c[key] for key in _CELL_KEYS}
            for c in stats.matchups
            if c["wins"] + c["losses"] + c["draws"] + c["mirrors"] >= min_matches
        ],
    }


@dataclass(frozen=True, slots=True)
class _Cell:
    wins: int
    losses: int
    draws: int
    mirrors: int


def matchup_matrix(
    conn: psycopg.Connection[Any],
    fmt: str,
    window: WindowArg = "last30",
    event_group: str = DEFAULT_EVENT_GROUP,
    *,
    presence: str = "decks",
    min_share: float = 0.0,
    max_archetypes: int | None = None,
    generation: int | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> MatchupMatrix:
    """The matchup matrix with an ``Other`` bucket (:func:`pipelines.stats.matchups.build_matrix`)
    from the window's cells, archetypes ordered by ``presence`` (``decks``, ``players`` or
    ``seats``). Cells merged into ``Other`` get their interval recomputed at
    ``confidence``."""
    if presence not in {"decks", "players", "seats"}:
        raise ValueError(f"presence must be decks, players or seats, got {presence!r}")
    if isinstance(window, str):
        meta = meta_rows(
            conn, fmt, window, event_group, generation=generation, confidence=confidence
        )
        cells = matchup_cells(
            conn, fmt, window, event_group, generation=meta["generation"], confidence=confidence
        )["cells"]
    else:  # one computation for both: a custom window's statistics are not stored
        check_group(event_group)
        resolved = resolve_window(conn, fmt, window)
        stats = _custom_stats(conn, resolved, event_group, confidence, None, matchups=True)
        meta = _custom_meta(conn, resolved, event_group, DEFAULT_BASIS, stats)
        cells = _custom_cells(conn, resolved, event_group, stats)["cells"]
    return build_matrix(
        {
            (c["archetype"], c["opponent"]): _Cell(c["wins"], c["losses"], c["draws"], c["mirrors"])
            for c in cells
        },
        {r["archetype"]: float(r[presence]) for r in meta["archetypes"]},
        min_share=min_share,
        max_archetypes=max_archetypes,
        confidence=confidence,
    )


# --------------------------------------------------------------------------- formats


# Decks per format and event kind over all of history (mv_format_total, kept by the triggers
# of migration 0020: summing mv_archetype_daily read the whole table), the first and last
# days from the ends of the daily index.
_FORMATS_SQL = """
SELECT f.format, d.first_date, d.last_date, f.decks, f.decks_default
  FROM (SELECT t.format, sum(t.decks)::int AS decks,
               (sum(t.decks) FILTER (WHERE g.event_kind IS NOT NULL))::int AS decks_default
          FROM mv_format_total t
          LEFT JOIN stats_event_groups g ON g.event_kind = t.event_kind AND g.event_group = %s
         GROUP BY t.format) f
 CROSS JOIN LATERAL (
       SELECT min(a.event_date) AS first_date, max(a.event_date) AS last_date
         FROM mv_archetype_daily a WHERE a.format = f.format) d
 ORDER BY f.format
"""


def formats_overview(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Every format with data: ``{"generation", "as_of", "formats": [{format, first_date,
    last_date, decks, decks_default (decks of the default event group), windows: [{key,
    start, end, period_name}]}]}`` — windows of the latest generation."""
    with conn.cursor(row_factory=dict_row) as cur:
        formats = cur.execute(_FORMATS_SQL, (DEFAULT_EVENT_GROUP,)).fetchall()
        windows = cur.execute(
            "SELECT w.generation, r.finished_at, w.format, w.window_key, w.start_date,"
            "       w.end_date, w.period_name"
            "  FROM stats_windows w JOIN refresh_log r ON r.generation = w.generation"
            " WHERE w.generation = (SELECT max(generation) FROM refresh_log"
            "                        WHERE status = 'succeeded')"
        ).fetchall()
    order = {key: i for i, key in enumerate(STANDARD_WINDOW_KEYS)}
    by_format: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for w in sorted(windows, key=lambda w: (w["format"], order.get(w["window_key"], 99))):
        by_format[w["format"]].append(
            {
                "key": w["window_key"],
                "start": w["start_date"],
                "end": w["end_date"],
                "period_name": w["period_name"],
            }
        )
    for f in formats:
        f["decks_default"] = f["decks_default"] or 0
        f["windows"] = by_format.get(f["format"], [])
    return {
        "generation": windows[0]["generation"] if windows else None,
        "as_of": windows[0]["finished_at"] if windows else None,
        "formats": formats,
    }


# --------------------------------------------------------------------------- trends

_TRENDS_SQL = """
SELECT a.event_date - (a.event_date - DATE '0001-01-01') %% 7 AS week_start, a.archetype,
       sum(a.decks)::int AS decks, sum(a.wins)::int AS wins, sum(a.losses)::int AS losses,
       sum(a.draws)::int AS draws, sum(a.seats)::int AS seats
  FROM mv_archetype_daily a
  JOIN stats_event_groups g ON g.event_kind = a.event_kind AND g.event_group = %(group)s
 WHERE a.format = %(format)s AND a.event_date BETWEEN %(start)s AND %(end)s
 GROUP BY 1, 2
"""


def trends(
    conn: psycopg.Connection[Any],
    fmt: str,
    window: WindowArg = "last90",
    event_group: str = DEFAULT_EVENT_GROUP,
    *,
    top_n: int = 12,
    generation: int | None = None,
) -> dict[str, Any]:
    """Weekly share (of decks) and win rate of the ``top_n`` archetypes by decks over the
    window (ties by name).

    Returns ``{"format", "event_group", "window", "weeks": [{week_start, label, start, end,
    decks}], "series": [{archetype, decks, points: [{week_start, decks, share_decks, wins,
    losses, draws, seats, win_rate}]}]}``; every series has one point per week (zeros in
    weeks without the archetype). Weeks are Monday–Sunday, clipped to the window.
    """
    check_group(event_group)
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
        raise ValueError(f"top_n must be a positive integer, got {top_n!r}")
    resolved = resolve_window(conn, fmt, window, generation)
    params = {
        "format": fmt,
        "group": event_group,
        "start": resolved.start,
        "end": resolved.end,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_TRENDS_SQL, params).fetchall()
    week_totals: dict[date, int] = defaultdict(int)
    arch_totals: dict[str, int] = defaultdict(int)
    cells: dict[tuple[str, date], dict[str, Any]] = {}
    for r in rows:
        week_totals[r["week_start"]] += r["decks"]
        arch_totals[r["archetype"]] += r["decks"]
        cells[(r["archetype"], r["week_start"])] = r
    mondays = sorted(week_totals)
    top = sorted(arch_totals, key=lambda a: (-arch_totals[a], a))[:top_n]
    series = []
    for arch in top:
        points = []
        for monday in mondays:
            cell = cells.get((arch, monday))
            wins = cell["wins"] if cell else 0
            losses = cell["losses"] if cell else 0
            decks = cell["decks"] if cell else 0
            points.append(
                {
                    "week_start": monday,
                    "decks": decks,
                    "share_decks": decks / week_totals[monday] if week_totals[monday] else 0.0,
                    "wins": wins,
                    "losses": losses,
                    "draws": cell["draws"] if cell else 0,
                    "seats": cell["seats"] if cell else 0,
                    "win_rate": wins / (wins + losses) if wins + losses else None,
                }
            )
        series.append({"archetype": arch, "decks": arch_totals[arch], "points": points})
    return {
        "format": fmt,
        "event_group": event_group,
        "basis": DEFAULT_BASIS,  # weekly win rates come from recorded rounds
        "window": resolved.as_dict(),
        "weeks": [
            {**week_bucket(monday, resolved), "decks": week_totals[monday]} for monday in mondays
        ],
        "series": series,
    }
