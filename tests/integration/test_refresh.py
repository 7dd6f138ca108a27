"""The refresh job: generations, the overlap lock, failures, readers during a refresh, the
Celery task. Data: the small world of ``test_stats_views``."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pipelines.core.settings import Settings
from pipelines.stats import store
from pipelines.stats.aggregates import AGGREGATE_TABLES
from pipelines.stats.periods import load_periods
from pipelines.stats.refresh import (
    REFRESH_LOCK_KEY,
    latest_generation,
    refresh_all,
)
from tests.integration.test_stats_views import PERIODS, World, build_world


def _generations(dsn: str, table: str) -> list[int]:
    with psycopg.connect(dsn) as conn:
        return [
            r[0]
            for r in conn.execute(
                psycopg.sql.SQL("SELECT DISTINCT generation FROM {} ORDER BY 1").format(
                    psycopg.sql.Identifier(table)
                )
            )
        ]


def _log(dsn: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT generation, status, error IS NOT NULL FROM refresh_log ORDER BY generation"
        ).fetchall()


def test_generation_increments_and_old_generations_are_deleted(pg_dsn: str) -> None:
    build_world(pg_dsn)
    with psycopg.connect(pg_dsn) as conn:
        assert latest_generation(conn) is None
        assert store.formats_overview(conn)["generation"] is None
    results = [refresh_all(pg_dsn, periods=PERIODS) for _ in range(3)]
    assert [r.status for r in results] == ["succeeded"] * 3
    gens = [r.generation for r in results]
    assert gens == sorted(gens) and len(set(gens)) == 3
    steps = {"scope", "archetype_names", *AGGREGATE_TABLES, "analyze", "window_stats"}
    assert set(results[-1].durations) == steps
    assert results[-1].meta_rows > 0 and results[-1].matchup_rows > 0
    # The latest and the previous generation are kept, older ones deleted.
    for table in ("meta_window_stats", "matchup_window_stats", "stats_windows"):
        assert _generations(pg_dsn, table) == gens[1:]
    with psycopg.connect(pg_dsn) as conn:
        latest = latest_generation(conn)
        assert latest is not None and latest.generation == gens[-1]
        assert latest.finished_at >= latest.started_at
        assert store.meta_rows(conn, "Modern", "last7")["generation"] == gens[-1]
        # Readers can pin the previous generation (e.g. the one behind an ETag).
        assert store.meta_rows(conn, "Modern", "last7", generation=gens[1])["generation"] == gens[1]
        row = conn.execute(
            "SELECT status, durations, confidence, periods FROM refresh_log WHERE generation = %s",
            (gens[-1],),
        ).fetchone()
    assert row is not None
    status, durations, confidence, periods = row
    assert status == "succeeded" and set(durations) == steps
    assert confidence == 0.95
    assert periods == {"Modern": {"name": "New", "start": "2024-06-01"}}


def test_refresh_picks_up_new_data(pg_dsn: str) -> None:
    build_world(pg_dsn)
    refresh_all(pg_dsn, periods=PERIODS)
    with psycopg.connect(pg_dsn) as conn:
        before = {r["archetype"]: r for r in store.meta_rows(conn, "Modern", "last7")["archetypes"]}
        w = World(conn)
        t = w.tournament("Modern", date(2024, 6, 5), "challenge")
        d1 = w.deck(t, "zoe", "A")
        d2 = w.deck(t, "yan", "C", "G")
        w.match(t, 1, d1, d2, (2, 0, 0))
        conn.commit()
    refresh_all(pg_dsn, periods=PERIODS)
    with psycopg.connect(pg_dsn) as conn:
        after = {r["archetype"]: r for r in store.meta_rows(conn, "Modern", "last7")["archetypes"]}
    assert (after["A"]["decks"], after["A"]["wins"]) == (before["A"]["decks"] + 1, 4)
    assert (after["C"]["decks"], after["C"]["losses"]) == (before["C"]["decks"] + 1, 2)


def test_skipped_when_another_refresh_holds_the_lock(pg_dsn: str) -> None:
    build_world(pg_dsn)
    with psycopg.connect(pg_dsn) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (REFRESH_LOCK_KEY,))
        started = time.perf_counter()
        result = refresh_all(pg_dsn)
        assert result.status == "skipped" and result.generation is None
        assert time.perf_counter() - started < 5  # not queued behind the holder
        assert _log(pg_dsn) == []  # nothing logged, nothing written
        holder.rollback()
    assert refresh_all(pg_dsn).status == "succeeded"


def test_failed_refresh_keeps_the_previous_generation(pg_dsn: str) -> None:
    build_world(pg_dsn)
    good = refresh_all(pg_dsn, periods=PERIODS)
    with pytest.raises(psycopg.errors.QueryCanceled):
        refresh_all(pg_dsn, periods=PERIODS, statement_timeout_ms=1)
    log = _log(pg_dsn)
    assert log[0] == (good.generation, "succeeded", False)
    assert log[1][1:] == ("failed", True)
    with psycopg.connect(pg_dsn) as conn:
        latest = latest_generation(conn)
        assert latest is not None and latest.generation == good.generation
        assert store.meta_rows(conn, "Modern", "last7")["archetypes"]
    assert _generations(pg_dsn, "meta_window_stats") == [good.generation]
    # The lock went with the failed transaction.
    assert refresh_all(pg_dsn).status == "succeeded"


def test_abandoned_running_rows_are_marked_failed(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("INSERT INTO refresh_log (confidence) VALUES (0.95)")
        conn.commit()
    refresh_all(pg_dsn)
    log = _log(pg_dsn)
    assert [row[1] for row in log] == ["failed", "succeeded"]


def test_refresh_under_concurrent_reads(pg_dsn: str) -> None:
    """Readers in threads during several refreshes: no error, never an empty result, and
    each reader sees generations only move forward."""
    build_world(pg_dsn)
    refresh_all(pg_dsn, periods=PERIODS)
    stop = threading.Event()
    errors: list[BaseException] = []
    reads = [0, 0, 0, 0]
    seen: list[list[int]] = [[], [], [], []]

    def reader(index: int) -> None:
        try:
            with psycopg.connect(pg_dsn, autocommit=True) as conn:
                while not stop.is_set():
                    table = store.meta_rows(conn, "Modern", "last7")
                    assert [r["decks"] for r in table["archetypes"]] == [4, 3, 2, 1], table
                    seen[index].append(table["generation"])
                    cells = store.matchup_cells(conn, "Modern", "last14", "all")["cells"]
                    assert len(cells) == 9, cells
                    detail = store.archetype_detail(conn, "Modern", "A", "current")
                    assert detail["cards"]["main"] and detail["summary"]["decks"] == 4
                    custom = store.meta_rows(conn, "Modern", (date(2024, 5, 30), date(2024, 6, 5)))
                    assert custom["totals"]["decks"] == 10
                    overview = store.formats_overview(conn)
                    assert len(overview["formats"]) == 2 and overview["generation"]
                    reads[index] += 1
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.2)
        before = sum(reads)
        statuses = []
        # Two refreshes at once: one runs, the other is skipped or runs after it.
        pair = [
            threading.Thread(
                target=lambda: statuses.append(refresh_all(pg_dsn, periods=PERIODS).status)
            )
            for _ in range(2)
        ]
        for t in pair:
            t.start()
        for t in pair:
            t.join()
        for _ in range(3):
            assert refresh_all(pg_dsn, periods=PERIODS).status == "succeeded"
        during = sum(reads) - before
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors, errors[0]
    assert "succeeded" in statuses and set(statuses) <= {"succeeded", "skipped"}
    assert during > 10  # the readers really ran while refreshing
    for generations in seen:
        assert generations == sorted(generations)


def test_celery_task_runs_the_refresh(
    pg_dsn: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workers.base
    import workers.celery_app
    from workers.tasks.refresh import meta_views

    build_world(pg_dsn)
    (tmp_path / "Modern").mkdir()
    (tmp_path / "Modern" / "metas.json").write_text(
        '{"Metas": [{"StartDate": "2024-01-01", "Name": "Old"},'
        ' {"StartDate": "2024-06-01", "Name": "New"},]}',  # trailing comma: lenient parse
        encoding="utf-8",
    )
    assert load_periods(tmp_path) == {"Modern": PERIODS["Modern"]}
    settings = Settings(database_url=pg_dsn, redis_url=redis_url, formats_dir=tmp_path)
    monkeypatch.setattr(workers.base, "_settings", lambda: settings)
    # The app configures itself from these settings: no service is resolved or started.
    monkeypatch.setattr(workers.celery_app, "_resolved", settings)
    assert meta_views.name == "refresh.meta_views"
    result = meta_views.run()
    assert result["status"] == "succeeded" and result["generation"] >= 1
    assert result["windows"] == 9  # Modern: current + 4 rolling; Pioneer: 4 rolling
    with psycopg.connect(pg_dsn) as conn:
        current = store.meta_rows(conn, "Modern", "current")
    assert current["window"]["period_name"] == "New"
