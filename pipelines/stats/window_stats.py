"""Statistics of windows: :func:`compute_window_stats`, the single implementation of the
per-window archetype rows, totals and matchup cells.

The refresh (:mod:`pipelines.stats.refresh`) calls it for the standard windows and
:mod:`pipelines.stats.store` for custom ``from``/``to`` windows on read, so both give identical
numbers. Counting is done in SQL over ``mv_player_archetype_daily`` (exact for any window:
players are distinct ``player_key`` over the window and the clustered interval gets per-player
``(W, L)``); the intervals are computed in vectorised NumPy/SciPy with exactly the formulas of
:mod:`pipelines.stats.intervals`, and the tiers with :func:`pipelines.stats.tiers.compute_tiers`.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import psycopg
from psycopg.rows import dict_row

from pipelines.core.vocabulary import EVENT_GROUPS
from pipelines.stats.archetype_rows import BASES, basis_columns, finish_window
from pipelines.stats.interval_arrays import clopper_pearson_many, clustered_many, wilson_many
from pipelines.stats.intervals import DEFAULT_CONFIDENCE
from pipelines.stats.name_sync import identity, name_table
from pipelines.stats.periods import WindowSpec
from pipelines.stats.samples import SampleRules

__all__ = [
    "ARCHETYPE_COLUMNS",
    "ARCHETYPE_STAT_FIELDS",
    "MATCHUP_COLUMNS",
    "TOTAL_COLUMNS",
    "TOTAL_STAT_FIELDS",
    "WINDOW_KEY_COLUMNS",
    "WindowSpec",
    "WindowStats",
    "compute_window_stats",
]

# The per-archetype and per-window statistics stored with each generation (the columns of
# the window tables after their key); readers return exactly these fields (pipelines.stats.store).
ARCHETYPE_STAT_FIELDS: Final = (
    "archetype",
    "slug",
    "name_raw",
    "rankable",
    "decks",
    "players",
    "seats",
    "wins",
    "losses",
    "draws",
    "mirrors",
    "covered",
    "coverage",
    "decided_players",
    "decided_per_deck",
    "share_decks",
    "share_players",
    "share_seats",
    "win_rate",
    "shrunk_win_rate",
    "ci_lower",
    "ci_upper",
    "ci_method",
    "ci_std_error",
    "ci_dof",
    "wilson_lower",
    "wilson_upper",
    "low_sample",
    "rank",
    "in_tier_table",
    "tier_ci",
    "tier_score",
    "rank_ci",
    "rank_score",
    "score",
    "outlier",
)
TOTAL_STAT_FIELDS: Final = (
    "decks",
    "players",
    "matches",
    "seats",
    "archetypes",
    "covered",
    "coverage",
    "tier_cut",
    "ci_mean",
    "ci_sd",
    "score_mean",
    "score_sd",
    "shrink_mean",
    "shrink_strength",
    "min_players",
    "min_decided",
)
WINDOW_KEY_COLUMNS: Final = ("format", "window_key", "event_group", "basis")
ARCHETYPE_COLUMNS: Final = (*WINDOW_KEY_COLUMNS, *ARCHETYPE_STAT_FIELDS)
TOTAL_COLUMNS: Final = (*WINDOW_KEY_COLUMNS, *TOTAL_STAT_FIELDS)
MATCHUP_COLUMNS: Final = (
    "format",
    "window_key",
    "event_group",
    "archetype",
    "opponent",
    "wins",
    "losses",
    "draws",
    "mirrors",
    "win_rate",
    "cp_lower",
    "cp_upper",
)


@dataclass(slots=True)
class WindowStats:
    """Output of :func:`compute_window_stats`, as rows ready for the tables.

    * ``archetypes``: one dict per (format, window, event group, archetype) with the columns
      of ``meta_window_stats`` (minus ``generation``), sorted by presence rank;
    * ``totals``: one dict per (format, window, event group) with the columns of
      ``meta_window_totals`` — only for pairs that have at least one deck;
    * ``matchups``: one dict per cell with the columns of ``matchup_window_stats``.
    """

    archetypes: list[dict[str, Any]] = field(default_factory=list)
    totals: list[dict[str, Any]] = field(default_factory=list)
    matchups: list[dict[str, Any]] = field(default_factory=list)


# The three statements below take the distinct data ranges to compute as arrays (ordinality
# = range id ``wid``) and the event groups (position = ``gid``), and group on those integers
# plus archetype/player compared bytewise (COLLATE "C"): sorting a million rows on text under
# the database's libc collation costs several times more, and any order serves for grouping.

# Per (range, group, archetype): counts and the O(n) sums of the clustered interval (see
# interval_arrays.clustered_many) over the players with decided matches (for the others omega
# is NULL, which every sum skips). One sort by the partition key serves the per-player
# grouping, the window functions and the final grouping; the row estimates here are poor, so
# the query avoids joins the planner could turn into nested loops.
_ARCHETYPE_SQL = """
WITH
win AS (
    SELECT * FROM unnest(%(formats)s::text[], %(starts)s::date[], %(ends)s::date[])
           WITH ORDINALITY AS w(format, start_date, end_date, wid)
), grp AS (
    SELECT event_kind, array_position(%(groups)s::text[], event_group) AS gid
      FROM stats_event_groups
     WHERE event_group = ANY(%(groups)s::text[])
), pa AS (
    SELECT w.wid, g.gid, p.archetype COLLATE "C" AS archetype,
           p.player_key COLLATE "C" AS player_key,
           sum(p.decks)::int AS decks, sum({w})::int AS wins,
           sum({l})::int AS losses, sum({d})::int AS draws,
           sum({ms})::int AS mirror_seats, sum({cov})::int AS covered
      FROM win w
      JOIN mv_player_archetype_daily p
        ON p.format = w.format AND p.event_date BETWEEN w.start_date AND w.end_date
      JOIN grp g ON g.event_kind = p.event_kind
     GROUP BY 1, 2, 3, 4
), cl AS (
    SELECT pa.*,
           CASE WHEN pa.wins + pa.losses > 0
                THEN (pa.wins + pa.losses)::float8 / sum(pa.wins + pa.losses) OVER k END
               AS omega,
           CASE WHEN pa.wins + pa.losses > 0
                THEN pa.wins::float8 / (pa.wins + pa.losses) END AS y,
           sum(pa.wins) OVER k / nullif(sum(pa.wins + pa.losses) OVER k, 0)::float8 AS p
      FROM pa
    WINDOW k AS (PARTITION BY pa.wid, pa.gid, pa.archetype)
), cq AS (
    SELECT cl.*, sum(cl.omega * cl.omega) OVER k AS q
      FROM cl
    WINDOW k AS (PARTITION BY cl.wid, cl.gid, cl.archetype)
), ca AS (
    -- A = 0 only for a single player (ω = q = 1), whose bounds are NULL anyway.
    SELECT cq.*, nullif(1 - 2 * cq.omega + cq.q, 0) AS a FROM cq
)
SELECT wid, gid, archetype::text AS archetype,
       sum(decks)::int AS decks, count(*)::int AS players, sum(wins)::int AS wins,
       sum(losses)::int AS losses, sum(draws)::int AS draws,
       sum(mirror_seats)::int AS mirror_seats, sum(covered)::int AS covered,
       count(omega)::int AS cl_players, max(q) AS q,
       sum(omega * omega * (y - p) * (y - p) / a) AS variance,
       sum(omega * omega / a) AS s0,
       sum(omega * omega * omega / a) AS s1,
       sum(omega * omega * omega * omega / a) AS s2,
       sum(omega * omega * omega * omega * (q - 2 * omega) / (a * a)) AS cross_term,
       sum(omega * omega * omega * omega / (a * a)) AS d2
  FROM ca
 GROUP BY wid, gid, archetype
