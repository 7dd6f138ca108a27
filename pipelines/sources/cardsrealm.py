"""CardsRealm (mtg.cardsrealm.com) adapter, Pauper only (DOMAIN.md §5.5).

Constructor: ``CardsRealmSource(base_url="https://mtg.cardsrealm.com", max_pages=100)``; no
credentials. Every request carries a browser ``User-Agent`` and ``Accept-Language`` (without
the latter the site answers 403). The reference's 2 s pause between requests is the HTTP
client's per-host rate limit, not a sleep here.

Listing: ``GET /en-us/tournament/searchtours?tour_time_select=3&tour_region=0&tour_format=5
&page=N`` answers a JSON string holding HTML; pages are newest first, read while the oldest
event of the previous page is not older than the window (at most ``max_pages``).

Event page: standings rows of ``div#tour_div_standings`` (only players with a published deck,
as the reference keeps), each deck from ``/en-us/app/getDeckById``, and every Swiss round from
``/en-us/tournament/getround`` (JSON string of HTML; a missing second player is a bye written
``""``; results ``"<p1 games>-<p2 games>-<draws>"`` with no winner ordering).

The file name has no id (``<slug of name>-<yyyy-mm-dd>``): two same-named events on one day
collide, as in the cache (§2.1). Pure parsers: :func:`parse_search_page`,
:func:`parse_event_page`, :func:`parse_deck`, :func:`parse_round`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode

from pipelines.sources import documents as docs
from pipelines.sources.base import CacheDocument, EventRef, HttpClient, PageParseError
from pipelines.sources.cardnames import default_normalizer

log = logging.getLogger(__name__)

FOLDER = "CardsRealm"
HEADERS = {
    "User-Agent": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0 Safari/537.36"
    ),
    "Accept-Language": "en-US,en;q=0.9",
}
_TOUR_ID = re.compile(r"var\s+tour_id\s*=\s*\"?(\d+)\"?")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_ROUND_COUNT = re.compile(r"var\s+tour_round_number\s*=\s*\"?(\d+)\"?")


def _html_of(body: bytes, url: str) -> str:
    """The HTML carried by an answer that is a JSON string (or, tolerated, plain HTML)."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text.startswith('"'):
        return text
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise PageParseError(f"invalid JSON string: {exc}", url=url) from None
    if not isinstance(value, str):
        raise PageParseError("answer is not a JSON string of HTML", url=url)
    return value


def _text(node: LexborNode | None) -> str:
    return node.text(strip=True) if node is not None else ""


def parse_search_page(body: bytes, url: str) -> list[EventRef]:
    """Events of one search page, newest first."""
    tree = HTMLParser(_html_of(body, url))
    refs = []
    for item in tree.css("a.tour_grid_banner_a"):
        name = _text(item.css_first(".tour_select_div_name"))
        when = _text(item.css_first(".tour_datetime_utc_p"))
        href = item.attributes.get("href")
        try:
            start = datetime.fromisoformat(when)
        except ValueError:
            raise PageParseError(f"bad event time {when!r}", url=url) from None
        if not name or not href:
            raise PageParseError("event banner without name or link", url=url)
        event_url = urljoin(url, href)
        fmt = _text(item.css_first(".tour_select_div_format_p")) or "Pauper"
        extra = {"start": start.isoformat()}
        refs.append(EventRef("cardsrealm", event_url, start.date(), name, fmt, extra))
    return refs


@dataclass
class EventPage:
    tour_id: str | None
    rounds: int
    rows: list[tuple[dict[str, Any], str]]  # (standing, deck id) for players with a deck


def _percent(text: str) -> float:
    return float(text.strip().rstrip("%")) / 100


def parse_event_page(html: str, url: str) -> EventPage:
    tree = HTMLParser(html)
    table = tree.css_first("div#tour_div_standings")
    if table is None:
        raise PageParseError("event page without div#tour_div_standings", url=url)
    rows = []
    for row in table.css("div.tour_table_div")[1:]:
        button = row.css_first("button.decks")
        if button is None:
            continue
        cells = row.css("p")
        player = row.css_first('p a[href^="/en-us/leagues/player"]')
        try:
            wins, losses, draws = (int(x) for x in _text(cells[3]).split("-"))
            standing = docs.standing(
                int(_text(cells[0])), _text(player), int(_text(cells[2])), wins, losses, draws,
                _percent(_text(cells[4])), _percent(_text(cells[5])), _percent(_text(cells[6])),
            )  # fmt: skip
        except (IndexError, ValueError) as exc:
            raise PageParseError(f"unreadable standings row: {exc!r}", url=url) from None
        marker = tree.css_first(f".{button.attributes.get('id') or 'missing'}")
        deck_id = (marker.attributes.get("id") or "")[5:] if marker is not None else ""
        if not deck_id:
            raise PageParseError(f"no deck id for {standing['Player']!r}", url=url)
        rows.append((standing, deck_id))
    found_id, found_rounds = _TOUR_ID.search(html), _ROUND_COUNT.search(html)
    return EventPage(
        found_id[1] if found_id else None, int(found_rounds[1]) if found_rounds else 0, rows
    )


