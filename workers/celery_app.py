"""The Celery application: configuration from settings only, queues, routes, beat schedule.

Start a worker / beat with::

    celery -A workers.celery_app worker -Q ingest,classify,refresh -c 2
    celery -A workers.celery_app beat

Configuration is lazy: importing this module neither reads the broker URL nor starts
anything. The first time Celery needs its configuration (worker or beat start-up, the first
``send_task``), :func:`worker_settings` reads the service URLs from settings (both must be
set; ``manalytics run`` sets them for the worker and beat it starts). Per-process database
resources are created in ``worker_process_init`` (see :mod:`workers.base`), never at import
time and never before fork.

Settings and their reasons: ENGINEERING.md §5 (Celery rows).
"""

from __future__ import annotations

import contextlib
import runpy
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from celery import Celery, signals
from celery.exceptions import CPendingDeprecationWarning
from celery.schedules import crontab, schedule
from kombu import Exchange, Queue

from pipelines.core.settings import REPO_ROOT, Settings
from pipelines.core.settings_loader import get_settings, require_services

QUEUES = ("ingest", "classify", "refresh")
# Light housekeeping (maintenance.*) shares the refresh queue, so a worker consuming the three
# standard queues runs every registered task.
DEFAULT_QUEUE = "refresh"
TASK_MODULES = (
    "workers.tasks.ingest",
    "workers.tasks.classify",
    "workers.tasks.refresh",
    "workers.tasks.maintenance",
    "workers.tasks.discovery",
    "workers.tasks.sources",
)
SCHEDULE_FILE = REPO_ROOT / "celerybeat-schedule.py"

# Global time limits; long tasks set their own (always well below the visibility timeout).
SOFT_TIME_LIMIT = 600
HARD_TIME_LIMIT = 660
# The visibility timeout must exceed the longest hard time limit by at least this much (the
# longest retry back-off is far below it), or a running task would be delivered again.
VISIBILITY_MARGIN = 600
# One beat: the running beat holds a Redis lock (RedBeat) and extends it every tick (at
# most this many seconds apart); a second beat waits for it, and takes over within
# BEAT_LOCK_SECONDS if the first dies.
BEAT_MAX_LOOP_INTERVAL = 5

# Celery warns on every connection loss that cancelling would become its default; we keep
# tasks running on purpose (celery_config), and the warning would mislead an operator.
warnings.filterwarnings(
    "ignore", message=r"\s*In Celery 5.1 we introduced", category=CPendingDeprecationWarning
)

_resolved: Settings | None = None


def worker_settings() -> Settings:
    """This process's settings; both service URLs must be set (no embedded services here)."""
    global _resolved
    if _resolved is None:
        _resolved = require_services(get_settings())
    return _resolved


def _materialise(value: Any, settings: Settings) -> Any:
    if isinstance(value, Mapping):
        if set(value) == {"setting"}:
            return getattr(settings, value["setting"])
        return {key: _materialise(item, settings) for key, item in value.items()}
    return value


def load_beat_schedule(settings: Settings, path: Path = SCHEDULE_FILE) -> dict[str, Any]:
    """Celery's ``beat_schedule`` built from the declarative ``celerybeat-schedule.py``."""
    data = runpy.run_path(str(path))["SCHEDULE"]
    result: dict[str, Any] = {}
    for entry, spec in data.items():
        when = _materialise(spec["schedule"], settings)
        if "crontab" in when:
            timing: Any = crontab(**when["crontab"])
        elif "every" in when:
            timing = schedule(run_every=float(when["every"]))
        else:
            raise ValueError(f"{path}: entry {entry!r} has no crontab/every schedule")
        result[entry] = {
            "task": spec["task"],
            "schedule": timing,
            "options": dict(_materialise(spec.get("options", {}), settings)),
        }
    return result


