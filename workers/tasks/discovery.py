"""Archetype discovery task (queue ``refresh``): a thin wrapper around
:func:`pipelines.discovery.store.discover_all`, queued after each statistics refresh.

Idempotent in effect: a redelivered run stores one more run row per format and window and
replaces the neighbour tables; cluster ids stay stable across runs.
"""

from __future__ import annotations

from typing import Any

from pipelines.discovery.store import discover_all
from workers.base import ManalyticsTask, task

SOFT_TIME_LIMIT = 840
HARD_TIME_LIMIT = 900
WINDOWS = ("last30", "current")


@task("discovery.run", soft_time_limit=SOFT_TIME_LIMIT, time_limit=HARD_TIME_LIMIT)
def run(self: ManalyticsTask, windows: list[str] | None = None) -> dict[str, Any]:
    """Discover every format's windows; JSON-ready summary per format/window."""
    chosen = tuple(windows) if windows else WINDOWS
    return {
        "status": "succeeded",
        "runs": discover_all(self.dsn, self.settings.definitions_dir, chosen),
    }
