"""Ingestion tasks (queue ``ingest``): thin wrappers around :mod:`pipelines.ingest.cache`.

Both are idempotent (ingestion skips unchanged files and upserts by natural keys), so late
acknowledgement is safe: a task redelivered after a worker crash simply finds less to do.
A successful run queues ``classify.new_decks``, which queues the statistics refresh: the
nightly chain. Overlap is guarded by the ingestion advisory lock: a run that
finds it held returns ``{"status": "skipped"}`` at once instead of queueing behind the
running one.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from pipelines.ingest.cache import IngestBusy, ingest_cache
from workers.base import ManalyticsTask
from workers.celery_app import app

log = logging.getLogger(__name__)

# Whole-tree ingestion of the real sample takes minutes; both limits stay far below the
# visibility timeout (CELERY_VISIBILITY_TIMEOUT, default 4 h) so a running task is never
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
) -> dict[str, Any]:
    """Ingest ``root`` unless another ingestion holds the lock; a JSON-ready result."""
    try:
        summary = ingest_cache(
            dsn,
            root,
            since=_date(since),
            until=_date(until),
            source=source,
            wait=False,  # pg_try_advisory_lock: skip instead of queueing behind a running one
        )
    except IngestBusy:
        log.info("ingestion of %s skipped: another ingestion is running", root)
        return {"status": "skipped", "reason": "another ingestion is running", "root": str(root)}
    return {"status": "succeeded", **summary.as_dict()}


def continue_chain(result: dict[str, Any]) -> dict[str, Any]:
    """Queue the next link of the chain (ingest -> classify.new_decks -> refresh.meta_views);
    never wait on a task inside a task.

    Queued after every successful run, even one that found nothing new: labelling nothing
    is a no-op, and it heals a chain that was interrupted earlier (a worker stopped
    between ingestion and refresh) on the next run.
    """
    if result.get("status") == "succeeded":
        app.send_task("classify.new_decks", queue="classify")
    return result


@app.task(
    name="ingest.cache_tree",
    base=ManalyticsTask,
    bind=True,
    acks_late=True,
    ignore_result=False,  # operators poll it through GET /admin/tasks/{id}
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
)
def cache_tree(
    self: ManalyticsTask,
    root: str,
    since: str | None = None,
    until: str | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Ingest the decklist-cache tree at ``root`` (dates as ISO strings, JSON arguments)."""
    dsn = self.settings.database_url
    assert dsn is not None  # resolved by worker_settings()
    return continue_chain(run_ingest(dsn, Path(root), since=since, until=until, source=source))


@app.task(
    name="ingest.nightly",
    base=ManalyticsTask,
    bind=True,
    acks_late=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
)
def nightly(self: ManalyticsTask) -> dict[str, Any]:
    """Beat's nightly run: ingest ``MANALYTICS_CACHE_DIR`` (``manalytics run`` points it at the
    generated demo set when it is unset)."""
    root = self.settings.cache_dir
    if root is None:
        log.warning("nightly ingestion skipped: no cache folder configured or generated")
        return {"status": "skipped", "reason": "no cache folder"}
    dsn = self.settings.database_url
    assert dsn is not None
    return continue_chain(run_ingest(dsn, root))
