"""Request ids, JSON logs, Prometheus metrics.

* **Request id**: ``X-Request-ID`` is accepted when it is a short token (letters, digits,
  ``.-_:``, up to 128 characters — anything else could forge log lines), else generated; it
  is echoed on every response, carried by every log line of the request and by error bodies.
* **Logs**: one JSON object per line on stderr for the ``manalytics``, ``api`` and
  ``flask-limiter`` loggers, and one access line per request (``manalytics.api.access``:
  method, path, status, duration, client, user, cache result).
* **Metrics** (prometheus-flask-exporter, grouped by endpoint, health routes excluded):
  ``flask_http_request_duration_seconds`` and friends, plus business metrics:
  ``manalytics_cache_requests_total{result,layer}`` (hit/miss/bypass; local/redis),
  ``manalytics_cache_hit_ratio`` (hits / (hits + misses) since start),
  ``manalytics_refresh_generation`` and ``manalytics_refresh_generation_age_seconds``
  (computed from PostgreSQL at scrape time). Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR``
  switches to multiprocess mode: every worker writes its samples to that directory and
  ``/metrics`` (answered by any worker) aggregates all of them, so counters do not jump with
  the worker that happens to answer; ``ops/gunicorn.conf.py`` marks dead workers' files.
  Without it (tests, one process) each app gets its own registry (no "Duplicated
  timeseries" across ``create_app`` calls).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from prometheus_flask_exporter import PrometheusMetrics

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_LOGGERS = ("manalytics", "api", "flask-limiter")
access_log = logging.getLogger("manalytics.api.access")
EXCLUDED_PATHS = ("^/health$", "^/ready$", "^/metrics$")


# --------------------------------------------------------------------------- logging


class JsonFormatter(logging.Formatter):
    """One JSON object per record; ``extra`` fields and the request id are included."""

    _STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


class RequestIdFilter(logging.Filter):
    """Adds the current request id (or ``-``) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


_configured = False


def configure_logging(level: str) -> None:
    """JSON handler on our loggers (once per process; later calls only set the level)."""
    global _configured
    for name in _LOGGERS:
        logging.getLogger(name).setLevel(level)
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.propagate = False
    _configured = True


# --------------------------------------------------------------------------- metrics


class ApiMetrics:
    """The app's Prometheus metrics and the ``/metrics`` exposition."""

    def __init__(self, app: Flask) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=True)
        self.exporter = PrometheusMetrics(
            app,
            path=None,  # /metrics is our own view (health blueprint): adds business gauges
            registry=self.registry,
            group_by="endpoint",
            # The names ops/alerts and ops/dashboards query (flask_http_request_*).
            defaults_prefix="flask",
            excluded_paths=list(EXCLUDED_PATHS),
        )
        self.cache_requests = Counter(
            "manalytics_cache_requests",
            "Public read answers by response-cache result (hit, miss, bypass = Redis down) "
            "and layer (local = the worker's LRU, redis, none).",
            ["result", "layer"],
            registry=self.registry,
        )
        self._children = {
            (result, layer): self.cache_requests.labels(result, layer)
            for result, layer in (
                ("hit", "local"),
                ("hit", "redis"),
                ("miss", "none"),
                ("bypass", "none"),
            )
        }

    def cache(self, result: str, layer: str) -> None:
        """Count one cache lookup result."""
        self._children[(result, layer)].inc()

    def render(
        self,
        generation: tuple[int, datetime | None] | None,
        rates: Sequence[tuple[str, str, float, float, int]] = (),
    ) -> tuple[bytes, str]:
        """The exposition text: request metrics (all workers in multiprocess mode) and the
        business gauges. ``generation`` is the latest refresh (``None`` if unknown)."""
        if self.multiprocess:
            source = CollectorRegistry()
            MultiProcessCollector(source)
        else:
            source = self.registry
        extra = CollectorRegistry()
        extra.register(_BusinessCollector(source, generation, rates))
        return generate_latest(source) + generate_latest(extra), (
            "text/plain; version=0.0.4; charset=utf-8"
        )


