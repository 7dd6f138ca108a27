"""Statistics of any set of windows: the one implementation behind standard and custom windows.

The refresh (:mod:`pipelines.stats.generation`) computes the standard windows with
:func:`compute_window_stats` and the readers (:mod:`pipelines.stats.store`) compute custom
``from``/``to`` windows with it on request, so both give identical numbers for identical
dates.

Exactness: distinct players and the player-clustered interval need each player's summed
``(W, L)`` over the whole window, which cannot be summed from per-day results (and on the
archive a player rarely repeats an archetype within a month: per-player monthly or yearly
rollups would hold nearly as many rows as the daily table). So, per (range, event group), one
statement sums the window's rows of ``mv_player_archetype_daily`` into one row per
(archetype, player) — integers, exact — and returns, per archetype, the counts of both bases
and every player's ``(W, L)`` packed into a ``bytea`` (8 bytes a player: far cheaper to
transfer and decode than rows), plus the distinct players. The interval maths then run
vectorised in NumPy (:func:`pipelines.stats.interval_arrays.clustered_segments`) in a
canonical order, so the floats depend only on the per-player records. Tiers:
:func:`pipelines.stats.archetype_rows.finish_window`.

A range covering most of a format's days (custom windows over the whole history) is computed
the other way round: every player's sums over ALL of history per event group
(``mv_player_archetype_total``, ``mv_player_total``, ``mv_matchup_total``: kept equal to the
daily tables by the triggers of migration 0020) minus the sums of the days outside the range
— the same integers, read from about a third as many rows plus a few days, whatever the
length of the history (:data:`COMPLEMENT_MAX_OUTSIDE`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import numpy as np
import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from pipelines.core.vocabulary import EVENT_GROUPS
from pipelines.stats.archetype_rows import BASES, check_basis, finish_window
from pipelines.stats.interval_arrays import clopper_pearson_many, clustered_segments, wilson_many
from pipelines.stats.intervals import DEFAULT_CONFIDENCE
from pipelines.stats.name_sync import identity, name_table
from pipelines.stats.periods import WindowSpec
from pipelines.stats.rows import ARCHETYPE_STAT_FIELDS, MATCHUP_CELL_FIELDS, TOTAL_STAT_FIELDS
from pipelines.stats.samples import SampleRules

__all__ = [
    "ARCHETYPE_COLUMNS",
    "ARCHETYPE_STAT_FIELDS",
    "INDEX_PLAN_SETTINGS",
    "MATCHUP_COLUMNS",
    "TOTAL_COLUMNS",
    "TOTAL_STAT_FIELDS",
    "WINDOW_KEY_COLUMNS",
    "WindowSpec",
    "WindowStats",
    "compute_window_stats",
    "index_plans",
]


# The per-archetype and per-window statistics stored with each generation (the columns of
# the window tables after their key), declared once in pipelines.stats.rows.
WINDOW_KEY_COLUMNS: Final = ("format", "window_key", "event_group", "basis")
ARCHETYPE_COLUMNS: Final = (*WINDOW_KEY_COLUMNS, *ARCHETYPE_STAT_FIELDS)
TOTAL_COLUMNS: Final = (*WINDOW_KEY_COLUMNS, *TOTAL_STAT_FIELDS)
MATCHUP_COLUMNS: Final = ("format", "window_key", "event_group", *MATCHUP_CELL_FIELDS)


@dataclass(slots=True)
class WindowStats:
    """Output of :func:`compute_window_stats`, as rows ready for the tables.

    * ``archetypes``: one dict per (format, window, event group, basis, archetype) with the
      columns of ``meta_window_stats`` (minus ``generation``), sorted by presence rank;
    * ``totals``: one dict per (format, window, event group, basis) with the columns of
      ``meta_window_totals`` — only for windows that have at least one deck;
    * ``matchups``: one dict per cell with the columns of ``matchup_window_stats``.
    """

    archetypes: list[dict[str, Any]] = field(default_factory=list)
    totals: list[dict[str, Any]] = field(default_factory=list)
    matchups: list[dict[str, Any]] = field(default_factory=list)


# One (range, event group): per archetype, the counts of both bases and the decided players'
# records packed as big-endian int8 ``W << 32 | L``; plus one row with archetype NULL holding
# the distinct players over all archetypes. The per-player sums are one hash aggregate over
# the range's rows (an index range scan: the literal bounds give the planner true
# estimates); grouping compares bytes (COLLATE "C": the database's collation costs more and
# any order serves for grouping).
_VALUES: Final = ("decks", "wins", "losses", "draws", "mirror_seats", "covered", "rec_wins",
                  "rec_losses", "rec_draws", "rec_decks")  # fmt: skip
# Each value column summed (one per line of a statement).
_SUMS = ",\n           ".join(f"sum({c})::int AS {c}" for c in _VALUES)
# Per archetype, from the per-player rows ``pa``: the counts and the packed players.
_PER_ARCHETYPE = f"""
SELECT archetype::text AS archetype, count(*)::int AS players,
       {_SUMS},
       string_agg(int8send(wins::int8 << 32 | losses), ''::bytea)
           FILTER (WHERE wins + losses > 0) AS matches_players,
       string_agg(int8send(rec_wins::int8 << 32 | rec_losses), ''::bytea)
           FILTER (WHERE rec_wins + rec_losses > 0) AS records_players
  FROM pa
 GROUP BY archetype
