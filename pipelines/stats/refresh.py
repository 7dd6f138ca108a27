"""Refresh of the statistics materialized views and of the standard-window tables.

One run (:func:`refresh_all`), in **one transaction** on a dedicated connection:

1. ``pg_try_advisory_xact_lock(REFRESH_LOCK_KEY)`` — when another refresh holds it the run
   returns ``status="skipped"`` at once instead of queueing behind it (beat may fire while a
   slow run is still going, or an operator may trigger one by hand). A transaction-level lock
   is released by commit/rollback even if the process dies, so it cannot leak.
2. A ``refresh_log`` row is written as ``running`` on a second, autocommit connection (so it
   is visible while the run lasts and survives a rollback); its identity is the new
   **generation**.
3. ``REFRESH MATERIALIZED VIEW CONCURRENTLY`` of every view of :data:`VIEWS` in dependency
   order, under ``lock_timeout``/``statement_timeout``. Concurrent refresh never blocks
   readers; running all of them in the same transaction means readers switch from the old to
   the new contents of *every* view at once, at commit. The views the window queries read are
   then analysed (autovacuum would do it only later, and stale estimates give slow plans).
4. The standard windows (current meta period and last 7/14/30/90 days of each format, every
   event group) are computed from the refreshed views and written to ``stats_windows``,
   ``meta_window_totals``, ``meta_window_stats`` and ``matchup_window_stats`` stamped with the
   generation; rows of older generations are deleted except the previous succeeded one (a
   reader that looked the generation up in an earlier statement still finds its rows); the
   log row becomes ``succeeded``. All of it commits together, so readers never see an empty
   or half-written generation.

On any error the transaction rolls back (the previous generation stays current) and the log
row is marked ``failed``.

:func:`compute_window_stats` is the single implementation of the per-window statistics: the
refresh calls it for the standard windows and :mod:`pipelines.stats.store` for custom
``from``/``to`` windows on read, so both give identical numbers. Counting is done in SQL over
``mv_player_archetype_daily`` (exact for any window: players are distinct ``player_key`` over
the window and the clustered interval gets per-player ``(W, L)``); the intervals are computed
in vectorised NumPy/SciPy with exactly the formulas of :mod:`pipelines.stats.intervals`, and
the tiers with :func:`pipelines.stats.tiers.compute_tiers`.
"""

from __future__ import annotations

import bisect
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from pipelines.core import db
from pipelines.stats.archetype_rows import BASES, basis_columns, finish_window
from pipelines.stats.interval_arrays import clopper_pearson_many, clustered_many, wilson_many
from pipelines.stats.intervals import DEFAULT_CONFIDENCE
from pipelines.stats.name_sync import identity, name_table, sync_archetype_names
from pipelines.stats.samples import SampleRules
from pipelines.stats.windows import ROLLING_WINDOW_DAYS, parse_metas, rolling_window

__all__ = [
    "CURRENT_WINDOW",
    "DEFAULT_EVENT_GROUP",
    "EVENT_GROUPS",
    "REFRESH_LOCK_KEY",
    "STANDARD_WINDOW_KEYS",
    "VIEWS",
    "Generation",
    "RefreshResult",
    "SampleRules",
    "WindowSpec",
    "WindowStats",
    "clopper_pearson_many",
    "compute_window_stats",
    "latest_generation",
    "load_periods",
    "refresh_all",
    "standard_windows",
    "wilson_many",
]

log = logging.getLogger(__name__)

#: Materialized views in dependency order (each reads only base tables and earlier views).
VIEWS: Final = (
    "mv_deck_facts",
    "mv_player_archetype_daily",
    "mv_archetype_daily",
    "mv_archetype_color_daily",
    "mv_matchup_daily",
    "mv_card_usage_weekly",
    "mv_deck_size_weekly",
)

#: Event kinds of each event group; must equal the ``stats_event_groups`` table (a test checks
#: it). ``all`` leaves out MTGO leagues (METHODOLOGY.md §12).
EVENT_GROUPS: Final[Mapping[str, frozenset[str]]] = {
    "all": frozenset(
        {
            "challenge",
            "preliminary",
            "showcase",
            "qualifier",
            "last_chance",
            "trial",
            "other",
            "paper",
            "series",
        }
    ),
    "challenges": frozenset({"challenge"}),
    "leagues": frozenset({"league"}),
    "qualifiers": frozenset({"qualifier", "showcase", "last_chance", "trial", "preliminary"}),
    "paper": frozenset({"paper", "series"}),
}
DEFAULT_EVENT_GROUP: Final = "all"

