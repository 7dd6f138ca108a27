"""Read helpers for the HTTP layer: every statistic the API serves, from the precomputed views.

Nothing here computes statistics over raw decks or matches. Standard windows (``current``,
``last7``/``last14``/``last30``/``last90``) read the rows the refresh wrote for the latest
succeeded generation (or the ``generation`` given, e.g. the one behind an ``ETag``); custom
``from``/``to`` windows aggregate the daily/weekly materialized views (a few hundred rows)
with :func:`pipelines.stats.window_stats.compute_window_stats`, the same code the refresh uses, so
both give identical numbers for identical dates.

Conventions:

* every function takes an open psycopg connection (e.g. from the API's pool) and only runs
  parameterised SQL; functions issuing several statements should run inside one
  ``REPEATABLE READ`` read-only transaction when the caller needs them to agree exactly
  across a concurrent refresh (each single statement is always consistent);
* ``window`` is a standard key (``"current"``, ``"last30"``…) or a custom
  :class:`~pipelines.stats.windows.DateWindow` / ``(start, end)`` pair, both ends inclusive;
* rates, shares and bounds are fractions in [0, 1]; dates are :class:`datetime.date`;
* :class:`NotFound` (a :class:`LookupError`) means an unknown format, window, archetype or
  card (HTTP 404); :class:`ValueError` an invalid argument (HTTP 400).

Row keys are documented on each function; results are plain dicts and lists, JSON-ready once
dates are serialised.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

import numpy as np
import psycopg
from psycopg.rows import dict_row

from pipelines.core.vocabulary import DEFAULT_EVENT_GROUP, EVENT_GROUPS, STANDARD_WINDOW_KEYS
from pipelines.stats.archetype_rows import BASES, DEFAULT_BASIS
from pipelines.stats.decklists import most_common_value
from pipelines.stats.intervals import DEFAULT_CONFIDENCE, clopper_pearson
from pipelines.stats.matchups import MatchupMatrix, build_matrix
from pipelines.stats.name_sync import resolve_archetype
from pipelines.stats.refresh import latest_generation
from pipelines.stats.rows import ARCHETYPE_STAT_FIELDS, MATCHUP_CELL_FIELDS, TOTAL_STAT_FIELDS
from pipelines.stats.samples import SampleRules
from pipelines.stats.window_stats import WindowSpec, WindowStats, compute_window_stats
from pipelines.stats.windows import DateWindow, custom_window, iso_week_label, week_start

__all__ = [
    "CUSTOM_WINDOW",
    "NotFound",
    "ResolvedWindow",
    "WindowArg",
    "archetype_detail",
    "card_lookup",
    "formats_overview",
    "latest_generation",
    "matchup_cells",
    "matchup_matrix",
    "meta_rows",
    "resolve_window",
    "trends",
]

CUSTOM_WINDOW: Final = "custom"
#: A standard window key, or a custom inclusive date range.
WindowArg = str | DateWindow | tuple[date | str, date | str]

# Every standard-window read names its generation in the same statement as its rows: the
# given one, else the latest succeeded refresh. A refresh commits its rows and its
# 'succeeded' status together, so a statement never sees a half-written generation.


class NotFound(LookupError):
    """The requested format, window, archetype or card does not exist (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class ResolvedWindow:
    """A window with its dates: ``key`` is a standard key or ``"custom"``; ``generation`` the
    refresh generation the standard window belongs to (``None`` for custom windows)."""

    format: str
    key: str
    start: date
    end: date
    latest: date
    period_name: str | None = None
    generation: int | None = None

    @classmethod
    def from_row(cls, fmt: str, key: str, row: Mapping[str, Any]) -> ResolvedWindow:
        """The window described by a ``stats_windows`` row joined into a query's result."""
        return cls(
            fmt,
            key,
            row["start_date"],
            row["end_date"],
            row["latest_date"],
            row["period_name"],
            row["generation"],
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready description (``start``/``end`` inclusive)."""
        return {
            "key": self.key,
            "start": self.start,
            "end": self.end,
            "latest_date": self.latest,
            "period_name": self.period_name,
        }


# --------------------------------------------------------------------------- helpers


def check_group(event_group: str) -> str:
    """``event_group`` if it is known; ValueError otherwise."""
    if event_group not in EVENT_GROUPS:
        raise ValueError(f"unknown event group {event_group!r}; one of {sorted(EVENT_GROUPS)}")
    return event_group


def _check_min(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def _latest_date(conn: psycopg.Connection[Any], fmt: str) -> date:
    row = conn.execute(
        "SELECT max(event_date) FROM mv_archetype_daily WHERE format = %s", (fmt,)
    ).fetchone()
    if row is None or row[0] is None:
        raise NotFound(f"no data for format {fmt!r}")
    latest: date = row[0]
    return latest


def resolve_window(
    conn: psycopg.Connection[Any],
    fmt: str,
    window: WindowArg,
    generation: int | None = None,
) -> ResolvedWindow:
    """Dates of ``window`` for ``fmt``.

    A standard key is looked up in ``stats_windows`` of the latest succeeded generation (or
    ``generation``); a custom range is validated (``start <= end``) and kept as given.

    Raises:
        NotFound: unknown format, or a standard window the refresh did not produce (e.g.
            ``current`` for a format without meta periods, or no refresh yet).
        ValueError: an unknown window key or an invalid custom range.
    """
    if isinstance(window, str):
        if window not in STANDARD_WINDOW_KEYS:
            raise ValueError(
                f"unknown window {window!r}; one of {list(STANDARD_WINDOW_KEYS)} or a date range"
            )
        row = conn.execute(
            "SELECT generation, start_date, end_date, latest_date, period_name"
            "  FROM stats_windows"
            " WHERE generation = coalesce(%(generation)s::bigint,"
            "       (SELECT max(generation) FROM refresh_log WHERE status = 'succeeded'))"
            "   AND format = %(format)s AND window_key = %(key)s",
            {"generation": generation, "format": fmt, "key": window},
        ).fetchone()
        if row is None:
            raise NotFound(f"window {window!r} of format {fmt!r} is not available")
        gen, start, end, latest, period = row
        return ResolvedWindow(fmt, window, start, end, latest, period, gen)
    if isinstance(window, DateWindow):
        span = window
    elif isinstance(window, tuple) and len(window) == 2:
        span = custom_window(window[0], window[1])
    else:
        raise ValueError(f"window must be a key or a (start, end) range, got {window!r}")
    return ResolvedWindow(fmt, CUSTOM_WINDOW, span.start, span.end, _latest_date(conn, fmt))


def _spec(window: ResolvedWindow) -> WindowSpec:
    return WindowSpec(
        window.format, window.key, window.start, window.end, window.latest, window.period_name
    )


def window_weeks(window: ResolvedWindow) -> tuple[date, date]:
    """Mondays of the first and last week touching the window (card usage is weekly)."""
    return week_start(window.start), week_start(window.end)


def _generation_info(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    gen = latest_generation(conn)
    return {
        "generation": gen.generation if gen else None,
        "as_of": gen.finished_at if gen else None,
    }


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
    _check_min("min_decks", min_decks)
    _check_min("min_seats", min_seats)
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
    stats = _custom_stats(conn, resolved, event_group, confidence, rules, matchups=False)
    return _custom_meta(conn, resolved, event_group, basis, stats, min_decks, min_seats)


def _custom_stats(
    conn: psycopg.Connection[Any],
    resolved: ResolvedWindow,
    event_group: str,
    confidence: float,
    rules: SampleRules | None,
    *,
    matchups: bool,
) -> WindowStats:
    """Statistics of a custom window (both bases: the totals' counted matches come from the
    matches basis)."""
    return compute_window_stats(
        conn, [_spec(resolved)], [event_group], confidence, matchups=matchups, rules=rules
    )


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
        **_generation_info(conn),
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
    _check_min("min_matches", min_matches)
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
        **_generation_info(conn),
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


def formats_overview(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Every format with data: ``{"generation", "as_of", "formats": [{format, first_date,
    last_date, decks, decks_default (decks of the default event group), windows: [{key,
    start, end, period_name}]}]}`` — windows of the latest generation."""
    with conn.cursor(row_factory=dict_row) as cur:
        formats = cur.execute(
            "SELECT a.format, min(a.event_date) AS first_date, max(a.event_date) AS last_date,"
            "       sum(a.decks)::int AS decks,"
            "       (sum(a.decks) FILTER (WHERE g.event_kind IS NOT NULL))::int"
            "           AS decks_default"
            "  FROM mv_archetype_daily a"
            "  LEFT JOIN stats_event_groups g"
            "    ON g.event_kind = a.event_kind AND g.event_group = %s"
            " GROUP BY a.format ORDER BY a.format",
            (DEFAULT_EVENT_GROUP,),
        ).fetchall()
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


# --------------------------------------------------------------------------- archetype detail


@dataclass(frozen=True, slots=True)
class _Usage:
    card: str
    decks: int
    share: float
    total_copies: int
    average_copies: float
    most_common_count: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "card": self.card,
            "decks": self.decks,
            "share": self.share,
            "total_copies": self.total_copies,
            "average_copies": self.average_copies,
            "most_common_count": self.most_common_count,
        }


def _usages(dist: Mapping[str, Mapping[int, int]], n_decks: int) -> list[_Usage]:
    """Card usage from per-card ``{copies: decks}`` distributions (as ``card_usage`` sorts)."""
    usages = []
    for card, by_copies in dist.items():
        running = sum(by_copies.values())
        total = sum(c * d for c, d in by_copies.items())
        common = min(by_copies, key=lambda c: (-by_copies[c], c))
        usages.append(
            _Usage(
                card=card,
                decks=running,
                share=running / n_decks if n_decks else 0.0,
                total_copies=total,
                average_copies=total / running,
                most_common_count=common,
            )
        )
    usages.sort(key=lambda u: (-u.decks, -u.total_copies, u.card))
    return usages


def _fill(usages: Sequence[_Usage], size: int) -> list[tuple[str, int]]:
    """The stock-list rule of :func:`pipelines.stats.decklists.stock_decklist`: by decreasing
    share (ties: higher average copies, then name), each card at its most common count,
    until ``size`` copies; the last card is trimmed to fit."""
    chosen: list[tuple[str, int]] = []
    remaining = size
    for usage in sorted(usages, key=lambda u: (-u.share, -u.average_copies, u.card)):
        if remaining <= 0:
            break
        copies = min(usage.most_common_count, remaining)
        chosen.append((usage.card, copies))
        remaining -= copies
    return chosen


# The archetype's weekly card-usage arrays (one row per week, event kind and board); summed
# per (card, copies) in NumPy: unnesting ~50k array elements per whole-history window in SQL
# costs several times more.
_CARD_ARRAYS_SQL = """
SELECT board, card_ids, copies, decks
  FROM mv_card_usage_weekly
 WHERE format = %(format)s AND archetype = %(archetype)s
   AND week_start BETWEEN %(first_week)s AND %(last_week)s
   AND event_kind = ANY(%(kinds)s::text[])
"""


def _card_distribution(
    conn: psycopg.Connection[Any], params: Mapping[str, Any]
) -> dict[str, dict[str, dict[int, int]]]:
    """``{board: {card name: {copies: decks}}}`` of an archetype over whole weeks."""
    with conn.cursor(binary=True) as cur:
        rows = cur.execute(_CARD_ARRAYS_SQL, params).fetchall()
    summed: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for board in ("main", "side"):
        mine = [r for r in rows if r[0] == board and r[1]]
        if not mine:
            continue
        ids = np.concatenate([np.asarray(r[1], dtype=np.int64) for r in mine])
        copies = np.concatenate([np.asarray(r[2], dtype=np.int64) for r in mine])
        decks = np.concatenate([np.asarray(r[3], dtype=np.int64) for r in mine])
        keys, inverse = np.unique(ids << 16 | copies, return_inverse=True)  # copies < 2**16
        summed[board] = (keys, np.bincount(inverse.reshape(-1), weights=decks))
    card_ids = sorted({int(k >> 16) for keys, _ in summed.values() for k in keys})
    names = dict(
        conn.execute("SELECT id, canonical_name FROM cards WHERE id = ANY(%s)", (card_ids,))
    )
    dist: dict[str, dict[str, dict[int, int]]] = {"main": {}, "side": {}}
    for board, (keys, sums) in summed.items():
        for key, count in zip(keys.tolist(), sums.tolist(), strict=True):
            dist[board].setdefault(names[key >> 16], {})[key & 0xFFFF] = int(count)
    return dist


_DECK_SIZE_SQL = """
SELECT s.main_total, s.side_total, sum(s.decks)::int AS decks
  FROM mv_deck_size_weekly s
  JOIN stats_event_groups g ON g.event_kind = s.event_kind AND g.event_group = %(group)s
 WHERE s.format = %(format)s AND s.archetype = %(archetype)s
   AND s.week_start BETWEEN %(first_week)s AND %(last_week)s
 GROUP BY s.main_total, s.side_total
"""

# Weeks as date arithmetic (0001-01-01 is a Monday): no timestamp conversion per row; the
# players of each week are distinct (week, player) pairs, hashed.
_WEEKLY_SQL = """
WITH week AS (
    SELECT a.event_date - (a.event_date - DATE '0001-01-01') %% 7 AS week_start,
           sum(a.decks)::int AS total_decks,
           (sum(a.decks) FILTER (WHERE a.archetype = %(archetype)s))::int AS decks,
           (sum(a.wins) FILTER (WHERE a.archetype = %(archetype)s))::int AS wins,
           (sum(a.losses) FILTER (WHERE a.archetype = %(archetype)s))::int AS losses,
           (sum(a.draws) FILTER (WHERE a.archetype = %(archetype)s))::int AS draws,
           (sum(a.mirrors) FILTER (WHERE a.archetype = %(archetype)s))::int AS mirrors,
           (sum(a.seats) FILTER (WHERE a.archetype = %(archetype)s))::int AS seats
      FROM mv_archetype_daily a
     WHERE a.format = %(format)s AND a.event_date BETWEEN %(start)s AND %(end)s
       AND a.event_kind = ANY(%(kinds)s::text[])
     GROUP BY 1
), players AS (
    SELECT week_start, count(*)::int AS players
      FROM (SELECT DISTINCT p.event_date - (p.event_date - DATE '0001-01-01') %% 7 AS week_start,
                   p.player_key
              FROM mv_player_archetype_daily p
             WHERE p.format = %(format)s AND p.archetype = %(archetype)s
               AND p.event_date BETWEEN %(start)s AND %(end)s
               AND p.event_kind = ANY(%(kinds)s::text[])) x
     GROUP BY 1
)
SELECT w.*, coalesce(p.players, 0) AS players
  FROM week w LEFT JOIN players p USING (week_start)
 ORDER BY w.week_start
"""

_COLOR_SQL = """
SELECT c.color, sum(c.decks)::int AS decks, sum(c.wins)::int AS wins,
       sum(c.losses)::int AS losses, sum(c.draws)::int AS draws
  FROM mv_archetype_color_daily c
  JOIN stats_event_groups g ON g.event_kind = c.event_kind AND g.event_group = %(group)s
 WHERE c.format = %(format)s AND c.archetype = %(archetype)s
   AND c.event_date BETWEEN %(start)s AND %(end)s
 GROUP BY c.color
"""

# The top records first, on the deck facts alone (one index range scan of the archetype's
# decks and a top-N sort), then the names of those few decks: joining before the LIMIT would
# look up every deck of the archetype.
_BEST_DECKS_SQL = """
WITH best AS (
    SELECT f.deck_id, f.tournament_id, f.event_date, f.event_kind, f.rank, f.color,
           f.record_wins, f.record_losses, f.record_draws, f.record_source
      FROM mv_deck_facts f
     WHERE f.format = %(format)s AND f.archetype = %(archetype)s
       AND f.event_date BETWEEN %(start)s AND %(end)s AND f.event_kind = ANY(%(kinds)s::text[])
     ORDER BY f.record_wins - f.record_losses DESC, f.record_wins DESC, f.event_date DESC,
              f.rank NULLS LAST, f.deck_id
     LIMIT %(limit)s
)
SELECT b.deck_id, d.player, t.name AS event, b.event_date, b.event_kind, t.uri,
       d.anchor_uri, b.rank, b.color, b.record_wins AS wins, b.record_losses AS losses,
       b.record_draws AS draws, b.record_source
  FROM best b
  JOIN decks d ON d.id = b.deck_id
  JOIN tournaments t ON t.id = b.tournament_id
 ORDER BY b.record_wins - b.record_losses DESC, b.record_wins DESC, b.event_date DESC,
          b.rank NULLS LAST, b.deck_id
"""


def _week_bucket(monday: date, window: ResolvedWindow) -> dict[str, Any]:
    return {
        "week_start": monday,
        "label": iso_week_label(monday),
        "start": max(monday, window.start),
        "end": min(monday + timedelta(days=6), window.end),
    }


def archetype_detail(
    conn: psycopg.Connection[Any],
    fmt: str,
    archetype: str,
    window: WindowArg = "last30",
    event_group: str = DEFAULT_EVENT_GROUP,
    *,
    best_decks: int = 10,
    basis: str = DEFAULT_BASIS,
    generation: int | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
    rules: SampleRules | None = None,
) -> dict[str, Any]:
    """Everything about one archetype over one window and event group.

    ``archetype`` is a slug, a display name or any spelling that normalises to one
    (:func:`pipelines.stats.name_sync.resolve_archetype`).

    Returns a dict with:

    * ``summary``: the archetype's meta row in ``basis`` (see :func:`meta_rows`);
    * ``weekly``: per Monday–Sunday week clipped to the window (``week_start, label, start,
      end``): ``decks, share_decks`` (of the group's decks that week), ``players, wins,
      losses, draws, mirrors, seats, win_rate`` (matches basis);
    * ``colors``: per colour code: ``decks, share`` (of the archetype's decks), ``wins,
      losses, draws, win_rate, cp_lower, cp_upper``, best lower bound first;
    * ``cards``: ``{"main": [...], "side": [...]}`` usage per card (``card, decks, share,
      total_copies, average_copies, most_common_count``) over the **whole weeks** touching
      the window (``card_weeks``: first Monday and last Sunday; ``card_decks``: the
      archetype's decks in those weeks, the share denominator);
    * ``stock_decklist``: ``{main, side, main_size, side_size, deck_count}`` (lists of
      ``[card, copies]``) built from that usage with the stock-list rule;
    * ``best_decks``: up to ``best_decks`` decks by record (wins − losses, then wins, then
      most recent), each with ``deck_id, player, event, event_date, event_kind, uri,
      anchor_uri, rank, color, wins, losses, draws, record_source``.

    Raises:
        NotFound: no deck of ``archetype`` in the window and group.
    """
    check_group(event_group)
    _check_min("best_decks", best_decks)
    meta = meta_rows(
        conn, fmt, window, event_group, basis=basis, generation=generation,
        confidence=confidence, rules=rules,
    )  # fmt: skip
    archetype = resolve_archetype(conn, fmt, archetype) or archetype
    summary = next((r for r in meta["archetypes"] if r["archetype"] == archetype), None)
    if summary is None:
        raise NotFound(f"no {archetype!r} deck in {fmt} for this window and event group")
    w = meta["window"]
    resolved = ResolvedWindow(
        fmt, w["key"], w["start"], w["end"], w["latest_date"], w["period_name"]
    )
    first_week, last_week = window_weeks(resolved)
    params = {
        "format": fmt,
        "archetype": archetype,
        "group": event_group,
        "start": resolved.start,
        "end": resolved.end,
        "first_week": first_week,
        "last_week": last_week,
        "limit": best_decks,
        "kinds": sorted(EVENT_GROUPS[event_group]),
    }
    with conn.cursor(row_factory=dict_row) as cur:
        weekly_rows = cur.execute(_WEEKLY_SQL, params).fetchall()
        color_rows = cur.execute(_COLOR_SQL, params).fetchall()
        size_rows = cur.execute(_DECK_SIZE_SQL, params).fetchall()
        best = cur.execute(_BEST_DECKS_SQL, params).fetchall()

    weekly = []
    for r in weekly_rows:
        decks = r["decks"] or 0
        decided = (r["wins"] or 0) + (r["losses"] or 0)
        weekly.append(
            {
                **_week_bucket(r["week_start"], resolved),
                "decks": decks,
                "share_decks": decks / r["total_decks"] if r["total_decks"] else 0.0,
                "players": r["players"],
                "wins": r["wins"] or 0,
                "losses": r["losses"] or 0,
                "draws": r["draws"] or 0,
                "mirrors": r["mirrors"] or 0,
                "seats": r["seats"] or 0,
                "win_rate": (r["wins"] or 0) / decided if decided else None,
            }
        )

    n_colour = sum(r["decks"] for r in color_rows)
    colors = []
    for r in color_rows:
        ci = clopper_pearson(r["wins"], r["wins"] + r["losses"], confidence)
        colors.append(
            {
                "color": r["color"],
                "decks": r["decks"],
                "share": r["decks"] / n_colour if n_colour else 0.0,
                "wins": r["wins"],
                "losses": r["losses"],
                "draws": r["draws"],
                "win_rate": ci.estimate,
                "cp_lower": ci.lower,
                "cp_upper": ci.upper,
            }
        )
    colors.sort(
        key=lambda c: (
            c["cp_lower"] is None,
            -(c["cp_lower"] or 0.0),
            -c["decks"],
            c["color"],
        )
    )

    card_decks = sum(r["decks"] for r in size_rows)
    dist = _card_distribution(conn, params)
    main = _usages(dist["main"], card_decks)
    side = _usages(dist["side"], card_decks)
    main_size = most_common_value(t for r in size_rows for t in [r["main_total"]] * r["decks"]) or 0
    side_size = most_common_value(t for r in size_rows for t in [r["side_total"]] * r["decks"]) or 0

    return {
        "format": fmt,
        "archetype": archetype,
        "slug": summary["slug"],
        "name_raw": summary["name_raw"],
        "event_group": event_group,
        "basis": basis,
        "window": meta["window"],
        "generation": meta["generation"],
        "as_of": meta["as_of"],
        "summary": summary,
        "weekly": weekly,
        "colors": colors,
        "card_weeks": {"start": first_week, "end": last_week + timedelta(days=6)},
        "card_decks": card_decks,
        "cards": {"main": [u.as_dict() for u in main], "side": [u.as_dict() for u in side]},
        "stock_decklist": {
            "main": [list(item) for item in _fill(main, main_size)],
            "side": [list(item) for item in _fill(side, side_size)],
            "main_size": main_size,
            "side_size": side_size,
            "deck_count": card_decks,
        },
        "best_decks": best,
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
            {**_week_bucket(monday, resolved), "decks": week_totals[monday]} for monday in mondays
        ],
        "series": series,
    }


