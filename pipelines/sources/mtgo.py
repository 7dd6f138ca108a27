"""MTGO (www.mtgo.com) adapter: month index pages and event pages (DOMAIN.md §5.2).

Constructor: ``MtgoSource(base_url="https://www.mtgo.com", normalizer=None)``; no credentials.
``normalizer`` maps card names (default: the frozen table of :mod:`pipelines.sources.cardnames`).

Listing: ``GET {base_url}/decklists/{yyyy}/{mm}`` for every month the window touches; each
``li.decklists-item`` gives the title (``a > div > h3``), the URL and the date
(``a > time[datetime]``). An event listed twice (same URL) is yielded once. A missing month
(404) is skipped like the reference does; a page that no longer looks like a month index is a
:class:`PageParseError` with its URL.

Event page: the line ``window.MTGO.decklists.data = {...};`` carries the event as JSON;
``errorCode: "SERVER_ERROR"`` means MTGO has no data (yet): no document, a warning, and the
run's re-fetch of young events tries again later. :func:`parse_event_page` is the pure parser
(str -> document) that tests and the benchmark call directly.

Differences from the reference scraper, on purpose (its crashes, §5.2/§5.9): a page without
``brackets`` or ``winloss`` is handled (no bracket; Wins/Losses 0) instead of crashing; decks
of players missing from the standings are kept at the end instead of dropped; a playoff round
of 8 matches is named ``Round of 16`` rather than mislabelled ``Quarterfinals``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import orjson
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipelines.sources import documents as docs
from pipelines.sources.base import (
    CacheDocument,
    EventRef,
    HttpClient,
    HttpStatusError,
    PageParseError,
)
from pipelines.sources.cardnames import default_normalizer

log = logging.getLogger(__name__)

FOLDER = "MTGO"
DATA_PREFIX = "window.MTGO.decklists.data = "
VALID_FORMATS = ("Standard", "Modern", "Pioneer", "Legacy", "Vintage", "Pauper", "Commander")
# League win counts as the reference maps them (§2.5), "2-4" included.
LEAGUE_RESULTS = {"5": "5-0", "4": "4-1", "3": "3-2", "2": "2-4", "1": "1-4", "0": "0-5"}
ROUND_NAMES = {1: "Finals", 2: "Semifinals", 4: "Quarterfinals", 8: "Round of 16"}


def title_format(title: str) -> str | None:
    """Format from the first word of an event title (``Duel`` -> ``Commander``), else None."""
    words = title.split()
    first = words[0] if words else ""
    first = "Commander" if first == "Duel" else first
    return first if first in VALID_FORMATS else None


def parse_month_index(html: str, url: str) -> list[EventRef]:
    """Events of one month index page, in page order (duplicates included)."""
    tree = HTMLParser(html)
    items = tree.css("li.decklists-item")
    if not items and tree.css_first(".decklists-list, .decklists") is None:
        raise PageParseError("not an MTGO month index: no li.decklists-item", url=url)
    refs = []
    for item in items:
        link = item.css_first("a[href]")
        title = item.css_first("a > div > h3")
        time = item.css_first("a > time[datetime]")
        if link is None or title is None or time is None:
            raise PageParseError("decklists item without a > div > h3 or time", url=url)
        event_url = urljoin(url, link.attributes.get("href") or "")
        try:
            day = datetime.fromisoformat(
                (time.attributes.get("datetime") or "").replace("Z", "+00:00")
            ).date()
        except ValueError as exc:
            raise PageParseError(f"bad time[datetime]: {exc}", url=url) from None
        name = title.text(strip=True)
        refs.append(
            EventRef(
                source="mtgo",
                key=event_url,
                date=day,
                name=name,
                format=title_format(name),
                extra={"url": event_url},
            )
        )
    return refs


def file_name(event_url: str) -> str:
    """Cache file stem: the last path segment of the event URL (§2.1)."""
    return docs.file_stem(urlsplit(event_url).path.rstrip("/").rsplit("/", 1)[-1])


def extract_data(html: str, url: str) -> dict[str, Any]:
    """The JSON object of the ``window.MTGO.decklists.data = ...;`` line."""
    start = html.find(DATA_PREFIX)
    if start < 0:
        raise PageParseError("no window.MTGO.decklists.data line (layout changed?)", url=url)
    end = html.find("\n", start)
    line = html[start + len(DATA_PREFIX) : end if end >= 0 else len(html)].strip()
    if line.endswith(";"):
        line = line[:-1]
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise PageParseError(f"invalid event JSON: {exc}", url=url) from None
    if not isinstance(data, dict):
        raise PageParseError("event JSON is not an object", url=url)
    return data


def _when(value: Any, url: str) -> str:
    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise PageParseError(f"bad event date {value!r}", url=url) from None
    return parsed.replace(tzinfo=UTC).isoformat()


def _winloss(data: dict[str, Any]) -> dict[str, tuple[int, int]] | None:
    rows = data.get("winloss") or []
    return {str(r["loginid"]): (int(r["wins"]), int(r["losses"])) for r in rows} or None


def _standings(data: dict[str, Any], winloss: dict[str, tuple[int, int]] | None) -> list[Any]:
    rows = []
    for s in data.get("standings") or []:
        wins, losses = (winloss or {}).get(str(s["loginid"]), (0, 0))
        rows.append(
            docs.standing(
                int(s["rank"]),
                s["login_name"],
                int(s["score"]),
                wins,
                losses,
                0,  # MTGO has no draws in its feed; the reference hard-codes 0 too
                float(s["opponentmatchwinpercentage"]),
                float(s["gamewinpercentage"]),
                float(s["opponentgamewinpercentage"]),
            )
        )
    return sorted(rows, key=lambda s: s["Rank"])


def _bracket(data: dict[str, Any]) -> list[Any]:
    rounds = []
    for bracket in data.get("brackets") or []:
        matches = []
        for m in bracket.get("matches") or []:
            players = m.get("players") or []
            if len(players) < 2:
                continue  # a bye in the playoff: nothing was played
            first, second = players[0], players[1]
            if second.get("winner"):
                first, second = second, first
            result = f"{int(first['wins'])}-{int(second['wins'])}-0"
            matches.append(docs.match(first["player"], second["player"], result))
        if matches:
            name = ROUND_NAMES.get(len(matches), f"Playoff ({len(matches)} matches)")
            rounds.append({"RoundName": name, "Matches": matches})
    return rounds


def _board(cards: list[Any] | None, normalize: Callable[[str], str]) -> list[Any]:
    """One line per card name, counts added up, sorted by name (the MTGO client's layout).

    The hot loop of the parser (one pass per card line): kept free of helper calls."""
    totals: dict[str, int] = {}
    for c in cards or ():
        name = normalize(c["card_attributes"]["card_name"])
        totals[name] = totals.get(name, 0) + int(c["qty"])
    return [{"Count": totals[name], "CardName": name} for name in sorted(totals)]


def _decks(
    data: dict[str, Any],
    uri: str,
    winloss: dict[str, tuple[int, int]] | None,
    normalize: Callable[[str], str],
) -> list[Any]:
    league = "starttime" not in data
    when = _when(data.get("publish_date") if league else data.get("starttime"), uri)
    decks = []
    for position, entry in enumerate(data.get("decklists") or [], start=1):
        player = entry["player"]
        main = _board(entry.get("main_deck"), normalize)
        side = _board(entry.get("sideboard_deck"), normalize)
        if league:
            wins = (entry.get("wins") or {}).get("wins", "0")
            result = LEAGUE_RESULTS.get(str(wins), "")
        elif winloss:
            record = winloss.get(str(entry.get("loginid")))
            result = f"{record[0]}-{record[1]}" if record else ""
        else:
            result = docs.ordinal_place(position)
        decks.append(docs.deck(when, player, result, f"{uri}#deck_{player}", main, side))
    return decks


def parse_event_page(
    html: str,
    *,
    url: str,
    name: str,
    day: date,
    fmt: str | None,
    normalize: Callable[[str], str] | None = None,
) -> dict[str, Any] | None:
    """The cache document of one event page, or None when MTGO answered ``SERVER_ERROR``.

    ``url``, ``name``, ``day`` and ``fmt`` come from the month index (the page itself does not
    say them reliably); raises :class:`PageParseError` for a page it cannot read.
    """
    data = extract_data(html, url)
    if data.get("errorCode") == "SERVER_ERROR":
        return None
    try:
        tournament = "starttime" in data
        winloss = _winloss(data) if tournament else None
        standings = _standings(data, winloss) if tournament else []
        bracket = _bracket(data) if tournament else []
        decks = _decks(data, url, winloss, normalize or default_normalizer())
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PageParseError(f"unexpected event JSON: {exc!r}", url=url) from None
    if standings:
        decks = docs.reorder_decks(decks, standings, bracket)
    tourney = docs.tournament(day.isoformat(), name, url, fmt)
    return docs.document(tourney, decks, bracket, standings)


def _months(since: date, until: date) -> Iterator[tuple[int, int]]:
    year, month = since.year, since.month
    while (year, month) <= (until.year, until.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


class MtgoSource:
    """MTGO adapter (see the module docstring)."""

    name = "mtgo"

    def __init__(
        self,
        base_url: str = "https://www.mtgo.com",
        normalizer: Callable[[str], str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.normalize = normalizer or default_normalizer()

    def list_events(self, http: HttpClient, since: date, until: date) -> Iterator[EventRef]:
        seen: set[str] = set()
        for year, month in _months(since, until):
            url = f"{self.base_url}/decklists/{year}/{month:02d}"
            try:
                response = http.get(url)
            except HttpStatusError as exc:
                if exc.status != 404:
                    raise
                log.info("mtgo: no index page for %d-%02d (404)", year, month)
                continue
            for ref in parse_month_index(response.text(), response.url):
                if since <= ref.date <= until and ref.key not in seen:
                    seen.add(ref.key)
                    yield ref

    def fetch_event(self, http: HttpClient, ref: EventRef) -> list[CacheDocument]:
        url = str(ref.extra.get("url", ref.key))
        response = http.get(url)
        doc = parse_event_page(
            response.text(),
            url=url,
            name=ref.name,
            day=ref.date,
            fmt=ref.format,
            normalize=self.normalize,
        )
        if doc is None:
            log.warning("mtgo: %s answered SERVER_ERROR (no data yet); nothing written", url)
            return []
        if not docs.worth_keeping(doc):
            log.info("mtgo: %s has no deck with a mainboard; skipped", url)
            return []
        return [docs.cache_document(FOLDER, ref.date, file_name(url), doc)]
