"""Fetch runs of a site source against a real local HTTP server: pagination, an event listed
twice, checkpoints and the re-fetch of young events, quarantine of truncated and changed
pages, HTTP errors, a failing listing, missing credentials."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import psycopg
import pytest
from pytest_httpserver import HTTPServer

from pipelines.core.settings import Settings
from pipelines.core.settings_loader import load_settings
from pipelines.sources.fetch import FetchReport, run_source
from pipelines.sources.http import ClientConfig, SourceHttpClient
from pipelines.sources.pages import PageStore
from pipelines.sources.registry import enabled_sources, source_states
from tests.integration.sources_fixture import FixtureSource, serve_site

TODAY = date(2026, 12, 2)
EVENTS = [
    ("101", "2026-11-25", ["alice", "bob"]),
    ("102", "2026-11-26", ["carol"]),
    ("102", "2026-11-26", ["carol"]),  # listed twice (end of one page, start of the next)
    ("103", "2026-11-30", ["dave", "erin"]),
    ("104", "2026-12-01", ["frank"]),
]


def settings_for(tmp_path: Path, **env: str) -> Settings:
    return load_settings(
        {"SOURCES_DATA_DIR": str(tmp_path / "data"), "SOURCES_REFETCH_DAYS": "2", **env}
    )


def fetch(dsn: str, settings: Settings, server: HTTPServer, refetch: str = "new") -> FetchReport:
    def client(store: PageStore) -> SourceHttpClient:
        config = ClientConfig(user_agent="test", max_attempts=2, backoff_initial=0.01)
        return SourceHttpClient("mtgo", config, store=store, sleep=lambda s: None)

    return run_source(
        dsn,
        settings,
        "mtgo",
        since=date(2026, 11, 20),
        today=TODAY,
        source=FixtureSource(server.url_for("/")),
        client_factory=client,
        trigger="test",
        refetch=refetch,
    )


def requests_to(server: HTTPServer, path: str) -> int:
    return sum(1 for request, _ in server.log if request.path == path)


def query(dsn: str, sql: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()


def test_pagination_duplicates_and_a_second_run(
    pg_dsn: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    serve_site(httpserver, EVENTS)
    settings = settings_for(tmp_path)
    first = fetch(pg_dsn, settings, httpserver)
    assert first.status == "succeeded", first.error
    assert (first.counts.listed, first.counts.fetched, first.counts.documents) == (4, 4, 4)
    assert requests_to(httpserver, "/events") == 3  # three pages followed
    assert requests_to(httpserver, "/event/102") == 1  # listed twice, fetched once
    assert first.ingest and first.ingest["files_new"] == 4
    assert first.counts.newest_event == date(2026, 12, 1)
    written = sorted(
        p.relative_to(tmp_path / "data" / "cache").as_posix()
        for p in (tmp_path / "data" / "cache").rglob("*.json")
    )
    assert written[0] == "MTGO/2026/11/25/modern-challenge-32-2026-11-25101.json"
    decks = dict(
        query(
            pg_dsn,
            "SELECT t.uri, count(*) FROM decks d JOIN tournaments t "
            "ON t.id = d.tournament_id GROUP BY t.uri",
        )
    )
    assert sorted(decks.values()) == [1, 1, 2, 2]
    statuses = query(pg_dsn, "SELECT event_key, status FROM source_events ORDER BY 1")
    assert statuses == [(k, "fetched") for k in ("101", "102", "103", "104")]

    # Second run the same day: old events are skipped, young ones (>= today - 2 days) are
    # fetched again; their pages did not change, so nothing is rewritten or ingested.
    httpserver.clear_log()
    second = fetch(pg_dsn, settings, httpserver)
    assert second.status == "succeeded"
    assert (second.counts.skipped, second.counts.fetched, second.counts.documents) == (2, 2, 0)
    assert requests_to(httpserver, "/event/101") == 0
    assert requests_to(httpserver, "/event/104") == 1
    assert second.ingest is None and not second.ingested_anything
    runs = query(pg_dsn, "SELECT status, listed, fetched, pages FROM source_runs ORDER BY id")
    assert runs == [("succeeded", 4, 4, 7), ("succeeded", 4, 2, 5)]


def test_a_young_event_that_changed_is_ingested_again(
    pg_dsn: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    serve_site(httpserver, EVENTS)
    settings = settings_for(tmp_path)
    assert fetch(pg_dsn, settings, httpserver).status == "succeeded"
    httpserver.clear()
    changed = [*EVENTS[:4], ("104", "2026-12-01", ["frank", "grace", "heidi"])]
    serve_site(httpserver, changed)
    again = fetch(pg_dsn, settings, httpserver)
    assert again.counts.documents == 1 and again.ingest and again.ingest["files_changed"] == 1
    decks = query(
        pg_dsn,
        "SELECT count(*) FROM decks d JOIN tournaments t ON t.id = "
        "d.tournament_id WHERE t.uri LIKE '%104'",
    )
    assert decks == [(3,)]


def test_truncated_json_and_changed_layout_are_quarantined_and_the_run_goes_on(
    pg_dsn: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/event/102").respond_with_data(
        '{"Tournament": {"Date": "2026-11-', content_type="application/json"
    )
    httpserver.expect_request("/event/103").respond_with_json({"layout": "new and improved"})
    serve_site(httpserver, EVENTS)
    report = fetch(pg_dsn, settings_for(tmp_path), httpserver)
    assert report.status == "partial"
    assert (report.counts.fetched, report.counts.quarantined) == (2, 2)
    assert report.counts.failures == {"parse": 2}
    rows = query(
        pg_dsn, "SELECT event_key, url, status, error FROM source_quarantine ORDER BY event_key"
    )
    assert [r[0] for r in rows] == ["102", "103"]
    assert rows[0][1] == httpserver.url_for("/event/102") and rows[0][2] == 200
    assert "invalid JSON" in rows[0][3] and "no Tournament object" in rows[1][3]
    # The raw truncated page is kept for a parser fix to re-derive from.
    raw = query(
        pg_dsn,
        "SELECT b.size FROM source_pages p JOIN source_page_bodies b "
        "ON b.sha256 = p.body_sha256 WHERE p.url LIKE '%/event/102'",
    )
    assert raw == [(len('{"Tournament": {"Date": "2026-11-'),)]
    assert report.ingest and report.ingest["files_new"] == 2


def test_old_quarantined_events_are_refetched_on_request_only(
    pg_dsn: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    # 102 (2026-11-26) is older than the re-fetch window (SOURCES_REFETCH_DAYS=2).
    httpserver.expect_oneshot_request("/event/102").respond_with_data(
        '{"Tournament": {"Date": "2026-11-', content_type="application/json"
    )
    serve_site(httpserver, EVENTS)
    settings = settings_for(tmp_path)
    first = fetch(pg_dsn, settings, httpserver)
    assert first.counts.quarantined == 1
    # The nightly rule: a quarantined old event stays quarantined (only 103, 104 are young).
    nightly = fetch(pg_dsn, settings, httpserver)
    assert (nightly.counts.fetched, nightly.counts.quarantined) == (2, 0)
    assert requests_to(httpserver, "/event/102") == 1
    # After a parser (or site) fix: the quarantined one is fetched again, old or not.
    retried = fetch(pg_dsn, settings, httpserver, refetch="quarantined")
    assert (retried.counts.fetched, retried.counts.skipped) == (3, 1)  # 102, 103, 104
    assert retried.ingest and retried.ingest["files_new"] == 1
    assert query(pg_dsn, "SELECT status FROM source_events WHERE event_key = '102'") == [
        ("fetched",)
    ]
    assert query(pg_dsn, "SELECT count(*) FROM tournaments") == [(4,)]
    # --force: every listed event, nothing ingested twice (same bytes are not rewritten).
    forced = fetch(pg_dsn, settings, httpserver, refetch="all")
    assert (forced.counts.fetched, forced.counts.skipped) == (4, 0)
    assert requests_to(httpserver, "/event/101") == 2
    assert forced.ingest is None
    with pytest.raises(ValueError, match="refetch"):
        fetch(pg_dsn, settings, httpserver, refetch="everything")


def test_http_errors_fail_the_event_which_is_retried_next_run(
    pg_dsn: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request("/event/101").respond_with_data("gone", status=404)
    httpserver.expect_oneshot_request("/event/103").respond_with_data("", status=503)
    httpserver.expect_oneshot_request("/event/103").respond_with_data("", status=503)
    serve_site(httpserver, EVENTS)
    settings = settings_for(tmp_path)
    first = fetch(pg_dsn, settings, httpserver)
    assert first.status == "partial"
    assert first.counts.failures == {"http_404": 1, "http_503": 1}
    assert first.counts.retries == 1  # the 503 was retried once (max_attempts=2), not the 404
    assert query(
        pg_dsn, "SELECT status, last_error FROM source_events WHERE event_key = '101'"
    ) == [("failed", "http_404")]
    second = fetch(pg_dsn, settings, httpserver)
    assert second.status == "succeeded"
    assert second.counts.fetched == 3  # 101 (failed before), 103 and 104 (young)
    assert query(pg_dsn, "SELECT count(*) FROM tournaments") == [(4,)]


def test_a_failing_listing_fails_this_source_only(
    pg_dsn: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/events").respond_with_data("down", status=500)
    report = fetch(pg_dsn, settings_for(tmp_path), httpserver)
    assert report.status == "failed" and "HTTP 500" in (report.error or "")
    assert query(pg_dsn, "SELECT status FROM source_runs") == [("failed",)]
    # The error pages are kept like any other (all attempts, the last one included).
    assert query(pg_dsn, "SELECT count(*), min(status) FROM source_pages") == [(1, 500)]


def test_missing_credentials_disable_the_source_with_one_line(
    pg_dsn: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(tmp_path, SOURCES_ENABLED="gitcache,topdeck,melee")
    states = {s.name: s for s in source_states(settings)}
    assert not states["topdeck"].enabled and "TOPDECK_API_KEY" in states["topdeck"].reason
    assert "MELEE_EMAIL and MELEE_PASSWORD" in states["melee"].reason
    assert not states["mtgo"].enabled and states["mtgo"].reason == "not in SOURCES_ENABLED"
    assert enabled_sources(settings) == ["gitcache"]
    caplog.set_level(logging.INFO, logger="manalytics.sources")
    report = run_source(pg_dsn, settings, "topdeck", today=TODAY)
    assert report.status == "disabled"
    lines = [r for r in caplog.records if r.name.startswith("manalytics.sources")]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    assert "topdeck disabled: topdeck needs TOPDECK_API_KEY" in lines[0].getMessage()
    assert query(pg_dsn, "SELECT source, status FROM source_runs") == [("topdeck", "disabled")]


def test_a_second_run_of_the_same_source_is_skipped(
    pg_dsn: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    serve_site(httpserver, EVENTS)
    with psycopg.connect(pg_dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(hashtextextended('manalytics.source.mtgo', 0))")
        report = fetch(pg_dsn, settings_for(tmp_path), httpserver)
    assert report.status == "skipped"
    assert len(httpserver.log) == 0
