"""Classification tasks (queue ``classify``): thin wrappers around
:mod:`pipelines.classify.labels` and :mod:`pipelines.classify.reclassify`, run-recorded
(:mod:`workers.runs`).

* ``classify.new_decks`` labels decks ingested since the last run, then asks for the
  statistics refresh: the tail of the nightly chain ingest -> classify -> refresh. Asked
  while one runs, it runs once more right after it (coalesced, never skipped).
* ``classify.reclassify_format`` (operator request) starts a reclassification of one format
  and publishes one ``classify.chunk`` run per chunk, so every free worker labels chunks in
  parallel; the parent labels the chunks nobody has taken yet itself (claiming their runs,
  so their messages are dropped where they arrive) and waits for the rest, checkpointing
  the count. A run redelivered after a crash resumes with the chunks not done (their runs
  are joined, not duplicated). The chunk that finishes the run switches readers to the new
  definitions atomically; the parent then asks for the refresh. An identical request while
  it runs joins it (no follow-up: the definitions are the same).
* ``classify.chunk`` labels one chunk of a run (also the runbook's manual re-queue, which
  asks for the refresh itself when it finishes the run).

All are idempotent (labels are upserted per (version, deck); a chunk counts once), so late
acknowledgement and redelivery are safe.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from pipelines.classify import reclassify as store
from pipelines.classify.labels import classify_new_decks
from pipelines.classify.versions import ClassificationError
from pipelines.runs import store as runs_store
from pipelines.runs.lease import RunLease
from workers.runs import RunTask, run_task

log = logging.getLogger(__name__)

SOFT_TIME_LIMIT = 840  # ENGINEERING.md §5: classify batch 840/900 s
HARD_TIME_LIMIT = 900
# The parent of a whole format's reclassification lasts until its last chunk is labelled.
RECLASSIFY_SOFT_TIME_LIMIT = 1700
RECLASSIFY_HARD_TIME_LIMIT = 1800


@run_task("classify.new_decks", soft_time_limit=SOFT_TIME_LIMIT, time_limit=HARD_TIME_LIMIT)
def new_decks(self: RunTask, lease: RunLease, refresh: bool = True) -> dict[str, Any]:
    """Label unlabelled decks with each format's active definitions, then refresh."""
    done = classify_new_decks(self.dsn, self.settings.definitions_dir)
    lease.checkpoint(labelled=done)
    if refresh:
        self.ask_for("refresh.meta_views")
    return {"status": "succeeded", "labelled": done}


def _classification_run(task: RunTask, lease: RunLease, format_name: str, requested_by: Any) -> int:
    """The classification run of this task run: the one recorded by an earlier attempt
    while it is still going on (or already completed: only the refresh is left), else a
    new one."""
    dsn = task.dsn
    earlier = lease.progress.get("classification_run")
    if earlier is not None and store.run_progress(dsn, int(earlier)).status in (
        "running",
        "completed",
    ):
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


CHUNK_TASK = "classify.chunk"


def _chunk(
    self: RunTask, lease: RunLease, run_id: int, chunk_no: int, refresh: bool = True
) -> dict[str, Any]:
    """Label one chunk of a run; the one that finishes the run switches readers (and, when
    asked alone, e.g. re-queued by hand, asks for the refresh)."""
    run = store.classify_chunk(self.dsn, self.settings.definitions_dir, run_id, chunk_no)
    if refresh and run.status == "completed" and run.chunks_done == run.chunks_total:
        self.ask_for("refresh.meta_views")
    return {
        "run_id": run_id,
        "chunk": chunk_no,
        "status": run.status,
        "chunks_done": run.chunks_done,
        "chunks_total": run.chunks_total,
    }


chunk = run_task(CHUNK_TASK, soft_time_limit=SOFT_TIME_LIMIT, time_limit=HARD_TIME_LIMIT)(_chunk)


def _chunk_runs(task: RunTask, run_id: int) -> list[runs_store.Run]:
    """One ``classify.chunk`` run per chunk not done, published for any worker to take; an
    identical one already queued or running (an earlier attempt's) is joined."""
    dsn = task.dsn
    return [
        task.ask_for(CHUNK_TASK, follow_up=False, run_id=run_id, chunk_no=n, refresh=False).run
        for n in store.pending_chunks(dsn, run_id)
    ]


def _work_through(
    task: RunTask, lease: RunLease, run_id: int, children: list[runs_store.Run]
) -> None:
    """Until every chunk run is over: label the ones no worker holds here (a chunk's own
    message, delivered later, is then dropped), wait for the others; checkpoint each pass."""
    dsn = task.dsn
    while True:
        with task.db() as conn:
            current = [runs_store.get_run(conn, child.id) or child for child in children]
        lost = [r for r in current if r.state in ("failed", "abandoned")]
        if lost:
            raise ClassificationError(
                f"classification run {run_id}: chunk run {lost[0].id} {lost[0].state}: "
                f"{lost[0].error}"
            )
        open_runs = [r for r in current if r.state not in runs_store.FINAL_STATES]
        ran_here = False
        for child in open_runs:
            if task.run_here(child, _chunk) == "run":
                ran_here = True
                _checkpoint(lease, dsn, run_id)
        _checkpoint(lease, dsn, run_id)
        if not open_runs:
            return
        if not ran_here:  # all held by other workers: wait for them
            time.sleep(task.settings.run_heartbeat_seconds)


def _checkpoint(lease: RunLease, dsn: str, run_id: int) -> None:
    done = store.run_progress(dsn, run_id)
    lease.checkpoint(chunks_done=done.chunks_done, chunks_total=done.chunks_total)


@run_task(
    "classify.reclassify_format",
    follow_up=False,
    soft_time_limit=RECLASSIFY_SOFT_TIME_LIMIT,
    time_limit=RECLASSIFY_HARD_TIME_LIMIT,
)
def reclassify_format(
    self: RunTask, lease: RunLease, format_name: str, requested_by: str | None = None
) -> dict[str, Any]:
    """Reclassify one format: its chunks in parallel on every free worker (this one
    included), checkpointed; then ask for the refresh."""
    dsn = self.dsn
    run_id = _classification_run(self, lease, format_name, requested_by)
    _work_through(self, lease, run_id, _chunk_runs(self, run_id))
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
