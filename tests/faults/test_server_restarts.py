"""PostgreSQL and Redis restarted under running work: retried or re-queued, never lost."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from tests.faults.conftest import Cluster, elapsed, seed_clean
from tests.faults.harness import (
    PostgresServer,
    RedisServer,
    fingerprint,
    remove_slow_downs,
    slow_down,
    wait_for,
)

pytestmark = pytest.mark.faults


def _succeeded_clean(cluster: Cluster, run_id: str, clean: dict, since: float) -> list[str]:
    row = cluster.wait_state(run_id, {"succeeded", "failed", "abandoned"}, 180)
    recovered = elapsed(since)
    assert row["state"] == "succeeded", (row, cluster.logs())
    cluster.settle(180)
    remove_slow_downs(cluster.dsn)
    assert fingerprint(cluster.dsn) == clean
    events = [e["event"] for e in row["history"]]
    print(f"recovered in {recovered} s; history: {events}")
    return events


@pytest.fixture
def pg_cluster(cluster_factory, pg_server: PostgresServer) -> Cluster:  # type: ignore[no-untyped-def]
    return cluster_factory(pg_server.dsn("manalytics"))


def test_postgres_restarted_under_a_running_ingestion(
    pg_cluster: Cluster, pg_server: PostgresServer, cache_root: Path, clean_fingerprint: dict
) -> None:
    pg_cluster.worker()
    slow_down(pg_cluster.dsn, "tournaments", 0.4)
    run_id = pg_cluster.request("ingest.cache_tree", root=str(cache_root))
    pg_cluster.wait_progress(run_id, "files_done", 1)
    pg_server.restart(down_seconds=1.0)
    events = _succeeded_clean(pg_cluster, run_id, clean_fingerprint, time.monotonic())
    assert "retrying" in events  # a transient error: retried with back-off
    with psycopg.connect(pg_cluster.dsn) as conn:  # the interrupted ingestion run is closed
        states = dict(conn.execute("SELECT status, count(*) FROM ingestion_runs GROUP BY 1"))
    assert "running" not in states and states["succeeded"] >= 1


def test_postgres_restarted_under_a_running_refresh(
    pg_cluster: Cluster, pg_server: PostgresServer, clean_fingerprint: dict
) -> None:
    pg_cluster.worker()
    seed_clean(pg_cluster.dsn)
    slow_down(pg_cluster.dsn, "meta_window_stats", 0.04)
    run_id = pg_cluster.request("refresh.meta_views")
    pg_cluster.wait_state(run_id, {"running"}, 120)
    time.sleep(1.5)
    pg_server.restart(down_seconds=1.0)
    events = _succeeded_clean(pg_cluster, run_id, clean_fingerprint, time.monotonic())
    assert "retrying" in events


def test_redis_restarted_under_a_running_ingestion(
    cluster: Cluster, redis_server: RedisServer, cache_root: Path, clean_fingerprint: dict
) -> None:
    beat = cluster.beat()
    cluster.worker()
    wait_for(lambda: "Acquired lock" in beat.output(), 120, "the beat to lead")
    slow_down(cluster.dsn, "tournaments", 0.4)
    run_id = cluster.request("ingest.cache_tree", root=str(cache_root))
    cluster.wait_progress(run_id, "files_done", 1)
    ticks = beat.output().count("Sending due task reap-runs")
    redis_server.restart(down_seconds=1.0)
    restarted = time.monotonic()
    _succeeded_clean(cluster, run_id, clean_fingerprint, restarted)
    # The beat rode the restart out: still the one beat, still sending (the reaper, the
    # nightly chain), never exited.
    wait_for(
        lambda: beat.output().count("Sending due task reap-runs") > ticks + 2,
        60,
        f"beat ticks after the restart\n{cluster.logs()}",
    )
    assert beat.process.poll() is None, beat.output()[-3000:]