class _BusinessCollector(Collector):
    """Gauges computed at scrape time from the collected counters and the database."""

    def __init__(
        self,
        source: CollectorRegistry,
        generation: tuple[int, datetime | None] | None,
        rates: Sequence[tuple[str, str, float, float, int]] = (),
    ) -> None:
        self.source = source
        self.generation = generation
        self.rates = rates  # latest discovery run per (format, window)

    def collect(self) -> Iterator[Metric]:
        counts = {"hit": 0.0, "miss": 0.0}  # bypass (Redis down) is neither
        for metric in self.source.collect():
            if metric.name != "manalytics_cache_requests":
                continue
            for sample in metric.samples:
                result = sample.labels.get("result")
                if sample.name.endswith("_total") and result in counts:
                    counts[result] += sample.value
        looked_up = counts["hit"] + counts["miss"]
        yield GaugeMetricFamily(
            "manalytics_cache_hit_ratio",
            "Share of public reads answered from the response cache (either layer) since start.",
            value=counts["hit"] / looked_up if looked_up else 0.0,
        )
        yield from self._discovery_rates()
        if self.generation is None:
            return
        number, finished = self.generation
        yield GaugeMetricFamily(
            "manalytics_refresh_generation",
            "Latest succeeded statistics refresh generation (0 = none yet).",
            value=number,
        )
        if finished is not None:
            yield GaugeMetricFamily(
                "manalytics_refresh_generation_age_seconds",
                "Seconds since the latest succeeded statistics refresh finished.",
                value=max(0.0, time.time() - finished.timestamp()),
            )

    def _discovery_rates(self) -> Iterator[Metric]:
        """Unknown and fallback shares per format and window (alert on a rising Unknown)."""
        if not self.rates:
            return
        labels = ["format", "window"]
        unknown = GaugeMetricFamily(
            "manalytics_unknown_rate",
            "Share of decks no archetype rule or fallback names, per format and window.",
            labels=labels,
        )
        fallback = GaugeMetricFamily(
            "manalytics_fallback_rate",
            "Share of decks labelled by a generic fallback, per format and window.",
            labels=labels,
        )
        share = GaugeMetricFamily(
            "manalytics_unknown_share",
            "Share of Unknown decks over the last 30 days, per format (alert rules).",
            labels=["format"],
        )
        for fmt, window, unknown_rate, fallback_rate, _decks in self.rates:
            unknown.add_metric([fmt, window], unknown_rate)
            fallback.add_metric([fmt, window], fallback_rate)
            if window == "last30":
                share.add_metric([fmt], unknown_rate)
        yield unknown
        yield fallback
        yield share


# --------------------------------------------------------------------------- request hooks


def _before() -> None:
    g.started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex


def _after(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "-")
    # flask-limiter sends Retry-After on every limited response; it only means something on
    # 429 and 503 (and confuses clients and caches elsewhere).
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    elif g.get("retry_after"):  # the value the error chose, not the limiter's window
        response.headers["Retry-After"] = g.retry_after
    elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    response.headers["Server-Timing"] = f"app;dur={elapsed_ms:.2f}"
    # Anything that did not choose a caching policy (errors, operator and auth routes) must
    # not be stored by browsers or proxies.
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(elapsed_ms, 2),
                "remote_addr": request.remote_addr,
                "user": g.get("identity"),
                "cache": response.headers.get("X-Cache"),
            },
        )
    return response


def init_observability(app: Flask, log_level: str) -> ApiMetrics:
    """Logging, request-id hooks and metrics for ``app``; returns the metrics."""
    configure_logging(log_level)
    app.before_request(_before)
    metrics = ApiMetrics(app)
    app.after_request(_after)
    return metrics


__all__ = [
    "ApiMetrics",
    "JsonFormatter",
    "RequestIdFilter",
    "configure_logging",
    "init_observability",
]
