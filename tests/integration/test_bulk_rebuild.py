"""A full refresh into empty statistics tables (issue 14): a bulk load — each table's indexes
dropped, its rows written, the same indexes built again — with readers seeing the tables
empty or whole, never in between; a role that does not own the tables fills them row by
row instead (pipelines/stats/aggregates.py)."""

from __future__ import annotations

import threading

import psycopg
from psycopg.conninfo import make_conninfo

from pipelines.stats.aggregates import AGGREGATE_TABLES, TOTAL_TABLES
from pipelines.stats.refresh import RefreshResult, refresh_all
from tests.integration.test_incremental_refresh import empty_statistics
from tests.integration.test_stats_views import PERIODS, build_world

_COUNTS = " UNION ALL ".join(
    f"SELECT '{t}', count(*) FROM {t}" for t in ("mv_deck_facts", "mv_player_archetype_daily")
)


def _index_oids(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT indexname::text, indexname::regclass::oid::int FROM pg_indexes"
            " WHERE tablename = ANY(%s)",
            ([*AGGREGATE_TABLES, *TOTAL_TABLES],),
        ).fetchall()
    return dict(rows)


def _counts(conn: psycopg.Connection) -> dict[str, int]:
    return dict(conn.execute(_COUNTS).fetchall())  # type: ignore[arg-type]


def test_readers_see_the_tables_empty_or_whole_during_a_rebuild(pg_dsn: str) -> None:
    build_world(pg_dsn)
    assert refresh_all(pg_dsn, periods=PERIODS, full=True).status == "succeeded"
    with psycopg.connect(pg_dsn) as conn:
        whole = _counts(conn)
    assert min(whole.values()) > 0
    empty_statistics(pg_dsn)
    before = _index_oids(pg_dsn)
    results: list[RefreshResult] = []
    rebuild = threading.Thread(
        target=lambda: results.append(refresh_all(pg_dsn, periods=PERIODS, full=True))
    )
    seen: list[dict[str, int]] = []
    with psycopg.connect(pg_dsn, autocommit=True) as reader:
        rebuild.start()
        while rebuild.is_alive():
            seen.append(_counts(reader))  # waits for the rebuild's commit once it has begun
        seen.append(_counts(reader))
    rebuild.join()
    assert results and results[0].status == "succeeded"
    empty = dict.fromkeys(whole, 0)
    assert all(s in (empty, whole) for s in seen), seen
    assert seen[-1] == whole
    # The indexes were built again (new objects), under the same names; but the primary key
    # of mv_format_total, which a constraint owns.
    after = _index_oids(pg_dsn)
    assert set(after) == set(before)
    assert {name for name in before if after[name] == before[name]} == {"mv_format_total_pkey"}


def test_a_role_that_does_not_own_the_tables_fills_them_row_by_row(
    pg_dsn: str, roles: tuple[str, str]
) -> None:
    worker_dsn = make_conninfo(pg_dsn, user=roles[1])  # the worker's privileges, not owner
    build_world(pg_dsn)
    assert refresh_all(pg_dsn, periods=PERIODS, full=True).status == "succeeded"
    with psycopg.connect(pg_dsn) as conn:
        whole = _counts(conn)
    empty_statistics(pg_dsn)
    before = _index_oids(pg_dsn)
    assert refresh_all(worker_dsn, periods=PERIODS, full=True).status == "succeeded"
    with psycopg.connect(pg_dsn) as conn:
        assert _counts(conn) == whole
    assert _index_oids(pg_dsn) == before  # not dropped: it may not
