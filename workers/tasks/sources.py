"""Source tasks (queue ``ingest``): thin wrappers around :mod:`pipelines.sources`.

* ``sources.nightly`` (beat, ``SOURCES_HOUR_UTC``): one ``sources.fetch`` per enabled source,
  staggered by ``SOURCES_STAGGER_MINUTES``; a source enabled without its credentials gets one
  log line and a ``disabled`` run record instead of a failure every night.
* ``sources.fetch`` (beat fan-out, operators): one run of one source — fetch, write cache
  files, ingest them — then, when it ingested anything, the chain classify -> refresh ->
  warm the API cache (a Celery chain of immutable signatures: no task waits on another).
* ``sources.warm_api_cache``: the last link.
* ``sources.sync_formats`` (beat, daily): ``formats sync`` of the archetype definitions.

Idempotent (checkpoints, ingestion's hash skip), overlap-guarded (per-source advisory lock),
so late acknowledgement is safe.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from celery import chain

from pipelines.classify.sync import SyncError, sync_formats
from pipelines.sources import runs
from pipelines.sources.fetch import run_source
from pipelines.sources.registry import source_states
from pipelines.sources.warm import warm_api_cache
from workers.base import ManalyticsTask, task
from workers.celery_app import app

log = logging.getLogger(__name__)

# A first clone of the cache repository plus a full ingestion takes minutes; both limits
# stay far below the visibility timeout (4 h), so a running task is never redelivered.
SOFT_TIME_LIMIT = 3300
HARD_TIME_LIMIT = 3600


def after_fetch_chain() -> Any:
    """classify (without its own refresh) -> refresh -> warm, as one chain."""
    return chain(
        app.signature(
            "classify.new_decks", kwargs={"refresh": False}, queue="classify", immutable=True
        ),
        app.signature("refresh.meta_views", queue="refresh", immutable=True),
        app.signature("sources.warm_api_cache", queue="refresh", immutable=True),
    )


@task(
    "sources.fetch",
    ignore_result=False,  # operators poll it through GET /admin/tasks/{id}
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
)
def fetch(
    self: ManalyticsTask,
    name: str,
    since: str | None = None,
    until: str | None = None,
    trigger: str = "operator",
    refetch: str = "new",
) -> dict[str, Any]:
    """One run of source ``name`` (dates as ISO strings), then the chain if it ingested."""
    report = run_source(
        self.dsn,
        self.settings,
        name,
        since=date.fromisoformat(since) if since else None,
        until=date.fromisoformat(until) if until else None,
        trigger=trigger,
        refetch=refetch,
    )
    result = report.as_dict()
    if report.ingested_anything:
        after_fetch_chain().apply_async()
        result["chain"] = "queued"
    return result


@task("sources.nightly", soft_time_limit=60, time_limit=90)
def nightly(self: ManalyticsTask) -> dict[str, Any]:
    """Queue each enabled source's fetch, staggered."""
    settings = self.settings
    queued: list[str] = []
    disabled: list[str] = []
    states = {s.name: s for s in source_states(settings)}
    with self.db_pool.connection() as conn:
        for name in settings.sources_enabled:
            state = states[name]
            if not state.enabled:
                log.warning("source %s disabled: %s", name, state.reason)
                runs.record_disabled(conn, name, state.reason)
                disabled.append(name)
                continue
            delay = len(queued) * settings.sources_stagger_minutes * 60
            app.send_task(
                "sources.fetch",
                args=(name,),
                kwargs={"trigger": "schedule"},
                queue="ingest",
                countdown=delay,
                expires=delay + 6 * 3600,  # the next night catches up anyway
            )
            queued.append(name)
    return {"queued": queued, "disabled": disabled}


@task("sources.warm_api_cache", soft_time_limit=600, time_limit=660)
def warm(self: ManalyticsTask) -> dict[str, Any]:
    """Ask the API for the standard windows so the first readers hit a warm cache."""
    settings = self.settings
    return warm_api_cache(settings.api_url, user_agent=settings.sources_user_agent).as_dict()


def formats_checkout(task: ManalyticsTask) -> Path:
    """Where ``formats sync`` keeps the definitions repository: the checkout holding
    ``MANALYTICS_FORMATS_DIR`` when that is a ``Formats`` folder, else ``<var>/MTGOFormatData``
    (the CLI's default)."""
    formats_dir = task.settings.formats_dir
    if formats_dir is not None and formats_dir.name == "Formats":
        return formats_dir.parent
    return task.settings.var_dir / "MTGOFormatData"


@task("sources.sync_formats", soft_time_limit=600, time_limit=660)
def sync_definitions(self: ManalyticsTask) -> dict[str, Any]:
    """Clone or fast-forward the archetype definitions (``formats sync``)."""
    try:
        result = sync_formats(formats_checkout(self))
    except SyncError as exc:
        log.error("formats sync failed: %s", exc)
        return {"status": "failed", "error": str(exc)}
    return {"status": result.action, "commit": result.commit, "folder": result.folder}
