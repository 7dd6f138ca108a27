"""Statistics refresh task (queue ``refresh``): a thin wrapper around
:func:`pipelines.stats.refresh.refresh_all`.

Idempotent (a run recomputes everything from the base tables), so late acknowledgement is
safe: a task redelivered after a worker crash simply refreshes again. Overlap is guarded by
the refresh advisory lock: a run that finds it held returns ``{"status": "skipped"}`` at once
instead of queueing behind the running one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pipelines.stats.refresh import load_periods, refresh_all
from pipelines.stats.samples import SampleRules
from workers.base import ManalyticsTask
from workers.celery_app import app

log = logging.getLogger(__name__)

# ENGINEERING.md §5: refresh 1700/1800 s, far below the visibility timeout; every statement
# of the run is limited below the soft limit (pipelines.stats.refresh).
SOFT_TIME_LIMIT = 1700
HARD_TIME_LIMIT = 1800


def formats_root(task: ManalyticsTask) -> Path:
    """Where ``<Format>/metas.json`` live: the definitions in use (``MANALYTICS_FORMATS_DIR``,
    else the shipped demo definitions), the same folder classification reads."""
    return Path(task.settings.definitions_dir)


@app.task(
    name="refresh.meta_views",
    base=ManalyticsTask,
    bind=True,
    ignore_result=False,  # operators poll it through GET /admin/tasks/{id}
    acks_late=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
)
def meta_views(self: ManalyticsTask, confidence: float = 0.95) -> dict[str, Any]:
    """Refresh the statistics views and the standard-window tables; JSON-ready summary."""
    dsn = self.settings.database_url
    assert dsn is not None  # resolved by worker_settings()
    periods = load_periods(formats_root(self))
    rules = SampleRules(self.settings.stats_min_players, self.settings.stats_min_decided)
    result = refresh_all(dsn, periods=periods, confidence=confidence, rules=rules)
    if result.status == "skipped":
        log.info("statistics refresh skipped: another refresh is running")
    else:  # archetype discovery follows every refresh (issue 17)
        app.send_task("discovery.run", queue="refresh")
    return result.as_dict()