# --------------------------------------------------------------------------- cards

_CARD_LOOKUP_SQL = """
WITH card AS (
    SELECT min(id) AS id, canonical_name FROM cards
     WHERE canonical_name = coalesce(
               (SELECT canonical_name FROM cards WHERE canonical_name = %(card)s LIMIT 1),
               (SELECT canonical_name FROM cards WHERE name = %(card)s LIMIT 1))
     GROUP BY canonical_name
), used AS (
    SELECT u.archetype, u.board, x.copies, sum(x.decks)::int AS decks
      FROM card
      JOIN mv_card_usage_weekly u ON u.card_ids @> ARRAY[card.id::int]
      JOIN stats_event_groups g ON g.event_kind = u.event_kind AND g.event_group = %(group)s
      CROSS JOIN LATERAL unnest(u.card_ids, u.copies, u.decks) AS x(card_id, copies, decks)
     WHERE u.format = %(format)s AND u.week_start BETWEEN %(first_week)s AND %(last_week)s
       AND x.card_id = card.id
     GROUP BY u.archetype, u.board, x.copies
), total AS (
    SELECT s.archetype, sum(s.decks)::int AS decks
      FROM mv_deck_size_weekly s
      JOIN stats_event_groups g ON g.event_kind = s.event_kind AND g.event_group = %(group)s
     WHERE s.format = %(format)s AND s.week_start BETWEEN %(first_week)s AND %(last_week)s
     GROUP BY s.archetype
)
SELECT (SELECT canonical_name FROM card) AS card, u.archetype, u.board, u.copies, u.decks,
       t.decks AS archetype_decks
  FROM (SELECT 1) one
  LEFT JOIN used u ON true
  LEFT JOIN total t ON t.archetype = u.archetype
"""


