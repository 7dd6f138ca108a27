"""Beat entries of the sources, and API cache warming against a local server."""

from __future__ import annotations

from dataclasses import replace

from celery.schedules import crontab
from pytest_httpserver import HTTPServer

from pipelines.core.settings_loader import load_settings
from pipelines.core.vocabulary import STANDARD_WINDOW_KEYS
from pipelines.sources.warm import warm_api_cache
from workers.celery_app import load_beat_schedule


def test_beat_runs_the_sources_nightly_and_the_definitions_daily() -> None:
    settings = replace(
        load_settings({"SOURCES_HOUR_UTC": "2", "FORMATS_SYNC_HOUR_UTC": "1"}),
        redis_url="redis://cache:6379",
    )
    schedule = load_beat_schedule(settings)
    nightly = schedule["sources-nightly"]
    assert nightly["task"] == "sources.nightly"
    assert nightly["schedule"] == crontab(minute=0, hour=2)
    assert nightly["options"]["queue"] == "ingest"
    formats = schedule["formats-sync-daily"]
    assert formats["task"] == "sources.sync_formats"
    assert formats["schedule"] == crontab(minute=30, hour=1)


def test_warming_requests_every_standard_window(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/formats").respond_with_json(
        {"items": [{"format": "Modern"}, {"format": "Legacy"}]}
    )
    httpserver.expect_request(
        "/api/v1/formats/Modern/meta", query_string={"window": "current"}
    ).respond_with_data("", status=404)
    httpserver.expect_request("/api/v1/formats/Modern/meta").respond_with_json({})
    httpserver.expect_request("/api/v1/formats/Modern/matchups").respond_with_json({})
    httpserver.expect_request("/api/v1/formats/Legacy/meta").respond_with_json({})
    httpserver.expect_request("/api/v1/formats/Legacy/matchups").respond_with_data("", status=503)
    report = warm_api_cache(httpserver.url_for("/"), user_agent="test")
    per_format = 2 * (len(STANDARD_WINDOW_KEYS) + 1)
    assert report.requested == 1 + 2 * per_format
    assert len(report.errors) == per_format // 2  # Legacy matchups answered 503
    assert report.absent == 1  # no current period for Modern here: not an error
    windows = {r.args.get("window") for r, _ in httpserver.log if r.path.endswith("/meta")}
    assert windows == {None, *STANDARD_WINDOW_KEYS}


def test_warming_an_unreachable_api_reports_instead_of_raising() -> None:
    report = warm_api_cache("http://127.0.0.1:9", user_agent="test", timeout=1.0)
    assert report.requested == 1 and report.ok == 0 and report.errors