"""

# Distinct players per (range, group), over all archetypes.
_PLAYERS_SQL = """
WITH
win AS (
    SELECT * FROM unnest(%(formats)s::text[], %(starts)s::date[], %(ends)s::date[])
           WITH ORDINALITY AS w(format, start_date, end_date, wid)
), grp AS (
    SELECT event_kind, array_position(%(groups)s::text[], event_group) AS gid
      FROM stats_event_groups
     WHERE event_group = ANY(%(groups)s::text[])
)
SELECT wid, gid, count(*)::int AS players
  FROM (SELECT DISTINCT w.wid, g.gid, p.player_key COLLATE "C"
          FROM win w
          JOIN mv_player_archetype_daily p
            ON p.format = w.format AND p.event_date BETWEEN w.start_date AND w.end_date
          JOIN grp g ON g.event_kind = p.event_kind) x
 GROUP BY wid, gid
"""

# Matchup cells per (range, group).
_MATCHUP_SQL = """
WITH
win AS (
    SELECT * FROM unnest(%(formats)s::text[], %(starts)s::date[], %(ends)s::date[])
           WITH ORDINALITY AS w(format, start_date, end_date, wid)
), grp AS (
    SELECT event_kind, array_position(%(groups)s::text[], event_group) AS gid
      FROM stats_event_groups
     WHERE event_group = ANY(%(groups)s::text[])
)
SELECT w.wid, g.gid, m.archetype, m.opponent,
       sum(m.wins)::int AS wins, sum(m.losses)::int AS losses, sum(m.draws)::int AS draws
  FROM win w
  JOIN mv_matchup_daily m
    ON m.format = w.format AND m.event_date BETWEEN w.start_date AND w.end_date
  JOIN grp g ON g.event_kind = m.event_kind
 GROUP BY w.wid, g.gid, m.archetype, m.opponent
