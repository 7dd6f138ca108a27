"""The statistics tables (``mv_*``): recomputed per (format, day), and per week for the
weekly ones, from the statements in ``sql/views/*.sql``.

A refresh works on a **scope**, three temporary tables of its transaction:

* ``refresh_days (format, event_date)``: the days to recompute — the days recorded in
  ``stats_dirty_days`` by the triggers of migration 0013 (incremental), or every day with a
  tournament (full);
* ``refresh_weeks (format, week_start)``: the Mondays of those days;
* ``refresh_tournaments (id)``: the tournaments of those days.

:func:`refill` computes each table's rows of the scope (its ``INSERT … SELECT``, into a
temporary table; card usage in NumPy, :mod:`pipelines.stats.card_usage`) in dependency order,
and applies the difference: the table's rows of the scope that are not among them are
deleted, the missing ones inserted, unchanged rows are not touched (a full rebuild of
unchanged statistics writes nothing; other transactions keep reading the old rows until
commit, as with the plain DELETE/INSERT before). A table holding none of the scope's rows yet
is filled directly. Each statement restricts its inputs to the scope and groups exactly as the
whole-history definition does, and a day's rows depend only on that day's tournaments (a
deck's facts only on its own tournament) and a week's rows only on its days; so refilling a
scope gives the same rows as recomputing everything, which
``tests/integration/test_incremental_refresh.py`` checks on the real sample.

A full refresh also refills the whole-history totals (:data:`TOTAL_TABLES`) from the daily
tables, once; in an incremental one the triggers of migrations 0020/0022 keep them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import psycopg
from psycopg import sql

from pipelines.stats.card_usage import fill_card_usage, planner

__all__ = ["AGGREGATE_TABLES", "TOTAL_TABLES", "Scope", "open_scope", "refill"]

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
#: The whole-history totals of the daily tables (custom windows, the formats overview). The
#: triggers of migrations 0020/0022 keep them through every write; a full refresh sets
#: :data:`REBUILD_TOTALS` so they skip its statements, then refills these from the daily
#: tables, once and set-based (migration 0026).
TOTAL_TABLES: Final = (
    "mv_player_archetype_total",
    "mv_player_total",
    "mv_archetype_week_players",
    "mv_matchup_total",
    "mv_format_total",
)
#: The transaction-local setting the totals triggers check (``WHEN`` of migration 0026).
REBUILD_TOTALS: Final = "manalytics.rebuild_totals"


def _fill_sql(table: str) -> str:
    (path,) = _VIEWS_DIR.glob(f"[0-9][0-9]_{table}.sql")
    return path.read_text(encoding="utf-8")


_FILL_SQL: Final = {table: _fill_sql(table) for table in (*AGGREGATE_TABLES, *TOTAL_TABLES)}

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


# Comparing a full rebuild's rows with the table: hash joins (the planner sorted both sides on
# their text keys for a merge join, several times slower); a night's rows: index lookups.
_APPLY_SETTINGS: Final = {"enable_mergejoin": "off"}
_FULL_SETTINGS: Final = {"enable_nestloop": "off"}
# A full run's fill statements: hash joins rather than sorting ~1M match sides for merge joins
# (mv_deck_facts: ~1 s of ~8 s CPU at 500k).
_FULL_FILL_SETTINGS: Final = {"enable_mergejoin": "off"}

# The indexes of a table that no constraint owns: (name as regclass text, definition).
_INDEXES_SQL = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
  FROM pg_index i
 WHERE i.indrelid = %s::regclass
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
 ORDER BY i.indexrelid
"""
# Building an index sorts the table's rows: in memory, and with parallel workers.
_INDEX_BUILD_SETTINGS: Final = {
    "maintenance_work_mem": "256MB",
    "max_parallel_maintenance_workers": "2",
}

_KEY_SQL = """
SELECT array_agg(a.attname::text ORDER BY k.ord)
  FROM pg_index i
 CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k (attnum, ord)
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
 WHERE i.indrelid = %s::regclass AND i.indisunique AND k.ord <= i.indnkeyatts
 GROUP BY i.indexrelid
 ORDER BY count(*)
 LIMIT 1
"""


