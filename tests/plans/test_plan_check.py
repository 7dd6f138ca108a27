"""The plan harness itself: the database is archive-like and the checks do fail."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.plans.database import PLAN_DECKS
from tests.plans.plan_check import assert_plan, explain, indexes, seq_scans


def test_the_plan_database_holds_at_least_100k_labelled_decks(
    plan_conn: psycopg.Connection[Any],
) -> None:
    row = plan_conn.execute(
        "SELECT (SELECT count(*) FROM decks), (SELECT count(*) FROM current_deck_archetypes),"
        " (SELECT count(*) FROM matches), (SELECT count(DISTINCT format) FROM tournaments)"
    ).fetchone()
    assert row is not None
    decks, labels, matches, formats = row
    assert decks >= PLAN_DECKS * 0.95 and labels >= decks * 0.5
    assert matches > decks and formats >= 3


def test_a_sequential_scan_of_a_big_table_fails(plan_conn: psycopg.Connection[Any]) -> None:
    query = "SELECT count(*) FROM decks WHERE player_key LIKE %s"
    assert "decks" in seq_scans(explain(plan_conn, query, ("%x%",)))
    with pytest.raises(AssertionError, match="sequential scan of \\['decks'\\]"):
        assert_plan(plan_conn, query, ("%x%",))


def test_a_missing_index_fails_and_a_primary_key_read_passes(
    plan_conn: psycopg.Connection[Any],
) -> None:
    query = "SELECT player FROM decks WHERE id = %(id)s"
    assert_plan(plan_conn, query, {"id": 7}, uses={"decks_pkey"})
    with pytest.raises(AssertionError, match="not used"):
        assert_plan(plan_conn, query, {"id": 7}, uses={"ix_decks_player_lower"})
    with pytest.raises(AssertionError, match="none of"):
        assert_plan(plan_conn, query, {"id": 7}, uses_one_of={"ix_decks_player_lower"})


def test_generic_plans_are_explained_without_the_values(
    plan_conn: psycopg.Connection[Any],
) -> None:
    query = "SELECT id FROM decks WHERE id = %(id)s OR id = %(id)s + 1"
    plan = explain(plan_conn, query, {"id": 7}, generic=True)
    assert "decks_pkey" in indexes(plan)
    # A literal '%' survives the placeholder numbering.
    plan = explain(
        plan_conn, "SELECT id FROM decks WHERE player LIKE '%%' || %s", ["x"], generic=True
    )
    assert plan["Node Type"]
