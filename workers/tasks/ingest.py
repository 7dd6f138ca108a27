"""Ingestion tasks (queue ``ingest``): thin wrappers around :mod:`pipelines.ingest.cache`.

Run-recorded (:mod:`workers.runs`): each is a ``task_runs`` row whose progress is written
after every committed batch. Idempotent and resumable: ingestion skips files already stored
(same size and time, or same bytes) and upserts by natural keys, so a run redelivered after a
crash, or retried after the database came back, starts where the committed batches end.
Another ingestion holding the lock is a transient condition (:class:`IngestBusy` is retried
with back-off), never a silent skip. A successful run asks for ``classify.new_decks``, which
asks for the statistics refresh: the nightly chain, coalesced at every link.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from pipelines.ingest.cache import BATCH_DECKS, IngestSummary, ingest_cache
from pipelines.runs.lease import RunLease
from workers.runs import RunTask, run_task

log = logging.getLogger(__name__)

# Whole-tree ingestion of the real sample takes minutes; both limits stay far below the
# visibility timeout (checked at start-up, workers.celery_app) so a running task is never
# redelivered while it still runs.
SOFT_TIME_LIMIT = 1700
HARD_TIME_LIMIT = 1800


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def run_ingest(
    dsn: str,
    root: Path,
    *,
    since: str | None = None,
    until: str | None = None,
    source: str | None = None,
    lease: RunLease | None = None,
    batch_decks: int = BATCH_DECKS,
) -> dict[str, Any]:
    """Ingest ``root`` (raises IngestBusy while another ingestion runs); a JSON-ready result.

    With a ``lease``, progress is checkpointed after every committed batch.
    """

    def checkpoint(summary: IngestSummary) -> None:
        if lease is not None:
            lease.checkpoint(
                ingestion_run=summary.run_id,
                files_seen=summary.files_seen,
                files_done=summary.files_new + summary.files_changed,
                decks=summary.decks,
            )

    summary = ingest_cache(
        dsn,
        root,
        since=_date(since),
        until=_date(until),
        source=source,
        wait=False,  # pg_try_advisory_lock: retried later instead of queueing behind it
        on_batch=checkpoint,
        batch_decks=batch_decks,
    )
    return {"status": "succeeded", **summary.as_dict()}


def _ingest_and_chain(
    task: RunTask, lease: RunLease, root: Path, **options: str | None
) -> dict[str, Any]:
    dsn = task.dsn
    batch = task.settings.ingest_batch_decks
    result = run_ingest(dsn, root, lease=lease, batch_decks=batch, **options)
    # Asked after every successful run, even one that found nothing new: labelling nothing is
    # a no-op, and it heals a chain interrupted earlier (a worker stopped between links).
    task.ask_for("classify.new_decks")
    return result


@run_task(
    "ingest.cache_tree",
    ignore_result=True,  # operators read the run row (GET /admin/tasks/{id})
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
)
def cache_tree(
    self: RunTask,
    lease: RunLease,
    root: str,
    since: str | None = None,
    until: str | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Ingest the decklist-cache tree at ``root`` (dates as ISO strings, JSON arguments)."""
    return _ingest_and_chain(self, lease, Path(root), since=since, until=until, source=source)


@run_task(
    "ingest.nightly",
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
)
def nightly(self: RunTask, lease: RunLease) -> dict[str, Any]:
    """Beat's nightly run: ingest ``MANALYTICS_CACHE_DIR`` (``manalytics run`` points it at the
    generated demo set when it is unset)."""
    root = self.settings.cache_dir
    if root is None:
        log.warning("nightly ingestion: no cache folder configured or generated")
        return {"status": "succeeded", "files_seen": 0, "note": "no cache folder"}
    return _ingest_and_chain(self, lease, Path(root))
