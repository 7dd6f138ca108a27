"""Render Melee responses from a cache document: the reverse of DOMAIN.md §5.3's mapping.

:func:`render_event` returns every response the adapter asks for about one event (search
rows, tournament page, standings pages, decklist pages, match histories) keyed by path, so a
local server can serve them and :class:`pipelines.sources.melee.MeleeSource` must rebuild the
document. Match histories are written from each deck owner's side, as Melee shows them:
a win from both sides ("<winner> won 2-1-0"), a draw from the side that reported it
("1-1-0 Draw"), forfeits, byes and unreported rounds with the texts of §5.3's table.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SIGN_IN_PAGE = (
    '<html><body><form id="signin"><input name="__RequestVerificationToken" type="hidden" '
    'value="tok-123"><input name="email"></form></body></html>'
)


@dataclass
class RenderedEvent:
    tournament_id: str
    search_rows: list[dict[str, Any]]
    pages: dict[str, str] = field(default_factory=dict)  # GET path -> body
    standings_round: str = ""
    standings_rows: list[dict[str, Any]] = field(default_factory=list)


def tournament_id(doc: Mapping[str, Any]) -> str:
    return doc["Tournament"]["Uri"].rstrip("/").rsplit("/", 1)[-1]


def decklist_id(deck: Mapping[str, Any]) -> str:
    return deck["AnchorUri"].rstrip("/").rsplit("/", 1)[-1]


def _username(i: int) -> str:
    return f"user{i:05d}"


def _history_text(
    owner: str, p1: str | None, p2: str | None, result: str
) -> tuple[str | None, str]:
    """(opponent, Result text) of one match as the deck owner's history shows it."""
    a, b, _ = (int(x) for x in result.split("-"))
    if p1 == "-":
        return None, f"won {result}"
    other = p2 if owner == p1 else p1
    opponent = None if other in (None, "-") else other
    if a > b:
        if opponent is None and result == "2-0-0":
            return None, f"{owner} was awarded a bye"
        return opponent, f"{p1} won {result}"
    if a < b:
        return opponent, f"{owner} forfeited the match"
    if result == "0-0-0":
        return opponent, "Not reported"
    return opponent, f"{result} Draw"


def _histories(doc: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Per deck owner, the match history lines (Round, Opponent, Result)."""
    owners = {d["Player"] for d in doc["Decks"]}
    history: dict[str, list[dict[str, Any]]] = {p: [] for p in owners}
    covered: set[tuple[str, str, frozenset[str | None]]] = set()
    for round_ in doc["Rounds"]:
        number = int(round_["RoundName"].removeprefix("Round "))
        for m in round_["Matches"]:
            p1, p2, result = m["Player1"], m["Player2"], m["Result"]
            a, b, _ = (int(x) for x in result.split("-"))
            pair = frozenset((p1, p2))
            # The side whose history produced this record: the winner's (or the loser's) for
            # a decisive game, the first player for draws and unreported rounds.
            sides = [p for p in (p1, p2) if p in owners] if a > b else [p2 if p1 == "-" else p1]
            for owner in sides:
                if owner not in owners or (round_["RoundName"], owner, pair) in covered:
                    continue
                covered.add((round_["RoundName"], owner, pair))
                opponent, text = _history_text(owner, p1, p2, result)
                history[owner].append({"Round": number, "Opponent": opponent, "Result": text})
    return history


def render_event(doc: Mapping[str, Any]) -> RenderedEvent:
    tid = tournament_id(doc)
    t = doc["Tournament"]
    players = list(
        dict.fromkeys([s["Player"] for s in doc["Standings"]] + [d["Player"] for d in doc["Decks"]])
    )
    usernames = {p: _username(i) for i, p in enumerate(players)}
    decks = {d["Player"]: d for d in doc["Decks"]}
    rows = [
        {
            "Guid": decklist_id(d),
            "TournamentId": int(tid),
            "TournamentName": t["Name"],
            "TournamentStartDate": t["Date"],
            "OrganizationName": "Local Store",
            "TournamentStatusDescription": "Ended",
            "OwnerUsername": usernames[d["Player"]],
            "OwnerDisplayName": d["Player"],
            "IsValid": True,
            "DecklistName": "Deck",
            "FormatDescription": t["Formats"],
            "Records": [],
        }
        for d in doc["Decks"]
    ]
    rendered = RenderedEvent(tid, rows)
    rounds = max(len(doc["Rounds"]), 1)
    buttons = "".join(
        f'<button class="btn btn-gray round-selector" data-id="{tid}{i:02d}" '
        f'data-is-completed="True">Round {i}</button>'
        for i in range(1, rounds + 1)
    )
    rendered.pages[f"/Tournament/View/{tid}"] = (
        f"<html><body><h1>{html.escape(t['Name'])}</h1>"
        '<p id="tournament-headline-registration">Registration: Open | '
        f"Format: {html.escape(t['Formats'] or '')} | Players: {len(doc['Standings'])}</p>"
        f'<div id="standings-round-selector-container">{buttons}</div></body></html>'
    )
    rendered.standings_round = f"{tid}{rounds:02d}"
    rendered.standings_rows = [
        {
            "Rank": s["Rank"],
            "Points": s["Points"],
            "MatchWins": s["Wins"],
            "MatchLosses": s["Losses"],
            "MatchDraws": s["Draws"],
            "OpponentCount": s["Wins"] + s["Losses"] + s["Draws"],
            "OpponentMatchWinPercentage": s["OMWP"],
            "TeamGameWinPercentage": s["GWP"],
            "OpponentGameWinPercentage": s["OGWP"],
            "Team": {"Players": [{"DisplayName": s["Player"], "Username": usernames[s["Player"]]}]},
            "Decklists": (
                [{"DecklistId": decklist_id(decks[s["Player"]]), "Format": t["Formats"]}]
                if s["Player"] in decks
                else []
            ),
        }
        for s in doc["Standings"]
    ]
    for owner, lines in _histories(doc).items():
        ident = decklist_id(decks[owner])
        rendered.pages[f"/Decklist/View/{ident}"] = decklist_page(decks[owner], usernames[owner])
        body = json.dumps({"Json": json.dumps({"Matches": lines, "Rounds": len(lines)})})
        rendered.pages[f"/Decklist/GetTournamentViewData/{ident}"] = body
    return rendered


def decklist_page(deck: Mapping[str, Any], username: str) -> str:
    lines = ["MainDeck"] + [f"{c['Count']} {c['CardName']}" for c in deck["Mainboard"]]
    if deck["Sideboard"]:
        lines += ["", "Sideboard"] + [f"{c['Count']} {c['CardName']}" for c in deck["Sideboard"]]
    text = html.escape("\r\n".join(lines))
    return (
        "<html><body><div class='d-flex flex-row gap-8px'>"
        f"<a class='text-nowrap text-muted' href='/Profile/Index/{username}'>"
        f"<span class='text-nowrap'>{html.escape(deck['Player'])}</span></a>"
        "<span data-toggle='date' data-value='4/12/2025 9:00:00 AM'></span>"
        "<span class='text-nowrap'>Modern</span></div>"
        f'<pre id="decklist-text" class="decklist-text">{text}</pre></body></html>'
    )


def standings_page(rows: list[dict[str, Any]], start: int, length: int) -> str:
    return json.dumps({"recordsFiltered": len(rows), "data": rows[start : start + length]})


def search_page(rows: list[dict[str, Any]], start: int, length: int, draw: int) -> str:
    return json.dumps(
        {
            "draw": draw,
            "recordsTotal": len(rows),
            "recordsFiltered": len(rows),
            "data": rows[start : start + length],
        }
    )
