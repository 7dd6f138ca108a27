"""What the site adapters (pipelines/sources) produce goes through the one ingestion path
unchanged, into PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from pipelines.core.db import connect
from pipelines.ingest.cache import ingest_cache
from pipelines.sources.base import CacheDocument
from pipelines.sources.cardsrealm import CardsRealmSource
from pipelines.sources.manatraders import ManatradersSource
from pipelines.sources.melee import MeleeSource
from pipelines.sources.mtgo import MtgoSource
from pipelines.sources.topdeck import TopdeckSource
from tests.sources import render_melee
from tests.sources.conftest import RequestsClient, write_cache
from tests.sources.melee_site import EMAIL, PASSWORD, MeleeSite
from tests.sources.render_cardsrealm import CardsRealmSite
from tests.sources.render_topdeck import API_KEY, TopdeckSite, render_event
from tests.sources.test_cardsrealm import FIXTURE as CARDSREALM_FIXTURE
from tests.sources.test_cardsrealm import ROYALE
from tests.sources.test_manatraders import serve_fixtures as serve_manatraders
from tests.sources.test_melee import FIXTURE as MELEE_FIXTURE
from tests.sources.test_melee import SPRING_OPEN
from tests.sources.test_mtgo import FIXTURES as MTGO_FIXTURES
from tests.sources.test_topdeck import FIXTURE as TOPDECK_FIXTURE
from tests.sources.test_topdeck import FRIDAY


@pytest.fixture
def http() -> Iterator[RequestsClient]:
    client = RequestsClient()
    yield client
    client.session.close()


def _mtgo(httpserver: HTTPServer, http: RequestsClient) -> list[CacheDocument]:
    for name in (
        "index-2025-03",
        "modern-challenge-32-2025-03-0912345678",
        "pauper-league-2025-03-0910123",
    ):
        path = "/decklists/2025/03" if name.startswith("index") else f"/decklist/{name}"
        httpserver.expect_request(path).respond_with_data(
            (MTGO_FIXTURES / f"{name}.html").read_bytes()
        )
    source = MtgoSource(base_url=httpserver.url_for("/").rstrip("/"))
    refs = list(source.list_events(http, date(2025, 3, 9), date(2025, 3, 9)))
    return [doc for ref in refs for doc in source.fetch_event(http, ref)]


def _melee(httpserver: HTTPServer, http: RequestsClient) -> list[CacheDocument]:
    site = MeleeSite(httpserver)
    site.add(render_melee.render_event(json.loads((MELEE_FIXTURE / SPRING_OPEN).read_bytes())))
    source = MeleeSource(EMAIL, PASSWORD, base_url=site.base_url)
    refs = list(source.list_events(http, date(2025, 4, 12), date(2025, 4, 12)))
    return [doc for ref in refs for doc in source.fetch_event(http, ref)]


def _topdeck(httpserver: HTTPServer, http: RequestsClient) -> list[CacheDocument]:
    site = TopdeckSite(httpserver)
    site.events = [render_event(json.loads((TOPDECK_FIXTURE / FRIDAY).read_bytes()))]
    source = TopdeckSource(API_KEY, base_url=site.base_url)
    refs = list(source.list_events(http, date(2025, 1, 10), date(2025, 1, 10)))
    return [doc for ref in refs for doc in source.fetch_event(http, ref)]


def _cardsrealm(httpserver: HTTPServer, http: RequestsClient) -> list[CacheDocument]:
    site = CardsRealmSite(httpserver)
    site.docs = [json.loads((CARDSREALM_FIXTURE / ROYALE).read_bytes())]
    source = CardsRealmSource(base_url=site.base_url)
    refs = list(source.list_events(http, date(2025, 6, 1), date(2025, 6, 1)))
    return [doc for ref in refs for doc in source.fetch_event(http, ref)]


def _manatraders(httpserver: HTTPServer, http: RequestsClient) -> list[CacheDocument]:
    serve_manatraders(httpserver)
    source = ManatradersSource(base_url=httpserver.url_for("/").rstrip("/"))
    refs = list(source.list_events(http, date(2024, 3, 1), date(2024, 3, 31)))
    return [doc for ref in refs for doc in source.fetch_event(http, ref)]


def _counts(dsn: str) -> dict[str, dict[str, int]]:
    def per_source(table: str) -> str:
        return (
            f"(SELECT count(*) FROM {table} x JOIN tournaments u ON u.id = x.tournament_id "
            "WHERE u.source_id = s.id)"
        )

    sql = (
        "SELECT s.name, count(t.id), "
        f"{per_source('decks')}, {per_source('matches')}, {per_source('standings')} "
        "FROM sources s JOIN tournaments t ON t.source_id = s.id GROUP BY s.id, s.name"
    )
    with connect(dsn) as conn:
        rows = conn.execute(sql).fetchall()
    return {r[0]: {"events": r[1], "decks": r[2], "matches": r[3], "standings": r[4]} for r in rows}


def test_adapter_documents_ingest(
    pg_dsn: str,
    tmp_path: Path,
    httpserver: HTTPServer,
    http: RequestsClient,
) -> None:
    documents = _manatraders(httpserver, http)
    httpserver.clear()
    documents += _mtgo(httpserver, http)
    httpserver.clear()
    documents += _melee(httpserver, http)
    httpserver.clear()
    documents += _topdeck(httpserver, http)
    httpserver.clear()
    documents += _cardsrealm(httpserver, http)
    root = tmp_path / "Tournaments"
    write_cache(root, documents)
    summary = ingest_cache(pg_dsn, root)
    assert summary.files_quarantined == 0
    assert summary.files_new == len(documents)
    assert _counts(pg_dsn) == {
        "MTGO": {"events": 2, "decks": 5 + 4, "matches": 3, "standings": 5},
        # Draws reported from both sides and the contradictory forfeit are one match each.
        "MTGmelee": {"events": 1, "decks": 5, "matches": 9, "standings": 6},
        "Topdeck": {"events": 1, "decks": 3, "matches": 5, "standings": 5},
        "CardsRealm": {"events": 1, "decks": 3, "matches": 4, "standings": 3},
        # 4 Swiss matches (one bye, one with an ambiguous masked name) and 7 playoff ones.
        "Manatrader": {"events": 1, "decks": 8, "matches": 11, "standings": 8},
    }
