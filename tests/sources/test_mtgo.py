"""MTGO adapter against a local HTTP server: round trip of the real sample, and ugly cases.

Round trip: every MTGO document of the sample is rendered back into the pages MTGO serves
(tests/sources/render_mtgo.py), served, fetched through :class:`MtgoSource`, and must come
back equal. What cannot round-trip, and why:

* ``Uri`` / ``AnchorUri`` carry the fixture server's host instead of ``https://www.mtgo.com``
  (the adapter keeps the URL it fetched); they are compared with the host substituted.
* Older versions of a republished league: one URL serves one version at a time (MTGO itself
  does), so each version is served and fetched in turn rather than all at once.
* The one zero-byte file of the sample has no content to render.
* Card-level extras the cache drops (rarity, mana cost) are rendered but not compared.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from pipelines.sources.base import EventRef, PageParseError
from pipelines.sources.mtgo import MtgoSource, file_name, parse_event_page
from tests.sources import render_mtgo
from tests.sources.conftest import RequestsClient, folder_date, sample_documents

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sources" / "mtgo"
PUBLIC = "https://www.mtgo.com"


def _local(doc: dict[str, Any], base: str) -> dict[str, Any]:
    """The document as fetched from ``base`` instead of the public site."""
    return json.loads(json.dumps(doc).replace(PUBLIC, base))


def _path(doc: dict[str, Any]) -> str:
    return doc["Tournament"]["Uri"].removeprefix(PUBLIC)


def _ref(doc: dict[str, Any], base: str, day: str) -> EventRef:
    url = base + _path(doc)
    name = doc["Tournament"]["Name"]
    return EventRef(
        "mtgo", url, date.fromisoformat(day), name, doc["Tournament"]["Formats"], {"url": url}
    )


@pytest.mark.shared_data
def test_every_sample_document_round_trips(
    shared_data_dir: Path, httpserver: HTTPServer, http: RequestsClient
) -> None:
    source = MtgoSource(base_url=httpserver.url_for("/").rstrip("/"))
    base = source.base_url
    samples = sample_documents(shared_data_dir, "MTGO")
    assert len(samples) > 300
    for rel, doc in samples:
        httpserver.clear()
        httpserver.expect_request(_path(doc)).respond_with_data(
            render_mtgo.event_page(doc), content_type="text/html; charset=utf-8"
        )
        got = source.fetch_event(http, _ref(doc, base, folder_date(rel)))
        assert len(got) == 1, rel
        assert got[0].document == _local(doc, base), rel
        assert got[0].relative_path().as_posix() == rel


@pytest.mark.shared_data
def test_listing_a_sample_month_finds_each_event_once(
    shared_data_dir: Path, httpserver: HTTPServer, http: RequestsClient
) -> None:
    samples = [
        (rel, doc)
        for rel, doc in sample_documents(shared_data_dir, "MTGO")
        if rel.startswith("MTGO/2026/06/")
    ]
    assert samples
    events = [
        (_path(doc), doc["Tournament"]["Name"], date.fromisoformat(folder_date(rel)))
        for rel, doc in samples
    ]
    httpserver.expect_request("/decklists/2026/06").respond_with_data(
        render_mtgo.month_index(events)
    )
    source = MtgoSource(base_url=httpserver.url_for("/").rstrip("/"))
    refs = list(source.list_events(http, date(2026, 6, 1), date(2026, 6, 30)))
    assert len(refs) == len({path for path, _, _ in events})  # republished leagues listed once
    by_key = {ref.key: ref for ref in refs}
    for _, doc in samples:
        ref = by_key[source.base_url + _path(doc)]
        assert ref.name == doc["Tournament"]["Name"]
        assert ref.format == doc["Tournament"]["Formats"]


# --- hand-written fixtures (no sample needed) ------------------------------------------------


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture
def site(httpserver: HTTPServer) -> HTTPServer:
    """The fixture site: one month index (an event listed twice) and three event pages."""
    httpserver.expect_request("/decklists/2025/03").respond_with_data(
        _fixture("index-2025-03.html")
    )
    httpserver.expect_request("/decklists/2025/04").respond_with_data(
        _fixture("index-2025-04.html")
    )
    for page in ("modern-challenge-32-2025-03-0912345678", "pauper-league-2025-03-0910123"):
        httpserver.expect_request(f"/decklist/{page}").respond_with_data(_fixture(f"{page}.html"))
    httpserver.expect_request("/decklist/legacy-challenge-32-2025-03-1012345679").respond_with_data(
        render_mtgo.server_error_page()
    )
    return httpserver


def test_listing_spans_months_filters_dates_and_dedupes(
    site: HTTPServer, http: RequestsClient
) -> None:
    source = MtgoSource(base_url=site.url_for("/").rstrip("/"))
    refs = list(source.list_events(http, date(2025, 3, 9), date(2025, 4, 30)))
    names = [(r.name, r.date.isoformat(), r.format) for r in refs]
    assert names == [
        ("Legacy Challenge 32", "2025-03-10", "Legacy"),
        ("Modern Challenge 32", "2025-03-09", "Modern"),
        ("Pauper League", "2025-03-09", "Pauper"),
        ("Contraption League", "2025-04-03", None),
        ("Duel Commander Showcase", "2025-04-02", "Commander"),
    ]
    # Both month pages were read; the pre-window event of March 1st was filtered out.
    assert [url for _, url in http.calls] == [
        site.url_for("/decklists/2025/03"),
        site.url_for("/decklists/2025/04"),
    ]


def test_missing_month_is_skipped(httpserver: HTTPServer, http: RequestsClient) -> None:
    httpserver.expect_request("/decklists/2025/05").respond_with_data("gone", status=404)
    source = MtgoSource(base_url=httpserver.url_for("/").rstrip("/"))
    assert list(source.list_events(http, date(2025, 5, 1), date(2025, 5, 31))) == []


def test_changed_index_layout_is_a_parse_error_with_the_url(
    httpserver: HTTPServer, http: RequestsClient
) -> None:
    httpserver.expect_request("/decklists/2025/03").respond_with_data(
        "<html><body><div class='event-cards'><a href='/decklist/x'>X</a></div></body></html>"
    )
    source = MtgoSource(base_url=httpserver.url_for("/").rstrip("/"))
    with pytest.raises(PageParseError) as caught:
        list(source.list_events(http, date(2025, 3, 1), date(2025, 3, 31)))
    assert caught.value.url == httpserver.url_for("/decklists/2025/03")


def test_challenge_with_bracket_gets_placements_and_rounds(
    site: HTTPServer, http: RequestsClient
) -> None:
    source = MtgoSource(base_url=site.url_for("/").rstrip("/"))
    ref = next(
        r
        for r in source.list_events(http, date(2025, 3, 9), date(2025, 3, 9))
        if "Challenge" in r.name
    )
    [cached] = source.fetch_event(http, ref)
    doc = cached.document
    assert (
        cached.relative_path().as_posix()
        == "MTGO/2025/03/09/modern-challenge-32-2025-03-0912345678.json"
    )
    # Winner of the final first, finalist second, semifinal losers by Swiss rank, then the rest.
    assert [(d["Player"], d["Result"]) for d in doc["Decks"]] == [
        ("bob", "1st Place"),
        ("alice", "2nd Place"),
        ("carol", "3rd Place"),
        ("dave", "4th Place"),
        ("erin", "5th Place"),
    ]
    assert doc["Rounds"] == [
        {"RoundName": "Semifinals", "Matches": [
            {"Player1": "alice", "Player2": "dave", "Result": "2-0-0"},
            {"Player1": "bob", "Player2": "carol", "Result": "2-1-0"},
        ]},
        {"RoundName": "Finals", "Matches": [
            {"Player1": "bob", "Player2": "alice", "Result": "2-1-0"},
        ]},
    ]  # fmt: skip
    assert doc["Standings"][0] == {
        "Rank": 1, "Player": "alice", "Points": 12, "Wins": 5, "Losses": 1, "Draws": 0,
        "OMWP": 0.61, "GWP": 0.7, "OGWP": 0.55,
    }  # fmt: skip
    bob = doc["Decks"][0]
    # Boards merged per name and sorted; names normalised (A- prefix, single-slash split card).
    assert bob["Mainboard"] == [
        {"Count": 4, "CardName": "Fire // Ice"},
        {"Count": 8, "CardName": "Lightning Bolt"},
        {"Count": 20, "CardName": "Mountain"},
    ]
    assert bob["Date"] == "2025-03-09T18:00:00+00:00"
    assert bob["AnchorUri"] == ref.key + "#deck_bob"
    # erin is in the standings without winloss data: 0-0 rather than the reference's crash.
    assert doc["Standings"][-1]["Wins"] == 0


def test_league_results_and_date(site: HTTPServer, http: RequestsClient) -> None:
    source = MtgoSource(base_url=site.url_for("/").rstrip("/"))
    ref = next(
        r
        for r in source.list_events(http, date(2025, 3, 9), date(2025, 3, 9))
        if "League" in r.name
    )
    [cached] = source.fetch_event(http, ref)
    doc = cached.document
    assert [d["Result"] for d in doc["Decks"]] == ["5-0", "2-4", "", "0-5"]
    assert {d["Date"] for d in doc["Decks"]} == {"2025-03-08T00:00:00+00:00"}
    assert doc["Rounds"] == [] and doc["Standings"] == []
    assert doc["Tournament"] == {
        "Date": "2025-03-09", "Name": "Pauper League", "Uri": ref.key, "Formats": "Pauper",
    }  # fmt: skip


def test_server_error_page_gives_no_document(site: HTTPServer, http: RequestsClient) -> None:
    source = MtgoSource(base_url=site.url_for("/").rstrip("/"))
    [ref] = source.list_events(http, date(2025, 3, 10), date(2025, 3, 10))
    assert source.fetch_event(http, ref) == []


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("<html><body><div id='new-app'></div></body></html>", "no window.MTGO.decklists.data"),
        (
            '<script>\nwindow.MTGO.decklists.data = {"starttime":"2025-03-09","decklists":[{"pla\n',
            "invalid event JSON",
        ),
        (
            '<script>\nwindow.MTGO.decklists.data = {"starttime":"2025-03-09","decklists":[{}]};\n',
            "unexpected",
        ),
    ],
)
def test_unreadable_event_page_is_a_parse_error_with_the_url(
    httpserver: HTTPServer, http: RequestsClient, page: str, message: str
) -> None:
    httpserver.expect_request("/decklist/x-2025-03-0912345678").respond_with_data(page)
    source = MtgoSource(base_url=httpserver.url_for("/").rstrip("/"))
    url = source.base_url + "/decklist/x-2025-03-0912345678"
    with pytest.raises(PageParseError, match=message) as caught:
        source.fetch_event(http, EventRef("mtgo", url, date(2025, 3, 9), "X", None, {"url": url}))
    assert caught.value.url == url


def test_parser_is_pure_and_reads_a_page_without_brackets_or_winloss() -> None:
    page = (
        'window.MTGO.decklists.data = {"starttime":"2025-03-09 18:00:00.0",'
        '"standings":[{"login_name":"b","loginid":2,"score":"9","rank":"2","gamewinpercentage":0.5,'
        '"opponentgamewinpercentage":0.5,"opponentmatchwinpercentage":0.5},'
        '{"login_name":"a","loginid":1,"score":"12","rank":"1","gamewinpercentage":0.6,'
        '"opponentgamewinpercentage":0.5,"opponentmatchwinpercentage":0.5}],'
        '"decklists":[{"player":"b","loginid":2,"main_deck":[{"qty":"60","card_attributes":'
        '{"card_name":"Island"}}],"sideboard_deck":[]},{"player":"a","loginid":1,"main_deck":'
        '[{"qty":60,"card_attributes":{"card_name":"Swamp"}}],"sideboard_deck":[]}]};'
    )
    doc = parse_event_page(
        page, url="u", name="Modern Showcase", day=date(2025, 3, 9), fmt="Modern"
    )
    assert doc is not None
    # Standings but no bracket and no winloss: results are the page positions (as the
    # reference computes them), then the decks follow the Swiss rank without new results.
    assert [(d["Player"], d["Result"]) for d in doc["Decks"]] == [
        ("a", "2nd Place"),
        ("b", "1st Place"),
    ]
    assert doc["Rounds"] == []
    assert file_name("https://www.mtgo.com/decklist/modern-challenge-32-2025-03-0912345678") == (
        "modern-challenge-32-2025-03-0912345678"
    )