UNION ALL
SELECT NULL, count(*)::int, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
"""  # noqa: S608 - fixed fragments of this module
_ARCHETYPE_SQL = f"""
WITH pa AS MATERIALIZED (
    SELECT archetype, player_key,
           {_SUMS}
      FROM mv_player_archetype_daily
     WHERE format = %(format)s AND event_date BETWEEN %(start)s AND %(end)s
       AND event_kind = ANY(%(kinds)s::text[])
     GROUP BY 1, 2
){_PER_ARCHETYPE}  FROM (SELECT DISTINCT player_key FROM pa) x
"""  # noqa: S608 - fixed fragments of this module

# The same rows for a range covering most of the format's days: every player's sums over all
# of history (mv_player_archetype_total, kept by the triggers of migration 0020) minus the
# sums of the days outside the range. A pair whose decks all lie outside drops out (every
# daily row counts a deck), exactly as it is absent from the range's rows. Integer sums:
# the per-player records, hence every statistic, are those of _ARCHETYPE_SQL.
_OUTSIDE = """
      FROM mv_player_archetype_daily
     WHERE format = %(format)s AND (event_date < %(start)s OR event_date > %(end)s)
       AND event_kind = ANY(%(kinds)s::text[])"""
_DIFFERENCES = ",\n           ".join(f"t.{c} - coalesce(o.{c}, 0) AS {c}" for c in _VALUES)
_ARCHETYPE_COMPLEMENT_SQL = f"""
WITH outside AS (
    SELECT archetype, player_key,
           {_SUMS}{_OUTSIDE}
     GROUP BY 1, 2
), pa AS (
    SELECT t.archetype,
           {_DIFFERENCES}
      FROM mv_player_archetype_total t
      LEFT JOIN outside o ON o.archetype = t.archetype AND o.player_key = t.player_key
     WHERE t.format = %(format)s AND t.event_group = %(group)s
       AND t.decks > coalesce(o.decks, 0)
){_PER_ARCHETYPE}  FROM mv_player_total p
  LEFT JOIN (SELECT player_key, sum(decks)::int AS decks{_OUTSIDE}
              GROUP BY 1) o ON o.player_key = p.player_key
 WHERE p.format = %(format)s AND p.event_group = %(group)s AND p.decks > coalesce(o.decks, 0)
"""  # noqa: S608 - fixed fragments of this module

# Matchup cells of one (range, event group): sums only.
_MATCHUP_SQL = """
SELECT archetype, opponent,
       sum(wins)::int AS wins, sum(losses)::int AS losses, sum(draws)::int AS draws
  FROM mv_matchup_daily
 WHERE format = %(format)s AND event_date BETWEEN %(start)s AND %(end)s
   AND event_kind = ANY(%(kinds)s::text[])
 GROUP BY archetype, opponent
"""

# Matchup cells of a range covering most of the format's days: all of history
# (mv_matchup_total) minus the days outside; a cell is in the range when one of its daily
# rows is (``days``).
_MATCHUP_COMPLEMENT_SQL = """
SELECT t.archetype, t.opponent, t.wins - coalesce(o.wins, 0) AS wins,
       t.losses - coalesce(o.losses, 0) AS losses, t.draws - coalesce(o.draws, 0) AS draws
  FROM mv_matchup_total t
  LEFT JOIN (SELECT archetype, opponent, count(*)::int AS days, sum(wins)::int AS wins,
                    sum(losses)::int AS losses, sum(draws)::int AS draws
               FROM mv_matchup_daily
              WHERE format = %(format)s AND (event_date < %(start)s OR event_date > %(end)s)
                AND event_kind = ANY(%(kinds)s::text[])
              GROUP BY 1, 2) o ON o.archetype = t.archetype AND o.opponent = t.opponent
 WHERE t.format = %(format)s AND t.event_group = %(group)s AND t.days > coalesce(o.days, 0)
