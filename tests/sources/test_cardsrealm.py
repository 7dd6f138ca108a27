"""CardsRealm adapter against pages rendered from cache documents on a local HTTP server.

Round trip of the sample's CardsRealm documents (when the sample is present): listed across
search pages, fetched, and compared; ``Uri``/``AnchorUri`` carry the fixture host. Documents
whose decks do not match their standings one to one cannot be rendered back (the page lists
standings rows with a deck button) and are skipped with a bound on their number.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from pipelines.sources.base import PageParseError
from pipelines.sources.cardsrealm import CardsRealmSource, parse_event_page, parse_round
from tests.sources.conftest import RequestsClient, sample_documents
from tests.sources.render_cardsrealm import PUBLIC, CardsRealmSite, when

FIXTURE = Path(__file__).parents[1] / "fixtures" / "sources" / "cardsrealm"
ROYALE = "pauper-royale-300-2025-06-01.json"


def _local(doc: dict[str, Any], base: str) -> dict[str, Any]:
    return json.loads(json.dumps(doc).replace(PUBLIC, base))


def _renderable(doc: dict[str, Any]) -> bool:
    players = [d["Player"] for d in doc["Decks"]]
    return sorted(players) == sorted(s["Player"] for s in doc["Standings"]) and len(
        set(players)
    ) == len(players)


def _check(
    site: CardsRealmSite, http: RequestsClient, docs: list[tuple[str, dict[str, Any]]]
) -> None:
    site.docs = [doc for _, doc in docs]
    source = CardsRealmSource(base_url=site.base_url)
    days = [when(doc).date() for _, doc in docs]
    refs = {ref.key: ref for ref in source.list_events(http, min(days), max(days))}
    assert len(refs) == len(docs)
    for rel, doc in docs:
        [got] = source.fetch_event(
            http, refs[site.base_url + doc["Tournament"]["Uri"].removeprefix(PUBLIC)]
        )
        assert got.document == _local(doc, site.base_url), rel
        assert got.relative_path().as_posix() == rel


@pytest.mark.shared_data
def test_sample_documents_round_trip(
    shared_data_dir: Path, httpserver: HTTPServer, http: RequestsClient
) -> None:
    samples = sample_documents(shared_data_dir, "CardsRealm")
    renderable = [(rel, doc) for rel, doc in samples if _renderable(doc)]
    assert len(renderable) >= len(samples) - 3
    _check(CardsRealmSite(httpserver), http, renderable)


def test_fixture_event_with_bye_across_search_pages(
    httpserver: HTTPServer, http: RequestsClient
) -> None:
    doc = json.loads((FIXTURE / ROYALE).read_text(encoding="utf-8"))
    older = json.loads(json.dumps(doc).replace("300", "299").replace("2025-06-01", "2025-05-25"))
    site = CardsRealmSite(httpserver, page_size=1)
    _check(site, http, [(f"CardsRealm/2025/06/01/{ROYALE}", doc)])
    # Two pages: the second (older) event stops the paging once it is older than the window.
    site.docs = [doc, older]
    site.requests.clear()
    source = CardsRealmSource(base_url=site.base_url)
    refs = list(source.list_events(http, date(2025, 5, 30), date(2025, 6, 30)))
    assert [r.name for r in refs] == ["Pauper Royale 300"]
    pages = [p.rsplit("page=", 1)[-1] for p in site.requests if "searchtours" in p]
    assert pages == ["1", "2"]


def test_no_accept_language_would_be_403_and_adapter_sends_it(
    httpserver: HTTPServer, http: RequestsClient
) -> None:
    site = CardsRealmSite(httpserver)
    site.docs = []
    assert (
        list(
            CardsRealmSource(base_url=site.base_url).list_events(
                http, date(2025, 1, 1), date(2025, 1, 2)
            )
        )
        == []
    )


def test_changed_layout_and_bad_rounds_are_parse_errors() -> None:
    with pytest.raises(PageParseError, match="tour_div_standings") as caught:
        parse_event_page("<html><div id='standings-v2'></div></html>", "https://x/e")
    assert caught.value.url == "https://x/e"
    with pytest.raises(PageParseError, match="JSON string"):
        parse_round(b'"<div class=\\"tour_table_div_round\\">', "https://x/r")
