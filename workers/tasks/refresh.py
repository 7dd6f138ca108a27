"""Statistics refresh task (queue ``refresh``): a thin wrapper around
:func:`pipelines.stats.refresh.refresh_all`, run-recorded (:mod:`workers.runs`).
A succeeded refresh also queues ``refresh.charts``
(:func:`pipelines.charts.render.render_generation`), which draws the generation's charts.

Incremental by default (the days the triggers marked dirty since the last run: what an
ingestion, reclassification or deletion touched); ``full=True`` recomputes everything (on
demand, e.g. after a change of the statistics definitions). Idempotent (a run recomputes its
days from the base tables), so late acknowledgement and redelivery are safe. Never skipped:
a refresh asked for while one runs becomes that run's follow-up (it runs once right after,
with the labels and rows written meanwhile), however many requests arrived; and if the
refresh lock is held by something else (a refresh from the command line), the run is retried
with back-off instead of being dropped.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pipelines.charts.render import render_generation
from pipelines.runs.lease import RunLease
from pipelines.stats.periods import load_periods
from pipelines.stats.refresh import refresh_all
from pipelines.stats.samples import SampleRules
from workers.base import ManalyticsTask
from workers.celery_app import app
from workers.runs import RunBusy, RunTask, run_task

log = logging.getLogger(__name__)

# ENGINEERING.md §5: refresh 1700/1800 s, far below the visibility timeout; every statement
# of the run is limited below the soft limit (pipelines.stats.refresh).
SOFT_TIME_LIMIT = 1700
HARD_TIME_LIMIT = 1800


def formats_root(task: ManalyticsTask) -> Path:
    """Where ``<Format>/metas.json`` live: the definitions in use (``MANALYTICS_FORMATS_DIR``,
    else the shipped demo definitions), the same folder classification reads."""
    return Path(task.settings.definitions_dir)


@run_task("refresh.meta_views", soft_time_limit=SOFT_TIME_LIMIT, time_limit=HARD_TIME_LIMIT)
def meta_views(
    self: RunTask, lease: RunLease, confidence: float = 0.95, full: bool = False
) -> dict[str, Any]:
    """Refresh the statistics tables and the standard-window tables (``full``: every day, not
    only the dirty ones); JSON-ready summary."""
    dsn = self.dsn
    periods = load_periods(formats_root(self))
    rules = SampleRules(self.settings.stats_min_players, self.settings.stats_min_decided)
    result = refresh_all(dsn, periods=periods, confidence=confidence, rules=rules, full=full)
    if result.status == "skipped":
        raise RunBusy("another statistics refresh holds the refresh lock")
    lease.checkpoint(generation=result.generation)
    # Archetype discovery follows every refresh (issue 17).
    app.send_task("discovery.run", queue="refresh")
    if result.generation is not None:
        # The charts of the new generation, drawn off the request path (same queue).
        app.send_task("refresh.charts", kwargs={"generation": result.generation}, queue="refresh")
    return result.as_dict()


@app.task(
    name="refresh.charts",
    base=ManalyticsTask,
    bind=True,
    ignore_result=False,
    acks_late=True,  # idempotent: a redelivered run upserts the same rows
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
)
def charts(self: ManalyticsTask, generation: int | None = None) -> dict[str, Any]:
    """Render and store the static charts of a refresh generation (pipelines.charts)."""
    dsn = self.dsn
    return render_generation(dsn, generation).as_dict()