"""

# Each basis' packed players (see _ARCHETYPE_SQL): a basis not asked for is not packed (a
# quarter of a whole-history statement's time).
_PACKED: Final = {
    "matches": """string_agg(int8send(wins::int8 << 32 | losses), ''::bytea)
           FILTER (WHERE wins + losses > 0)""",
    "records": """string_agg(int8send(rec_wins::int8 << 32 | rec_losses), ''::bytea)
           FILTER (WHERE rec_wins + rec_losses > 0)""",
}


def _archetype_sql(template: str, bases: Sequence[str]) -> str:
    """``template`` packing the players of ``bases`` only."""
    for basis, packed in _PACKED.items():
        if basis not in bases:
            assert packed in template
            template = template.replace(packed, "NULL::bytea")
    return template


#: A range is computed as "all of history minus the days outside it" when the days outside
#: are at most this fraction of the format's days (the totals hold about a third as many
#: rows as the daily table; each side then reads the fewer rows).
COMPLEMENT_MAX_OUTSIDE: Final = 0.2

_CELL_KEY: Final = ("format", "window_key", "event_group", "archetype", "opponent")

# Each basis' columns in the rows of _ARCHETYPE_SQL (the records basis knows no opponents,
# hence no mirrors).
_BASIS_COLUMNS: Final = {
    "matches": ("wins", "losses", "draws", "mirror_seats", "covered", "matches_players"),
    "records": ("rec_wins", "rec_losses", "rec_draws", None, "rec_decks", "records_players"),
}


# Per window (in order): its first and last event days, then the format's (index probes).
_ENDS_SQL = """
SELECT (SELECT min(a.event_date) FROM mv_archetype_daily a
         WHERE a.format = w.format AND a.event_date BETWEEN w.start AND w.stop),
       (SELECT max(a.event_date) FROM mv_archetype_daily a
         WHERE a.format = w.format AND a.event_date BETWEEN w.start AND w.stop),
       (SELECT min(a.event_date) FROM mv_archetype_daily a WHERE a.format = w.format),
       (SELECT max(a.event_date) FROM mv_archetype_daily a WHERE a.format = w.format)
  FROM unnest(%s::text[], %s::date[], %s::date[]) WITH ORDINALITY AS w(format, start, stop, n)
 ORDER BY w.n
"""


def _data_ranges(
    conn: psycopg.Connection[Any], windows: Sequence[WindowSpec]
) -> tuple[list[tuple[str, date, date]], list[list[WindowSpec]], list[bool]]:
    """Distinct data ranges of ``windows``, the windows sharing each, and whether each is
    computed as all of history minus the days outside it (:data:`COMPLEMENT_MAX_OUTSIDE`).

    A window's rows depend only on the event dates it contains, so it is narrowed to its first
    and last event date of the format; windows with the same narrowed range (often
    ``current``/``last90``/``last30``) are computed once. Windows without any event date are
    dropped (they have no rows). Reads four ends of the format's day index per window (its
    first and last days inside the window and in all of history); "most of the format's days"
    counts calendar days between the format's first and last.
    """
    rows = conn.execute(
        _ENDS_SQL,
        ([w.format for w in windows], [w.start for w in windows], [w.end for w in windows]),
    ).fetchall()
    index: dict[tuple[str, date, date], int] = {}
    ranges: list[tuple[str, date, date]] = []
    members: list[list[WindowSpec]] = []
    complement: list[bool] = []
    for w, (lo, hi, first, last) in zip(windows, rows, strict=True):
        if lo is None or hi is None:
            continue
        key = (w.format, lo, hi)
        if key not in index:
            index[key] = len(ranges)
            ranges.append(key)
            members.append([])
            outside = (lo - first).days + (last - hi).days
            complement.append(outside <= COMPLEMENT_MAX_OUTSIDE * ((last - first).days + 1))
        members[index[key]].append(w)
    return ranges, members, complement


#: Planner settings of the window statistics statements (see index_plans).
INDEX_PLAN_SETTINGS: Final = {"enable_seqscan": "off", "max_parallel_workers_per_gather": "0"}


@contextmanager
def index_plans(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Plan the statements inside with the covering indexes, then restore the settings.

    For a range holding a large part of a format the planner estimates a (parallel)
    sequential scan of the whole table with a sort or hash of every row cheaper than the
    index-only scan of the format's rows aggregated as it streams; measured, it is several
    times slower, it grows with the other formats' history, and on the request path parallel
    workers take the cores of concurrent requests. Transaction-local (``set_config(...,
    true)``) and restored, so the caller's other statements plan as usual.
    """
    before = {
        name: conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
        for name in INDEX_PLAN_SETTINGS
    }
    for name, value in INDEX_PLAN_SETTINGS.items():
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))
    try:
        yield
    finally:
        if not conn.closed and conn.info.transaction_status == TransactionStatus.INTRANS:
            for name, row in before.items():
                if row is not None:
                    conn.execute("SELECT set_config(%s, %s, true)", (name, row[0]))