CURRENT_WINDOW: Final = "current"
#: Window keys in display order: the current meta period, then the rolling windows.
STANDARD_WINDOW_KEYS: Final = (CURRENT_WINDOW, *(f"last{n}" for n in ROLLING_WINDOW_DAYS))

# Arbitrary but fixed, distinct from the migration ("MANA") and ingestion ("INGS") keys.
REFRESH_LOCK_KEY: Final = 0x52465348  # "RFSH"

DEFAULT_LOCK_TIMEOUT_MS: Final = 10_000
# Below the refresh task's soft time limit (1700 s) so a stuck statement fails cleanly first.
DEFAULT_STATEMENT_TIMEOUT_MS: Final = 900_000
# The card-usage view hashes ~half a million card lines; below this it spills to disk.
REFRESH_WORK_MEM: Final = "128MB"

Periods = Mapping[str, Sequence[tuple[date, str]]]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Generation:
    """The latest succeeded refresh: what readers see (API ``ETag`` / ``as_of``)."""

    generation: int
    started_at: datetime
    finished_at: datetime


@dataclass(slots=True)
class RefreshResult:
    """Outcome of :func:`refresh_all`.

    ``status`` is ``"succeeded"`` or ``"skipped"`` (another refresh held the lock; nothing was
    done or logged). ``durations`` are seconds per step: each view, then ``window_stats``.
    """

    status: str
    generation: int | None = None
    durations: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    meta_rows: int = 0
    matchup_rows: int = 0
    windows: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the Celery task's return value)."""
        return {
            "status": self.status,
            "generation": self.generation,
            "durations": {k: round(v, 4) for k, v in self.durations.items()},
            "seconds": round(self.seconds, 4),
            "meta_rows": self.meta_rows,
            "matchup_rows": self.matchup_rows,
            "windows": self.windows,
        }


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """One window of one format: ``[start, end]``, both ends inclusive.

    ``key`` names it (``"current"``, ``"last7"``…, or ``"custom"``); ``latest`` is the format's
    latest event date it was cut from; ``period_name`` the meta period of ``"current"``.
    """

    format: str
    key: str
    start: date
    end: date
    latest: date
    period_name: str | None = None


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


# --------------------------------------------------------------------------- periods/windows


def load_periods(formats_root: Path | str) -> dict[str, list[tuple[date, str]]]:
    """Meta periods of every ``<formats_root>/<Format>/metas.json`` (MTGOFormatData layout).

    Parsed leniently (trailing commas exist in the wild) by the classifier's loader. Returns
    ``{format folder name: [(start date, name), ...]}``; a missing root gives ``{}``.
    """
    from pipelines.classify.definitions import parse_lenient_json
    from pipelines.classify.definitions import parse_metas as parse_metas_file

    root = Path(formats_root)
    if not root.is_dir():
        return {}
    periods: dict[str, list[tuple[date, str]]] = {}
    for folder in sorted(p for p in root.iterdir() if (p / "metas.json").is_file()):
        path = folder / "metas.json"
        data = parse_lenient_json(path.read_bytes(), path)
        periods[folder.name] = list(parse_metas_file(data, path))
    return periods


def _periods_for(fmt: str, periods: Periods | None) -> Sequence[tuple[date, str]] | None:
    if not periods:
        return None
    if fmt in periods:
        return periods[fmt]
    folded = {key.casefold(): value for key, value in periods.items()}
    return folded.get(fmt.casefold())


def standard_windows(
    latest: Mapping[str, date], periods: Periods | None = None
) -> list[WindowSpec]:
    """The standard windows of each format given its latest event date.

    * ``current``: the last meta period of the format (when ``periods`` has the format), from
      its start to ``latest`` (:meth:`MetaPeriod.window`; a period starting after the data
      gives a one-day window with no data);
    * ``lastN`` for N in 7, 14, 30, 90: ``[latest − (N − 1) days, latest]`` — counted back from
      the latest event date in the data, not from today.
    """
    specs: list[WindowSpec] = []
    for fmt in sorted(latest):
        day = latest[fmt]
        entries = _periods_for(fmt, periods)
        if entries:
            metas = parse_metas(
                {"Metas": [{"StartDate": d.isoformat(), "Name": name} for d, name in entries]}
            )
            current = metas[-1]
            window = current.window(day)
            specs.append(
                WindowSpec(fmt, CURRENT_WINDOW, window.start, window.end, day, current.name)
            )
        for days in ROLLING_WINDOW_DAYS:
            window = rolling_window(day, days)
            specs.append(WindowSpec(fmt, f"last{days}", window.start, window.end, day))
    return specs


