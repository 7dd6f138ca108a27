"""Render MTGO pages from cache documents: the reverse of DOMAIN.md §5.2's mapping.

Given a real cache document, :func:`event_page` writes the event page MTGO would have served
(the ``window.MTGO.decklists.data`` line) and :func:`month_index` the month index listing it,
so that fetching them through :class:`pipelines.sources.mtgo.MtgoSource` must give the
document back. The renderer varies what the parser must tolerate: quantities as strings and
numbers, the bracket winner sometimes second, ids as strings.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

_RECORD = re.compile(r"^(\d+)-(\d+)$")
_LEAGUE_WINS = {"5-0": "5", "4-1": "4", "3-2": "3", "2-4": "2", "1-4": "1", "0-5": "0"}


def _starttime(doc: Mapping[str, Any]) -> str:
    when = datetime.fromisoformat(doc["Decks"][0]["Date"])
    return when.strftime("%Y-%m-%d %H:%M:%S.0")


def is_league(doc: Mapping[str, Any]) -> bool:
    """League documents: no standings, no rounds, results from the 5-0 mapping (or "")."""
    return (
        not doc["Standings"] and not doc["Rounds"] and "league" in doc["Tournament"]["Name"].lower()
    )


def _card(count: int, name: str, i: int) -> dict[str, Any]:
    # MTGO sends qty as a string; every third card as a number checks both are read.
    qty: Any = count if i % 3 == 0 else str(count)
    return {"qty": qty, "card_attributes": {"card_name": name, "rarity": "COMMON"}}


def event_data(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The embedded JSON object of one event page."""
    players = [d["Player"] for d in doc["Decks"]] + [s["Player"] for s in doc["Standings"]]
    login_ids = {p: str(100000 + i) for i, p in enumerate(dict.fromkeys(players))}
    decklists = []
    for deck in doc["Decks"]:
        entry: dict[str, Any] = {
            "player": deck["Player"],
            "loginid": login_ids[deck["Player"]],
            "main_deck": [
                _card(c["Count"], c["CardName"], i) for i, c in enumerate(deck["Mainboard"])
            ],
            "sideboard_deck": [
                _card(c["Count"], c["CardName"], i) for i, c in enumerate(deck["Sideboard"])
            ],
        }
        if is_league(doc):
            entry["wins"] = {"wins": _LEAGUE_WINS.get(deck["Result"], "unknown")}
        decklists.append(entry)
    if is_league(doc):
        published = datetime.fromisoformat(doc["Decks"][0]["Date"]).strftime("%Y-%m-%d %H:%M:%S.0")
        return {"publish_date": published, "decklists": decklists}
    data: dict[str, Any] = {"starttime": _starttime(doc), "totalplayers": len(login_ids)}
    winloss = _winloss(doc, login_ids)
    if winloss:
        data["winloss"] = winloss
    if doc["Standings"]:
        data["standings"] = [
            {
                "login_name": s["Player"],
                "loginid": login_ids[s["Player"]],
                "score": str(s["Points"]),
                "rank": str(s["Rank"]),
                "gamewinpercentage": repr(s["GWP"]),
                "opponentgamewinpercentage": repr(s["OGWP"]),
                "opponentmatchwinpercentage": repr(s["OMWP"]),
            }
            for s in doc["Standings"]
        ]
    if doc["Rounds"]:
        data["brackets"] = [
            {"matches": [_bracket_match(m, i) for i, m in enumerate(r["Matches"])]}
            for r in doc["Rounds"]
        ]
    data["decklists"] = decklists
    return data


def _winloss(doc: Mapping[str, Any], login_ids: Mapping[str, str]) -> list[dict[str, Any]]:
    if doc["Standings"]:
        return [
            {"loginid": login_ids[s["Player"]], "wins": s["Wins"], "losses": s["Losses"]}
            for s in doc["Standings"]
        ]
    rows = []
    for deck in doc["Decks"]:
        record = _RECORD.match(deck["Result"])
        if record:
            rows.append(
                {
                    "loginid": login_ids[deck["Player"]],
                    "wins": int(record[1]),
                    "losses": int(record[2]),
                }
            )
    return rows


def _bracket_match(m: Mapping[str, Any], i: int) -> dict[str, Any]:
    w1, w2, _ = (int(x) for x in m["Result"].split("-"))
    winner = {"player": m["Player1"], "wins": w1, "winner": True}
    loser = {"player": m["Player2"], "wins": w2, "winner": False}
    # MTGO lists the two players in either order; the parser must put the winner first.
    return {"players": [loser, winner] if i % 2 else [winner, loser]}


def event_page(doc: Mapping[str, Any]) -> str:
    """The HTML of the event page."""
    data = json.dumps(event_data(doc), ensure_ascii=False)
    return (
        "<!DOCTYPE html>\n<html><head><title>"
        f"{html.escape(doc['Tournament']['Name'])}</title></head><body>\n"
        '<div id="decklists"></div>\n<script>\n'
        "window.MTGO = window.MTGO || {};\n"
        "window.MTGO.decklists = window.MTGO.decklists || {};\n"
        f"    window.MTGO.decklists.data = {data};\n"
        "window.MTGO.decklists.type = 'decklist';\n"
        "</script>\n</body></html>\n"
    )


def server_error_page() -> str:
    return (
        "<html><body><script>\n"
        'window.MTGO.decklists.data = {"errorCode":"SERVER_ERROR","errorDescription":"x"};\n'
        "</script></body></html>\n"
    )


def month_index(events: Iterable[tuple[str, str, date]]) -> str:
    """A month index listing ``(path, title, date)`` events."""
    items = "".join(
        '<li class="decklists-item">\n'
        f'  <a href="{html.escape(path)}" class="decklists-link">\n'
        f"    <div><h3>{html.escape(title)}</h3><p>Decklists</p></div>\n"
        f'    <time class="decklists-date" datetime="{day.isoformat()}T12:00:00.000Z">'
        f"{day:%b %d}</time>\n  </a>\n</li>\n"
        for path, title, day in events
    )
    return (
        "<!DOCTYPE html><html><body><section>\n"
        f'<ul class="decklists-list">\n{items}</ul>\n</section></body></html>\n'
    )
