"""A parser fix re-derives documents from the stored pages without fetching again
(``refetch="replay"``, pipelines/sources/replay.py): GET pages by URL, POSTs (Melee's search
and standings) by their request digest; nothing reaches the site."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import psycopg
from pytest_httpserver import HTTPServer

from pipelines.core.settings import Settings
from pipelines.core.settings_loader import load_settings
from pipelines.sources.base import CacheDocument, EventRef, HttpClient
from pipelines.sources.fetch import FetchReport, run_source
from pipelines.sources.http import ClientConfig, SourceHttpClient
from pipelines.sources.melee import MeleeSource
from pipelines.sources.pages import PageStore, request_key
from tests.integration.sources_fixture import FixtureSource, serve_site
from tests.sources import render_melee
from tests.sources.melee_site import EMAIL, PASSWORD, MeleeSite
from tests.sources.test_melee import FIXTURE as MELEE_FIXTURE
from tests.sources.test_melee import SPRING_OPEN

EVENTS = [
    ("201", "2026-11-25", ["alice", "bob"]),
    ("202", "2026-11-26", ["carol"]),
    ("203", "2026-11-27", ["dave", "erin"]),
]


class FixedSource(FixtureSource):
    """The same adapter after a "parser fix": player names were read with stray spaces."""

    def fetch_event(self, http: HttpClient, ref: EventRef) -> list[CacheDocument]:
        fixed = []
        for doc in super().fetch_event(http, ref):
            document = json.loads(json.dumps(doc.document))
            for deck in document["Decks"]:
                deck["Player"] = deck["Player"].title()
            fixed.append(CacheDocument(doc.folder, doc.date, doc.name, document))
        return fixed


def settings_for(tmp_path: Path) -> Settings:
    return load_settings({"SOURCES_DATA_DIR": str(tmp_path / "data")})


def run(dsn: str, settings: Settings, source: object, refetch: str, name: str) -> FetchReport:
    def client(store: PageStore) -> SourceHttpClient:
        return SourceHttpClient(name, ClientConfig(user_agent="test", max_attempts=1), store=store)

    return run_source(
        dsn,
        settings,
        name,
        since=date(2025, 4, 1),
        until=date(2026, 11, 30),
        today=date(2026, 12, 2),
        source=source,  # type: ignore[arg-type]
        client_factory=client,
        trigger="test",
        refetch=refetch,
    )


def test_a_parser_fix_rederives_documents_from_the_stored_pages(
    pg_dsn: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    serve_site(httpserver, EVENTS)
    settings = settings_for(tmp_path)
    first = run(pg_dsn, settings, FixtureSource(httpserver.url_for("/")), "new", "mtgo")
    assert first.status == "succeeded" and first.counts.fetched == 3
    requests_before = len(httpserver.log)
    httpserver.clear()  # the site is gone: any request would now fail

    replay = run(pg_dsn, settings, FixedSource(httpserver.url_for("/")), "replay", "mtgo")
    assert replay.status == "succeeded", (replay.error, replay.counts.failures)
    assert len(httpserver.log) == 0 and requests_before > 0  # nothing fetched
    assert (replay.counts.listed, replay.counts.fetched) == (3, 3)
    assert replay.counts.pages == 2 + 3  # the two stored listing pages and event pages
    assert replay.ingest and replay.ingest["files_changed"] == 3
    with psycopg.connect(pg_dsn) as conn:
        players = [r[0] for r in conn.execute("SELECT player FROM decks ORDER BY player")]
        replays = conn.execute(
            "SELECT count(*) FROM source_pages WHERE run_id = %s", (replay.run_id,)
        )
        assert replays.fetchone() == (0,)  # a replay stores nothing again
    assert players == ["Alice", "Bob", "Carol", "Dave", "Erin"]


def test_an_event_never_fetched_fails_as_not_stored(
    pg_dsn: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    serve_site(httpserver, EVENTS[:2])
    settings = settings_for(tmp_path)
    assert run(pg_dsn, settings, FixtureSource(httpserver.url_for("/")), "new", "mtgo").ingest
    # A later listing (stored) names an event whose page was never fetched.
    httpserver.clear()
    serve_site(httpserver, EVENTS)
    store_only_listing = FixtureSource(httpserver.url_for("/"))
    with (
        psycopg.connect(pg_dsn) as conn,
        SourceHttpClient(
            "mtgo", ClientConfig(user_agent="test"), store=PageStore(conn, "mtgo")
        ) as http,
    ):
        list(store_only_listing.list_events(http, date(2026, 11, 1), date(2026, 11, 30)))
        conn.commit()
    httpserver.clear()
    replay = run(pg_dsn, settings, store_only_listing, "replay", "mtgo")
    assert replay.status == "partial"
    assert replay.counts.failures == {"not_stored": 1}
    assert (replay.counts.listed, replay.counts.fetched, replay.counts.failed) == (3, 2, 1)


def test_melee_replays_its_posts_by_request(
    pg_dsn: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    site = MeleeSite(httpserver)
    site.add(render_melee.render_event(json.loads((MELEE_FIXTURE / SPRING_OPEN).read_bytes())))
    settings = settings_for(tmp_path)

    def melee() -> MeleeSource:  # no saved session: the replay signs in from stored pages too
        return MeleeSource(EMAIL, PASSWORD, base_url=site.base_url)

    first = run(pg_dsn, settings, melee(), "new", "melee")
    assert first.status == "succeeded" and first.counts.fetched == 1
    written = next((tmp_path / "data" / "cache").rglob("*.json")).read_bytes()
    httpserver.clear()
    replay = run(pg_dsn, settings, melee(), "replay", "melee")
    assert replay.status == "succeeded", (replay.error, replay.counts.failures)
    assert len(httpserver.log) == 0
    assert replay.counts.fetched == 1 and replay.ingest is None  # same document, same bytes
    assert next((tmp_path / "data" / "cache").rglob("*.json")).read_bytes() == written
    # The sign-in form is keyed with its password masked: the digest says nothing of it.
    url = f"{site.base_url}/Account/SignInPassword"
    assert request_key("POST", url, {"email": EMAIL, "password": PASSWORD}) == request_key(
        "POST", url, {"email": EMAIL, "password": "another"}
    )
