"""Every metric an alert or a dashboard names is one our processes really export.

The names are read from the real exporters: the API's ``/metrics`` (a live app on a seeded
database) and the worker's registry (``workers/metrics.py`` counters and histograms plus
``workers/collector.py``'s gauges, the families the worker's main process serves on
``WORKER_METRICS_PORT``), as their ``# TYPE`` lines. A renamed metric, or an alert written
against a metric nobody exports, fails here instead of staying silent in production.
"""

from __future__ import annotations

import re
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from pipelines.core.db import connect
from pipelines.core.settings import Settings
from pipelines.discovery.store import run_discovery
from tests.api.conftest import (  # noqa: F401  (fixtures)
    FIXTURE_DEFINITIONS,
    app,
    client,
    make_app,
    settings_for,
)
from tests.ops.conftest import OPS, read_yaml
from tests.ops.test_alerts import PROMETHEUS, alerts, metric_names

# Exported by third-party exporters or Prometheus itself (documented in METRICS.md).
OURS = re.compile(r"^(flask|manalytics)_")
SUFFIXES = ("_total", "_created", "_bucket", "_count", "_sum")


def type_names(exposition: str) -> set[str]:
    """Metric family names of an exposition text, with the sample names they produce."""
    names: set[str] = set()
    for family, kind in re.findall(r"^# TYPE (\S+) (\S+)$", exposition, re.MULTILINE):
        names.add(family)
        if kind == "counter":
            names.add(family + "_total")
        if kind == "histogram":
            names |= {family + suffix for suffix in ("_bucket", "_count", "_sum")}
    return names


def worker_exposition(settings: Settings) -> str:
    import workers.metrics  # noqa: F401  (registers the task counters and histograms)
    from workers.celery_app import QUEUES
    from workers.collector import RunsCollector

    registry = CollectorRegistry()
    registry.register(RunsCollector(settings, QUEUES))
    return (generate_latest(REGISTRY) + generate_latest(registry)).decode()


def used_names() -> set[str]:
    """Metric names of every alert expression and dashboard query (raw, with suffixes)."""
    text = " ".join(rule["expr"] for rule in alerts())
    for path in (OPS / "dashboards").glob("*.json"):
        text += " " + path.read_text(encoding="utf-8")
    return set(re.findall(r"\b((?:flask|manalytics)_[A-Za-z0-9_]+)\b", text))


def test_every_metric_of_alerts_and_dashboards_is_exported(
    client: Any,  # noqa: F811
    api_dsn: str,
    redis_url: str,
) -> None:
    # The Unknown-rate gauges exist once a discovery run has measured the format.
    with connect(api_dsn) as conn:
        run_discovery(conn, FIXTURE_DEFINITIONS, "Modern", "last30")
        conn.commit()
    api = client.get("/metrics")
    assert api.status_code == 200
    exported = type_names(api.get_data(as_text=True))
    exported |= type_names(worker_exposition(settings_for(api_dsn, redis_url)))
    # The backup job's textfile (node-exporter), written by `manalytics backup create`.
    exported |= {"manalytics_backup_last_success_timestamp_seconds"}
    used = {name for name in used_names() if OURS.match(name)}
    assert used, "no metric names found in the alerts and dashboards"
    missing = sorted(used - exported)
    assert not missing, f"named in alerts/dashboards but exported by nobody: {missing}"
    # The check has teeth: the names this issue replaced are not exported.
    for gone in ("manalytics_task_runs_total", "manalytics_ingest_last_success_timestamp_seconds"):
        assert gone not in exported


def test_metric_name_helper_keeps_suffixes_apart() -> None:
    assert metric_names("rate(manalytics_task_duration_seconds_bucket[5m])") == {
        "manalytics_task_duration_seconds"
    }
    text = "# TYPE manalytics_task_failed counter\n# TYPE x_seconds histogram\n"
    assert type_names(text) == {
        "manalytics_task_failed", "manalytics_task_failed_total",
        "x_seconds", "x_seconds_bucket", "x_seconds_count", "x_seconds_sum",
    }  # fmt: skip


def test_prometheus_scrapes_the_workers_on_their_metrics_port() -> None:
    """Prometheus scrapes the port the workers listen on (the setting's default, which
    neither compose nor the Kubernetes manifests override), on every worker replica."""
    from pipelines.core.settings_loader import load_settings

    port = load_settings({}).worker_metrics_port
    config = read_yaml(PROMETHEUS)
    assert isinstance(config, dict)
    worker = {job["job_name"]: job for job in config["scrape_configs"]}["manalytics-worker"]
    # DNS discovery: one target per worker container (compose --scale, replicas).
    assert worker["dns_sd_configs"] == [{"names": ["worker"], "type": "A", "port": port}]
    for path in [OPS.parent / "compose.yaml", *sorted((OPS / "k8s").rglob("*.yaml"))]:
        assert "WORKER_METRICS_PORT:" not in path.read_text(encoding="utf-8"), path
        assert "name: WORKER_METRICS_PORT" not in path.read_text(encoding="utf-8"), path
