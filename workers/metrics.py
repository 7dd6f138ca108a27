"""Prometheus metrics of the worker side, safe with the prefork pool.

Counters and histograms are incremented in the pool processes that run the tasks; with
``PROMETHEUS_MULTIPROC_DIR`` set (the worker entrypoint sets and wipes it) prometheus_client
writes them to per-process files, and the worker's *main* process serves the sum of all of
them on ``WORKER_METRICS_PORT`` (:func:`serve`) together with gauges read at scrape time
from the run records and the broker (:mod:`workers.collector`). Why not a separate exporter:
the only maintained Celery exporters read Celery *events* (one more process, events enabled
on every worker, state lost on restart); the run rows already hold the truth about runs, and
the multiprocess files give exact per-task counts from the processes that did the work.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, start_http_server

log = logging.getLogger(__name__)

_LABELS = ("task",)
STARTED = Counter("manalytics_task_started_total", "Task attempts started", _LABELS)
SUCCEEDED = Counter("manalytics_task_succeeded_total", "Task runs that succeeded", _LABELS)
FAILED = Counter(
    "manalytics_task_failed_total", "Task runs that failed, by exception", ("task", "reason")
)
RETRIED = Counter(
    "manalytics_task_retried_total", "Retries after a transient error, by exception",
    ("task", "reason"),
)  # fmt: skip
DROPPED = Counter(
    "manalytics_task_messages_dropped_total",
    "Messages dropped without running: duplicate, finished, coalesced, poison",
    ("task", "reason"),
)
DURATION = Histogram(
    "manalytics_task_duration_seconds",
    "Wall time of task attempts",
    ("task", "outcome"),
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, float("inf")),
)


def _reason(exc: Any) -> str:
    return type(exc).__name__ if exc is not None else "unknown"


def started(task: str) -> None:
    STARTED.labels(task).inc()


def finished(task: str, seconds: float, exc: BaseException | None) -> None:
    """An attempt ended: succeeded (``exc`` None) or failed with ``exc``."""
    if exc is None:
        SUCCEEDED.labels(task).inc()
        DURATION.labels(task, "succeeded").observe(seconds)
    else:
        DURATION.labels(task, "failed").observe(seconds)


def failed(task: str, exc: BaseException | None) -> None:
    FAILED.labels(task, _reason(exc)).inc()


def retried(task: str, exc: Any) -> None:
    RETRIED.labels(task, _reason(getattr(exc, "exc", None) or exc)).inc()


def dropped(task: str, reason: str) -> None:
    DROPPED.labels(task, reason).inc()


def serve(port: int, *collectors: Any) -> bool:
    """Serve the pool processes' metrics plus ``collectors`` on ``port`` (main process).

    Only with ``PROMETHEUS_MULTIPROC_DIR`` set: without it each process would count alone.
    """
    if not port or not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return False
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for collector in collectors:
        registry.register(collector)
    start_http_server(port, registry=registry)
    log.info("worker metrics on :%s/metrics", port)
    return True


def process_exited(pid: int) -> None:
    """Forget a dead pool process's live gauges (counters stay summed)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)


__all__ = ["dropped", "failed", "finished", "process_exited", "retried", "serve", "started"]
