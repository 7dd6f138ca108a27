"""Query plans of the base-table lists (``/decks``, ``/tournaments``): every filter, the
first page, a deep offset and the bounded count walk an index, never a big table."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pipelines.reads.deck_list import deck_query
from pipelines.reads.events import tournament_query
from pipelines.reads.paging import MAX_LIST_OFFSET, ListQuery
from tests.plans.plan_check import assert_plan

DECK_KEYS = ("format", "archetype", "player", "tournament", "from", "to")
TOURNAMENT_KEYS = ("format", "kind", "source", "from", "to")
# A tournament's decks: by (tournament_id, id), or (tournament_id, position) when only
# counted (both are read alone, without the table).
WALK = {"ix_decks_tournament_id", "decks_tournament_id_position_key"}
LABELS = {"ix_deck_archetypes_list"}
PLAYER = {"ix_decks_player_lower"}
TOURNAMENT = WALK


@pytest.fixture(scope="module")
def pick(plan_conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Filter values of the plan database: its biggest format, that format's most and least
    common archetypes, its most prolific player, a tournament, the last month."""
    row = plan_conn.execute(
        """WITH f AS (SELECT format FROM tournaments GROUP BY 1 ORDER BY count(*) DESC LIMIT 1),
                a AS (SELECT c.archetype, count(*) AS n FROM current_deck_archetypes c
                        JOIN decks d ON d.id = c.deck_id
                        JOIN tournaments t ON t.id = d.tournament_id
                       WHERE t.format = (SELECT format FROM f) AND c.archetype <> 'Unknown'
                       GROUP BY 1)
           SELECT (SELECT format FROM f),
                  (SELECT archetype FROM a ORDER BY n DESC LIMIT 1),
                  (SELECT archetype FROM a ORDER BY n LIMIT 1),
                  (SELECT player FROM decks GROUP BY 1 ORDER BY count(*) DESC LIMIT 1),
                  (SELECT max(tournament_id) FROM decks),
                  (SELECT max(event_date) FROM tournaments)"""
    ).fetchone()
    assert row is not None
    fmt, common, rare, player, tournament, last = row
    return {
        "format": fmt,
        "common": common,
        "rare": rare,
        "player": player,
        "tournament": tournament,
        "month": {"from": last.replace(day=1), "to": last},
    }


def _check(conn: psycopg.Connection[Any], query: ListQuery, **expect: Any) -> None:
    """The first page, the deepest page and the count all use the intended index."""
    for offset in (0, MAX_LIST_OFFSET):
        assert_plan(conn, query.rows, query.page_params(50, offset), **expect)
    assert_plan(conn, query.count, query.count_params(), **expect)


DECK_SHAPES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "everything": ({}, {"uses_one_of": WALK}),
    "format": ({"format": "$format"}, {"uses_one_of": WALK}),
    "format_month": ({"format": "$format", "$month": True}, {"uses_one_of": WALK}),
    "month": ({"$month": True}, {"uses_one_of": WALK}),
    "archetype_common": ({"format": "$format", "archetype": "$common"}, {"uses": LABELS}),
    "archetype_rare": ({"format": "$format", "archetype": "$rare"}, {"uses": LABELS}),
    "archetype_any_format": ({"archetype": "$common"}, {"uses": LABELS}),
    "archetype_month": ({"archetype": "$rare", "$month": True}, {"uses": LABELS}),
    "unknown": ({"archetype": "Unknown"}, {"uses": LABELS}),
    "unknown_format": ({"format": "$format", "archetype": "Unknown"}, {"uses": LABELS}),
    "player": ({"player": "$player"}, {"uses": PLAYER}),
    "player_format_archetype": (
        {"player": "$player", "format": "$format", "archetype": "$common"},
        {"uses": PLAYER},
    ),
    "player_unknown": ({"player": "$player", "archetype": "Unknown"}, {"uses": PLAYER}),
    "tournament": ({"tournament": "$tournament"}, {"uses_one_of": TOURNAMENT}),
    "tournament_archetype": (
        {"tournament": "$tournament", "archetype": "$common"},
        {"uses_one_of": TOURNAMENT},
    ),
}


def _filters(shape: dict[str, Any], pick: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    filters: dict[str, Any] = dict.fromkeys(keys)
    for key, value in shape.items():
        if key == "$month":
            filters.update(pick["month"])
        else:
            filters[key] = pick[value[1:]] if str(value).startswith("$") else value
    return filters


@pytest.mark.parametrize("name", DECK_SHAPES)
def test_deck_list_plans(
    plan_conn: psycopg.Connection[Any], pick: dict[str, Any], name: str
) -> None:
    shape, expect = DECK_SHAPES[name]
    _check(plan_conn, deck_query(plan_conn, _filters(shape, pick, DECK_KEYS)), **expect)


TOURNAMENT_SHAPES: dict[str, dict[str, Any]] = {
    "everything": {},
    "format": {"format": "$format"},
    "kind": {"kind": "challenge"},
    "source": {"source": "MTGO"},
    "format_kind_month": {"format": "$format", "kind": "league", "$month": True},
}


@pytest.mark.parametrize("name", TOURNAMENT_SHAPES)
def test_tournament_list_plans(
    plan_conn: psycopg.Connection[Any], pick: dict[str, Any], name: str
) -> None:
    filters = _filters(TOURNAMENT_SHAPES[name], pick, TOURNAMENT_KEYS)
    _check(plan_conn, tournament_query(filters))
