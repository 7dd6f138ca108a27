"""Render Topdeck API answers from a cache document: the reverse of DOMAIN.md §5.4's mapping.

:func:`render_event` gives the listing entry, the detail answer and the records answer
(``deckSnapshot`` dictionaries) of one event; :class:`TopdeckSite` serves them from a local
server with the API's authentication header check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

API_KEY = "td-key-0123456789"


@dataclass
class RenderedTopdeck:
    tid: str
    format: str
    start: int
    listing: dict[str, Any]
    detail: dict[str, Any]
    records: list[dict[str, Any]]


def tid_of(doc: Mapping[str, Any]) -> str:
    return doc["Tournament"]["Uri"].rstrip("/").rsplit("/", 1)[-1]


def _round_key(name: str) -> Any:
    return int(name) if name.isdigit() else name


def render_event(doc: Mapping[str, Any]) -> RenderedTopdeck:
    t = doc["Tournament"]
    start = int(datetime.fromisoformat(t["Date"]).timestamp())
    decks = {d["Player"]: d for d in doc["Decks"]}
    standings = [
        {
            "standing": s["Rank"],
            "name": s["Player"],
            "decklist": decks[s["Player"]]["AnchorUri"]
            if s["Player"] in decks
            else "No Decklist Available",
            "points": s["Points"],
            "opponentWinRate": s["OMWP"],
            "gameWinRate": s["GWP"],
            "opponentGameWinRate": s["OGWP"],
        }
        for s in doc["Standings"]
    ]
    rounds = []
    for r in doc["Rounds"]:
        tables = []
        for i, m in enumerate(r["Matches"]):
            if m["Player2"] == "":
                tables.append(
                    {"table": i + 1, "players": [{"name": m["Player1"]}], "winner": m["Player1"]}
                )
                continue
            players = [{"name": m["Player1"]}, {"name": m["Player2"]}]
            if m["Result"] == "0-0-1":
                tables.append({"table": i + 1, "players": players, "winner": "Draw"})
            else:  # winner first in the cache; the API lists the table in seat order
                seats = players[::-1] if i % 2 else players
                tables.append({"table": i + 1, "players": seats, "winner": m["Player1"]})
        rounds.append({"round": _round_key(r["RoundName"]), "tables": tables})
    records = [
        {
            "name": s["Player"],
            "wins": s["Wins"],
            "losses": s["Losses"],
            "draws": s["Draws"],
            "deckSnapshot": _snapshot(decks.get(s["Player"])),
        }
        for s in doc["Standings"]
    ]
    detail = {
        "data": {
            "name": t["Name"],
            "game": "Magic: The Gathering",
            "format": t["Formats"],
            "startDate": start,
        },
        "standings": standings,
        "rounds": rounds,
    }
    listing = {"TID": tid_of(doc), "tournamentName": t["Name"], "startDate": start, "standings": []}
    return RenderedTopdeck(tid_of(doc), t["Formats"], start, listing, detail, records)


def _snapshot(deck: Mapping[str, Any] | None) -> dict[str, Any]:
    if deck is None:
        return {"mainboard": {}, "sideboard": {}}
    return {
        "mainboard": {c["CardName"]: c["Count"] for c in deck["Mainboard"]},
        "sideboard": {c["CardName"]: c["Count"] for c in deck["Sideboard"]},
    }


class TopdeckSite:
    """The API on a local server; answers 401 without the right ``Authorization`` header."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.events: list[RenderedTopdeck] = []
        self.listing_bodies: list[dict[str, Any]] = []
        server.expect_request(re.compile(".*")).respond_with_handler(self.handle)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def handle(self, request: Request) -> Response:
        if request.headers.get("Authorization") != API_KEY:
            return Response('{"error": "unauthorized"}', status=401)
        if request.method == "POST" and request.path == "/api/v2/tournaments":
            body = json.loads(request.data)
            self.listing_bodies.append(body)
            found = []
            for e in self.events:
                if e.format == body["format"] and body["start"] <= e.start <= body["end"]:
                    entry = dict(e.listing)
                    if body["columns"]:
                        entry["standings"] = e.records
                    found.append(entry)
            return Response(json.dumps(found), content_type="application/json")
        for e in self.events:
            if request.path == f"/api/v2/tournaments/{e.tid}":
                return Response(json.dumps(e.detail), content_type="application/json")
        return Response("{}", status=404)