def parse_deck(
    data: Any, url: str
) -> tuple[str | None, list[dict[str, Any]], list[dict[str, Any]]]:
    """(deck path, mainboard, sideboard) of a getDeckById answer, lines in answer order.

    An empty answer (a deck deleted since) gives no path and empty boards; the cache then
    has ``AnchorUri: ""`` for it."""
    if not isinstance(data, list):
        raise PageParseError("deck answer is not an array", url=url)
    if not data:
        return None, [], []
    normalize = default_normalizer()
    main: list[dict[str, Any]] = []
    side: list[dict[str, Any]] = []
    try:
        for line in data:
            card = {
                "Count": int(line["deck_quantity"]),
                "CardName": normalize(line["name_of_card"]),
            }
            (side if int(line["deck_sideboard"]) == 1 else main).append(card)
        return str(data[0]["deck_path"]), main, side
    except (KeyError, TypeError, ValueError) as exc:
        raise PageParseError(f"unexpected deck line: {exc!r}", url=url) from None


def parse_round(body: bytes, url: str) -> list[dict[str, Any]]:
    """Matches of one round (a JSON string of HTML)."""
    tree = HTMLParser(_html_of(body, url))
    matches = []
    for row in tree.css("div.tour_table_div_round")[1:]:
        cells = row.css("p")
        if len(cells) < 4:
            raise PageParseError("round row with fewer than 4 cells", url=url)
        p1 = _text(cells[0].css_first("a"))
        p2 = _text(cells[4].css_first("a")) if len(cells) > 4 else ""
        try:
            a, d, b = (int(_text(cells[i]) or 0) for i in (1, 2, 3))
        except ValueError:
            raise PageParseError("round row with a non-numeric score", url=url) from None
        matches.append(docs.match(p1, p2, f"{a}-{b}-{d}"))
    return matches


def file_slug(name: str) -> str:
    """The CardsRealm client's slug: lower case, every run of other characters than ASCII
    letters and digits one hyphen (accents are not transliterated: "Campeões" -> "campe-es",
    as in the cache)."""
    return _NOT_SLUG.sub("-", name.lower()).strip("-")


class CardsRealmSource:
    """CardsRealm adapter (see the module docstring)."""

    name = "cardsrealm"

    def __init__(self, base_url: str = "https://mtg.cardsrealm.com", max_pages: int = 100) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_pages = max_pages

    def list_events(self, http: HttpClient, since: date, until: date) -> Iterator[EventRef]:
        seen: set[str] = set()
        for page in range(1, self.max_pages + 1):
            url = f"{self.base_url}/en-us/tournament/searchtours"
            params = {"tour_time_select": 3, "tour_region": 0, "tour_format": 5, "page": page}
            response = http.get(url, params=params, headers=HEADERS)
            refs = parse_search_page(response.body, response.url)
            for ref in refs:
                if since <= ref.date <= until and ref.key not in seen:
                    seen.add(ref.key)
                    yield ref
            if not refs or refs[-1].date < since:
                return

    def fetch_event(self, http: HttpClient, ref: EventRef) -> list[CacheDocument]:
        page = http.get(ref.key, headers=HEADERS)
        info = parse_event_page(page.text(), page.url)
        when = datetime.fromisoformat(str(ref.extra["start"])).replace(tzinfo=None).isoformat()
        decks, standings = [], []
        for position, (standing, deck_id) in enumerate(info.rows, start=1):
            deck_url = f"{self.base_url}/en-us/app/getDeckById"
            answer = http.get(deck_url, params={"deck_id": deck_id}, headers=HEADERS)
            path, main, side = parse_deck(answer.json(), answer.url)
            anchor = f"{self.base_url}/en-us/decks/{path}" if path is not None else ""
            result = docs.ordinal_place(standing["Rank"] or position)
            decks.append(docs.deck(when, standing["Player"], result, anchor, main, side))
            standings.append(standing)
        rounds = []
        if info.tour_id:
            for number in range(1, info.rounds + 1):
                params = {"tour_id": info.tour_id, "round_number": number}
                answer = http.get(
                    f"{self.base_url}/en-us/tournament/getround", params=params, headers=HEADERS
                )
                matches = parse_round(answer.body, answer.url)
                if matches:
                    rounds.append({"RoundName": f"Round {number}", "Matches": matches})
        doc = docs.document(
            docs.tournament(when, ref.name, ref.key, "Pauper"), decks, rounds, standings
        )
        if not docs.worth_keeping(doc):
            return []
        stem = docs.file_stem(f"{file_slug(ref.name)}-{ref.date.isoformat()}")
        return [docs.cache_document(FOLDER, ref.date, stem, doc)]
