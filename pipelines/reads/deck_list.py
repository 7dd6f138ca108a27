"""The deck list (``GET /api/v1/decks``): one page newest first (event date, then deck id)
and a bounded total, with work that follows the page, not the history (issue 14).

Each request is driven by ONE index walked in display order — the one of the filter that
narrows most — and the other filters are checked on the rows it yields:

=======================  ==================================================================
filter given             driver
=======================  ==================================================================
``tournament``           the tournament's decks (a few hundred at most)
``player``               the player's decks (``ix_decks_player_lower``: one player's history)
``archetype``            that archetype's labels of each current definitions version, newest
                         first (``ix_deck_archetypes_list``: the label stores the event date,
                         migration 0015), merged across versions
``archetype=Unknown``    the labels "Unknown" as above, plus the unlabelled decks (below)
otherwise                tournaments newest first (format, date range), then their deck ids
                         (``ix_tournaments_*``, ``ix_decks_tournament_id``)
=======================  ==================================================================

Unlabelled decks read as Unknown. Classification records, per definitions folder, the deck
id up to which every deck of its scope is labelled (``active_definitions.labelled_through``);
a format whose folders all have one (and one of them undated: it covers every date) has its
unlabelled decks above the lowest: a primary-key range, checked one by one (empty between
nightly runs). Any other format (no definitions, dated folders only, or not classified since
migration 0015) is walked newest first with a check per deck (every deck of a format without
definitions matches, so that walk stops after one page).

Each walk reads at most ``offset + limit`` rows it keeps (``depth``), so deep offsets cost
what they skip, bounded by :data:`~pipelines.reads.paging.MAX_LIST_OFFSET`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from pipelines.classify.scopes import definitions_scope
from pipelines.ingest.normalize import canonical_format
from pipelines.reads.paging import ListQuery, Page, count_of, read_page, where

UNKNOWN = "Unknown"
# Checks on the rows of a tournament or player walk (``d`` decks, ``t`` tournaments).
CHECKS: Mapping[str, str] = {
    "format": "t.format = %(format)s",
    "player": "lower(d.player) = lower(%(player)s)",
    "tournament": "d.tournament_id = %(tournament)s",
    "from": "t.event_date >= %(from)s",
    "to": "t.event_date <= %(to)s",
    "archetype": """EXISTS (SELECT 1 FROM deck_archetypes a
        WHERE a.deck_id = d.id AND a.version_id = ANY(%(active)s)
          AND a.archetype = %(archetype)s)""",
}
# Unknown: no current label other than Unknown (labelled Unknown, or not labelled at all).
_UNKNOWN_CHECK = """NOT EXISTS (SELECT 1 FROM deck_archetypes a
        WHERE a.deck_id = d.id AND a.version_id = ANY(%(active)s) AND a.archetype <> 'Unknown')"""
_UNLABELLED_CHECK = """NOT EXISTS (SELECT 1 FROM deck_archetypes a
        WHERE a.deck_id = d.id AND a.version_id = ANY(%(active)s))"""
_WALK = """SELECT d.id, t.event_date FROM decks d JOIN tournaments t ON t.id = d.tournament_id
 WHERE {checks}"""
# OFFSET 0 keeps the subquery whole: its own index first (see _selection).
_NARROW = """SELECT d.id, t.event_date
  FROM (SELECT d.id, d.tournament_id, d.player FROM decks d WHERE {decks} OFFSET 0) d
  JOIN tournaments t ON t.id = d.tournament_id
 WHERE {checks}"""
# One archetype's labels, newest first, per definitions version, each walk cut at ``depth``.
_LABELS = """SELECT x.deck_id AS id, x.event_date
  FROM unnest(%(versions)s::integer[]) AS v(id)
 CROSS JOIN LATERAL (
       SELECT a.deck_id, a.event_date FROM deck_archetypes a
        WHERE a.version_id = v.id AND a.archetype = %(archetype)s AND {dates}
        ORDER BY a.event_date DESC, a.deck_id DESC LIMIT %(depth)s) x"""
_LABEL_DATES: Mapping[str, str] = {
    "from": "a.event_date >= %(from)s",
    "to": "a.event_date <= %(to)s",
}
_NEWEST_FIRST = " ORDER BY event_date DESC, id DESC"
# The unlabelled decks of labelled formats: above the lowest deck id they are labelled
# through (a value the planner sees: a primary-key range), each checked.
_RECENT = """SELECT d.id, t.event_date FROM decks d JOIN tournaments t ON t.id = d.tournament_id
 WHERE d.id > %(through)s AND t.format = ANY(%(covered)s) AND {checks}"""
_PAGE = """
WITH {matching}page AS MATERIALIZED ({rows} ORDER BY event_date DESC, id DESC
                           LIMIT %(limit)s OFFSET %(offset)s)
SELECT d.id, d.tournament_id, t.name AS tournament, t.event_date, t.format, t.event_kind,
       d.player, d.rank, d.result, d.record_wins AS wins, d.record_losses AS losses,
       d.record_draws AS draws, coalesce(l.archetype, 'Unknown') AS archetype, l.color{total}
  FROM page
  JOIN decks d ON d.id = page.id
  JOIN tournaments t ON t.id = d.tournament_id
  -- The page's labels only (at most ``limit`` index reads): the newest current version.
  LEFT JOIN LATERAL (
        SELECT a.archetype, a.color FROM deck_archetypes a
         WHERE a.deck_id = d.id AND a.version_id = ANY(%(active)s)
         ORDER BY a.version_id DESC LIMIT 1) l ON true
 ORDER BY page.event_date DESC, page.id DESC
