"""Filtered lists of base-table rows that do not grow with history (issue 12, defect 3).

``GET /api/v1/decks`` and ``/tournaments`` read base tables (the newest rows, before any
refresh). At archive scale (~490k decks) the old queries counted every matching row with a
window function and looked up each matching deck's archetype to do it (2-4 s, then 503 after
the statement timeout). Now:

* **one page, then stop**: the WHERE clause holds only the filters given (fixed fragments
  joined with AND — no catch-all ``x IS NULL OR …`` that defeats indexes and generic plans),
  and rows come in display order (event date, then id, newest first) from the indexes of
  migration 0009, so a page reads about ``offset + limit`` rows whatever the history;
* **labels only for the page**: the archetype of each of the ≤ ``limit`` returned decks is one
  primary-key lookup; an archetype filter is a semi-join from the label index;
* **a bounded total**: ``total`` is exact up to :data:`TOTAL_CAP` matching rows; beyond, the
  count stops there, ``total`` is :data:`TOTAL_CAP` and ``total_exact`` is false (a lower
  bound). On the last page the total is known without counting;
* **bounded offsets**: ``offset`` goes up to :data:`MAX_LIST_OFFSET`; deeper pages need
  narrower filters (a date range).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

TOTAL_CAP = 10_000
MAX_LIST_OFFSET = 10_000

DECK_FILTERS: Mapping[str, str] = {
    "format": "t.format = %(format)s",
    "player": "lower(d.player) = lower(%(player)s)",
    "tournament": "d.tournament_id = %(tournament)s",
    "from": "t.event_date >= %(from)s",
    "to": "t.event_date <= %(to)s",
    # A labelled archetype: the ids of the decks labelled so (under active definitions),
    # found through the label index and computed once (an init plan), then looked up by
    # primary key. (A deck labelled under two active versions — a slip the classifier
    # prevents — would be listed under both labels, shown with the newest.)
    "archetype": """d.id = ANY (ARRAY(
        SELECT c.deck_id FROM current_deck_archetypes c WHERE c.archetype = %(archetype)s))""",
}
# 'Unknown' is also every deck without a label: an anti-join (hashable, no per-row lookup).
_UNKNOWN_FILTER = """NOT EXISTS (
        SELECT 1 FROM current_deck_archetypes c
         WHERE c.deck_id = d.id AND c.archetype <> %(archetype)s)"""
_DECK_PAGE = """
WITH page AS (
    SELECT d.id, t.event_date
      FROM decks d JOIN tournaments t ON t.id = d.tournament_id
     WHERE {filters}
     ORDER BY t.event_date DESC, d.id DESC
     LIMIT %(limit)s OFFSET %(offset)s
)
SELECT d.id, d.tournament_id, t.name AS tournament, t.event_date, t.format, t.event_kind,
       d.player, d.rank, d.result, d.record_wins AS wins, d.record_losses AS losses,
       d.record_draws AS draws, coalesce(l.archetype, 'Unknown') AS archetype, l.color
  FROM page
  JOIN decks d ON d.id = page.id
  JOIN tournaments t ON t.id = d.tournament_id
  -- The newest label under the format's active definitions: one lookup per page row.
  LEFT JOIN LATERAL (
        SELECT a.archetype, a.color FROM current_deck_archetypes a
         WHERE a.deck_id = d.id ORDER BY a.version_id DESC LIMIT 1) l ON true
 ORDER BY page.event_date DESC, page.id DESC
"""
_DECK_COUNT = """
SELECT count(*) AS n FROM (
    SELECT 1 FROM decks d JOIN tournaments t ON t.id = d.tournament_id
     WHERE {filters} LIMIT %(cap)s) capped
"""

TOURNAMENT_FILTERS: Mapping[str, str] = {
    "format": "t.format = %(format)s",
    "kind": "t.event_kind = %(kind)s",
    "source": "t.source_id = (SELECT id FROM sources WHERE name = %(source)s)",
    "from": "t.event_date >= %(from)s",
    "to": "t.event_date <= %(to)s",
}
_TOURNAMENT_PAGE = """
SELECT t.id, t.name, t.event_date, t.format, t.event_kind, s.name AS source, t.uri,
       t.player_count, t.deck_count, t.match_count
  FROM tournaments t JOIN sources s ON s.id = t.source_id
 WHERE {filters}
 ORDER BY t.event_date DESC, t.id DESC
 LIMIT %(limit)s OFFSET %(offset)s
"""
_TOURNAMENT_COUNT = """
SELECT count(*) AS n FROM (SELECT 1 FROM tournaments t WHERE {filters} LIMIT %(cap)s) capped
"""


def _where(fragments: Mapping[str, str], values: Mapping[str, Any]) -> sql.Composable:
    """The AND of the fragments whose filter was given (constants only: values are bound)."""
    chosen = []
    for name, fragment in fragments.items():
        if values.get(name) is None:
            continue
        if name == "archetype" and values[name] == "Unknown":
            fragment = _UNKNOWN_FILTER
        chosen.append(sql.SQL(fragment))  # module constants
    return sql.SQL(" AND ").join(chosen) if chosen else sql.SQL("true")


def _page(
    conn: psycopg.Connection[Any],
    page_sql: str,
    count_sql: str,
    fragments: Mapping[str, str],
    values: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], int, bool]:
    where = _where(fragments, values)
    params = {**values, "cap": TOTAL_CAP + 1}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql.SQL(page_sql).format(filters=where), params).fetchall()
        if len(rows) < values["limit"] and (rows or values["offset"] == 0):
            return rows, values["offset"] + len(rows), True  # the last page: no count needed
        counted = cur.execute(sql.SQL(count_sql).format(filters=where), params).fetchone()
    matching = int(counted["n"]) if counted else 0
    return rows, min(matching, TOTAL_CAP), matching <= TOTAL_CAP


def deck_page(
    conn: psycopg.Connection[Any], values: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], int, bool]:
    """One page of decks, the (bounded) total and whether it is exact."""
    return _page(conn, _DECK_PAGE, _DECK_COUNT, DECK_FILTERS, values)


def tournament_page(
    conn: psycopg.Connection[Any], values: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], int, bool]:
    """One page of tournaments, the (bounded) total and whether it is exact."""
    return _page(conn, _TOURNAMENT_PAGE, _TOURNAMENT_COUNT, TOURNAMENT_FILTERS, values)


__all__ = ["MAX_LIST_OFFSET", "TOTAL_CAP", "deck_page", "tournament_page"]