def _columns(conn: psycopg.Connection[Any], table: str) -> tuple[list[str], list[str]]:
    """(key columns of the table's unique index, every other column)."""
    row = conn.execute(_KEY_SQL, (table,)).fetchone()
    if row is None or not row[0]:
        raise RuntimeError(f"{table} has no unique index")
    key = list(row[0])
    others = [
        r[0]
        for r in conn.execute(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = %s::regclass"
            " AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (table,),
        )
        if r[0] not in key
    ]
    return key, others


def _in_scope(table: str, scope: Scope, alias: str) -> sql.Composable:
    """Condition on ``alias`` selecting the table's rows of the scope (none when full: then
    every row is compared, as a rebuild from nothing would)."""
    if scope.full:
        return sql.SQL("true")
    days, column = (
        ("refresh_weeks", "week_start") if table in _WEEKLY else ("refresh_days", "event_date")
    )
    return sql.SQL("({a}.format, {a}.{c}) IN (SELECT format, {c} FROM {d})").format(
        a=sql.Identifier(alias), c=sql.Identifier(column), d=sql.Identifier(days)
    )


def _apply(
    conn: psycopg.Connection[Any], table: str, fresh: str, fresh_rows: int, scope: Scope
) -> tuple[int, int]:
    """Make the scope's rows of ``table`` equal to ``fresh``: delete the rows that are not in
    it, insert the ones missing (what ``REFRESH MATERIALIZED VIEW CONCURRENTLY`` does). An
    unchanged row is neither deleted nor written again: a full rebuild of unchanged
    statistics writes nothing, and readers (other snapshots) keep seeing the old rows until
    commit. Returns (deleted, inserted)."""
    key, others = _columns(conn, table)

    def cols(alias: str, names: list[str]) -> sql.Composable:
        return sql.SQL(", ").join(sql.Identifier(alias, c) for c in names)

    same_key = sql.SQL(" AND ").join(
        sql.SQL("{} = {}").format(sql.Identifier("n", c), sql.Identifier("o", c)) for c in key
    )
    same_row = same_key
    if others:
        same_row = sql.SQL("{} AND ({}) IS NOT DISTINCT FROM ({})").format(
            same_key, cols("n", others), cols("o", others)
        )
    deleted = conn.execute(
        sql.SQL(
            "DELETE FROM {t} o WHERE {scope} AND NOT EXISTS (SELECT 1 FROM {f} n WHERE {same})"
        ).format(
            t=sql.Identifier(table),
            f=sql.Identifier(fresh),
            scope=_in_scope(table, scope, "o"),
            same=same_row,
        )
    ).rowcount
    # The rows left in the scope all have an identical row in `fresh`, keys being unique: as
    # many as `fresh` means nothing is missing (a rebuild of unchanged statistics).
    left = conn.execute(
        sql.SQL("SELECT count(*) FROM {t} o WHERE {scope}").format(
            t=sql.Identifier(table), scope=_in_scope(table, scope, "o")
        )
    ).fetchone()
    if left is not None and left[0] == fresh_rows:
        return deleted, 0
    # In key order: the unique index grows in order and the heap holds a day's rows together.
    inserted = conn.execute(
        sql.SQL(
            "INSERT INTO {t} SELECT n.* FROM {f} n"
            " WHERE NOT EXISTS (SELECT 1 FROM {t} o WHERE {same}) ORDER BY {key}"
        ).format(
            t=sql.Identifier(table), f=sql.Identifier(fresh), same=same_key, key=cols("n", key)
        )
    ).rowcount
    return deleted, inserted


def _fill_into(table: str, target: str) -> str:
    """The fill statement of ``table`` writing into ``target``."""
    statement = _FILL_SQL[table]
    if target == table:
        return statement
    head = f"INSERT INTO {table}\n"
    if head not in statement:
        raise RuntimeError(f"sql/views statement of {table} does not start with {head!r}")
    return statement.replace(head, f'INSERT INTO "{target}"\n', 1)


