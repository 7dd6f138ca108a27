"""Tournaments: the list (``GET /api/v1/tournaments``) and one tournament with its standings,
rounds and decks (``/tournaments/{id}`` and the tournament page)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from pipelines.reads.paging import ListQuery, Page, count_of, read_page, where

# Each filter given adds its fragment; tournaments are walked newest first from the index
# of the most selective one (ix_tournaments_{format,kind,source}_recent, migrations 0009
# and 0015), or ix_tournaments_recent.
FILTERS: Mapping[str, str] = {
    "format": "t.format = %(format)s",
    "kind": "t.event_kind = %(kind)s",
    "source": "t.source_id = (SELECT id FROM sources WHERE name = %(source)s)",
    "from": "t.event_date >= %(from)s",
    "to": "t.event_date <= %(to)s",
}
_SELECTION = "SELECT t.id, t.event_date FROM tournaments t WHERE {filters}"
_PAGE = """
SELECT t.id, t.name, t.event_date, t.format, t.event_kind, s.name AS source, t.uri,
       t.player_count, t.deck_count, t.match_count
  FROM ({selection} ORDER BY t.event_date DESC, t.id DESC
        LIMIT %(limit)s OFFSET %(offset)s) page
  JOIN tournaments t ON t.id = page.id
  JOIN sources s ON s.id = t.source_id
 ORDER BY t.event_date DESC, t.id DESC
"""

_ONE_SQL = """
SELECT t.id, t.name, t.event_date, t.starts_at, t.format, t.format_inferred, t.event_kind,
       s.name AS source, t.uri, t.player_count, t.deck_count, t.match_count, t.updated_at
  FROM tournaments t JOIN sources s ON s.id = t.source_id
 WHERE t.id = %s
"""
_STANDINGS_SQL = """
SELECT position, rank, player, points, wins, losses, draws, omwp, gwp, ogwp, deck_id
  FROM standings WHERE tournament_id = %s ORDER BY position
"""
_MATCHES_SQL = """
SELECT round_index, round_name, position, player1, player2, p1_games, p2_games, draw_games,
       is_bye, deck1_id, deck2_id
  FROM matches WHERE tournament_id = %s ORDER BY round_index, position
"""
# The label under the format's active definitions (newest version if, by a slip, two are
# active for one deck — as the statistics do); unlabelled decks read as Unknown.
DECKS_SQL = """
SELECT d.id, d.position, d.player, d.rank, d.result, d.record_wins AS wins,
       d.record_losses AS losses, d.record_draws AS draws,
       coalesce(l.archetype, 'Unknown') AS archetype, l.color
  FROM decks d
  LEFT JOIN LATERAL (
        SELECT a.archetype, a.color FROM current_deck_archetypes a
         WHERE a.deck_id = d.id ORDER BY a.version_id DESC LIMIT 1) l ON true
 WHERE d.tournament_id = %s
 ORDER BY d.position
"""


def tournament_query(filters: Mapping[str, Any]) -> ListQuery:
    """The statements of a tournament list; ``filters`` holds the keys of :data:`FILTERS`
    (None: not given)."""
    selection = sql.SQL(_SELECTION).format(
        filters=where([f for name, f in FILTERS.items() if filters.get(name) is not None])
    )
    return ListQuery(sql.SQL(_PAGE).format(selection=selection), count_of(selection), filters)


def tournament_page(conn: psycopg.Connection[Any], filters: Mapping[str, Any]) -> Page:
    """One page of tournaments, newest first (``filters``: see :func:`tournament_query`,
    plus ``limit`` and ``offset``)."""
    return read_page(conn, tournament_query(filters), filters["limit"], filters["offset"])


def tournament(conn: psycopg.Connection[Any], tournament_id: int) -> dict[str, Any] | None:
    """A tournament with standings, rounds (matches by round) and decks; None when absent."""
    with conn.cursor(row_factory=dict_row) as cur:
        event = cur.execute(_ONE_SQL, (tournament_id,)).fetchone()
        if event is None:
            return None
        standings = cur.execute(_STANDINGS_SQL, (tournament_id,)).fetchall()
        matches = cur.execute(_MATCHES_SQL, (tournament_id,)).fetchall()
        decks = cur.execute(DECKS_SQL, (tournament_id,)).fetchall()
    rounds: list[dict[str, Any]] = []
    for match in matches:
        if not rounds or rounds[-1]["round_index"] != match["round_index"]:
            rounds.append(
                {
                    "round_index": match["round_index"],
                    "round_name": match["round_name"],
                    "matches": [],
                }
            )
        rounds[-1]["matches"].append(
            {k: v for k, v in match.items() if k not in {"round_index", "round_name"}}
        )
    return {**event, "standings": standings, "rounds": rounds, "decks": decks}
