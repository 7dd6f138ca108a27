"""Ingestion under faults: the pool process or the whole worker killed mid-run, Redis and
PostgreSQL restarted under it. Each ends with the database equal to a clean run and the
run recorded as succeeded."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.faults.conftest import Cluster, elapsed
from tests.faults.harness import remove_slow_downs, run_row, slow_down

pytestmark = pytest.mark.faults


def _ingest_half_done(cluster: Cluster, root: Path) -> str:
    slow_down(cluster.dsn, "tournaments", 0.4)
    run_id = cluster.request("ingest.cache_tree", root=str(root))
    cluster.wait_progress(run_id, "files_done", 1)
    return run_id


def _ends_clean(cluster: Cluster, run_id: str, clean: dict, since: float, attempts: int) -> float:
    row = cluster.wait_state(run_id, {"succeeded", "failed", "abandoned"}, 180)
    recovered = elapsed(since)
    assert row["state"] == "succeeded", (row, cluster.logs())
    assert row["attempt"] >= attempts, row
    cluster.settle()
    remove_slow_downs(cluster.dsn)
    from tests.faults.harness import fingerprint

    assert fingerprint(cluster.dsn) == clean
    print(f"recovered in {recovered} s; history: {[e['event'] for e in row['history']]}")
    return recovered


def test_pool_process_killed_mid_ingestion(
    cluster: Cluster, cache_root: Path, clean_fingerprint: dict
) -> None:
    worker = cluster.worker()
    run_id = _ingest_half_done(cluster, cache_root)
    [child] = worker.children()
    os.kill(child, signal.SIGKILL)  # out of memory, hard time limit...
    killed = time.monotonic()
    _ends_clean(cluster, run_id, clean_fingerprint, killed, attempts=2)
    row = run_row(cluster.dsn, run_id)
    assert "taken over" in [e["event"] for e in row["history"]]
    assert row["progress"]["files_done"] >= 1


def test_whole_worker_killed_mid_ingestion(
    cluster: Cluster, cache_root: Path, clean_fingerprint: dict
) -> None:
    cluster.beat()  # the reaper
    worker = cluster.worker()
    run_id = _ingest_half_done(cluster, cache_root)
    worker.kill_group()  # kill -9 of main and pool: its message stays unacked in Redis
    killed = time.monotonic()
    cluster.worker()  # a replacement, as compose/Kubernetes would start
    recovered = _ends_clean(cluster, run_id, clean_fingerprint, killed, attempts=2)
    assert recovered < 60  # redelivered within a minute, not after the visibility timeout
    row = run_row(cluster.dsn, run_id)
    assert "abandoned" in [e["event"] for e in row["history"]]
