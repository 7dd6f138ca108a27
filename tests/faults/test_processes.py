"""Process-level behaviour: one beat out of two, a worker stopped with SIGTERM mid-task,
start-up refused with a visibility timeout that would redeliver running tasks."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.faults.conftest import Cluster, elapsed
from tests.faults.harness import fingerprint, remove_slow_downs, run_row, slow_down, wait_for

pytestmark = pytest.mark.faults


def _queued(redis_url: str, queue: str) -> list[dict]:
    """Headers of the messages waiting in a queue (kombu's Redis transport: one list per
    queue, in the broker's database 0)."""
    client = redis.Redis.from_url(redis_url + "/0")
    return [json.loads(m)["headers"] for m in client.lrange(queue, 0, -1)]


def test_two_beats_started_at_once_send_each_tick_once(cluster: Cluster) -> None:
    env = {"REAPER_INTERVAL_SECONDS": "1", "BEAT_LOCK_SECONDS": "4"}
    first, second = cluster.beat(**env), cluster.beat(**env)  # no worker: messages pile up
    wait_for(lambda: "Acquired lock" in first.output() + second.output(), 120, "a beat to lead")
    time.sleep(6)
    leader, follower = (first, second) if "Acquired lock" in first.output() else (second, first)
    assert "Acquired lock" not in follower.output()
    # Beat logs JSON lines too (LOG_FORMAT=json), with the task context fields.
    [acquired] = [line for line in leader.json_lines() if line["message"] == "beat: Acquired lock"]
    assert acquired["task_id"] == "-" and acquired["logger"] == "celery.beat"
    assert "Sending due task reap-runs" not in follower.output()

    def sent_and_ticks() -> tuple[int, int] | None:
        # Beat logs "Sending due task" before the message reaches Redis: read both until they
        # agree (a second sender would keep the queue ahead of the leader's log for good).
        sent = [
            h for h in _queued(cluster.redis.url, "refresh") if h["task"] == "maintenance.reap_runs"
        ]
        ticks = leader.output().count("Sending due task reap-runs")
        return (len(sent), ticks) if len(sent) == ticks else None

    sent, ticks = wait_for(sent_and_ticks, 10, "every logged tick to be queued once")
    assert sent == ticks and 3 <= ticks <= 9  # ~1 a second from one beat, not two
    # The leader dies: the follower takes over once the lock expires.
    leader.kill_group()
    died = time.monotonic()
    wait_for(lambda: "Acquired lock" in follower.output(), 30, "the second beat to take over")
    wait_for(lambda: "Sending due task reap-runs" in follower.output(), 30, "its first tick")
    print(f"second beat took over in {elapsed(died)} s")


def test_sigterm_while_a_long_task_runs_requeues_it_within_the_grace_period(
    cluster: Cluster, cache_root: Path, clean_fingerprint: dict
) -> None:
    # The images set REMAP_SIGTERM=SIGQUIT: SIGTERM starts Celery's soft shutdown (running
    # tasks get WORKER_SOFT_SHUTDOWN_SECONDS), then a cold shutdown re-queues them.
    worker = cluster.worker(REMAP_SIGTERM="SIGQUIT")
    slow_down(cluster.dsn, "tournaments", 1.0)  # ~12 s of work: longer than the 3 s
    run_id = cluster.request("ingest.cache_tree", root=str(cache_root))
    cluster.wait_progress(run_id, "files_done", 1)
    worker.process.send_signal(signal.SIGTERM)
    stopped = time.monotonic()
    worker.process.wait(timeout=30)
    took = elapsed(stopped)
    assert took < 15, took  # well inside compose's 60 s grace period: never SIGKILLed
    assert worker.process.returncode is not None
    assert [h["id"] for h in _queued(cluster.redis.url, "ingest")] == [run_id]  # back at once
    assert run_row(cluster.dsn, run_id)["state"] == "running"  # its lock is gone with it
    cluster.worker(REMAP_SIGTERM="SIGQUIT")
    row = cluster.wait_state(run_id, {"succeeded", "failed"}, 180)
    assert row["state"] == "succeeded" and row["attempt"] == 2, row
    cluster.settle()
    remove_slow_downs(cluster.dsn)
    assert fingerprint(cluster.dsn) == clean_fingerprint
    print(f"worker stopped in {took} s; run finished {elapsed(stopped)} s after SIGTERM")


def test_a_visibility_timeout_below_the_hard_limits_is_refused(cluster: Cluster) -> None:
    for argv in (["worker", "-Q", "ingest", "-c", "1"], ["beat"]):
        done = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", *argv],
            env=cluster.env(CELERY_VISIBILITY_TIMEOUT="1800"),
            capture_output=True,
            text=True,
            timeout=180,
            cwd=Path(__file__).parents[2],
        )
        assert done.returncode != 0
        assert "refusing to start: CELERY_VISIBILITY_TIMEOUT" in done.stdout + done.stderr
        # The longest hard limit of the registered tasks (sources.fetch: 3600 s) + 600 s.
        assert "plus 600 s" in done.stdout + done.stderr
