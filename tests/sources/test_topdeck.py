"""Topdeck adapter against its API rendered on a local HTTP server.

Round trip: every Topdeck document of the sample (6 files) is rendered into the API's answers
(tests/sources/render_topdeck.py), listed and fetched through :class:`TopdeckSource`, and
must come back equal. What cannot round-trip, and why: ``Uri`` carries the fixture server's
host (compared with it substituted); nothing else — Topdeck's decks, standings and rounds are
carried field for field (a deck's duplicate card lines would be merged, §5.9; the sample has
none).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from pipelines.sources.base import EventRef, HttpStatusError, MissingCredentials, PageParseError
from pipelines.sources.topdeck import TopdeckSource
from tests.sources.conftest import RequestsClient, sample_documents
from tests.sources.render_topdeck import API_KEY, TopdeckSite, render_event

PUBLIC = "https://topdeck.gg"
FIXTURE = Path(__file__).parents[1] / "fixtures" / "sources" / "topdeck"
FRIDAY = "friday-legacy-AbCdEf123-2025-01-10.json"


def _local(doc: dict[str, Any], base: str) -> dict[str, Any]:
    return json.loads(json.dumps(doc).replace(f"{PUBLIC}/event/", f"{base}/event/"))


@pytest.mark.shared_data
def test_every_sample_document_round_trips(
    shared_data_dir: Path, httpserver: HTTPServer, http: RequestsClient
) -> None:
    site = TopdeckSite(httpserver)
    samples = sample_documents(shared_data_dir, "Topdeck")
    assert samples
    site.events = [render_event(doc) for _, doc in samples]
    source = TopdeckSource(API_KEY, base_url=site.base_url)
    days = [datetime.fromisoformat(doc["Tournament"]["Date"]).date() for _, doc in samples]
    refs = {ref.key: ref for ref in source.list_events(http, min(days), max(days))}
    assert len(refs) == len(samples)  # several formats: every one of them is listed
    for rel, doc in samples:
        [got] = source.fetch_event(http, refs[site.base_url + "/event/" + render_event(doc).tid])
        assert got.document == _local(doc, site.base_url), rel
        assert got.relative_path().as_posix() == rel


def _friday() -> dict[str, Any]:
    return json.loads((FIXTURE / FRIDAY).read_text(encoding="utf-8"))


def test_fixture_event_with_bye_draw_and_unlinked_deck(
    httpserver: HTTPServer, http: RequestsClient
) -> None:
    site = TopdeckSite(httpserver)
    site.events = [render_event(_friday())]
    source = TopdeckSource(API_KEY, base_url=site.base_url)
    [ref] = source.list_events(http, date(2025, 1, 10), date(2025, 1, 10))
    [got] = source.fetch_event(http, ref)
    assert got.relative_path().as_posix() == f"Topdeck/2025/01/10/{FRIDAY}"
    assert got.document == _local(_friday(), site.base_url)
    doc = got.document
    assert doc["Decks"][0]["AnchorUri"] == "  https://www.moxfield.com/decks/aaa"  # as given
    assert doc["Decks"][1]["AnchorUri"] is None  # "No Decklist Available"
    assert doc["Rounds"][0]["Matches"][2] == {"Player1": "Eve", "Player2": "", "Result": "0-0-1"}
    # Dee has no published list: standings only.
    assert [d["Player"] for d in doc["Decks"]] == ["Ann ", "Ben", "Cid"]
    assert site.listing_bodies[-1]["columns"] == ["name", "wins", "losses", "draws", "deckSnapshot"]


def test_every_format_is_listed_and_an_event_in_two_formats_once(
    httpserver: HTTPServer, http: RequestsClient
) -> None:
    site = TopdeckSite(httpserver)
    legacy = render_event(_friday())
    pauper = render_event(_friday())
    pauper.tid, pauper.format = "PaUp3r", "Pauper"
    pauper.listing = {**pauper.listing, "TID": "PaUp3r"}
    also_premodern = render_event(_friday())
    also_premodern.format = "Premodern"  # the same TID listed under a second format
    site.events = [legacy, pauper, also_premodern]
    source = TopdeckSource(API_KEY, base_url=site.base_url)
    refs = list(source.list_events(http, date(2025, 1, 1), date(2025, 1, 31)))
    assert sorted(r.key.rsplit("/", 1)[-1] for r in refs) == ["AbCdEf123", "PaUp3r"]
    assert [b["format"] for b in site.listing_bodies] == list(source.formats)
    assert all(
        b["game"] == "Magic: The Gathering" and b["columns"] == [] for b in site.listing_bodies
    )


def test_api_key_is_required_and_sent(httpserver: HTTPServer, http: RequestsClient) -> None:
    with pytest.raises(MissingCredentials):
        TopdeckSource("")
    site = TopdeckSite(httpserver)
    source = TopdeckSource("not-the-key", base_url=site.base_url)
    with pytest.raises(HttpStatusError) as caught:
        list(source.list_events(http, date(2025, 1, 1), date(2025, 1, 2)))
    assert caught.value.status == 401
    assert "not-the-key" not in repr(source)


def test_unexpected_answers_are_parse_errors_with_the_url(
    httpserver: HTTPServer, http: RequestsClient
) -> None:
    httpserver.expect_request("/api/v2/tournaments", method="POST").respond_with_data(
        '{"error": "x"}'
    )
    httpserver.expect_request("/api/v2/tournaments/T1").respond_with_data(
        '{"data": {"name": "X", "sta'
    )
    source = TopdeckSource(API_KEY, base_url=httpserver.url_for("/").rstrip("/"))
    with pytest.raises(PageParseError) as caught:
        list(source.list_events(http, date(2025, 1, 1), date(2025, 1, 2)))
    assert caught.value.url == source.base_url + "/api/v2/tournaments"
    url = source.base_url + "/event/T1"
    ref = EventRef("topdeck", url, date(2025, 1, 1), "X", "Legacy", {"tid": "T1", "start": 0})
    with pytest.raises(PageParseError) as caught:
        source.fetch_event(http, ref)
    assert caught.value.url == source.base_url + "/api/v2/tournaments/T1"