# --------------------------------------------------------------------------- window statistics

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


# --------------------------------------------------------------------------- refresh

# The per-archetype and per-window statistics stored with each generation; readers return
# exactly these fields (pipelines.stats.store).
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
_WINDOW_KEY: Final = ("format", "window_key", "event_group", "basis")
_ARCHETYPE_COLUMNS: Final = (*_WINDOW_KEY, *ARCHETYPE_STAT_FIELDS)
_TOTAL_COLUMNS: Final = (*_WINDOW_KEY, *TOTAL_STAT_FIELDS)
_MATCHUP_COLUMNS: Final = (
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
# Tables holding one generation's rows, each deleted by generation once superseded.
_GENERATION_TABLES: Final = (
    "stats_windows",
    "meta_window_totals",
    "meta_window_stats",
    "matchup_window_stats",
)


def _copy_rows(
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


def latest_generation(conn: psycopg.Connection[Any]) -> Generation | None:
    """The latest succeeded refresh, or ``None`` before the first one."""
    row = conn.execute(
        "SELECT generation, started_at, finished_at FROM refresh_log"
        " WHERE status = 'succeeded' ORDER BY generation DESC LIMIT 1"
    ).fetchone()
    return Generation(*row) if row else None


def _start_log(dsn: str, confidence: float, periods_json: dict[str, Any]) -> int:
    """Insert the ``running`` row on an autocommit connection; returns the generation.

    Rows left ``running`` by a run that died are marked failed first: the caller holds the
    refresh lock, so no other run can be in progress.
    """
    with db.connect(dsn, autocommit=True, application_name="manalytics-refresh") as log_conn:
        log_conn.execute(
            "UPDATE refresh_log SET status = 'failed', finished_at = clock_timestamp(),"
            " error = 'abandoned: the refresh process stopped before finishing'"
            " WHERE status = 'running'"
        )
        row = log_conn.execute(
            "INSERT INTO refresh_log (confidence, periods) VALUES (%s, %s) RETURNING generation",
            (confidence, Jsonb(periods_json)),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _fail_log(dsn: str, generation: int, error: str, durations: Mapping[str, float]) -> None:
    try:
        with db.connect(dsn, autocommit=True, application_name="manalytics-refresh") as log_conn:
            log_conn.execute(
                "UPDATE refresh_log SET status = 'failed', finished_at = clock_timestamp(),"
                " error = %s, durations = %s WHERE generation = %s",
                (error[:4000], Jsonb(dict(durations)), generation),
            )
    except psycopg.Error:  # pragma: no cover - the original error matters more
        log.exception("could not mark refresh generation %s as failed", generation)


def refresh_all(
    dsn: str,
    *,
    periods: Periods | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    keep_generations: int = 2,
    rules: SampleRules | None = None,
) -> RefreshResult:
    """Refresh every statistics view and recompute the standard windows (module docstring).

    Args:
        dsn: PostgreSQL connection string.
        periods: ``{format: [(start date, meta name), ...]}`` (e.g. :func:`load_periods`);
            formats without periods get no ``current`` window.
        confidence: level of every interval (stored in ``refresh_log``).
        lock_timeout_ms / statement_timeout_ms: limits of every statement of the run.
        keep_generations: succeeded generations kept in the window tables, the new one
            included (2 = the new one and the previous one).
        rules: minimum sample of the tier table (settings ``STATS_MIN_PLAYERS`` and
            ``STATS_MIN_DECIDED``; default :class:`SampleRules`).

    Returns:
        ``status="skipped"`` immediately when another refresh holds the lock, else
        ``"succeeded"`` with the new generation and per-step durations.

    Raises:
        Whatever failed; the transaction is rolled back (readers keep the previous
        generation) and the log row is marked ``failed``.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    if keep_generations < 1:
        raise ValueError("keep_generations must be >= 1")
    started = time.perf_counter()
    with db.connect(dsn, application_name="manalytics-refresh") as conn:
        locked = conn.execute(
            "SELECT pg_try_advisory_xact_lock(%s)", (REFRESH_LOCK_KEY,)
        ).fetchone()
        if not locked or not locked[0]:
            conn.rollback()
            log.info("statistics refresh skipped: another refresh holds the lock")
            return RefreshResult(status="skipped", seconds=time.perf_counter() - started)
        # Limits for every statement of the run. jit: the view queries are cheap but their
        # estimates are not, and compiling them costs more than running them.
        # statement_timeout last: it must not cut short the settings themselves.
        for name, value in (
            ("lock_timeout", f"{int(lock_timeout_ms)}ms"),
            ("jit", "off"),
            ("work_mem", REFRESH_WORK_MEM),
            ("statement_timeout", f"{int(statement_timeout_ms)}ms"),
        ):
            conn.execute("SELECT set_config(%s, %s, true)", (name, value))

        periods_json: dict[str, Any] = {}
        generation = _start_log(dsn, confidence, periods_json)
        result = RefreshResult(status="succeeded", generation=generation)
        try:
            # Display names and slugs of new labels first: mv_deck_facts groups by them.
            step = time.perf_counter()
            sync_archetype_names(conn)
            result.durations["archetype_names"] = time.perf_counter() - step
            for view in VIEWS:
                step = time.perf_counter()
                conn.execute(
                    sql.SQL("REFRESH MATERIALIZED VIEW CONCURRENTLY {}").format(
                        sql.Identifier(view)
                    )
                )
                result.durations[view] = time.perf_counter() - step
            # Fresh statistics for the window queries below: a materialized view is only
            # analysed by autovacuum, later, and stale estimates turn hash plans into sorts.
            step = time.perf_counter()
            conn.execute("ANALYZE mv_archetype_daily, mv_player_archetype_daily, mv_matchup_daily")
            result.durations["analyze"] = time.perf_counter() - step

            step = time.perf_counter()
            latest: dict[str, date] = {
                fmt: day
                for fmt, day in conn.execute(
                    "SELECT format, max(event_date) FROM mv_archetype_daily GROUP BY format"
                )
            }
            windows = standard_windows(latest, periods)
            for w in windows:
                if w.key == CURRENT_WINDOW:
                    periods_json[w.format] = {"name": w.period_name, "start": w.start.isoformat()}
            stats = compute_window_stats(conn, windows, EVENT_GROUPS, confidence, rules=rules)
            _copy_rows(
                conn,
                "stats_windows",
                ("format", "window_key", "start_date", "end_date", "latest_date", "period_name"),
                generation,
                (
                    {
                        "format": w.format,
                        "window_key": w.key,
                        "start_date": w.start,
                        "end_date": w.end,
                        "latest_date": w.latest,
                        "period_name": w.period_name,
                    }
                    for w in windows
                ),
            )
            _copy_rows(conn, "meta_window_totals", _TOTAL_COLUMNS, generation, stats.totals)
            result.meta_rows = _copy_rows(
                conn, "meta_window_stats", _ARCHETYPE_COLUMNS, generation, stats.archetypes
            )
            result.matchup_rows = _copy_rows(
                conn, "matchup_window_stats", _MATCHUP_COLUMNS, generation, stats.matchups
            )
            result.windows = len(windows)

            # Keep the previous succeeded generation(s); drop everything older.
            kept = [
                row[0]
                for row in conn.execute(
                    "SELECT generation FROM refresh_log WHERE status = 'succeeded'"
                    " ORDER BY generation DESC LIMIT %s",
                    (keep_generations - 1,),
                )
            ]
            oldest_kept = min([generation, *kept])
            for table in _GENERATION_TABLES:
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE generation < %s").format(sql.Identifier(table)),
                    (oldest_kept,),
                )
            result.durations["window_stats"] = time.perf_counter() - step
            result.seconds = time.perf_counter() - started
            conn.execute(
                "UPDATE refresh_log SET status = 'succeeded', finished_at = clock_timestamp(),"
                " durations = %s, seconds = %s, meta_rows = %s, matchup_rows = %s,"
                " periods = %s WHERE generation = %s",
                (
                    Jsonb({k: round(v, 4) for k, v in result.durations.items()}),
                    result.seconds,
                    result.meta_rows,
                    result.matchup_rows,
                    Jsonb(periods_json),
                    generation,
                ),
            )
            conn.commit()
        except BaseException as exc:
            conn.rollback()
            _fail_log(dsn, generation, repr(exc), result.durations)
            raise
    log.info(
        "statistics refresh generation %s: %.2f s, %s archetype rows, %s matchup cells",
        generation,
        result.seconds,
        result.meta_rows,
        result.matchup_rows,
    )
    return result
