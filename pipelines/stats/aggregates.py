"""The statistics tables (``mv_*``): recomputed per (format, day), and per week for the
weekly ones, from the statements in ``sql/views/*.sql``.

A refresh works on a **scope**, three temporary tables of its transaction:

* ``refresh_days (format, event_date)``: the days to recompute — the days recorded in
  ``stats_dirty_days`` by the triggers of migration 0013 (incremental), or every day with a
  tournament (full);
* ``refresh_weeks (format, week_start)``: the Mondays of those days;
* ``refresh_tournaments (id)``: the tournaments of those days.

:func:`refill` deletes the rows of the scope from every table, then runs each table's
``INSERT … SELECT`` in dependency order. Each statement restricts its inputs to the scope and
groups exactly as the whole-history definition does, and a day's rows depend only on that
day's tournaments (a deck's facts only on its own tournament) and a week's rows only on its
days; so refilling a scope gives the same rows as recomputing everything, which
``tests/integration/test_incremental_refresh.py`` checks on the real sample.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import psycopg
from psycopg import sql

from pipelines.stats.card_usage import fill_card_usage

__all__ = ["AGGREGATE_TABLES", "Scope", "open_scope", "refill"]

_VIEWS_DIR: Final = Path(__file__).resolve().parents[2] / "sql" / "views"

#: The statistics tables in dependency order (each reads base tables and earlier ones), with
#: the grain their rows are replaced by: a day, or a week.
AGGREGATE_TABLES: Final = (
    "mv_deck_facts",
    "mv_player_archetype_daily",
    "mv_archetype_daily",
    "mv_archetype_color_daily",
    "mv_matchup_daily",
    "mv_card_usage_weekly",
    "mv_deck_size_weekly",
)
_WEEKLY: Final = frozenset({"mv_card_usage_weekly", "mv_deck_size_weekly"})


def _fill_sql(table: str) -> str:
    (path,) = _VIEWS_DIR.glob(f"[0-9][0-9]_{table}.sql")
    return path.read_text(encoding="utf-8")


_FILL_SQL: Final = {table: _fill_sql(table) for table in AGGREGATE_TABLES}

# The days of the scope: every dirty day visible to the refresh's snapshot, or every day.
_DIRTY_DAYS = "SELECT DISTINCT format, event_date FROM stats_dirty_days"
_ALL_DAYS = (
    "SELECT DISTINCT format, event_date FROM tournaments"
    " UNION SELECT DISTINCT format, event_date FROM stats_dirty_days"
)


@dataclass(frozen=True, slots=True)
class Scope:
    """What one refresh recomputes: ``full`` (every day) or the dirty days."""

    full: bool
    days: int
    formats: frozenset[str]


def open_scope(conn: psycopg.Connection[Any], *, full: bool) -> Scope:
    """Create the scope tables (dropped at commit) and return what they hold."""
    conn.execute(
        "CREATE TEMP TABLE refresh_days (format text, event_date date,"
        " PRIMARY KEY (format, event_date)) ON COMMIT DROP"
    )
    conn.execute(f"INSERT INTO refresh_days {_ALL_DAYS if full else _DIRTY_DAYS}")
    conn.execute(
        "CREATE TEMP TABLE refresh_weeks ON COMMIT DROP AS"
        " SELECT DISTINCT format, date_trunc('week', event_date)::date AS week_start"
        "   FROM refresh_days"
    )
    conn.execute(
        "CREATE TEMP TABLE refresh_tournaments ON COMMIT DROP AS"
        " SELECT t.id FROM tournaments t"
        "   JOIN refresh_days r ON r.format = t.format AND r.event_date = t.event_date"
    )
    conn.execute("ALTER TABLE refresh_tournaments ADD PRIMARY KEY (id)")
    # The planner needs the sizes: a night's scope wants index lookups, a full one hashes.
    conn.execute("ANALYZE refresh_days, refresh_weeks, refresh_tournaments")
    formats = [r[0] for r in conn.execute("SELECT DISTINCT format FROM refresh_days")]
    days = conn.execute("SELECT count(*) FROM refresh_days").fetchone()
    return Scope(full=full, days=int(days[0]) if days else 0, formats=frozenset(formats))


def _delete_scope(conn: psycopg.Connection[Any], table: str, scope: Scope) -> None:
    name = sql.Identifier(table)
    if scope.full:
        # DELETE, not TRUNCATE: readers keep reading the old rows until commit.
        conn.execute(sql.SQL("DELETE FROM {}").format(name))
    elif table in _WEEKLY:
        conn.execute(
            sql.SQL(
                "DELETE FROM {} x USING refresh_weeks r"
                " WHERE x.format = r.format AND x.week_start = r.week_start"
            ).format(name)
        )
    else:
        conn.execute(
            sql.SQL(
                "DELETE FROM {} x USING refresh_days r"
                " WHERE x.format = r.format AND x.event_date = r.event_date"
            ).format(name)
        )


def refill(conn: psycopg.Connection[Any], scope: Scope) -> dict[str, float]:
    """Replace the rows of ``scope`` in every statistics table; returns seconds per table.

    Call it inside the refresh transaction, after :func:`open_scope` and the archetype-name
    sync (``mv_deck_facts`` groups by display name)."""
    durations: dict[str, float] = {}
    for table in AGGREGATE_TABLES:
        started = time.perf_counter()
        _delete_scope(conn, table, scope)
        if table == "mv_card_usage_weekly":
            fill_card_usage(conn)  # the definition in sql/views, computed in NumPy
        else:
            conn.execute(_FILL_SQL[table])  # trusted file from sql/views
        durations[table] = time.perf_counter() - started
    return durations
