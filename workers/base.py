"""Base task class and per-process worker resources.

* One psycopg pool per worker *process*, created in ``worker_process_init`` (after the
  prefork fork) and closed in ``worker_process_shutdown``; with the solo/threads pool, where
  that signal never fires, it is created on first use (and re-created if the pid changed).
* Every log line carries ``task_id`` / ``task_name`` / ``run_id`` (``-`` outside a task):
  bound at ``task_prerun`` (the run id when a run is claimed), cleared at ``task_postrun``,
  added by a filter on the handlers Celery sets up (Celery never hijacks the root logger:
  ``worker_hijack_root_logger=False``). With ``LOG_FORMAT=json`` (the default) worker and
  beat lines are JSON objects (python-json-logger), one per line, for the log pipeline.

Tasks stay thin: they resolve arguments and call a function of :mod:`pipelines`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from celery import Task, signals
from psycopg_pool import ConnectionPool

from pipelines.core.db import make_pool
from pipelines.core.settings import Settings
from pipelines.core.settings_loader import get_settings

log = logging.getLogger(__name__)

_task_context: ContextVar[tuple[str, str] | None] = ContextVar("task_context", default=None)
#: The run (``task_runs.id``) the current task works on, once claimed (workers.runs).
current_run: ContextVar[str | None] = ContextVar("current_run", default=None)
JSON_FIELDS = ("asctime", "levelname", "name", "processName", "message")
_pool: ConnectionPool | None = None
_pool_pid: int | None = None


def _settings() -> Settings:
    from workers.celery_app import worker_settings

    return worker_settings()


def get_pool() -> ConnectionPool:
    """This process's database pool (created on first use after fork)."""
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid():
        # A pool inherited from a parent process is unusable (shared sockets): drop it
        # without closing (closing would touch the parent's connections).
        _pool = make_pool(_settings(), name="worker", application_name="manalytics-worker")
        _pool_pid = os.getpid()
    return _pool


def close_pool() -> None:
    """Close this process's pool if it has one."""
    global _pool, _pool_pid
    if _pool is not None and _pool_pid == os.getpid():
        _pool.close(timeout=5.0)
    _pool, _pool_pid = None, None


class ManalyticsTask(Task):
    """Project base task: resolved settings and the per-process pool at hand."""

    @property
    def settings(self) -> Settings:
        """Settings of this worker with the service URLs resolved."""
        return _settings()

    @property
    def db_pool(self) -> ConnectionPool:
        """The worker process's psycopg pool."""
        return get_pool()

    @property
    def dsn(self) -> str:
        """``DATABASE_URL`` of this worker (always set: :func:`worker_settings` requires it)."""
        dsn = self.settings.database_url
        assert dsn is not None  # resolved by worker_settings()
        return dsn


def task(
    name: str, *, soft_time_limit: float, time_limit: float, acks_late: bool = True, **options: Any
) -> Callable[[Callable[..., Any]], Any]:
    """Declare the :class:`ManalyticsTask` ``name`` (bound: its body gets the task first).

    Acknowledged late unless ``acks_late=False``: the tasks are idempotent, so a message
    whose worker died is delivered again. Tasks with a run record use
    :func:`workers.runs.run_task` instead.
    """
    from workers.celery_app import app

    return app.task(
        name=name,
        base=ManalyticsTask,
        bind=True,
        acks_late=acks_late,
        soft_time_limit=soft_time_limit,
        time_limit=time_limit,
        **options,
    )


class TaskContextFilter(logging.Filter):
    """Adds ``task_id``, ``task_name`` and ``run_id`` to every record (``-`` outside)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _task_context.get()
        record.task_id, record.task_name = context or ("-", "-")
        record.run_id = current_run.get() or "-"
        return True


def json_formatter() -> logging.Formatter:
    """One JSON object per line with the task context fields."""
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        [*JSON_FIELDS, "task_id", "task_name", "run_id"],
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        timestamp=False,
    )


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _install_log_filter(logger: logging.Logger, **_: Any) -> None:
    as_json = get_settings().log_format == "json"
    for handler in logger.handlers:
        if not any(isinstance(f, TaskContextFilter) for f in handler.filters):
            handler.addFilter(TaskContextFilter())
        if as_json:
            handler.setFormatter(json_formatter())


@signals.task_prerun.connect
def _bind_task_context(task_id: str, task: Task, **_: Any) -> None:
    _task_context.set((task_id, task.name))


@signals.task_postrun.connect
def _clear_task_context(**_: Any) -> None:
    _task_context.set(None)
    current_run.set(None)


@signals.worker_process_init.connect
def _init_process(**_: Any) -> None:
    get_pool()


@signals.worker_ready.connect
def _serve_metrics(**_: Any) -> None:
    """The main process serves every pool process's metrics (after the pool started, so
    the pool processes do not inherit the listening socket)."""
    from workers import metrics
    from workers.celery_app import QUEUES
    from workers.collector import RunsCollector

    settings = _settings()
    try:
        metrics.serve(settings.worker_metrics_port, RunsCollector(settings, QUEUES))
    except OSError as exc:  # the port is taken: keep working without metrics
        log.error("worker metrics not served on :%s: %s", settings.worker_metrics_port, exc)


@signals.worker_process_shutdown.connect
def _shutdown_process(**_: Any) -> None:
    close_pool()


__all__ = [
    "ManalyticsTask",
    "TaskContextFilter",
    "close_pool",
    "current_run",
    "get_pool",
    "json_formatter",
]