def _players(blob: bytes | None) -> tuple[np.ndarray, np.ndarray]:
    """Decode a packed ``W << 32 | L`` list (see _ARCHETYPE_SQL)."""
    packed = np.frombuffer(blob or b"", dtype=">i8").astype(np.int64)
    return packed >> 32, packed & 0xFFFFFFFF


def _clustered(
    rows: Sequence[dict[str, Any]], column: str, confidence: float
) -> list[tuple[float | None, float | None, float | None, float | None]]:
    decoded = [_players(r[column]) for r in rows]
    sizes = [len(w) for w, _ in decoded]
    bounds = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
    if not decoded:
        return []
    wins = np.concatenate([w for w, _ in decoded])
    losses = np.concatenate([lo for _, lo in decoded])
    return clustered_segments(wins, losses, bounds, confidence)


def compute_window_stats(
    conn: psycopg.Connection[Any],
    windows: Sequence[WindowSpec],
    groups: Iterable[str] = tuple(EVENT_GROUPS),
    confidence: float = DEFAULT_CONFIDENCE,
    *,
    matchups: bool = True,
    rules: SampleRules | None = None,
    bases: Iterable[str] = BASES,
) -> WindowStats:
    """Archetype rows, totals and matchup cells of ``windows`` × ``groups`` × ``bases``.

    Reads the per-player and matchup pre-aggregates (call it inside one transaction for a
    consistent snapshot). Definitions: METHODOLOGY.md §3–§8. Shares are over all archetypes
    of the (window, group); ``rank`` is the presence rank (decks descending, then name) of
    rankable archetypes. ``rules``: the minimum sample of the tier table (default
    :class:`SampleRules`). ``matchups=False`` skips the matchup cells (which have no basis:
    they come from recorded rounds only).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    rules = rules or SampleRules()
    groups = tuple(groups)
    bases = tuple(check_basis(basis) for basis in bases)
    unknown = set(groups) - set(EVENT_GROUPS)
    if unknown:
        raise ValueError(f"unknown event group(s): {sorted(unknown)}")
    result = WindowStats()
    if not windows or not groups or not bases:
        return result
    ranges, members, complement = _data_ranges(conn, windows)
    if not ranges:
        return result
    group_names = sorted(set(groups))

    def targets(wid: int, gid: int) -> list[tuple[str, str, str]]:
        """(format, window key, group) of every window computed by range ``wid``."""
        group = group_names[gid - 1]
        return [(w.format, w.key, group) for w in members[wid - 1]]

    raw: list[dict[str, Any]] = []
    raw_cells: list[dict[str, Any]] = []
    with index_plans(conn), conn.cursor(row_factory=dict_row) as cur:
        for wid, (fmt, start, end) in enumerate(ranges, start=1):
            for gid, group in enumerate(group_names, start=1):
                params = {
                    "format": fmt,
                    "start": start,
                    "end": end,
                    "group": group,
                    "kinds": sorted(EVENT_GROUPS[group]),
                }
                ids = {"wid": wid, "gid": gid}
                whole = complement[wid - 1]
                archetypes = _archetype_sql(
                    _ARCHETYPE_COMPLEMENT_SQL if whole else _ARCHETYPE_SQL, bases
                )
                raw.extend({**r, **ids} for r in cur.execute(archetypes, params))
                if matchups:
                    cells = _MATCHUP_COMPLEMENT_SQL if whole else _MATCHUP_SQL
                    raw_cells.extend({**r, **ids} for r in cur.execute(cells, params))
    names = name_table(conn, sorted({r[0] for r in ranges}))
    players = {
        key: r["players"]
        for r in raw
        if r["archetype"] is None
        for key in targets(r["wid"], r["gid"])
    }
    rows_in = [r for r in raw if r["archetype"] is not None]
    # The totals' counted matches (recorded rounds, whatever the basis): every match seats two.
    seats: dict[tuple[str, str, str], int] = defaultdict(int)
    for r in rows_in:
        for key in targets(r["wid"], r["gid"]):
            seats[key] += r["wins"] + r["losses"] + r["draws"] + r["mirror_seats"]
    counted_matches = {key: value // 2 for key, value in seats.items()}
    for basis in bases:
        _archetype_rows(result, basis, rows_in, confidence, rules, targets, names, players)
    for total in result.totals:
        key = (total["format"], total["window_key"], total["event_group"])
        total["matches"] = counted_matches.get(key, 0)
    result.matchups = _cells(raw_cells, confidence, targets, names)
    return result


def _archetype_rows(
    result: WindowStats,
    basis: str,
    rows_in: list[dict[str, Any]],
    confidence: float,
    rules: SampleRules,
    targets: Any,
    names: Any,
    players: dict[tuple[str, str, str], int],
) -> None:
    """Append one basis' archetype rows and totals of every window to ``result``."""
    w_col, l_col, d_col, ms_col, cov_col, players_col = _BASIS_COLUMNS[basis]
    clustered = _clustered(rows_in, players_col, confidence)
    w_lo, w_up = wilson_many(
        [r[w_col] for r in rows_in], [r[w_col] + r[l_col] for r in rows_in], confidence
    )
    by_window: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r, (c_lo, c_up, c_se, c_dof), wl, wu in zip(rows_in, clustered, w_lo, w_up, strict=True):
        mirror_seats = r[ms_col] if ms_col else 0
        row = {
            "decks": r["decks"],
            "players": r["players"],
            "seats": r[w_col] + r[l_col] + r[d_col] + mirror_seats,
            "wins": r[w_col],
            "losses": r[l_col],
            "draws": r[d_col],
            "mirrors": mirror_seats // 2,
            "covered": r[cov_col],
            "decided_players": len(r[players_col] or b"") // 8,
            "cl_lower": c_lo,
            "cl_upper": c_up,
            "ci_std_error": c_se,
            "ci_dof": c_dof,
            "wilson_lower": wl,
            "wilson_upper": wu,
        }
        for fmt, window_key, group in targets(r["wid"], r["gid"]):
            ident = identity(names, fmt, r["archetype"])
            by_window[(fmt, window_key, group)].append(
                {
                    "format": fmt,
                    "window_key": window_key,
                    "event_group": group,
                    "basis": basis,
                    "archetype": ident.name,
                    "slug": ident.slug,
                    "name_raw": ident.name_raw,
                    **row,
                }
            )
    for key in sorted(by_window):
        rows = by_window[key]
        total: dict[str, Any] = {
            "format": key[0],
            "window_key": key[1],
            "event_group": key[2],
            "basis": basis,
            "players": players[key],
        }
        finish_window(rows, total, rules)
        result.archetypes.extend(rows)
        result.totals.append(total)


