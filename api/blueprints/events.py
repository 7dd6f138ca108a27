"""Tournaments: ``GET /api/v1/tournaments`` and ``/api/v1/tournaments/{id}`` (standings,
rounds, decks with their current archetype). Reads of base tables, cached like every public
read (the nightly chain ingestion → classification → refresh moves the generation on)."""

from __future__ import annotations

from typing import Any

import psycopg
from flask import Blueprint
from flask.typing import ResponseReturnValue

from api.cache import serve_cached
from api.errors import ApiError
from api.params import LIMIT, Param, id_param
from api.request_parsing import Query
from api.schemas import endpoint, page
from pipelines.core.vocabulary import EVENT_KINDS
from pipelines.reads.events import tournament as read_tournament
from pipelines.reads.events import tournament_page
from pipelines.reads.paging import MAX_LIST_OFFSET, TOTAL_CAP, Page

blueprint = Blueprint("events", __name__)

TOURNAMENT_ID = id_param("tournament_id", "tournament")
FORMAT_FILTER = Param("format", description="only this format (exact name)", max_length=100)
KIND_FILTER = Param("kind", description="only this event kind", enum=EVENT_KINDS)
SOURCE_FILTER = Param("source", description="only this source (MTGO, MTGmelee…)", max_length=50)
FROM_FILTER = Param("from", "date", "events on or after this day")
TO_FILTER = Param("to", "date", "events on or before this day")

# Base-table lists (pipelines.reads): bounded work, bounded total, priced higher by the limiter.
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

    return serve_cached(lambda conn: list_document(tournament_page(conn, values), q))


def list_document(found: Page, q: Query) -> dict[str, Any]:
    """The answer of a base-table list: the page envelope and whether the total is exact."""
    return {**page(found.items, found.total, q), "total_exact": found.exact}


def tournament_document(conn: psycopg.Connection[Any], tournament_id: int) -> dict[str, Any]:
    """A tournament with standings, rounds and decks (404 ApiError when absent); the API
    answer and the tournament page both read it."""
    found = read_tournament(conn, tournament_id)
    if found is None:
        raise ApiError(404, f"no tournament {tournament_id}")
    return found


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
