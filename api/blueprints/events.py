"""Tournaments: ``GET /api/v1/tournaments`` and ``/api/v1/tournaments/{id}`` (standings,
rounds, decks with their current archetype). Reads of base tables, cached like every public
read (the nightly chain ingestion → classification → refresh moves the generation on)."""

from __future__ import annotations

from typing import Any

import psycopg
from flask import Blueprint
from flask.typing import ResponseReturnValue
from psycopg.rows import dict_row

from api.cache import serve_cached
from api.errors import ApiError
from api.listing import MAX_LIST_OFFSET, TOTAL_CAP, tournament_page
from api.schemas import LIMIT, Param, Query, endpoint, id_param, page
from pipelines.core.vocabulary import EVENT_KINDS

blueprint = Blueprint("events", __name__)

TOURNAMENT_ID = id_param("tournament_id", "tournament")
FORMAT_FILTER = Param("format", description="only this format (exact name)", max_length=100)
KIND_FILTER = Param("kind", description="only this event kind", enum=EVENT_KINDS)
SOURCE_FILTER = Param("source", description="only this source (MTGO, MTGmelee…)", max_length=50)
FROM_FILTER = Param("from", "date", "events on or after this day")
TO_FILTER = Param("to", "date", "events on or before this day")

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
# active for one deck — as mv_deck_facts does); unlabelled decks read as Unknown.
_DECKS_SQL = """
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


# Base-table lists (api.listing): bounded work, bounded total, priced higher by the limiter.
LIST_COST = 5
LIST_PAGE = (
    LIMIT,
    Param(
        "offset",
        "integer",
        f"items to skip (at most {MAX_LIST_OFFSET}: narrow the filters for older items)",
        default=0,
        minimum=0,
        maximum=MAX_LIST_OFFSET,
    ),
)
LIST_DESCRIPTION = (
    f"`total` counts matching items exactly up to {TOTAL_CAP}; beyond, it is {TOTAL_CAP} and "
    "`total_exact` is false (a lower bound). A `from` after `to` matches nothing. Each request "
    f"costs {LIST_COST} from the client's rate-limit budget."
)


@blueprint.get("/tournaments")
@endpoint(
    summary="Tournaments, most recent first",
    tags=["tournaments"],
    params=(FORMAT_FILTER, KIND_FILTER, SOURCE_FILTER, FROM_FILTER, TO_FILTER, *LIST_PAGE),
    response="TournamentList",
    cached=True,
    cost=LIST_COST,
    description=LIST_DESCRIPTION,
)
def tournaments(q: Query) -> ResponseReturnValue:
    """A page of tournaments (ordered by date, then id, both descending)."""
    values = {key: q[key] for key in ("format", "kind", "source", "from", "to")}
    values.update(limit=q["limit"], offset=q["offset"])

    def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        rows, total, exact = tournament_page(conn, values)
        return {**page(rows, total, q), "total_exact": exact}

    return serve_cached(build)


def tournament_document(conn: psycopg.Connection[Any], tournament_id: int) -> dict[str, Any]:
    """A tournament with standings, rounds and decks (404 ApiError when absent); the API
    answer and the tournament page both read it."""
    with conn.cursor(row_factory=dict_row) as cur:
        event = cur.execute(_ONE_SQL, (tournament_id,)).fetchone()
        if event is None:
            raise ApiError(404, f"no tournament {tournament_id}")
        standings = cur.execute(_STANDINGS_SQL, (tournament_id,)).fetchall()
        matches = cur.execute(_MATCHES_SQL, (tournament_id,)).fetchall()
        decks = cur.execute(_DECKS_SQL, (tournament_id,)).fetchall()
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


@blueprint.get("/tournaments/<int:tournament_id>")
@endpoint(
    summary="One tournament: standings, rounds and decks",
    tags=["tournaments"],
    params=(TOURNAMENT_ID,),
    response="Tournament",
    errors=(404,),
    cached=True,
)
def tournament(tournament_id: int) -> ResponseReturnValue:
    """A tournament with its standings, rounds (matches) and decks."""

    return serve_cached(lambda conn: tournament_document(conn, tournament_id))