def _cells(
    raw_cells: list[dict[str, Any]], confidence: float, targets: Any, names: Any
) -> list[dict[str, Any]]:
    """Matchup cells: off the diagonal every match once from each side; on it, each mirror
    match once (``mirrors``) and nothing else."""
    diagonal = [c["archetype"] == c["opponent"] for c in raw_cells]
    cp_lo, cp_up = clopper_pearson_many(
        [0 if d else c["wins"] for c, d in zip(raw_cells, diagonal, strict=True)],
        [0 if d else c["wins"] + c["losses"] for c, d in zip(raw_cells, diagonal, strict=True)],
        confidence,
    )
    cells = []
    for c, mirror, lo, up in zip(raw_cells, diagonal, cp_lo, cp_up, strict=True):
        decided = c["wins"] + c["losses"]
        if mirror:
            counts = {"wins": 0, "losses": 0, "draws": 0,
                      "mirrors": (decided + c["draws"]) // 2}  # fmt: skip
        else:
            counts = {"wins": c["wins"], "losses": c["losses"], "draws": c["draws"], "mirrors": 0}
        cell = {
            **counts,
            "win_rate": c["wins"] / decided if decided and not mirror else None,
            "cp_lower": lo,
            "cp_upper": up,
        }
        for fmt, window_key, group in targets(c["wid"], c["gid"]):
            cell_key = {
                "archetype": identity(names, fmt, c["archetype"]).name,
                "opponent": identity(names, fmt, c["opponent"]).name,
            }
            cells.append(
                {"format": fmt, "window_key": window_key, "event_group": group, **cell_key, **cell}
            )
    cells.sort(key=lambda c: tuple(c[k] for k in _CELL_KEY))
    return cells