def card_lookup(
    conn: psycopg.Connection[Any],
    fmt: str,
    card: str,
    window: WindowArg = "last30",
    event_group: str = DEFAULT_EVENT_GROUP,
    *,
    generation: int | None = None,
) -> dict[str, Any]:
    """Which archetypes run ``card`` (canonical or printed name, exact) and how much.

    Returns ``{"format", "card" (canonical name), "event_group", "window", "card_weeks",
    "archetypes": [{archetype, board, decks, archetype_decks, share, total_copies,
    average_copies, most_common_count}]}`` over the whole weeks touching the window, most
    decks first; ``board`` is ``main`` or ``side`` (a deck running the card in both boards
    appears in both rows).

    Raises:
        NotFound: the card name is unknown.
    """
    check_group(event_group)
    resolved = resolve_window(conn, fmt, window, generation)
    first_week, last_week = window_weeks(resolved)
    params = {
        "format": fmt,
        "card": card,
        "group": event_group,
        "first_week": first_week,
        "last_week": last_week,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_CARD_LOOKUP_SQL, params).fetchall()
    canonical = rows[0]["card"] if rows else None
    if canonical is None:
        raise NotFound(f"unknown card {card!r}")
    dist: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    totals: dict[str, int] = {}
    for r in rows:
        if r["archetype"] is None:
            continue
        dist[(r["archetype"], r["board"])][r["copies"]] = r["decks"]
        totals[r["archetype"]] = r["archetype_decks"] or 0
    out = []
    for (arch, board), by_copies in dist.items():
        usage = _usages({canonical: by_copies}, totals[arch])[0]
        out.append(
            {"archetype": arch, "board": board, "archetype_decks": totals[arch], **usage.as_dict()}
        )
    for row in out:
        del row["card"]
    out.sort(key=lambda r: (-r["decks"], r["board"], r["archetype"]))
    return {
        "format": fmt,
        "card": canonical,
        "event_group": event_group,
        "window": resolved.as_dict(),
        "card_weeks": {"start": first_week, "end": last_week + timedelta(days=6)},
        "archetypes": out,
    }
