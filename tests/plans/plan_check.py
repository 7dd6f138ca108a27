"""Reading PostgreSQL query plans in tests (issue 14: no request-path read scans a big table).

``assert_plan(conn, query, params, uses={"ix_..."})`` runs ``EXPLAIN (FORMAT JSON)`` on the
query as the application sends it, walks every node of the plan tree (init plans and
subplans included) and fails when

* a ``Seq Scan`` reads one of :data:`LARGE_TABLES`, or any table the planner believes holds
  more than :data:`SEQ_SCAN_ROW_LIMIT` rows (``pg_class.reltuples``: new aggregate tables are
  covered without being listed), or
* an index named in ``uses`` appears nowhere in the plan (the intended access path).

``generic=True`` checks the plan PostgreSQL caches for a prepared statement (psycopg prepares
a query after 5 executions on a connection, then the server may switch to a generic plan that
does not know the values): the query is PREPAREd and explained under
``plan_cache_mode = force_generic_plan``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql

# The tables named by issue 14 point 4, and the other big ones of the request path.
LARGE_TABLES = frozenset(
    {
        "decks",
        "matches",
        "standings",
        "deck_archetypes",
        "cards",
        "deck_neighbours",
        "deck_nearest_archetype",
        "mv_deck_facts",
        "mv_card_usage_weekly",
        "mv_matchup_daily",
        "mv_player_archetype_daily",
    }
)
# Any other table this big must not be read whole either (tournaments of the 100k database:
# ~3k rows, of the 500k one ~17k: a scan of them is allowed).
SEQ_SCAN_ROW_LIMIT = 50_000

Params = Mapping[str, Any] | Sequence[Any] | None


def walk(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every node of a plan tree, depth first (``Plans`` holds children, init plans and
    subplans alike)."""
    yield node
    for child in node.get("Plans", ()):
        yield from walk(child)


def explain(
    conn: psycopg.Connection[Any],
    query: str | sql.Composable,
    params: Params = None,
    *,
    generic: bool = False,
) -> Mapping[str, Any]:
    """The root plan node of ``query`` (not executed)."""
    text = query.as_string(conn) if isinstance(query, sql.Composable) else query
    if not generic:
        row = conn.execute(f"EXPLAIN (FORMAT JSON) {text}", params).fetchone()
        assert row is not None
        return row[0][0]["Plan"]
    numbered, values = _numbered(text, params)
    conn.execute("SET plan_cache_mode = force_generic_plan")
    conn.execute(f"PREPARE plan_check_q AS {numbered}")
    try:
        args = sql.SQL(", ").join(sql.Literal(v) for v in values)
        statement = sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE plan_check_q({})").format(args)
        row = conn.execute(statement if values else "EXPLAIN (FORMAT JSON) EXECUTE plan_check_q")
        result = row.fetchone()
        assert result is not None
        return result[0][0]["Plan"]
    finally:
        conn.execute("DEALLOCATE plan_check_q")
        conn.execute("RESET plan_cache_mode")


def _numbered(text: str, params: Params) -> tuple[str, list[Any]]:
    """``text`` with psycopg placeholders (``%(name)s`` / ``%s``) as ``$n`` and the values in
    order (a name used twice is one parameter)."""
    values: list[Any] = []
    names: dict[str, int] = {}
    positional = iter(params) if isinstance(params, Sequence) else iter(())

    def number(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        name = match.group(1)
        if name is None:
            values.append(next(positional))
            return f"${len(values)}"
        if name not in names:
            assert isinstance(params, Mapping)
            values.append(params[name])
            names[name] = len(values)
        return f"${names[name]}"

    return re.sub(r"%%|%\((\w+)\)s|%s", number, text), values


def big_tables(conn: psycopg.Connection[Any]) -> set[str]:
    """Tables that must never be read by a sequential scan on the request path."""
    rows = conn.execute(
        "SELECT relname FROM pg_class WHERE relkind IN ('r', 'm', 'p') AND reltuples > %s",
        (SEQ_SCAN_ROW_LIMIT,),
    ).fetchall()
    return set(LARGE_TABLES) | {r[0] for r in rows}


def seq_scans(plan: Mapping[str, Any]) -> set[str]:
    """Relations read by a sequential scan anywhere in the plan."""
    return {n["Relation Name"] for n in walk(plan) if n["Node Type"] == "Seq Scan"}


def indexes(plan: Mapping[str, Any]) -> set[str]:
    """Indexes read anywhere in the plan (index, index-only and bitmap index scans)."""
    return {n["Index Name"] for n in walk(plan) if "Index Name" in n}


def assert_plan(
    conn: psycopg.Connection[Any],
    query: str | sql.Composable,
    params: Params = None,
    *,
    uses: set[str] | frozenset[str] = frozenset(),
    uses_one_of: set[str] | frozenset[str] = frozenset(),
    generic: bool = False,
) -> Mapping[str, Any]:
    """Fail unless the plan reads no big table whole, uses every index of ``uses`` and at
    least one of ``uses_one_of`` (when given); returns the plan (for further checks)."""
    plan = explain(conn, query, params, generic=generic)
    scanned = seq_scans(plan) & big_tables(conn)
    assert not scanned, f"sequential scan of {sorted(scanned)}:\n{render(plan)}"
    missing = set(uses) - indexes(plan)
    assert not missing, f"index {sorted(missing)} not used:\n{render(plan)}"
    if uses_one_of:
        assert indexes(plan) & set(uses_one_of), (
            f"none of {sorted(uses_one_of)} used:\n{render(plan)}"
        )
    return plan


def render(plan: Mapping[str, Any], depth: int = 0) -> str:
    """A compact text form of the plan for failure messages."""
    what = plan["Node Type"]
    for key in ("Relation Name", "Index Name", "Subplan Name"):
        if key in plan:
            what += f" {plan[key]}"
    lines = ["  " * depth + f"{what} (rows={plan.get('Plan Rows')})"]
    lines += [render(child, depth + 1) for child in plan.get("Plans", ())]
    return "\n".join(lines)
