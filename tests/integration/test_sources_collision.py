"""The cache repository and a site scraper holding the same event (pipelines/sources/handoff.py):
one path, one file, the repository's copy wins; the scraper's copy takes over when the
repository deletes the file; different paths of one event stay one event. Both remotes are
real: a local bare git repository and a local HTTP server."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
from pytest_httpserver import HTTPServer

from pipelines.core.settings import Settings
from pipelines.core.settings_loader import load_settings
from pipelines.sources.base import CacheDocument, EventRef, HttpClient
from pipelines.sources.fetch import FetchReport, run_source
from pipelines.sources.http import ClientConfig, SourceHttpClient
from pipelines.sources.pages import PageStore
from tests.integration.sources_fixture import FixtureSource, serve_site
from tests.integration.test_sources_gitcache import Upstream

DAY = "2025-03-01"


def settings_for(tmp_path: Path, url: str) -> Settings:
    return load_settings(
        {
            "SOURCES_DATA_DIR": str(tmp_path / "data"),
            "GITCACHE_URL": url,
            "GITCACHE_BRANCH": "main",
            "SOURCES_REFETCH_DAYS": "30",
        }
    )


class RenamingSource(FixtureSource):
    """Names its files differently from the repository (as Melee/Topdeck slugs can)."""

    def fetch_event(self, http: HttpClient, ref: EventRef) -> list[CacheDocument]:
        return [
            CacheDocument(d.folder, d.date, f"{d.name}-scraped", d.document)
            for d in super().fetch_event(http, ref)
        ]


def scrape(dsn: str, settings: Settings, server: HTTPServer, rename: bool = False) -> FetchReport:
    def client(store: PageStore) -> SourceHttpClient:
        return SourceHttpClient("mtgo", ClientConfig(user_agent="test"), store=store)

    kind = RenamingSource if rename else FixtureSource
    return run_source(
        dsn,
        settings,
        "mtgo",
        since=date(2025, 2, 28),
        until=date(2025, 3, 5),
        today=date(2025, 3, 5),
        source=kind(server.url_for("/")),
        client_factory=client,
        trigger="test",
    )


def events(dsn: str) -> dict[str, list[int]]:
    """Event id -> deck count of each tournament row with that id (one row expected)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT t.uri, count(d.id) FROM tournaments t LEFT JOIN decks d "
            "ON d.tournament_id = t.id GROUP BY t.id ORDER BY t.id"
        ).fetchall()
    found: dict[str, list[int]] = {}
    for uri, decks in rows:
        found.setdefault(uri[-8:], []).append(decks)
    return found


def test_the_repository_copy_wins_and_the_scraped_one_takes_over_after_a_delete(
    pg_dsn: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    upstream = Upstream(tmp_path)
    upstream.put(10000001, DAY, ["alice", "bob"])
    upstream.put(10000008, "2025-02-01", ["oscar"])  # keeps the folder when the other goes
    upstream.commit("two events")
    settings = settings_for(tmp_path, upstream.url)
    assert run_source(pg_dsn, settings, "gitcache").status == "succeeded"

    # The scraper finds the same event (same URL, so the same path) with one more deck.
    serve_site(
        httpserver,
        [("10000001", DAY, ["alice", "bob", "carol"]), ("10000009", DAY, ["zed"])],
    )
    report = scrape(pg_dsn, settings, httpserver)
    assert report.status == "succeeded", report.error
    assert report.details["shadowed"] == 1
    assert report.ingest and report.ingest["files_seen"] == 1  # only the other event
    assert events(pg_dsn) == {"10000001": [2], "10000008": [1], "10000009": [1]}
    scraped = (
        tmp_path / "data" / "cache" / f"MTGO/2025/03/01/modern-challenge-32-{DAY}10000001.json"
    )
    assert scraped.is_file()  # kept in the scrapers' folder

    # A second scrape changes nothing: the repository still holds the path.
    assert scrape(pg_dsn, settings, httpserver).ingest is None
    assert events(pg_dsn) == {"10000001": [2], "10000008": [1], "10000009": [1]}

    # The repository deletes the file: the scraper's copy takes over, no event is lost.
    upstream.delete(10000001, DAY)
    upstream.commit("withdrawn")
    report = run_source(pg_dsn, settings, "gitcache")
    assert report.status == "succeeded", report.error
    deletions = report.details["deletions"]
    assert (deletions["deleted"], deletions["scraped_copy"]) == (1, 1)
    assert deletions["forgotten"]["files"] == 0
    assert report.ingested_anything
    assert events(pg_dsn) == {"10000001": [3], "10000008": [1], "10000009": [1]}


def test_a_path_the_scraper_ingested_first_goes_to_the_repository_copy(
    pg_dsn: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    upstream = Upstream(tmp_path)
    upstream.put(10000003, "2025-03-03", ["erin"])
    upstream.commit("another event")
    settings = settings_for(tmp_path, upstream.url)
    assert run_source(pg_dsn, settings, "gitcache").status == "succeeded"
    serve_site(httpserver, [("10000002", "2025-03-02", ["xavier", "yvonne", "zoe"])])
    assert scrape(pg_dsn, settings, httpserver).ingest is not None
    assert events(pg_dsn)["10000002"] == [3]

    # The repository publishes the same path later, with its own content: it replaces the
    # scraper's version (a changed file), and a later scrape does not flip it back.
    upstream.put(10000002, "2025-03-02", ["xavier", "yvonne"])
    upstream.commit("late upload")
    report = run_source(pg_dsn, settings, "gitcache")
    assert report.ingest and report.ingest["files_changed"] == 1
    assert events(pg_dsn)["10000002"] == [2]
    again = scrape(pg_dsn, settings, httpserver)
    assert again.ingest is None
    assert events(pg_dsn)["10000002"] == [2]


def test_different_paths_of_one_event_stay_one_event(
    pg_dsn: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    upstream = Upstream(tmp_path)
    upstream.put(10000004, "2025-03-04", ["frank", "grace"])
    upstream.put(10000008, "2025-02-01", ["oscar"])
    upstream.commit("two events")
    settings = settings_for(tmp_path, upstream.url)
    assert run_source(pg_dsn, settings, "gitcache").status == "succeeded"
    serve_site(httpserver, [("10000004", "2025-03-04", ["frank", "grace", "heidi"])])
    report = scrape(pg_dsn, settings, httpserver, rename=True)
    assert report.ingest and report.ingest["files_new"] == 1
    # One event (same source and URI); the authoritative document is the one with more decks
    # on the same folder date (the ingestion's merge rule), the other is a duplicate.
    assert events(pg_dsn) == {"10000004": [3], "10000008": [1]}
    assert report.ingest["files_duplicate"] == 0
    with psycopg.connect(pg_dsn) as conn:
        statuses = dict(
            conn.execute(
                "SELECT path LIKE '%-scraped.json', status FROM source_files "
                "WHERE path LIKE '%10000004%'"
            ).fetchall()
        )
    assert statuses == {True: "ingested", False: "duplicate"}

    # The repository deletes its copy: the event is rebuilt from the scraper's, not deleted.
    upstream.delete(10000004, "2025-03-04")
    upstream.commit("withdrawn")
    report = run_source(pg_dsn, settings, "gitcache")
    forgotten = report.details["deletions"]["forgotten"]
    assert (forgotten["files"], forgotten["events_deleted"], forgotten["events_rebuilt"]) == (
        1,
        0,
        1,
    )
    assert forgotten["days"] == [["Modern", "2025-03-04"]]
    assert events(pg_dsn) == {"10000004": [3], "10000008": [1]}
