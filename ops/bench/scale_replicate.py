"""Replicate an ingested, classified archive in SQL: the fast way to a large database.

The pipeline builds ``decks / copies`` decks spanning ``days / copies`` days; this copies
every event ``copies - 1`` more times, each copy shifted by one span, so the result spans the
whole period with the same density, the same formats, kinds, sizes, card counts and labels
(copied with their decks), at a fraction of the generator's and the classifier's cost. Meant
for query-plan tests, which need realistic table sizes and value distributions, not new
decklists. Players are kept (regulars recur across years, as in the archive).

Columns are listed from the catalog, so a column added by a migration is copied too: ids and
links to the copied tables are moved by ``k * ID_STEP``, dates and timestamps by ``k`` spans,
``external_id`` gets a ``#k`` suffix (the event key must stay unique); anything else is copied
as is. Generated columns are left to the server.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

ID_STEP = 100_000_000
# Parents first. Other tables linked to events (source files, discovery results) are not
# copied: the copies stand for events nobody fetched a file of.
TABLES = ("tournaments", "decks", "standings", "matches", "deck_archetypes")
_ID_COLUMNS = {"id", "tournament_id", "deck_id", "deck1_id", "deck2_id", "match_id"}


def _columns(conn: psycopg.Connection[Any], table: str) -> list[tuple[str, str, str]]:
    """(name, data type, identity kind) of the table's insertable columns."""
    rows = conn.execute(
        """SELECT column_name, data_type, coalesce(identity_generation, '')
             FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = %s
              AND is_generated = 'NEVER'
            ORDER BY ordinal_position""",
        (table,),
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def _expression(name: str, data_type: str) -> sql.Composable:
    column = sql.Identifier(name)
    if name in _ID_COLUMNS:
        return sql.SQL("{} + k.k * {}").format(column, sql.Literal(ID_STEP))
    if name == "external_id":
        return sql.SQL("{} || '#' || k.k").format(column)
    if data_type == "date":
        return sql.SQL("{} + k.k * %(span)s").format(column)
    if data_type.startswith("timestamp"):
        return sql.SQL("{} + make_interval(days => k.k * %(span)s)").format(column)
    return column


def replicate(conn: psycopg.Connection[Any], copies: int, span_days: int) -> None:
    """Add ``copies - 1`` shifted copies of every event (module docstring); the caller
    commits. Identity sequences then continue above the copies."""
    if copies < 2:
        return
    params = {"copies": copies - 1, "span": span_days}
    for table in TABLES:
        columns = _columns(conn, table)
        always = any(identity == "ALWAYS" for _, _, identity in columns)
        statement = sql.SQL(
            "INSERT INTO {table} ({names}) {overriding}"
            " SELECT {values} FROM {table}, generate_series(1, %(copies)s) AS k(k)"
        ).format(
            table=sql.Identifier(table),
            names=sql.SQL(", ").join(sql.Identifier(n) for n, _, _ in columns),
            overriding=sql.SQL("OVERRIDING SYSTEM VALUE" if always else ""),
            values=sql.SQL(", ").join(_expression(n, t) for n, t, _ in columns),
        )
        conn.execute(statement, params)
        if any(n == "id" for n, _, _ in columns):
            conn.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({t}, 'id'), max(id)) FROM {table}"
                ).format(t=sql.Literal(table), table=sql.Identifier(table))
            )
