"""Classification tasks (queue ``classify``): thin wrappers around
:mod:`pipelines.classify.labels` and :mod:`pipelines.classify.reclassify`.

* ``classify.new_decks`` labels decks ingested since the last run, then queues the
  statistics refresh: the tail of the nightly chain ingest -> classify -> refresh.
* ``classify.reclassify_format`` (operator request) records a run and fans its chunks out as
  ``classify.chunk`` tasks, so several workers share the work; the chunk that finishes last
  switches readers to the new definitions atomically and queues the refresh.

All are idempotent (labels are upserted per (version, deck); a chunk counts once), so late
acknowledgement is safe.
"""

from __future__ import annotations

import logging
from typing import Any

from pipelines.classify.labels import classify_new_decks
from pipelines.classify.reclassify import classify_chunk, start_reclassification
from workers.base import ManalyticsTask
from workers.celery_app import app

log = logging.getLogger(__name__)

SOFT_TIME_LIMIT = 840  # ENGINEERING.md §5: classify batch 840/900 s
HARD_TIME_LIMIT = 900


def _dsn(task: ManalyticsTask) -> str:
    dsn = task.settings.database_url
    assert dsn is not None  # resolved by worker_settings()
    return dsn


def queue_refresh() -> None:
    """Ask for a statistics refresh (an overlapping one is skipped by its lock)."""
    app.send_task("refresh.meta_views", queue="refresh")


@app.task(
    name="classify.new_decks",
    base=ManalyticsTask,
    bind=True,
    acks_late=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
)
def new_decks(self: ManalyticsTask, refresh: bool = True) -> dict[str, Any]:
    """Label unlabelled decks with each format's active definitions, then refresh."""
    done = classify_new_decks(_dsn(self), self.settings.definitions_dir)
    if refresh:
        queue_refresh()
    return {"status": "succeeded", "labelled": done}


@app.task(
    name="classify.reclassify_format",
    base=ManalyticsTask,
    bind=True,
    acks_late=True,
    ignore_result=False,  # operators poll it through GET /admin/tasks/{id}
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
)
def reclassify_format(
    self: ManalyticsTask, format_name: str, requested_by: str | None = None
) -> dict[str, Any]:
    """Start a reclassification run and queue one ``classify.chunk`` task per chunk."""
    run = start_reclassification(
        _dsn(self), self.settings.definitions_dir, format_name, requested_by
    )
    for chunk_no in range(run.chunks_total):
        app.send_task("classify.chunk", args=(run.run_id, chunk_no), queue="classify")
    if run.status == "completed":  # nothing to label: switched already
        queue_refresh()
    return {
        "status": "started",
        "run_id": run.run_id,
        "version": run.version,
        "chunks": run.chunks_total,
        "decks": run.decks_total,
    }


@app.task(
    name="classify.chunk",
    base=ManalyticsTask,
    bind=True,
    acks_late=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
)
def chunk(self: ManalyticsTask, run_id: int, chunk_no: int) -> dict[str, Any]:
    """Label one chunk of a run; the last one switches readers and queues the refresh."""
    run = classify_chunk(_dsn(self), self.settings.definitions_dir, run_id, chunk_no)
    if run.status == "completed" and run.chunks_done == run.chunks_total:
        queue_refresh()
    return {
        "run_id": run_id,
        "chunk": chunk_no,
        "status": run.status,
        "chunks_done": run.chunks_done,
        "chunks_total": run.chunks_total,
    }
