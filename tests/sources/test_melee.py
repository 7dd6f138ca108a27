"""Melee adapter against a fake melee.gg on a local HTTP server.

The round trip of every sample document through the whole flow (listing, fetch, files,
ingestion) is tests/integration/test_sources_melee_flow.py; the comparison rules below
(:func:`_comparable`, :func:`skip_reason`) are shared with it. What cannot round-trip, and why:

* ``Uri`` / ``AnchorUri`` carry the fixture server's host (compared with it substituted).
* The order of matches inside a round: the reference merges rounds in its own deck order;
  rounds are compared as the set of (Player1, Player2, Result) per round name.
* ``Tournament.Date`` of older files is naive; the adapter always writes ``+00:00`` (§5.9):
  compared as instants.
* Skipped documents (each counted and bounded): older files whose rounds are named
  ``Quarterfinals``/``Semifinals``/``Finals``/``Top N`` (§5.9: the current mapping writes
  ``Round <n>``), matches with a ``null`` opponent (the mapping writes ``"-"``), multi-seat
  files (the reference writes each player's last deck in every seat and shortens format words
  in their file names), and files whose decks do not follow the standings one-to-one (a player
  twice, or a result that is not the player's rank: hand-edited or older scraper versions).
"""

from __future__ import annotations

import json
import stat
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from pipelines.sources.base import MissingCredentials, PageParseError
from pipelines.sources.melee import LoginRefused, MeleeSource
from pipelines.sources.melee_parse import (
    match_from_result,
    parse_decklist_page,
    parse_match_history,
)
from tests.sources import render_melee
from tests.sources.conftest import RequestsClient
from tests.sources.melee_site import EMAIL, PASSWORD, MeleeSite

PUBLIC = "https://melee.gg"


def _comparable(doc: dict[str, Any], base: str) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc).replace(PUBLIC, base))
    when = datetime.fromisoformat(doc["Tournament"]["Date"])
    doc["Tournament"]["Date"] = when.replace(tzinfo=when.tzinfo or UTC).isoformat()
    doc["Rounds"] = {
        r["RoundName"]: sorted(
            Counter((m["Player1"], m["Player2"], m["Result"]) for m in r["Matches"]).items()
        )
        for r in doc["Rounds"]
    }
    return doc


def skip_reason(rel: str, doc: dict[str, Any]) -> str | None:
    if any(not r["RoundName"].startswith("Round ") for r in doc["Rounds"]):
        return "bracket round names"
    if any(
        m["Player2"] is None or m["Player1"] is None for r in doc["Rounds"] for m in r["Matches"]
    ):
        return "null opponent"
    if "-seat-" in rel:
        return "seat file"
    players = [d["Player"] for d in doc["Decks"]]
    ranks = {s["Player"]: s["Rank"] for s in doc["Standings"]}
    if len(set(players)) != len(players):
        return "player twice"
    if any(
        d["Result"].split("s")[0].split("t")[0] != str(ranks.get(d["Player"])) for d in doc["Decks"]
    ):
        return "result is not the rank"
    return None


# --- hand-written fixtures (no sample needed) ------------------------------------------------

FIXTURE = Path(__file__).parents[1] / "fixtures" / "sources" / "melee"
SPRING_OPEN = "spring-open-modern-123456-2025-04-12.json"


def _fixture_doc() -> dict[str, Any]:
    return json.loads((FIXTURE / SPRING_OPEN).read_text(encoding="utf-8"))


@pytest.fixture
def site(httpserver: HTTPServer) -> MeleeSite:
    site = MeleeSite(httpserver)
    site.add(render_melee.render_event(_fixture_doc()))
    return site


def test_fixture_event_round_trips_with_its_quirks(site: MeleeSite, http: RequestsClient) -> None:
    source = MeleeSource(EMAIL, PASSWORD, base_url=site.base_url)
    [ref] = source.list_events(http, date(2025, 4, 6), date(2025, 4, 19))
    assert (ref.name, ref.date, ref.format) == ("Spring Open", date(2025, 4, 12), "Modern")
    [got] = source.fetch_event(http, ref)
    assert got.relative_path().as_posix() == f"MTGmelee/2025/04/12/{SPRING_OPEN}"
    doc = json.loads(json.dumps(got.document))
    expected = json.loads(json.dumps(_fixture_doc()).replace(PUBLIC, site.base_url))
    # Same rounds in the same order: draws from both sides, the forfeit recorded 0-2-0 by one
    # side and 0-0-0 by the other, byes against "-".
    assert doc == expected
    assert site.sign_ins == 1  # one sign-in for the whole run


