"""Decks: ``GET /api/v1/decks`` (filterable list) and ``/api/v1/decks/{id}`` (decklist, the
current classification and its condition-by-condition explanation)."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from flask import Blueprint
from flask.typing import ResponseReturnValue

from api.blueprints.events import (
    FORMAT_FILTER,
    FROM_FILTER,
    LIST_COST,
    LIST_DESCRIPTION,
    LIST_PAGE,
    TO_FILTER,
    list_document,
)
from api.cache import serve_cached
from api.errors import ApiError
from api.params import MAX_ID, Param, id_param
from api.request_parsing import Query
from api.resources import resources
from api.schemas import endpoint
from pipelines.classify.explain_stored import explain_stored_deck
from pipelines.discovery.store import NEIGHBOURS
from pipelines.reads.deck_list import deck_page
from pipelines.reads.decks import deck as read_deck
from pipelines.reads.decks import similar as read_similar

log = logging.getLogger("manalytics.api.decks")
blueprint = Blueprint("decks", __name__)

DECK_ID = id_param("deck_id", "deck")
ARCHETYPE_FILTER = Param("archetype", description="only this archetype label", max_length=200)
PLAYER_FILTER = Param("player", description="only this player (case-insensitive)", max_length=200)
K_PARAM = Param(
    "k", "integer", "how many similar decks", minimum=1, maximum=NEIGHBOURS, default=NEIGHBOURS
)
TOURNAMENT_FILTER = Param(
    "tournament", "integer", "only decks of this tournament id", minimum=1, maximum=MAX_ID
)


@blueprint.get("/decks")
@endpoint(
    summary="Decks, most recent first",
    tags=["decks"],
    params=(
        FORMAT_FILTER,
        ARCHETYPE_FILTER,
        PLAYER_FILTER,
        TOURNAMENT_FILTER,
        FROM_FILTER,
        TO_FILTER,
        *LIST_PAGE,
    ),
    response="DeckList",
    cached=True,
    cost=LIST_COST,
    description=LIST_DESCRIPTION,
)
def decks(q: Query) -> ResponseReturnValue:
    """A page of decks (ordered by event date, then id, both descending)."""
    values = {key: q[key] for key in ("format", "archetype", "player", "tournament", "from", "to")}
    values.update(limit=q["limit"], offset=q["offset"])

    return serve_cached(lambda conn: list_document(deck_page(conn, values), q))


def _explanation(conn: psycopg.Connection[Any], deck_id: int) -> tuple[str | None, str | None]:
    """The classifier's explanation, or ``(None, reason)`` when it cannot be produced.

    Read on the request's own connection (pool, statement timeout) inside a savepoint, so a
    failure leaves the rest of the response readable.
    """
    try:
        with conn.transaction():
            text = explain_stored_deck(conn, resources().settings.definitions_dir, deck_id)
        return text, None
    except psycopg.errors.QueryCanceled:
        raise  # the statement timeout: answered as 503 like any other slow read
    except Exception as exc:  # no definitions for the format, unreadable files…: not fatal
        log.info("no explanation for deck %s: %s", deck_id, exc)
        return None, f"explanation unavailable: {type(exc).__name__}"


def deck_document(conn: psycopg.Connection[Any], deck_id: int) -> dict[str, Any]:
    """One deck with its lists, label and explanation (404 ApiError when absent); the API
    answer and the deck page both read it."""
    found = read_deck(conn, deck_id)
    if found is None:
        raise ApiError(404, f"no deck {deck_id}")
    explanation, problem = _explanation(conn, deck_id)
    return {**found, "explanation": explanation, "explanation_error": problem}


@blueprint.get("/decks/<int:deck_id>")
@endpoint(
    summary="One deck: decklist, classification and its explanation",
    tags=["decks"],
    params=(DECK_ID,),
    response="Deck",
    errors=(404,),
    cached=True,
)
def deck(deck_id: int) -> ResponseReturnValue:
    """A deck with its lists and label."""

    return serve_cached(lambda conn: deck_document(conn, deck_id))


@blueprint.get("/decks/<int:deck_id>/similar")
@endpoint(
    summary="The decks most like this one across its format's history",
    tags=["decks"],
    params=(DECK_ID, K_PARAM),
    response="SimilarDecks",
    errors=(404,),
    cached=True,
)
def similar(deck_id: int, q: Query) -> ResponseReturnValue:
    """k nearest decks by weighted card-set cosine similarity (precomputed by discovery)."""

    def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        found = read_similar(conn, deck_id, q["k"])
        if found is None:
            raise ApiError(404, f"no deck {deck_id}")
        return found

    return serve_cached(build)
