"""JSON logs with request ids, Prometheus metrics (single process here; several gunicorn
workers in test_gunicorn.py), business gauges."""

from __future__ import annotations

import io
import json
import logging

from flask.testing import FlaskClient

from api.observability import JsonFormatter, RequestIdFilter
from tests.api.conftest import AppFactory, refresh


def test_access_log_lines_are_json_with_the_request_id(client: FlaskClient) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("manalytics.api.access")
    logger.addHandler(handler)
    try:
        response = client.get("/api/v1/formats/Modern/meta", headers={"X-Request-ID": "req-42"})
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["request_id"] == "req-42" == response.headers["X-Request-ID"]
    assert line["logger"] == "manalytics.api.access" and line["level"] == "INFO"
    assert line["method"] == "GET" and line["path"] == "/api/v1/formats/Modern/meta"
    assert line["status"] == 200 and line["cache"] == "MISS" and line["duration_ms"] >= 0
    assert line["ts"].endswith("+00:00")


def test_error_logs_carry_the_request_id_and_the_traceback(make_app: AppFactory) -> None:
    app = make_app()

    def broken() -> None:
        raise RuntimeError("boom")

    app.add_url_rule("/api/v1/broken", "broken", broken)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("manalytics.api.errors")
    logger.addHandler(handler)
    try:
        app.test_client().get("/api/v1/broken", headers={"X-Request-ID": "req-500"})
    finally:
        logger.removeHandler(handler)
    record = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert record["request_id"] == "req-500" and record["level"] == "ERROR"
    assert "RuntimeError: boom" in record["exc"]


def gauge(text: str, name: str) -> float:
    """Value of an unlabelled sample in an exposition text."""
    return next(float(line.split()[1]) for line in text.splitlines() if line.startswith(name + " "))


def test_metrics_count_requests_by_endpoint_and_expose_business_gauges(
    make_app: AppFactory, api_dsn: str
) -> None:
    client = make_app(API_GENERATION_CHECK_SECONDS=0).test_client()
    for _ in range(3):
        client.get("/api/v1/formats/Modern/meta")
    client.get("/api/v1/formats/Nope/meta")
    client.get("/health")
    text = client.get("/metrics").get_data(as_text=True)
    count = "flask_http_request_duration_seconds_count"
    assert f'{count}{{endpoint="stats.meta",method="GET",status="200"}} 3.0' in text
    assert f'{count}{{endpoint="stats.meta",method="GET",status="404"}} 1.0' in text
    assert 'flask_http_request_total{method="GET",status="200"} 3.0' in text
    assert "health.health" not in text  # health routes are not tracked
    ratio = gauge(text, "manalytics_cache_hit_ratio")
    assert abs(ratio - 2 / 3) < 1e-9  # 1 miss, then 2 local hits
    assert "manalytics_refresh_generation 1.0" in text
    assert 0 <= gauge(text, "manalytics_refresh_generation_age_seconds") < 3600
    refresh(api_dsn)
    assert "manalytics_refresh_generation 2.0" in client.get("/metrics").get_data(as_text=True)


def test_two_apps_in_one_process_do_not_clash(make_app: AppFactory) -> None:
    # prometheus registries are per app: no "Duplicated timeseries" on a second create_app.
    first = make_app().test_client()
    second = make_app().test_client()
    assert first.get("/metrics").status_code == second.get("/metrics").status_code == 200
