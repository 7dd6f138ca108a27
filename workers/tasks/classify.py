"""Classification tasks (queue ``classify``): thin wrappers around
:mod:`pipelines.classify.labels` and :mod:`pipelines.classify.reclassify`, run-recorded
(:mod:`workers.runs`).

* ``classify.new_decks`` labels decks ingested since the last run, then asks for the
  statistics refresh: the tail of the nightly chain ingest -> classify -> refresh. Asked
  while one runs, it runs once more right after it (coalesced, never skipped).
* ``classify.reclassify_format`` (operator request) starts a reclassification of one format
  and labels its chunks one after another, checkpointing each: a run redelivered after a
  crash resumes at the first chunk not done. The chunk that finishes the run switches
  readers to the new definitions atomically; the task then asks for the refresh. An
  identical request while it runs joins it (no follow-up: the definitions are the same).
* ``classify.chunk`` labels one chunk of a run (kept for messages queued by earlier
  versions and for the runbook's manual re-queue).

All are idempotent (labels are upserted per (version, deck); a chunk counts once), so late
acknowledgement and redelivery are safe.
"""

from __future__ import annotations

import logging
from typing import Any

from pipelines.classify import reclassify as store
from pipelines.classify.labels import classify_new_decks
from pipelines.classify.versions import ClassificationError
from pipelines.runs.lease import RunLease
from workers.runs import RunTask, run_task

log = logging.getLogger(__name__)

SOFT_TIME_LIMIT = 840  # ENGINEERING.md §5: classify batch 840/900 s
HARD_TIME_LIMIT = 900
# A whole format's reclassification runs chunk after chunk in one task.
RECLASSIFY_SOFT_TIME_LIMIT = 1700
RECLASSIFY_HARD_TIME_LIMIT = 1800


def _dsn(task: RunTask) -> str:
    dsn = task.settings.database_url
    assert dsn is not None  # resolved by worker_settings()
    return dsn


@run_task("classify.new_decks", soft_time_limit=SOFT_TIME_LIMIT, time_limit=HARD_TIME_LIMIT)
def new_decks(self: RunTask, lease: RunLease, refresh: bool = True) -> dict[str, Any]:
    """Label unlabelled decks with each format's active definitions, then refresh."""
    done = classify_new_decks(_dsn(self), self.settings.definitions_dir)
    lease.checkpoint(labelled=done)
    if refresh:
        self.ask_for("refresh.meta_views")
    return {"status": "succeeded", "labelled": done}


def _classification_run(task: RunTask, lease: RunLease, format_name: str, requested_by: Any) -> int:
    """The classification run of this task run: the one recorded by an earlier attempt
    while it is still going on, else a new one."""
    dsn = _dsn(task)
    earlier = lease.progress.get("classification_run")
    if earlier is not None and store.run_progress(dsn, int(earlier)).status == "running":
        log.info("resuming classification run %s", earlier)
        return int(earlier)
    run = store.start_reclassification(
        dsn,
        task.settings.definitions_dir,
        format_name,
        requested_by,
        chunk_decks=task.settings.classify_chunk_decks,
    )
    lease.checkpoint(
        classification_run=run.run_id,
        version=run.version,
        chunks_total=run.chunks_total,
        chunks_done=0,
        decks_total=run.decks_total,
    )
    return run.run_id


@run_task(
    "classify.reclassify_format",
    follow_up=False,
    soft_time_limit=RECLASSIFY_SOFT_TIME_LIMIT,
    time_limit=RECLASSIFY_HARD_TIME_LIMIT,
)
def reclassify_format(
    self: RunTask, lease: RunLease, format_name: str, requested_by: str | None = None
) -> dict[str, Any]:
    """Reclassify one format: every chunk, checkpointed; then ask for the refresh."""
    dsn = _dsn(self)
    run_id = _classification_run(self, lease, format_name, requested_by)
    for chunk_no in store.pending_chunks(dsn, run_id):
        done = store.classify_chunk(dsn, self.settings.definitions_dir, run_id, chunk_no)
        lease.checkpoint(chunks_done=done.chunks_done, chunks_total=done.chunks_total)
    run = store.run_progress(dsn, run_id)
    if run.status != "completed":
        raise ClassificationError(f"classification run {run_id} ended {run.status}")
    self.ask_for("refresh.meta_views")
    return {
        "status": "succeeded",
        "run_id": run.run_id,
        "version": run.version,
        "chunks": run.chunks_total,
        "decks": run.decks_total,
    }


@run_task("classify.chunk", soft_time_limit=SOFT_TIME_LIMIT, time_limit=HARD_TIME_LIMIT)
def chunk(self: RunTask, lease: RunLease, run_id: int, chunk_no: int) -> dict[str, Any]:
    """Label one chunk of a run; the last one switches readers and asks for the refresh."""
    run = store.classify_chunk(_dsn(self), self.settings.definitions_dir, run_id, chunk_no)
    if run.status == "completed" and run.chunks_done == run.chunks_total:
        self.ask_for("refresh.meta_views")
    return {
        "run_id": run_id,
        "chunk": chunk_no,
        "status": run.status,
        "chunks_done": run.chunks_done,
        "chunks_total": run.chunks_total,
    }