def refill(
    conn: psycopg.Connection[Any], scope: Scope, changes: dict[str, int] | None = None
) -> dict[str, float]:
    """Bring the rows of ``scope`` in every statistics table up to date; returns seconds per
    table (and, in ``changes``, the rows deleted + inserted per table).

    Each table's rows of the scope are computed into a temporary table, then applied
    (:func:`_apply`): only rows that differ are deleted or inserted; a table holding none of
    them yet is filled directly (:func:`_refill_table`). Tables are done in
    dependency order (later statements read ``mv_deck_facts`` as just updated). A full scope
    then refills the :data:`TOTAL_TABLES` the same way, from the daily tables as written (their
    triggers skip this transaction's statements); an incremental one leaves them to the
    triggers. Call it inside the refresh transaction, after :func:`open_scope` and the
    archetype-name sync (``mv_deck_facts`` groups by display name)."""
    tables: tuple[str, ...] = AGGREGATE_TABLES
    if scope.full:
        conn.execute("SELECT set_config(%s, 'on', true)", (REBUILD_TOTALS,))
        tables = (*AGGREGATE_TABLES, *TOTAL_TABLES)
    durations: dict[str, float] = {}
    for table in tables:
        started = time.perf_counter()
        deleted, inserted = _refill_table(conn, table, scope)
        if changes is not None:
            changes[table] = deleted + inserted
        durations[table] = time.perf_counter() - started
    return durations


def _refill_table(conn: psycopg.Connection[Any], table: str, scope: Scope) -> tuple[int, int]:
    """One table of :func:`refill`: its rows of the scope computed, then applied; straight
    into the table when it holds none of them yet (a first refresh, a rebuild into emptied
    tables, a new day): the difference would be every row, and writing them once into a
    temporary table first cost a quarter of such a rebuild's writes."""
    empty = conn.execute(
        sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {t} o WHERE {scope})").format(
            t=sql.Identifier(table), scope=_in_scope(table, scope, "o")
        )
    ).fetchone()
    if empty is not None and empty[0]:
        if scope.full and _acts_as_owner(conn, table):
            return 0, _bulk_fill(conn, table, scope)
        return 0, _fill(conn, table, table, scope)
    fresh = f"fresh_{table}"
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(
            sql.Identifier(fresh), sql.Identifier(table)
        )
    )
    rows = _fill(conn, table, fresh, scope)
    with planner(conn, _APPLY_SETTINGS | (_FULL_SETTINGS if scope.full else {})):
        changed = _apply(conn, table, fresh, rows, scope)
    conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(fresh)))
    return changed


def _acts_as_owner(conn: psycopg.Connection[Any], table: str) -> bool:
    """Whether this session may drop and create the table's indexes (it owns the table or
    inherits its owner's rights: the worker role is a member of the owner role, see
    ``ops/postgres/init-roles.sh``). A role with table privileges only fills row by row."""
    row = conn.execute(
        "SELECT pg_has_role(relowner, 'USAGE') FROM pg_class WHERE oid = %s::regclass", (table,)
    ).fetchone()
    return bool(row and row[0])


def _bulk_fill(conn: psycopg.Connection[Any], table: str, scope: Scope) -> int:
    """Fill an empty table in a full refresh (the first one after loading an archive, or a
    rebuild into emptied tables) as a bulk load: its indexes dropped, every row written, the
    same indexes built again from the sorted rows, in parallel (half the cost of maintaining
    them row by row: mv_deck_facts' five indexes at 500k decks, 5.3 s -> 2.3 s).

    Dropping an index locks the table until commit: readers wait for this refresh instead of
    reading the empty table, and then see it whole. A reader whose snapshot is older sees it
    empty, as before (the rows are this transaction's). An index that backs a constraint is
    kept (mv_format_total's primary key: a few rows)."""
    indexes = conn.execute(_INDEXES_SQL, (table,)).fetchall()
    for name, _ in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))  # regclass text: quoted
    rows = _fill(conn, table, table, scope)
    with planner(conn, _INDEX_BUILD_SETTINGS):
        for _, definition in indexes:
            conn.execute(definition)  # pg_get_indexdef: the catalog's own statement
    return rows


def _fill(conn: psycopg.Connection[Any], table: str, target: str, scope: Scope) -> int:
    """Write ``table``'s rows of the scope into ``target``; returns how many."""
    if table == "mv_card_usage_weekly":
        return fill_card_usage(conn, target)  # the definition in sql/views, in NumPy
    with planner(conn, _FULL_FILL_SETTINGS if scope.full else {}):
        return conn.execute(_fill_into(table, target)).rowcount  # trusted sql/views
