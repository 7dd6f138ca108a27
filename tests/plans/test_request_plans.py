"""Query plans of every statement the statistics and chart reads send (issue 14 point 4).

Each read function runs as the API runs it — one REPEATABLE READ read-only transaction on
the ≥100k-deck copy — through a connection that EXPLAINs every statement just before sending
it, in the same transaction and under the planner settings in force at that moment (the
window statistics set theirs with ``set_config(..., true)``). Any sequential scan of a big
table fails the test, whichever module the statement comes from: meta, matchups, archetype
detail, trends, card lookups and card performance, the formats overview, stored charts, the
landing page's featured meta and the data reads of charts drawn on request; standard windows
and custom windows over the whole history and over one week.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pipelines.charts.build import archetype_charts, format_charts
from pipelines.charts.featured import featured_meta
from pipelines.charts.store import load_chart, load_charts
from pipelines.stats import store
from pipelines.stats.card_performance import archetype_cards
from tests.plans.plan_check import big_tables, explain, render, seq_scans


class _Explaining:
    """A connection stand-in that explains each SELECT before running it."""

    def __init__(self, conn: psycopg.Connection[Any], found: list[str]) -> None:
        self._conn = conn
        self._found = found
        self._big = big_tables(conn)
        self.statements = 0

    def check(self, query: Any, params: Any) -> None:
        text = query.as_string(self._conn) if isinstance(query, sql.Composable) else query
        text = text.decode() if isinstance(text, bytes) else text
        if not text.lstrip().upper().startswith(("SELECT", "WITH")) or "set_config" in text:
            return
        self.statements += 1
        plan = explain(self._conn, text, params)
        scanned = seq_scans(plan) & self._big
        if scanned:
            self._found.append(f"sequential scan of {sorted(scanned)}:\n{text}\n{render(plan)}")

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        self.check(query, params)
        return self._conn.execute(query, params, **kwargs)

    @contextmanager
    def cursor(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with self._conn.cursor(*args, **kwargs) as cur:
            yield _ExplainingCursor(cur, self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class _ExplainingCursor:
    def __init__(self, cur: Any, owner: _Explaining) -> None:
        self._cur = cur
        self._owner = owner

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        self._owner.check(query, params)
        self._cur.execute(query, params, **kwargs)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cur)


def find_target(dsn: str) -> dict[str, Any]:
    """The format with the most decks, its dates, most played archetype and a card of it."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT format, min(event_date), max(event_date) FROM mv_archetype_daily"
            " GROUP BY format ORDER BY sum(decks) DESC LIMIT 1"
        ).fetchone()
        assert row is not None
        fmt, first, last = row
        top = conn.execute(
            "SELECT archetype FROM mv_archetype_daily WHERE format = %s"
            " GROUP BY archetype ORDER BY sum(decks) DESC LIMIT 1",
            (fmt,),
        ).fetchone()
        card = conn.execute(
            "SELECT c.canonical_name FROM mv_card_usage_weekly u"
            "  JOIN cards c ON c.id = u.card_ids[1]"
            " WHERE u.format = %s AND u.week_start = (SELECT max(week_start)"
            "   FROM mv_card_usage_weekly WHERE format = %s) LIMIT 1",
            (fmt, fmt),
        ).fetchone()
    assert top is not None and card is not None
    return {"format": fmt, "first": first, "last": last, "archetype": top[0], "card": card[0]}


@pytest.fixture(scope="module")
def target(plan_dsn: str) -> dict[str, Any]:
    return find_target(plan_dsn)


def statement_plans(dsn: str, target: dict[str, Any], window: str, read: str) -> list[str]:
    """The failures of one read (see the module docstring); checks it sent statements."""
    found: list[str] = []
    with psycopg.connect(dsn, application_name="manalytics-plan-tests") as conn:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        explaining = _Explaining(conn, found)
        # NotFound (e.g. no chart rendered in the copy): the statements were still checked.
        with suppress(store.NotFound):
            _reads(target, _windows(target)[window])[read](explaining)
        conn.rollback()
    assert explaining.statements > 0
    return found


def _windows(target: dict[str, Any]) -> dict[str, Any]:
    last = target["last"]
    return {
        "last30": "last30",
        "history": (target["first"], last),
        "week": (last - timedelta(days=6), last),
    }


def _reads(target: dict[str, Any], window: Any) -> dict[str, Callable[[Any], Any]]:
    fmt, arch = target["format"], target["archetype"]
    custom = not isinstance(window, str)
    dates: tuple[date, date] = window if custom else (target["first"], target["last"])
    return {
        "meta": lambda c: store.meta_rows(c, fmt, window),
        "meta_records": lambda c: store.meta_rows(c, fmt, window, "challenges", basis="records"),
        "matchups": lambda c: store.matchup_matrix(c, fmt, window),
        "cells": lambda c: store.matchup_cells(c, fmt, window),
        "archetype": lambda c: store.archetype_detail(c, fmt, arch, window),
        "archetype_cards": lambda c: archetype_cards(c, fmt, arch, window),
        "trends": lambda c: store.trends(c, fmt, window if custom else "last90"),
        "card": lambda c: store.card_lookup(c, fmt, target["card"], window),
        "charts": lambda c: format_charts(c, fmt, window, "all"),
        "archetype_charts": lambda c: archetype_charts(c, fmt, arch, window, "all"),
        "formats": lambda c: store.formats_overview(c),
        "featured": lambda c: featured_meta(c, "all"),
        "stored_chart": lambda c: load_chart(c, fmt, "last30", "all", "share"),
        "stored_charts": lambda c: load_charts(c, fmt, "last30", "all", ["share", "tiers"]),
        "dates": lambda c: dates,
    }


READS = list(_reads({"format": "", "archetype": "", "card": "", "first": 0, "last": 0}, ""))
READS.remove("dates")


@pytest.mark.parametrize("window", ["last30", "history", "week"])
@pytest.mark.parametrize("read", READS)
def test_request_path_statements_scan_no_big_table(
    plan_dsn: str, target: dict[str, Any], window: str, read: str
) -> None:
    found = statement_plans(plan_dsn, target, window, read)
    assert not found, "\n\n".join(found)