def celery_config(settings: Settings) -> dict[str, Any]:
    """The full Celery configuration for ``settings`` (service URLs must be resolved)."""
    visibility = settings.celery_visibility_timeout
    schedule_file = Path(settings.beat_schedule_filename)
    # Beat's shelve file lives on a writable volume; make sure its folder exists (where it
    # cannot be created, e.g. a read-only API container, only beat would need it anyway).
    with contextlib.suppress(OSError):
        schedule_file.parent.mkdir(parents=True, exist_ok=True)
    return {
        "broker_url": settings.redis_db_url("broker"),
        "result_backend": settings.redis_db_url("results"),
        # Redis has no real ack: an unacked message is redelivered after the visibility
        # timeout. Set in all three places or the shortest (default 1 h) silently wins.
        "broker_transport_options": {"visibility_timeout": visibility},
        "result_backend_transport_options": {"visibility_timeout": visibility},
        "visibility_timeout": visibility,
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_acks_late": True,
        # A task whose process dies goes back to the queue; the run record counts attempts
        # and gives up on a message that kills its worker every time (workers.runs).
        "task_reject_on_worker_lost": True,
        "task_ignore_result": True,
        "result_expires": 3600,
        "task_soft_time_limit": SOFT_TIME_LIMIT,
        "task_time_limit": HARD_TIME_LIMIT,
        "worker_prefetch_multiplier": 1,
        "worker_max_tasks_per_child": 500,
        "worker_hijack_root_logger": False,
        # A broker connection loss does not stop running tasks: they need PostgreSQL, not
        # Redis, and record their outcome in their run row. (Cancelling them, as Celery
        # offers, lost the message whenever Redis was still down while Celery re-queued it.)
        # The message stays unacknowledged in Redis; a copy delivered later finds the run
        # finished (or alive) and is dropped (workers.runs).
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        # SIGTERM (remapped to SIGQUIT in the images, REMAP_SIGTERM): running tasks get this
        # long, then go back to the queue at once; below the platform's grace period.
        "worker_soft_shutdown_timeout": settings.worker_soft_shutdown_seconds,
        "worker_enable_soft_shutdown_on_idle": True,
        "worker_log_format": (
            "[%(asctime)s: %(levelname)s/%(processName)s] [%(task_name)s %(task_id)s "
            "%(run_id)s] %(message)s"
        ),
        "timezone": "UTC",
        "enable_utc": True,
        "task_queues": [
            Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES
        ],
        "task_default_queue": DEFAULT_QUEUE,
        "task_default_exchange": DEFAULT_QUEUE,
        "task_default_routing_key": DEFAULT_QUEUE,
        "task_routes": {
            "ingest.*": {"queue": "ingest"},
            "classify.*": {"queue": "classify"},
            "refresh.*": {"queue": "refresh"},
            "maintenance.*": {"queue": DEFAULT_QUEUE},
            "discovery.*": {"queue": DEFAULT_QUEUE},
            # Fetching ends in ingestion: the ingest queue (warming is light: refresh).
            "sources.warm_api_cache": {"queue": "refresh"},
            "sources.*": {"queue": "ingest"},
        },
        "beat_schedule": load_beat_schedule(settings),
        "beat_schedule_filename": str(schedule_file),
        "beat_scheduler": "workers.beat:Scheduler",  # RedBeat riding out Redis restarts
        "beat_max_loop_interval": BEAT_MAX_LOOP_INTERVAL,
        "redbeat_redis_url": settings.redis_db_url("locks"),
        # Its own (empty) client options: RedBeat's fallback to the broker's is deprecated.
        "redbeat_redis_options": {},
        "redbeat_key_prefix": "manalytics:redbeat",
        "redbeat_lock_timeout": settings.beat_lock_seconds,
    }


def check_visibility_timeout(celery: Celery) -> None:
    """Refuse to start when a running task could be delivered a second time.

    Redis redelivers an unacknowledged message after the visibility timeout: it must exceed
    the longest hard time limit of the registered tasks by :data:`VISIBILITY_MARGIN`.
    """
    limits = [celery.conf.task_time_limit or 0]
    limits += [t.time_limit or 0 for t in celery.tasks.values() if not t.name.startswith("celery.")]
    longest = max(limits)
    needed = longest + VISIBILITY_MARGIN
    timeouts = {
        "broker_transport_options": celery.conf.broker_transport_options.get("visibility_timeout"),
        "result_backend_transport_options": (
            celery.conf.result_backend_transport_options or {}
        ).get("visibility_timeout"),
    }
    for where, value in timeouts.items():
        if value is None or value < needed:
            raise StartupRefused(
                f"refusing to start: CELERY_VISIBILITY_TIMEOUT ({where}) is {value} s, below the "
                f"longest hard time limit ({longest} s) plus {VISIBILITY_MARGIN} s; a running "
                f"task would be delivered twice. Set it to at least {needed}."
            )


class StartupRefused(SystemExit):
    """A configuration that would lose or duplicate work: the process exits (status 1).

    A SystemExit because Celery logs and swallows ordinary exceptions of signal handlers.
    """


@signals.worker_init.connect
def _check_worker(sender: Any, **_: Any) -> None:
    check_visibility_timeout(sender.app)


@signals.beat_init.connect
def _check_beat(sender: Any, **_: Any) -> None:
    check_visibility_timeout(sender.app)


def create_celery_app(settings: Settings | None = None, *, set_as_current: bool = True) -> Celery:
    """A Celery app configured lazily from ``settings`` (default: :func:`worker_settings`)."""
    celery = Celery("manalytics", include=list(TASK_MODULES), set_as_current=set_as_current)
    celery.add_defaults(lambda: celery_config(settings or worker_settings()))
    return celery


app = create_celery_app()

__all__ = [
    "QUEUES",
    "StartupRefused",
    "app",
    "celery_config",
    "check_visibility_timeout",
    "create_celery_app",
    "load_beat_schedule",
    "worker_settings",
]