"""

_CELL_KEY: Final = ("format", "window_key", "event_group", "archetype", "opponent")


def _data_ranges(
    conn: psycopg.Connection[Any], windows: Sequence[WindowSpec]
) -> tuple[list[tuple[str, date, date]], list[list[WindowSpec]]]:
    """Distinct data ranges of ``windows`` and the windows sharing each.

    A window's rows depend only on the event dates it contains, so it is narrowed to its first
    and last event date of the format; windows with the same narrowed range (often
    ``current``/``last90``/``last30``) are computed once. Windows without any event date are
    dropped (they have no rows).
    """
    formats = sorted({w.format for w in windows})
    days: dict[str, list[date]] = {
        fmt: list(dates)
        for fmt, dates in conn.execute(
            "SELECT format, array_agg(DISTINCT event_date ORDER BY event_date)"
            "  FROM mv_archetype_daily WHERE format = ANY(%s) GROUP BY format",
            (formats,),
        )
    }
    index: dict[tuple[str, date, date], int] = {}
    ranges: list[tuple[str, date, date]] = []
    members: list[list[WindowSpec]] = []
    for w in windows:
        dates = days.get(w.format, [])
        lo = bisect.bisect_left(dates, w.start)
        hi = bisect.bisect_right(dates, w.end) - 1
        if lo > hi:
            continue
        key = (w.format, dates[lo], dates[hi])
        if key not in index:
            index[key] = len(ranges)
            ranges.append(key)
            members.append([])
        members[index[key]].append(w)
    return ranges, members


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

    Reads ``mv_player_archetype_daily`` and ``mv_matchup_daily`` (call it inside one
    transaction for a consistent snapshot). Definitions: METHODOLOGY.md §3–§8. Shares are
    over all archetypes of the (window, group); ``rank`` is the presence rank (decks
    descending, then name) of rankable archetypes. ``rules``: the minimum sample of the tier
    table (default :class:`SampleRules`). ``matchups=False`` skips the matchup cells (which
    have no basis: they come from recorded rounds only).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    rules = rules or SampleRules()
    groups = tuple(groups)
    bases = tuple(bases)
    unknown = set(groups) - set(EVENT_GROUPS)
    if unknown:
        raise ValueError(f"unknown event group(s): {sorted(unknown)}")
    for basis in bases:
        basis_columns(basis)  # raises for an unknown basis
    result = WindowStats()
    if not windows or not groups or not bases:
        return result
    ranges, members = _data_ranges(conn, windows)
    if not ranges:
        return result
    group_names = sorted(set(groups))
    params = {
        "formats": [r[0] for r in ranges],
        "starts": [r[1] for r in ranges],
        "ends": [r[2] for r in ranges],
        "groups": group_names,
    }

    def targets(wid: int, gid: int) -> list[tuple[str, str, str]]:
        """(format, window key, group) of every window computed by range ``wid``."""
        group = group_names[gid - 1]
        return [(w.format, w.key, group) for w in members[wid - 1]]

    with conn.cursor(row_factory=dict_row) as cur:
        raw = {
            basis: cur.execute(
                _ARCHETYPE_SQL.format(**basis_columns(basis)),
                params,
            ).fetchall()
            for basis in bases
        }
        players = {
            key: r["players"]
            for r in cur.execute(_PLAYERS_SQL, params)
            for key in targets(r["wid"], r["gid"])
        }
        raw_cells = cur.execute(_MATCHUP_SQL, params).fetchall() if matchups else []
    names = name_table(conn, sorted({r[0] for r in ranges}))

    # Archetype rows, per basis ---------------------------------------------------------------
    counted_matches: dict[tuple[str, str, str], int] = {}
    for basis in bases:
        rows_in = raw[basis]
        clustered = clustered_many(rows_in, confidence)
        w_lo, w_up = wilson_many(
            [r["wins"] for r in rows_in], [r["wins"] + r["losses"] for r in rows_in], confidence
        )
        by_window: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for r, (c_lo, c_up, c_se, c_dof), wl, wu in zip(
            rows_in, clustered, w_lo, w_up, strict=True
        ):
            row = {
                "decks": r["decks"],
                "players": r["players"],
                "seats": r["wins"] + r["losses"] + r["draws"] + r["mirror_seats"],
                "wins": r["wins"],
                "losses": r["losses"],
                "draws": r["draws"],
                "mirrors": r["mirror_seats"] // 2,
                "covered": r["covered"],
                "decided_players": r["cl_players"],
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
            total = {
                "format": key[0],
                "window_key": key[1],
                "event_group": key[2],
                "basis": basis,
                "players": players[key],
            }
            finish_window(rows, total, rules)
            if basis == "matches":
                counted_matches[key] = total["seats"] // 2
            result.archetypes.extend(rows)
            result.totals.append(total)
    for total in result.totals:
        key = (total["format"], total["window_key"], total["event_group"])
        total["matches"] = counted_matches.get(key, 0)

    # Matchup cells: off the diagonal every match once from each side; on it, each mirror
    # match once (``mirrors``) and nothing else.
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
    result.matchups = cells
    return result
