"""Housekeeping tasks (routed to the ``refresh`` queue): the end-to-end ping and the reaper."""

from __future__ import annotations

import logging
import os
from typing import Any

from pipelines.core.db import connect
from pipelines.runs import store
from workers.base import ManalyticsTask, task
from workers.runs import publish

log = logging.getLogger(__name__)


@task(
    "maintenance.ping",
    acks_late=False,
    ignore_result=False,  # callers wait for the answer
    soft_time_limit=20,
    time_limit=30,
)
def ping(self: ManalyticsTask, echo: Any = None) -> dict[str, Any]:
    """End-to-end check: the worker answers and its process pool reaches the database."""
    with self.db_pool.connection() as conn:
        row = conn.execute("SELECT 1").fetchone()
    return {
        "pong": True,
        "echo": echo,
        "database": bool(row and row[0] == 1),
        "pid": os.getpid(),
        "task_id": self.request.id,
    }


@task(
    "maintenance.reap_runs",
    acks_late=False,  # beat sends the next one soon: a lost one costs one interval
    soft_time_limit=50,
    time_limit=60,
    # A reaper message older than a few intervals is pointless: the next one is queued.
    expires=300,
)
def reap_runs(self: ManalyticsTask) -> dict[str, Any]:
    """Re-queue runs whose worker is gone; re-publish runs whose message may be lost.

    Its own overlap guard: one reaper at a time (transaction-level advisory lock).
    """
    settings = self.settings
    with connect(self.dsn, autocommit=True, application_name="manalytics-reaper") as conn:
        reaped = store.reap(
            conn,
            stale_after=settings.run_stale_seconds,
            republish_after=settings.run_republish_seconds,
        )
        if reaped is None:
            return {"status": "busy"}
        published = 0
        for run in [*reaped.requeue, *reaped.follow_ups]:
            if publish(run):
                store.mark_enqueued(conn, run.id)
                published += 1
    for run in reaped.requeue:
        log.warning("run %s (%s) re-queued: %s", run.id, run.task_name, run.error)
    for run in reaped.abandoned:
        log.error("run %s (%s) abandoned: %s", run.id, run.task_name, run.error)
    return {
        "requeued": len(reaped.requeue),
        "abandoned": len(reaped.abandoned),
        "published": published,
    }
