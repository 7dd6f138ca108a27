"""Query plans of the one-item reads: a deck (lines, label, nearest archetype, explanation),
its similar decks, a tournament (standings, rounds, decks). Each is an index read of one
item; checked as the generic plan too (psycopg prepares a statement run 5 times on a
connection, and the server may then keep a plan made without the values)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pipelines.classify import explain_stored
from pipelines.reads import decks, events
from tests.plans.plan_check import assert_plan


@pytest.fixture(scope="module")
def ids(plan_conn: psycopg.Connection[Any]) -> dict[str, int]:
    row = plan_conn.execute(
        "SELECT (SELECT max(id) FROM decks), (SELECT max(tournament_id) FROM matches),"
        " (SELECT coalesce(max(deck_id), 1) FROM deck_neighbours)"
    ).fetchone()
    assert row is not None
    return {"deck": row[0], "tournament": row[1], "neighbour": row[2]}


DECK_READS = {
    "deck": (decks._DECK_SQL, "id", {"decks_pkey"}),
    "cards": (decks.CARDS_SQL, "id", {"decks_pkey", "cards_pkey"}),
    "label": (decks.LABEL_SQL, "id", {"ix_deck_archetypes_deck"}),
    "nearest": (decks._NEAREST_SQL, "id", {"deck_nearest_archetype_pkey"}),
    "explain_deck": (explain_stored._DECK, "id", {"decks_pkey"}),
    "explain_label": (explain_stored._STORED_LABEL, "id", {"ix_deck_archetypes_deck"}),
    "explain_cards": ("SELECT id, name FROM cards WHERE id = ANY(%s)", "cards", {"cards_pkey"}),
}


@pytest.mark.parametrize("generic", [False, True])
@pytest.mark.parametrize("name", DECK_READS)
def test_deck_reads(
    plan_conn: psycopg.Connection[Any], ids: dict[str, int], name: str, generic: bool
) -> None:
    query, value, uses = DECK_READS[name]
    if value == "cards":
        params: Any = ([1, 2, 3, 40],)
    elif "%(id)s" in query:
        params = {"id": ids["deck"]}
    else:
        params = (ids["deck"],)
    assert_plan(plan_conn, query, params, uses=uses, generic=generic)


@pytest.mark.parametrize("generic", [False, True])
def test_similar_decks(
    plan_conn: psycopg.Connection[Any], ids: dict[str, int], generic: bool
) -> None:
    params = {"id": ids["neighbour"], "k": 10}
    assert_plan(
        plan_conn, decks.SIMILAR_SQL, params, uses={"deck_neighbours_pkey"}, generic=generic
    )


TOURNAMENT_READS = {
    "tournament": (events._ONE_SQL, {"tournaments_pkey"}),
    "standings": (events._STANDINGS_SQL, {"standings_pkey"}),
    "matches": (events._MATCHES_SQL, {"matches_tournament_id_round_index_position_key"}),
    "decks": (events.DECKS_SQL, set()),
}


@pytest.mark.parametrize("generic", [False, True])
@pytest.mark.parametrize("name", TOURNAMENT_READS)
def test_tournament_reads(
    plan_conn: psycopg.Connection[Any], ids: dict[str, int], name: str, generic: bool
) -> None:
    query, uses = TOURNAMENT_READS[name]
    assert_plan(plan_conn, query, (ids["tournament"],), uses=uses, generic=generic)
