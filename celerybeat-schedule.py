"""Celery beat schedule: declarative data only, loaded by path from ``workers/celery_app.py``.

The file name has a hyphen on purpose (it cannot be imported by accident) and is not the
beat *state* file: that one is ``BEAT_SCHEDULE_FILENAME`` on a writable volume.

Each entry: entry name -> ``task`` (registered task name), ``schedule`` and ``options``
(``apply_async`` options). A schedule is ``{"crontab": {...}}`` (``celery.schedules.crontab``
keyword arguments) or ``{"every": seconds}``. A value ``{"setting": "<name>"}`` is replaced by
that attribute of the runtime settings (``pipelines.core.settings.Settings``), so hours and
similar knobs stay in the one settings module.

Every scheduled task must guard against overlap itself (advisory lock): beat may fire again
while a slow previous run is still going, or a second beat may run by mistake.
"""

SCHEDULE = {
    "ingest-nightly": {
        "task": "ingest.nightly",
        "schedule": {"crontab": {"minute": 0, "hour": {"setting": "ingest_hour_utc"}}},
        # A message still queued 6 hours later is dropped: the next night catches up anyway.
        "options": {"queue": "ingest", "expires": 6 * 3600},
    },
    # Issue 10: each enabled source nightly (the task staggers them) and the archetype
    # definitions daily, before the sources so a night's decks are labelled with the newest.
    "sources-nightly": {
        "task": "sources.nightly",
        "schedule": {"crontab": {"minute": 0, "hour": {"setting": "sources_hour_utc"}}},
        "options": {"queue": "ingest", "expires": 6 * 3600},
    },
    "formats-sync-daily": {
        "task": "sources.sync_formats",
        "schedule": {"crontab": {"minute": 30, "hour": {"setting": "formats_sync_hour_utc"}}},
        "options": {"queue": "ingest", "expires": 6 * 3600},
    },
    # Runs whose worker vanished (heartbeat too old, lock free) go back to the queue.
    "reap-runs": {
        "task": "maintenance.reap_runs",
        "schedule": {"every": {"setting": "reaper_interval_seconds"}},
        "options": {"queue": "refresh", "expires": 300},
    },
}
