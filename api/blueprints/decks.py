"""Decks: ``GET /api/v1/decks`` (filterable list) and ``/api/v1/decks/{id}`` (decklist, the
current classification and its condition-by-condition explanation)."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from flask import Blueprint
from flask.typing import ResponseReturnValue
from psycopg.rows import dict_row

from api.blueprints.events import (
    FORMAT_FILTER,
    FROM_FILTER,
    LIST_COST,
    LIST_DESCRIPTION,
    LIST_PAGE,
    TO_FILTER,
)
from api.cache import serve_cached
from api.errors import ApiError
from api.listing import deck_page
from api.resources import resources
from api.schemas import MAX_ID, Param, Query, endpoint, id_param, page
from pipelines.classify.explain_stored import explain_stored_deck
from pipelines.discovery.store import NEIGHBOURS

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

_DECK_SQL = """
SELECT d.id, d.tournament_id, t.name AS tournament, t.event_date, t.format, t.event_kind,
       t.uri AS tournament_uri, d.position, d.player, d.rank, d.result,
       d.record_wins AS wins, d.record_losses AS losses, d.record_draws AS draws,
       d.anchor_uri, d.deck_date, d.main_total, d.side_total
  FROM decks d JOIN tournaments t ON t.id = d.tournament_id
 WHERE d.id = %s
"""
# Lines in file order (duplicate lines kept, as the classifier counts them).
_CARDS_SQL = """
SELECT 'main' AS board, x.ord, c.name, c.canonical_name, x.copies
  FROM decks d
 CROSS JOIN LATERAL unnest(d.main_card_ids, d.main_counts)
       WITH ORDINALITY AS x(card_id, copies, ord)
  JOIN cards c ON c.id = x.card_id
 WHERE d.id = %(id)s
UNION ALL
SELECT 'side', x.ord, c.name, c.canonical_name, x.copies
  FROM decks d
 CROSS JOIN LATERAL unnest(d.side_card_ids, d.side_counts)
       WITH ORDINALITY AS x(card_id, copies, ord)
  JOIN cards c ON c.id = x.card_id
 WHERE d.id = %(id)s
 ORDER BY 1, 2
"""
_LABEL_SQL = """
SELECT a.archetype, a.definition, a.variant, a.color, a.companion, a.method, a.score,
       a.candidates, v.version AS definitions_version
  FROM current_deck_archetypes a JOIN definition_versions v ON v.id = a.version_id
 WHERE a.deck_id = %s
 ORDER BY a.version_id DESC LIMIT 1
"""
# Precomputed by the discovery worker (pipelines.discovery.store): primary-key reads only.
_NEAREST_SQL = """
SELECT archetype, similarity FROM deck_nearest_archetype WHERE deck_id = %s
"""
_SIMILAR_SQL = """
SELECT n.rank, n.neighbour_id AS id, n.similarity, t.event_date, t.name AS tournament, d.player,
       -- One current label per deck; no ORDER BY, so the planner uses the deck_id index
       -- (ordering by version_id walked the primary key backwards: 25x slower).
       coalesce((SELECT a.archetype FROM current_deck_archetypes a WHERE a.deck_id = d.id
                  LIMIT 1), 'Unknown') AS archetype
  FROM deck_neighbours n
  JOIN decks d ON d.id = n.neighbour_id
  JOIN tournaments t ON t.id = d.tournament_id
 WHERE n.deck_id = %(id)s AND n.rank <= %(k)s
 ORDER BY n.rank
"""


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

    def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        rows, total, exact = deck_page(conn, values)
        return {**page(rows, total, q), "total_exact": exact}

    return serve_cached(build)


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
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_DECK_SQL, (deck_id,)).fetchone()
        if row is None:
            raise ApiError(404, f"no deck {deck_id}")
        cards = cur.execute(_CARDS_SQL, {"id": deck_id}).fetchall()
        label = cur.execute(_LABEL_SQL, (deck_id,)).fetchone()
        nearest = cur.execute(_NEAREST_SQL, (deck_id,)).fetchone()
    boards: dict[str, list[dict[str, Any]]] = {"main": [], "side": []}
    for line in cards:
        boards[line["board"]].append(
            {"card": line["name"], "canonical": line["canonical_name"], "count": line["copies"]}
        )
    explanation, problem = _explanation(conn, deck_id)
    return {
        **row,
        "main": boards["main"],
        "side": boards["side"],
        "classification": label,
        "explanation": explanation,
        "explanation_error": problem,
        "nearest_archetype": nearest,  # Unknown decks only (issue 17)
    }


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
        with conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                "SELECT t.format FROM decks d JOIN tournaments t ON t.id = d.tournament_id "
                "WHERE d.id = %s",
                (deck_id,),
            ).fetchone()
            if row is None:
                raise ApiError(404, f"no deck {deck_id}")
            items = cur.execute(_SIMILAR_SQL, {"id": deck_id, "k": q["k"]}).fetchall()
        return {"deck_id": deck_id, "format": row["format"], "items": items}

    return serve_cached(build)