def test_search_pages_and_slices_and_dedupes_decklists(
    site: MeleeSite, http: RequestsClient
) -> None:
    source = MeleeSource(EMAIL, PASSWORD, base_url=site.base_url, page_size=2)
    refs = list(source.list_events(http, date(2025, 4, 6), date(2025, 4, 19)))
    assert [r.key for r in refs] == [site.base_url + "/Tournament/View/123456"]
    assert len(refs[0].extra["decklists"]) == 5
    # Two 7-day slices; the one holding the event read 5 rows 2 by 2 (3 pages), the other one 1.
    slices = [(s["columns[6][search][value]"], s["start"]) for s in site.searches]
    assert slices == [
        ("2025-04-06|2025-04-12", "0"),
        ("2025-04-06|2025-04-12", "2"),
        ("2025-04-06|2025-04-12", "4"),
        ("2025-04-13|2025-04-19", "0"),
    ]
    assert [s["draw"] for s in site.searches[:3]] == ["1", "2", "3"]
    # Melee's slices overlap on their boundary day: the same decklists come twice.
    site.ignore_dates = True
    refs = list(source.list_events(http, date(2025, 4, 6), date(2025, 4, 19)))
    assert len(refs) == 1 and len(refs[0].extra["decklists"]) == 5


def test_expired_session_signs_in_again_once(site: MeleeSite, http: RequestsClient) -> None:
    source = MeleeSource(EMAIL, PASSWORD, base_url=site.base_url)
    assert len(list(source.list_events(http, date(2025, 4, 12), date(2025, 4, 12)))) == 1
    site.expire_sessions()  # the cookie the client holds is now refused with 401
    assert len(list(source.list_events(http, date(2025, 4, 12), date(2025, 4, 12)))) == 1
    assert site.sign_ins == 2
    posts = [url.rsplit("/", 1)[-1] for method, url in http.calls if method == "POST"]
    assert posts.count("SignInPassword") == 2


def test_session_cookies_are_reused_by_the_next_run(site: MeleeSite, tmp_path: Path) -> None:
    session_file = tmp_path / "melee" / "session.json"

    def run() -> int:
        """One run: a fresh source and a fresh client (nothing shared in memory)."""
        source = MeleeSource(EMAIL, PASSWORD, base_url=site.base_url, session_file=session_file)
        client = RequestsClient()
        try:
            return len(list(source.list_events(client, date(2025, 4, 12), date(2025, 4, 12))))
        finally:
            client.session.close()

    assert run() == 1 and site.sign_ins == 1
    saved = session_file.read_text()
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600  # a credential
    assert PASSWORD not in saved and EMAIL not in saved
    assert run() == 1 and site.sign_ins == 1  # the saved cookie, no new sign-in

    # The site expired the session: one 401, one sign-in, the new cookie saved.
    site.expire_sessions()
    assert run() == 1 and site.sign_ins == 2
    assert run() == 1 and site.sign_ins == 2

    # Older than 21 days: not even tried.
    state = json.loads(session_file.read_text())
    state["obtained_at"] = (datetime.now(UTC) - timedelta(days=22)).isoformat()
    session_file.write_text(json.dumps(state))
    searches = len(site.searches)
    assert run() == 1 and site.sign_ins == 3
    assert len(site.searches) == searches + 1  # no 401 round trip first

    # Unreadable: ignored, signed in again.
    session_file.write_text("{not json")
    assert run() == 1 and site.sign_ins == 4
    assert json.loads(session_file.read_text())["cookies"]


def test_wrong_password_is_refused_without_leaking_it(
    site: MeleeSite, http: RequestsClient
) -> None:
    source = MeleeSource(EMAIL, "wrong-password-value", base_url=site.base_url)
    with pytest.raises(LoginRefused) as caught:
        list(source.list_events(http, date(2025, 4, 12), date(2025, 4, 12)))
    assert "wrong-password-value" not in str(caught.value) and EMAIL not in str(caught.value)
    assert "wrong-password-value" not in repr(source)


