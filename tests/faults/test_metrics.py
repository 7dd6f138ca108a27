"""The worker's Prometheus endpoint: per-task counters summed over the pool processes, run
and queue gauges read from the run records and the broker."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from tests.faults.conftest import Cluster, seed_clean
from tests.faults.harness import free_port, wait_for

pytestmark = pytest.mark.faults


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        return answer.read().decode()


def test_worker_metrics_count_tasks_runs_and_queues(cluster: Cluster, tmp_path: Path) -> None:
    port = free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    worker = cluster.worker(
        concurrency=2, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), WORKER_METRICS_PORT=str(port)
    )
    seed_clean(cluster.dsn)
    run_id = cluster.request("refresh.meta_views")
    cluster.wait_state(run_id, {"succeeded"}, 180)
    text = wait_for(
        lambda: (t := _scrape(port)) and 'task="refresh.meta_views"' in t and t, 30, "metrics"
    )
    assert 'manalytics_task_succeeded_total{task="refresh.meta_views"} 1.0' in text
    assert 'manalytics_task_started_total{task="refresh.meta_views"} 1.0' in text
    assert (
        'manalytics_task_duration_seconds_count{outcome="succeeded",task="refresh.meta_views"}'
        in text
    )
    assert 'manalytics_last_success_timestamp_seconds{kind="refresh"}' in text
    assert 'manalytics_queue_messages{queue="ingest"} 0.0' in text
    # The run's log lines are JSON objects carrying its task and run ids.
    lines = [line for line in worker.json_lines() if line.get("run_id") == run_id]
    assert lines and all(line["task_id"] == run_id for line in lines), worker.output()[-3000:]
    assert {line["task_name"] for line in lines} == {"refresh.meta_views"}


def test_bad_data_fails_at_once_lock_contention_is_retried_and_both_are_counted(
    cluster: Cluster, tmp_path: Path
) -> None:
    import psycopg

    from pipelines.runs import store
    from pipelines.stats.refresh import REFRESH_LOCK_KEY
    from tests.faults.harness import run_row

    port = free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    cluster.worker(PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), WORKER_METRICS_PORT=str(port))
    seed_clean(cluster.dsn)
    # Bad data (a format without definitions): failed on the first attempt, never retried.
    bad = cluster.request("classify.reclassify_format", format_name="NoSuchFormat")
    row = cluster.wait_state(bad, {"succeeded", "failed"}, 120)
    assert row["state"] == "failed" and row["attempt"] == 1, row
    assert "retrying" not in [e["event"] for e in row["history"]]
    # The refresh lock held elsewhere (a refresh from the command line): retried, not skipped.
    with psycopg.connect(cluster.dsn) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (REFRESH_LOCK_KEY,))
        refresh = cluster.request("refresh.meta_views")
        wait_for(
            lambda: "retrying" in [e["event"] for e in run_row(cluster.dsn, refresh)["history"]],
            120,
            f"the refresh to be retried\n{cluster.logs()}",
        )
    assert cluster.wait_state(refresh, {"succeeded", "failed"}, 180)["state"] == "succeeded"
    # A run recorded but not yet sent: counted as queued, with its age.
    with psycopg.connect(cluster.dsn, autocommit=True) as conn:
        store.request_run(conn, "ingest.nightly", requested_by="test")
    text = wait_for(
        lambda: (t := _scrape(port)) and 'reason="RunBusy"' in t and t, 60, "retry metrics"
    )
    failed = 'manalytics_task_failed_total{reason="%s",task="classify.reclassify_format"} 1.0'
    assert any(failed % reason in text for reason in ("ClassificationError", "FileNotFoundError"))
    assert 'manalytics_task_retried_total{reason="RunBusy",task="refresh.meta_views"}' in text
    assert 'manalytics_runs{kind="ingest",state="queued"} 1.0' in text
    assert 'manalytics_oldest_pending_run_seconds{kind="ingest"}' in text
