"""Prometheus metrics of the sources, computed at scrape time from the run records.

The counts live in PostgreSQL (``source_runs``), written by whichever worker ran the fetch:
no per-process counters to aggregate across Celery workers, and the numbers survive
restarts. The API's ``/metrics`` appends :func:`render_source_metrics`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from datetime import time as dtime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pipelines.sources.status import SourceStatus

RUN_STATUSES = ("succeeded", "partial", "failed", "disabled", "running")


class SourceCollector(Collector):
    """Families per source: pages, failures by reason, retries, last success, data age."""

    def __init__(self, statuses: list[SourceStatus], now: float | None = None) -> None:
        self.statuses = statuses
        self.now = now

    def collect(self) -> Iterator[Metric]:
        now = self.now if self.now is not None else time.time()
        pages = CounterMetricFamily(
            "manalytics_source_pages_fetched", "Pages fetched from a source.", labels=["source"]
        )
        retries = CounterMetricFamily(
            "manalytics_source_retries", "Requests retried (429, 5xx, timeouts).", labels=["source"]
        )
        failures = CounterMetricFamily(
            "manalytics_source_failures",
            "Events or listings that failed, by reason (http_<status>, transient, parse...).",
            labels=["source", "reason"],
        )
        success = GaugeMetricFamily(
            "manalytics_source_last_success_timestamp_seconds",
            "Unix time the last successful (or partial) run of a source finished.",
            labels=["source"],
        )
        age = GaugeMetricFamily(
            "manalytics_source_newest_event_age_seconds",
            "Seconds since the start (UTC) of the newest event day fetched from a source.",
            labels=["source"],
        )
        quarantined = GaugeMetricFamily(
            "manalytics_source_quarantined_pages",
            "Pages of a source that could not be parsed (kept in source_quarantine).",
            labels=["source"],
        )
        last = GaugeMetricFamily(
            "manalytics_source_last_run_status",
            "1 for the status of the latest run of a source.",
            labels=["source", "status"],
        )
        for s in self.statuses:
            pages.add_metric([s.source], s.pages)
            retries.add_metric([s.source], s.retries)
            for reason, count in sorted(s.failures_total.items()):
                failures.add_metric([s.source, reason], count)
            if s.last_success is not None:
                success.add_metric([s.source], s.last_success.timestamp())
            if s.newest_event is not None:
                start = datetime.combine(s.newest_event, dtime.min, tzinfo=UTC).timestamp()
                age.add_metric([s.source], max(0.0, now - start))
            quarantined.add_metric([s.source], s.quarantined)
            for status in RUN_STATUSES:
                last.add_metric([s.source, status], 1.0 if s.last_status == status else 0.0)
        yield from (pages, retries, failures, success, age, quarantined, last)


def render_source_metrics(statuses: list[SourceStatus], now: float | None = None) -> bytes:
    """The exposition text of :class:`SourceCollector`."""
    registry = CollectorRegistry()
    registry.register(SourceCollector(statuses, now))
    return generate_latest(registry)
