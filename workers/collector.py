"""Gauges read at scrape time: queue lengths, runs in progress, oldest pending request, last
successful run per kind (served by the worker's main process, see :mod:`workers.metrics`).

Read from the run records and the broker at each scrape — a handful of indexed queries over
the unfinished runs and one LLEN per queue — so every worker reports the same truth and
nothing is lost when a worker restarts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import psycopg
import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from pipelines.core.db import connect
from pipelines.core.settings import Settings

log = logging.getLogger(__name__)

_ACTIVE = """
SELECT kind, state, count(*) FROM task_runs
 WHERE state IN ('queued', 'running', 'retrying') GROUP BY kind, state
"""
_OLDEST = """
SELECT kind, extract(epoch FROM clock_timestamp() - min(requested_at)) FROM task_runs
 WHERE state IN ('queued', 'retrying') GROUP BY kind
"""
_LAST_SUCCESS = """
SELECT kind, extract(epoch FROM max(finished_at)) FROM task_runs
 WHERE state = 'succeeded' GROUP BY kind
"""


class RunsCollector(Collector):
    """Run and queue gauges for one worker's ``/metrics``."""

    def __init__(self, settings: Settings, queues: tuple[str, ...]) -> None:
        self.settings = settings
        self.queues = queues

    def collect(self) -> Iterator[Any]:
        runs = GaugeMetricFamily(
            "manalytics_runs", "Unfinished runs by kind and state", labels=["kind", "state"]
        )
        oldest = GaugeMetricFamily(
            "manalytics_oldest_pending_run_seconds",
            "Age of the oldest queued or retrying run, by kind",
            labels=["kind"],
        )
        last = GaugeMetricFamily(
            "manalytics_last_success_timestamp_seconds",
            "When the last successful run of each kind finished (Unix time)",
            labels=["kind"],
        )
        queued = GaugeMetricFamily(
            "manalytics_queue_messages", "Messages waiting in each Celery queue", labels=["queue"]
        )
        try:
            assert self.settings.database_url is not None
            with connect(
                self.settings.database_url,
                application_name="manalytics-metrics",
                statement_timeout_ms=2000,
                connect_timeout=2,
            ) as conn:
                for kind, state, count in conn.execute(_ACTIVE):
                    runs.add_metric([kind, state], count)
                for kind, seconds in conn.execute(_OLDEST):
                    oldest.add_metric([kind], float(seconds))
                for kind, stamp in conn.execute(_LAST_SUCCESS):
                    last.add_metric([kind], float(stamp))
        except psycopg.Error as exc:
            log.warning("run metrics unavailable: %s", exc)
        try:
            client = redis.Redis.from_url(
                self.settings.redis_db_url("broker"), socket_timeout=2, socket_connect_timeout=2
            )
            for queue in self.queues:
                queued.add_metric([queue], float(client.llen(queue)))  # type: ignore[arg-type]
            client.close()
        except redis.RedisError as exc:
            log.warning("queue metrics unavailable: %s", exc)
        yield from (runs, oldest, last, queued)
