"""Render CardsRealm pages from a cache document (the reverse of DOMAIN.md §5.5), and serve them.

The site answers 403 without ``Accept-Language`` (the fake does too).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

PUBLIC = "https://mtg.cardsrealm.com"


def event_path(doc: Mapping[str, Any]) -> str:
    return urlsplit(doc["Tournament"]["Uri"]).path


def _pct(value: float) -> str:
    return f"{round(value * 100, 2):g}%"


class CardsRealmSite:
    def __init__(self, server: HTTPServer, page_size: int = 2) -> None:
        self.server = server
        self.page_size = page_size
        self.docs: list[Mapping[str, Any]] = []
        self.requests: list[str] = []
        server.expect_request(re.compile(".*")).respond_with_handler(self.handle)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def _tour_id(self, doc: Mapping[str, Any]) -> str:
        return str(1000 + self.docs.index(doc))

    def handle(self, request: Request) -> Response:
        self.requests.append(request.full_path)
        if not request.headers.get("Accept-Language"):
            return Response("forbidden", status=403)
        path, args = request.path, request.args
        if path == "/en-us/tournament/searchtours":
            return self._json(self._search(int(args["page"])))
        if path == "/en-us/app/getDeckById":
            return self._deck(args["deck_id"])
        if path == "/en-us/tournament/getround":
            return self._round(args["tour_id"], int(args["round_number"]))
        for doc in self.docs:
            if path == event_path(doc):
                return Response(self._event(doc), content_type="text/html; charset=utf-8")
        return Response("not found", status=404)

    @staticmethod
    def _json(value: Any) -> Response:
        return Response(json.dumps(value), content_type="application/json")

    def _search(self, page: int) -> str:
        ordered = sorted(self.docs, key=lambda d: d["Tournament"]["Date"], reverse=True)
        chunk = ordered[(page - 1) * self.page_size : page * self.page_size]
        return "".join(
            f'<a class="tour_grid_banner_a" href="{event_path(d)}">'
            '<div class="tour_select_div_name">'
            f"{html.escape(d['Tournament']['Name'])}</div>"
            f'<p class="tour_datetime_utc_p">{d["Tournament"]["Date"]}</p>'
            '<p class="tour_select_div_format_p">Pauper</p></a>'
            for d in chunk
        )

    def _event(self, doc: Mapping[str, Any]) -> str:
        decks = {d["Player"]: i for i, d in enumerate(doc["Decks"])}
        rows = ['<div class="tour_table_div"><p>#</p><p>Player</p><p>Points</p></div>']
        markers = []
        for s in doc["Standings"]:
            i = decks[s["Player"]]
            rows.append(
                '<div class="tour_table_div">'
                f'<p>{s["Rank"]}</p><p><a href="/en-us/leagues/player/{i}">'
                f"{html.escape(s['Player'])}</a></p>"
                f"<p>{s['Points']}</p><p>{s['Wins']}-{s['Losses']}-{s['Draws']}</p>"
                f"<p>{_pct(s['OMWP'])}</p><p>{_pct(s['GWP'])}</p><p>{_pct(s['OGWP'])}</p>"
                f'<p><button class="decks" id="deckbtn{i}">Deck</button></p></div>'
            )
            markers.append(f'<span class="deckbtn{i}" id="deck_{self._tour_id(doc)}x{i}"></span>')
        return (
            '<html><body><script>var tour_id = "' + self._tour_id(doc) + '";\n'
            f"var tour_round_number = {len(doc['Rounds'])};</script>"
            f'<div id="tour_div_standings">{"".join(rows)}</div>{"".join(markers)}</body></html>'
        )

    def _doc_of(self, tour_id: str) -> Mapping[str, Any]:
        return self.docs[int(tour_id) - 1000]

    def _deck(self, deck_id: str) -> Response:
        tour_id, i = deck_id.split("x")
        deck = self._doc_of(tour_id)["Decks"][int(i)]
        path = deck["AnchorUri"].rsplit("/decks/", 1)[-1]
        lines = [
            {
                "deck_path": path,
                "deck_sideboard": side,
                "name_of_card": c["CardName"],
                "deck_quantity": c["Count"],
            }
            for side, board in ((0, "Mainboard"), (1, "Sideboard"))
            for c in deck[board]
        ]
        return self._json(lines)

    def _round(self, tour_id: str, number: int) -> Response:
        doc = self._doc_of(tour_id)
        matches = next(
            (r["Matches"] for r in doc["Rounds"] if r["RoundName"] == f"Round {number}"), []
        )
        rows = [
            '<div class="tour_table_div_round"><p>P1</p><p>W</p><p>D</p><p>W</p><p>P2</p></div>'
        ]
        for m in matches:
            a, b, d = m["Result"].split("-")
            p2 = f'<p><a href="/p">{html.escape(m["Player2"])}</a></p>' if m["Player2"] else ""
            rows.append(
                '<div class="tour_table_div_round">'
                f'<p><a href="/p">{html.escape(m["Player1"])}</a></p>'
                f'<p class="tour_results_p">{a}</p><p class="tour_results_p">{d}</p>'
                f'<p class="tour_results_p">{b}</p>{p2}</div>'
            )
        return self._json("".join(rows))


def when(doc: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(doc["Tournament"]["Date"])
