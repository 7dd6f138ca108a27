"""Query plans of the statistics reads (issue 14 point 4): custom windows over the whole
history and over one week, standard windows — no sequential scan of a big table.

The window statistics run under ``INDEX_PLAN_SETTINGS`` (set by
:func:`pipelines.stats.window_stats.compute_window_stats` for its statements), so their plans
are explained under the same settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pipelines.core.vocabulary import EVENT_GROUPS
from pipelines.stats import archetype_reads, meta_reads, window_stats
from pipelines.stats.windows import week_start
from tests.plans.plan_check import assert_plan

CELL_INDEX = "ix_mv_matchup_daily_cell"


@pytest.fixture(scope="module")
def target(plan_conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """The format with the most decks, its dates and its most played archetype."""
    row = plan_conn.execute(
        "SELECT format, min(event_date), max(event_date) FROM mv_archetype_daily"
        " GROUP BY format ORDER BY sum(decks) DESC LIMIT 1"
    ).fetchone()
    assert row is not None
    fmt, first, last = row
    top = plan_conn.execute(
        "SELECT archetype FROM mv_archetype_daily WHERE format = %s"
        " GROUP BY archetype ORDER BY sum(decks) DESC LIMIT 1",
        (fmt,),
    ).fetchone()
    assert top is not None
    return {"format": fmt, "first": first, "last": last, "archetype": top[0]}


@pytest.fixture
def serial(plan_conn: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    """The plan connection with the window statistics' planner settings."""
    for name, value in window_stats.INDEX_PLAN_SETTINGS.items():
        plan_conn.execute(sql.SQL("SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
    yield plan_conn
    for name in window_stats.INDEX_PLAN_SETTINGS:
        plan_conn.execute(sql.SQL("RESET {}").format(sql.Identifier(name)))


def _spans(target: dict[str, Any]) -> dict[str, tuple[date, date]]:
    return {
        "history": (target["first"], target["last"]),
        "week": (target["last"] - timedelta(days=6), target["last"]),
    }


def _params(target: dict[str, Any], span: tuple[date, date], group: str) -> dict[str, Any]:
    return {
        "format": target["format"],
        "archetype": target["archetype"],
        "start": span[0],
        "end": span[1],
        "first_week": week_start(span[0]),
        "last_week": week_start(span[1]),
        "kinds": sorted(EVENT_GROUPS[group]),
        "group": group,
        "limit": 10,
        **archetype_reads.week_parts(span[0], span[1]),
    }


@pytest.mark.parametrize("span", ["history", "week"])
@pytest.mark.parametrize("generic", [False, True])
def test_window_statistics_read_the_per_player_and_cell_indexes(
    serial: psycopg.Connection[Any], target: dict[str, Any], span: str, generic: bool
) -> None:
    params = _params(target, _spans(target)[span], "all")
    archetype_params = {k: params[k] for k in ("format", "start", "end", "kinds")}
    # The whole history streams through the covering indexes; a week may use the date ones.
    # Since migration 0021 the unique date index of the per-player rows covers them (an
    # index-only range scan of the days; migration 0026 dropped the per-player index);
    # either covering index reads the matchup cells.
    assert_plan(serial, window_stats._ARCHETYPE_SQL, archetype_params,
                uses={"ux_mv_player_archetype_daily"}, generic=generic)  # fmt: skip
    assert_plan(serial, window_stats._MATCHUP_SQL, archetype_params,
                uses_one_of={CELL_INDEX, "ux_mv_matchup_daily"}, generic=generic)  # fmt: skip


@pytest.mark.parametrize("span", ["history", "week"])
@pytest.mark.parametrize("generic", [False, True])
def test_archetype_detail_reads_use_indexes(
    serial: psycopg.Connection[Any], target: dict[str, Any], span: str, generic: bool
) -> None:
    params = _params(target, _spans(target)[span], "all")
    best = archetype_reads._BEST_DECKS_SQL
    # The top of the records index over long windows, the archetype's days over short ones.
    assert_plan(serial, best, params, generic=generic,
                uses_one_of={"ix_mv_deck_facts_best", "ix_mv_deck_facts_archetype"})  # fmt: skip
    assert_plan(serial, archetype_reads._CARD_ARRAYS_SQL, params, uses={"ux_mv_card_usage_weekly"},
                generic=generic)  # fmt: skip
    assert_plan(serial, archetype_reads._DECK_SIZE_SQL, params, generic=generic)
    assert_plan(serial, archetype_reads._COLOR_SQL, params, generic=generic)
    assert_plan(serial, archetype_reads._WEEKLY_SQL, params, generic=generic)
    assert_plan(serial, meta_reads._TRENDS_SQL, params, generic=generic)


@pytest.mark.parametrize("span", ["history", "week"])
@pytest.mark.parametrize("group", ["all", "challenges"])
@pytest.mark.parametrize("generic", [False, True])
def test_whole_history_windows_read_the_totals_and_the_days_outside(
    serial: psycopg.Connection[Any], target: dict[str, Any], span: str, group: str, generic: bool
) -> None:
    """All of history minus the days outside: the totals' keys, the outside days by date
    (a few days; a week's window is never computed this way, but its plan must not scan)."""
    params = _params(target, _spans(target)[span], group)
    archetype_params = {k: params[k] for k in ("format", "group", "start", "end", "kinds")}
    assert_plan(serial, window_stats._ARCHETYPE_COMPLEMENT_SQL, archetype_params,
                uses={"ux_mv_player_archetype_total", "ux_mv_player_total"},
                generic=generic)  # fmt: skip
    assert_plan(serial, window_stats._MATCHUP_COMPLEMENT_SQL, archetype_params,
                uses={"ux_mv_matchup_total"}, generic=generic)  # fmt: skip


def test_standard_window_reads_use_the_window_tables_keys(
    plan_conn: psycopg.Connection[Any], target: dict[str, Any]
) -> None:
    meta = {"generation": None, "format": target["format"], "key": "last30", "group": "all",
            "basis": "matches", "min_decks": 0, "min_seats": 0}  # fmt: skip
    assert_plan(plan_conn, meta_reads._META_SQL, meta)
    cells = {"generation": None, "format": target["format"], "key": "last30", "group": "all",
             "min_matches": 0}  # fmt: skip
    assert_plan(plan_conn, meta_reads._MATCHUP_SQL, cells)
