"""Manatraders adapter against hand-written pages on a local HTTP server (the sample's two
Manatrader files have masked Swiss names whose real names the pages would have to invent,
so they are not rendered back)."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from pipelines.sources.base import PageParseError
from pipelines.sources.manatraders import (
    ManatradersSource,
    parse_bracket,
    parse_listing,
    resolve_masks,
    swiss_masks,
)
from tests.sources.conftest import RequestsClient

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sources" / "manatraders"


def _read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def serve_fixtures(httpserver: HTTPServer) -> HTTPServer:
    """Serve the hand-written March 2024 series pages."""
    query = {"month": "3", "year": "2024"}
    httpserver.expect_request("/tournaments/2").respond_with_data(_read("tournaments-2.html"))
    httpserver.expect_request("/tournaments/48/swiss").respond_with_data(_read("swiss.html"))
    httpserver.expect_request("/tournaments/48/").respond_with_data(_read("event.html"))
    httpserver.expect_request("/tournaments/48/finals").respond_with_data(_read("finals.html"))
    httpserver.expect_request(
        "/tournaments/download_csv_by_month_and_year", query_string=query
    ).respond_with_data(_read("decklists.csv"), content_type="text/csv")
    httpserver.expect_request(
        "/tournaments/swiss_json_by_month_and_year", query_string=query
    ).respond_with_data(_read("swiss.json"), content_type="application/json")
    return httpserver


@pytest.fixture
def site(httpserver: HTTPServer) -> HTTPServer:
    return serve_fixtures(httpserver)


def test_series_event_with_bracket_and_masked_names(
    site: HTTPServer, http: RequestsClient, caplog: pytest.LogCaptureFixture
) -> None:
    source = ManatradersSource(base_url=site.url_for("/").rstrip("/"))
    refs = list(source.list_events(http, date(2024, 1, 1), date(2024, 12, 31)))
    # December skipped, the March series listed twice yielded once, dates = last day of month.
    assert [(r.name, r.date) for r in refs] == [
        ("ManaTraders Series Legacy March 2024", date(2024, 3, 31)),
        ("ManaTraders Series Pioneer February 2024", date(2024, 2, 29)),
    ]
    with caplog.at_level(logging.WARNING, logger="pipelines.sources.manatraders"):
        [got] = source.fetch_event(http, refs[0])
    doc = got.document
    assert got.relative_path().as_posix() == (
        "Manatrader/2024/03/31/manatraders-series-legacy-march-2024-2024-03-31.json"
    )
    assert doc["Tournament"]["Date"] == "2024-03-31T00:00:00+00:00"
    assert doc["Tournament"]["Formats"] is None
    assert [(d["Player"], d["Result"]) for d in doc["Decks"]] == [
        ("jonny", "1st Place"),
        ("xf13rc3byerly", "2nd Place"),
        ("Allies4ever", "3rd Place"),
        ("Yorsh", "4th Place"),
        ("hyyy1", "5th Place"),
        ("janey", "6th Place"),
        ("option686", "7th Place"),
        ("snoopy", "8th Place"),
    ]
    allies = doc["Decks"][2]
    assert allies["AnchorUri"].endswith("/webshop/personal/1000")  # matched case-insensitively
    assert doc["Decks"][-1]["AnchorUri"] == ""  # snoopy has no deck link
    # One line per CSV row (duplicates kept), single-slash split card normalised.
    assert [c["CardName"] for c in allies["Mainboard"]] == [
        "Ponder",
        "Dead // Gone",
        "Ponder",
        "Island",
    ]
    assert doc["Standings"][0] == {
        "Rank": 1, "Player": "Allies4ever", "Points": 18, "Wins": 6, "Losses": 1, "Draws": 0,
        "OMWP": 60.5 / 100, "GWP": 66.7 / 100, "OGWP": 55.8 / 100,  # as the cache has them
    }  # fmt: skip
    assert doc["Standings"][1]["Draws"] == 8 - 6 - 1
    round1 = doc["Rounds"][0]["Matches"]
    assert round1[0] == {"Player1": "Allies4ever", "Player2": "snoopy", "Result": "2-1-0"}
    assert round1[1] == {"Player1": "j***y", "Player2": "hyyy1", "Result": "0-2-0"}  # ambiguous
    assert round1[2] == {"Player1": "Yorsh", "Player2": None, "Result": "2-0-0"}  # bye
    assert swiss_masks(doc["Rounds"]) == {"j***y"}
    assert "1 masked player names stay ambiguous (j***y)" in caplog.text
    assert [r["RoundName"] for r in doc["Rounds"]] == [
        "Round 1", "Round 2", "Quarterfinals", "Semifinals", "Finals",
    ]  # fmt: skip
    assert doc["Rounds"][-1]["Matches"] == [
        {"Player1": "jonny", "Player2": "xf13rc3byerly", "Result": "2-1-0"}
    ]


def test_mask_resolution_rules() -> None:
    names = ["Allies4ever", "jonny", "janey", "jo", "hyyy1"]
    resolved, ambiguous = resolve_masks(
        ["A*********r", "j***y", "j*o", "h***1", "jonny", "z**z"], names
    )
    # j*o fits "jo" alone; a real name ("jonny") is not a mask.
    assert resolved == {"A*********r": "Allies4ever", "h***1": "hyyy1", "j*o": "jo"}
    # j***y fits jonny and janey (same length too); z**z fits nobody.
    assert ambiguous == {"j***y", "z**z"}


def test_bracket_skips_empty_slots_and_names_other_layouts() -> None:
    slots = "".join(
        f"<li><div>{p}</div><div>{w}</div></li>"
        for p, w in [("a", 2), ("-", 0), ("b", 1), ("c", "x")]
    )
    rounds = parse_bracket(f'<div class="tournament-brackets"><ul>{slots}</ul></div>', "u")
    assert rounds == [
        {
            "RoundName": "Playoff match 2",
            "Matches": [{"Player1": "b", "Player2": "c", "Result": "1-0-0"}],
        }
    ]


def test_changed_listing_layout_is_a_parse_error() -> None:
    with pytest.raises(PageParseError, match="option") as caught:
        parse_listing("<html><ul class='series'><li>March 2024</li></ul></html>", "https://m/t/2")
    assert caught.value.url == "https://m/t/2"