"""
# A bounded driver (one player's or tournament's decks) is read whole to be sorted: the page
# and the capped total come from that one read (paging.ListQuery.counted).
_COUNTED = "matching AS MATERIALIZED ({selection}),\n     "
_COUNTED_TOTAL = """,
       (SELECT count(*) FROM (SELECT 1 FROM matching LIMIT %(cap)s) capped) AS matching"""
_ACTIVE_SQL = "SELECT format, version_id, labelled_through FROM active_definitions"


@dataclass(frozen=True)
class Active:
    """The current definitions versions, by the format (as events store it) they label."""

    versions: dict[str, list[int]]
    # Formats whose unlabelled decks all lie above a deck id (see the module docstring).
    labelled_through: dict[str, int]

    @property
    def all_versions(self) -> list[int]:
        return [v for ids in self.versions.values() for v in ids]


def active(conn: psycopg.Connection[Any]) -> Active:
    """The active definitions (a handful of rows)."""
    versions: dict[str, list[int]] = {}
    through: dict[str, int] = {}
    undated: set[str] = set()
    unknown: set[str] = set()
    with conn.cursor(row_factory=tuple_row) as cur:  # whatever the connection's factory
        rows = cur.execute(_ACTIVE_SQL).fetchall()
    for folder, version_id, labelled_through in rows:
        scope = definitions_scope(folder)
        fmt = canonical_format(scope.format)[0]
        versions.setdefault(fmt, []).append(version_id)
        if not scope.dated:
            undated.add(fmt)
        if labelled_through <= 0:
            unknown.add(fmt)
        through[fmt] = min(through.get(fmt, labelled_through), labelled_through)
    known = {f: n for f, n in through.items() if f in undated and f not in unknown}
    return Active(versions, known)


def deck_query(conn: psycopg.Connection[Any], filters: Mapping[str, Any]) -> ListQuery:
    """The statements of a deck list; ``filters`` holds format, archetype, player,
    tournament, from, to (None: not given). Reads the active definitions."""
    current = active(conn)
    params = {**filters, "active": current.all_versions}
    selection = _selection(filters, current, params)
    count = count_of(selection)
    if not _given(filters, "tournament", "player"):
        page = sql.SQL(_PAGE).format(matching=sql.SQL(""), rows=selection, total=sql.SQL(""))
        return ListQuery(page, count, params)
    page = sql.SQL(_PAGE).format(
        matching=sql.SQL(_COUNTED).format(selection=selection),
        rows=sql.SQL("SELECT id, event_date FROM matching"),
        total=sql.SQL(_COUNTED_TOTAL),
    )
    return ListQuery(page, count, params, counted=True)


def deck_page(conn: psycopg.Connection[Any], filters: Mapping[str, Any]) -> Page:
    """One page of decks (``filters``: see :func:`deck_query`, plus ``limit`` and
    ``offset``)."""
    return read_page(conn, deck_query(conn, filters), filters["limit"], filters["offset"])


def _given(filters: Mapping[str, Any], *names: str) -> list[str]:
    return [n for n in names if filters.get(n) is not None]


def _selection(filters: Mapping[str, Any], current: Active, params: dict[str, Any]) -> sql.Composed:
    """The (id, event_date) rows of the matching decks, from the driver of the filters.
    Adds the parameters it needs to ``params``."""
    archetype = filters.get("archetype")
    narrow = _given(filters, "tournament", "player")
    if archetype is None or narrow:
        # The driver's own filter is applied by the driver (checked twice, its selectivity
        # counted twice: the planner expected a handful of a player's 1,600 decks).
        checks = [
            CHECKS[n] for n in _given(filters, *CHECKS) if n != "archetype" and n not in narrow[:1]
        ]
        if archetype is not None:
            checks.append(_UNKNOWN_CHECK if archetype == UNKNOWN else CHECKS["archetype"])
        if not narrow:
            return sql.SQL(_WALK).format(checks=where(checks))
        # The tournament's or player's decks first, then sorted: walking history in date
        # order and filtering (the planner's pick when it expects the matches early) read
        # 5,000 tournaments for a player of 1,600 decks.
        return sql.SQL(_NARROW).format(decks=where([CHECKS[narrow[0]]]), checks=where(checks))
    fmt = filters.get("format")
    params["versions"] = current.versions.get(fmt, []) if fmt else current.all_versions
    labels = sql.SQL(_LABELS).format(
        dates=where([_LABEL_DATES[n] for n in _given(filters, "from", "to")])
    )
    if archetype != UNKNOWN:
        return labels
    return _unknown(filters, current, params, labels)


def _unknown(
    filters: Mapping[str, Any], current: Active, params: dict[str, Any], labels: sql.Composed
) -> sql.Composed:
    """Labelled Unknown, plus the unlabelled decks of labelled formats (above the deck id
    they are labelled through) and of the other formats (walked newest first)."""
    fmt = filters.get("format")
    through = current.labelled_through
    if fmt is not None:
        through = {fmt: through[fmt]} if fmt in through else {}
    params["covered"], params["through"] = list(through), min(through.values(), default=0)
    checks = [CHECKS[n] for n in _given(filters, "format", "from", "to")]
    parts = [labels]
    if through:
        parts.append(sql.SQL(_RECENT).format(checks=where([*checks, _UNLABELLED_CHECK])))
    if fmt is None or fmt not in through:
        walk = ["NOT (t.format = ANY(%(covered)s))", *checks, _UNLABELLED_CHECK]
        parts.append(sql.SQL(_WALK + _NEWEST_FIRST + " LIMIT %(depth)s").format(checks=where(walk)))
    union = sql.SQL(" UNION ALL ").join(sql.SQL("({})").format(p) for p in parts)
    return sql.SQL("SELECT id, event_date FROM ({}) unknown").format(union)
