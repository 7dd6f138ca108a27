"""``mv_card_usage_weekly`` is filled in NumPy (:mod:`pipelines.stats.card_usage`); its
definition stays the SQL statement of ``sql/views/07_mv_card_usage_weekly.sql``. Both give
exactly the same rows: on the test world (shared canonical names), on boards listing a card
twice, cards missing from ``cards``, zero and negative counts, empty sideboards, and across
several chunks, both ways of finding a board's repeated cards."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import psycopg
import pytest

from pipelines.stats import card_usage
from pipelines.stats.aggregates import _FILL_SQL, open_scope
from pipelines.stats.refresh import refresh_all
from tests.integration.test_stats_views import PERIODS, World, build_world


def _edge_cases(conn: psycopg.Connection[Any]) -> None:
    w = World(conn)
    fire = w.card("Fire // Ice", "Fire // Ice")
    w.card("Fire/Ice", "Fire // Ice")
    island = w.card("Island")
    for offset in range(12):
        day = date(2024, 3, 4) + timedelta(days=3 * offset)
        t = w.tournament("Modern", day, "challenge" if offset % 2 else "league")
        w.deck(t, f"p{offset}", "A", main=(("Island", 20), ("Fire/Ice", 2), ("Fire // Ice", 1)))
        w.deck(t, f"q{offset}", "A", main=(("Island", 4), ("Island", 3)), side=(("Island", 0),))
        w.deck(t, f"r{offset}", None, main=(("Mountain", 20),), side=(("Fire // Ice", 2),))
        deck = w.deck(t, f"s{offset}", "B")
        # A card id that is not in `cards`, a negative count, a duplicate through it.
        conn.execute(
            "UPDATE decks SET main_card_ids = %s, main_counts = %s,"
            " side_card_ids = %s, side_counts = %s WHERE id = %s",
            (
                [island, 999_999, fire, 999_998, 999_998],
                [2, 3, -1, 1, 1],
                [999_997],
                [2],
                deck,
            ),
        )
    conn.commit()


def _compare(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        open_scope(conn, full=True)
        conn.execute("CREATE TEMP TABLE by_sql (LIKE mv_card_usage_weekly)")
        conn.execute("CREATE TEMP TABLE by_numpy (LIKE mv_card_usage_weekly)")
        conn.execute(
            _FILL_SQL["mv_card_usage_weekly"].replace(
                "INSERT INTO mv_card_usage_weekly", "INSERT INTO by_sql", 1
            )
        )
        written = card_usage.fill_card_usage(conn, "by_numpy")
        row = conn.execute(
            "SELECT (SELECT count(*) FROM (TABLE by_sql EXCEPT ALL TABLE by_numpy) a),"
            "       (SELECT count(*) FROM (TABLE by_numpy EXCEPT ALL TABLE by_sql) b),"
            "       (SELECT count(*) FROM by_sql)"
        ).fetchone()
        conn.rollback()
    assert row is not None
    assert row[0] == 0 and row[1] == 0, row
    assert written == row[2]
    return written


@pytest.mark.parametrize(
    ("chunk", "cells"), [(card_usage.CHUNK_DECKS, card_usage._MATRIX_CELLS), (7, 0)]
)
def test_numpy_fill_equals_the_sql_definition(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch, chunk: int, cells: int
) -> None:
    build_world(pg_dsn)
    with psycopg.connect(pg_dsn) as conn:
        _edge_cases(conn)
    refresh_all(pg_dsn, periods=PERIODS)  # mv_deck_facts of every deck
    monkeypatch.setattr(card_usage, "CHUNK_DECKS", chunk)
    monkeypatch.setattr(card_usage, "_MATRIX_CELLS", cells)  # 0: repeated cards by sorting
    assert _compare(pg_dsn) > 10