def test_missing_credentials_are_refused_at_construction() -> None:
    with pytest.raises(MissingCredentials):
        MeleeSource("", None)


def test_events_the_reference_drops_are_not_listed(site: MeleeSite, http: RequestsClient) -> None:
    rows = site.events[0].search_rows
    for row in rows[:3]:
        row["IsValid"] = False  # 2 valid of 5: below half
    source = MeleeSource(EMAIL, PASSWORD, base_url=site.base_url, min_decklists=1)
    assert list(source.list_events(http, date(2025, 4, 12), date(2025, 4, 12))) == []
    for row in rows:
        row["IsValid"] = True
        row["TournamentStatusDescription"] = "In Progress"
    assert list(source.list_events(http, date(2025, 4, 12), date(2025, 4, 12))) == []
    for row in rows:
        row["TournamentStatusDescription"] = "Ended"
        row["TournamentName"] = "Team Trios Open"
    assert list(source.list_events(http, date(2025, 4, 12), date(2025, 4, 12))) == []


def test_unfollowed_format_gives_no_document(site: MeleeSite, http: RequestsClient) -> None:
    source = MeleeSource(EMAIL, PASSWORD, base_url=site.base_url, formats=("Legacy",))
    [ref] = source.list_events(http, date(2025, 4, 12), date(2025, 4, 12))
    assert source.fetch_event(http, ref) == []


def test_truncated_search_answer_is_a_parse_error_with_the_url(
    httpserver: HTTPServer, http: RequestsClient
) -> None:
    site = MeleeSite(httpserver)
    site.truncate_search = True
    source = MeleeSource(EMAIL, PASSWORD, base_url=site.base_url)
    with pytest.raises(PageParseError) as caught:
        list(source.list_events(http, date(2025, 4, 12), date(2025, 4, 12)))
    assert caught.value.url == site.base_url + "/Decklist/SearchDecklists"


def test_match_history_texts() -> None:
    lines = [
        {"Round": 1, "Opponent": "Bob", "Result": "Alice won 2-1-0"},
        {"Round": 2, "Opponent": "Carol", "Result": "Carol won 2-0"},
        {"Round": 3, "Opponent": "Dave", "Result": "1-1-1 Draw"},
        {"Round": 4, "Opponent": None, "Result": "Alice was awarded a bye"},
        {"Round": 5, "Opponent": "Erin", "Result": "Alice forfeited the match"},
        {"Round": 6, "Opponent": "Frank", "Result": "Not reported"},
        {"Round": 7, "Opponent": None, "Result": "won 2-0-0"},
        {"Round": 8, "Opponent": "Gus", "Result": "[FORMAT EXCEPTION] 2-0-0"},
    ]
    body = json.dumps({"Json": json.dumps({"Matches": lines})})
    assert parse_match_history(body, "Alice", "u") == [
        ("Round 1", "Alice", "Bob", "2-1-0"),
        ("Round 2", "Carol", "Alice", "2-0-0"),
        ("Round 3", "Alice", "Dave", "1-1-1"),
        ("Round 4", "Alice", "-", "2-0-0"),
        ("Round 5", "Alice", "Erin", "0-2-0"),
        ("Round 6", "Alice", "Frank", "0-0-0"),
        ("Round 7", "-", "Alice", "2-0-0"),
        ("Round 8", "Alice", "Gus", "0-0-0"),
    ]
    with pytest.raises(PageParseError, match="unknown match result"):
        match_from_result("Alice", "Bob", "Alice conceded", "u")
    with pytest.raises(PageParseError, match="Json string"):
        parse_match_history(json.dumps({"Matches": lines}), "Alice", "u")


def test_decklist_sections() -> None:
    lines = ["MainDeck", "4 Ragavan", "", "Companion", "1 Lurrus", "", "56 Mountain"]
    text = "\r\n".join([*lines, "Sideboard", "2 A-Fire/Ice"])
    main, side = parse_decklist_page(f'<pre id="decklist-text">{text}</pre>', "u")
    assert main == [{"Count": 4, "CardName": "Ragavan"}, {"Count": 56, "CardName": "Mountain"}]
    assert side == [{"Count": 1, "CardName": "Lurrus"}, {"Count": 2, "CardName": "Fire // Ice"}]
    with pytest.raises(PageParseError, match="pre#decklist-text"):
        parse_decklist_page("<div class='new-layout'></div>", "u")
