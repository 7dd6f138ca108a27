"""One page of a list and its bounded total: the one shape every base-table list uses.

A list query is given as two statements built from the same filters:

* ``rows``: the page, in display order, bound to ``limit``, ``offset`` and ``depth``
  (= ``offset + limit``: how far each index walk of the query needs to go);
* ``count``: how many rows match, counted no further than ``cap`` (bound to ``cap`` and
  ``depth`` = ``TOTAL_CAP + 1``).

A list whose driver is bounded (one player's or one tournament's decks: the walk reads every
matching row anyway to sort them) sets ``counted``: its ``rows`` statement also returns the
capped total in a column ``matching`` of every row (one walk instead of two).

``total`` is exact up to :data:`TOTAL_CAP`; beyond, it is :data:`TOTAL_CAP` and ``exact`` is
false (a lower bound). On the last page the total is known without counting. Offsets stop at
:data:`MAX_LIST_OFFSET`: deeper pages need narrower filters (a date range). Both statements
are executed unprepared (``prepare=False``) so every execution is planned with its values: a
cached generic plan does not know which filter narrows most.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

TOTAL_CAP = 10_000
MAX_LIST_OFFSET = 10_000


@dataclass(frozen=True)
class Page:
    """One page of a list."""

    items: list[dict[str, Any]]
    total: int
    exact: bool  # False: ``total`` is a lower bound (more than TOTAL_CAP rows match)


@dataclass(frozen=True)
class ListQuery:
    """The two statements of one list request and their filter values."""

    rows: sql.Composed
    count: sql.Composed
    params: Mapping[str, Any]
    counted: bool = False  # ``rows`` returns the capped total in column ``matching``

    def page_params(self, limit: int, offset: int) -> dict[str, Any]:
        page = {**self.params, "limit": limit, "offset": offset, "depth": offset + limit}
        return {**page, "cap": TOTAL_CAP + 1} if self.counted else page

    def count_params(self) -> dict[str, Any]:
        return {**self.params, "cap": TOTAL_CAP + 1, "depth": TOTAL_CAP + 1}


def read_page(conn: psycopg.Connection[Any], query: ListQuery, limit: int, offset: int) -> Page:
    """Run ``query.rows`` for one page, then ``query.count`` when the page does not tell
    the total."""
    with conn.cursor(row_factory=dict_row) as cur:
        params = query.page_params(limit, offset)
        found = cur.execute(query.rows, params, prepare=False).fetchall()
        totals = [row.pop("matching") for row in found] if query.counted else []
        if len(found) < limit and (found or offset == 0):
            return Page(found, offset + len(found), True)  # the last page: no count needed
        if totals:
            matching = int(totals[0])
        else:
            counted = cur.execute(query.count, query.count_params(), prepare=False).fetchone()
            matching = int(counted["n"]) if counted else 0
    return Page(found, min(matching, TOTAL_CAP), matching <= TOTAL_CAP)


def count_of(selection: sql.Composable) -> sql.Composed:
    """The capped count of a selection (a SELECT without ORDER BY or LIMIT)."""
    return sql.SQL("SELECT count(*) AS n FROM ({} LIMIT %(cap)s) capped").format(selection)


def where(fragments: list[str]) -> sql.Composable:
    """The AND of fixed SQL fragments (module constants: values are bound parameters)."""
    if not fragments:
        return sql.SQL("true")
    return sql.SQL(" AND ").join(sql.SQL(f) for f in fragments)
