"""Topdeck (topdeck.gg) adapter: the v2 tournaments API (DOMAIN.md §5.4).

Constructor: ``TopdeckSource(api_key, base_url="https://topdeck.gg", formats=FORMATS)``;
a missing ``api_key`` raises :class:`MissingCredentials`. The key goes in the
``Authorization`` header (raw, no "Bearer") and is never logged. The limit of 200 calls per
60 s is enforced by the framework's HTTP client per host (settings), not here.

Listing: ``POST /api/v2/tournaments`` with ``{game, format, start, end, last: null,
columns: []}`` for **every** followed format (the reference kept only the last format's
results); an event listed under two formats is yielded once.

Event: ``GET /api/v2/tournaments/{TID}`` (name, format, start, standings, rounds), then the
listing endpoint again for [start, start + 1 s] with the columns ``name, wins, losses, draws,
deckSnapshot`` for the records and the decklists (matched to standings by exact name; 0 when
absent). A deck is written for each standings row whose snapshot has a mainboard; rounds are
named by their number (``"1"``) or label (``"Top 8"``); Topdeck stores match outcomes, not
games: ``1-0-0`` winner first, ``0-0-1`` for a draw and for a bye (one-player table, Player2
``""``), as the cache does.

Pure parsers: :func:`parse_listing` and :func:`build_document` (detail + records -> document).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from pipelines.sources import documents as docs
from pipelines.sources.base import (
    CacheDocument,
    EventRef,
    HttpClient,
    MissingCredentials,
    PageParseError,
)
from pipelines.sources.cardnames import default_normalizer

log = logging.getLogger(__name__)

FOLDER = "Topdeck"
GAME = "Magic: The Gathering"
FORMATS = (
    "Standard",
    "Pioneer",
    "Modern",
    "Legacy",
    "Vintage",
    "Pauper",
    "Duel Commander",
    "Premodern",
)
RECORD_COLUMNS = ["name", "wins", "losses", "draws", "deckSnapshot"]
FIRST_DAY = date(2020, 1, 1)
NO_DECKLIST = "No Decklist Available"


def _timestamp(day: date, end: bool = False) -> int:
    return int(datetime.combine(day, time.max if end else time.min, UTC).timestamp())


def parse_listing(data: Any, url: str) -> list[dict[str, Any]]:
    """The tournaments of one listing answer (a JSON array)."""
    if not isinstance(data, list) or not all(isinstance(t, dict) and "TID" in t for t in data):
        raise PageParseError("tournament listing is not an array of {TID, ...}", url=url)
    return data


def anchor(decklist: Any) -> str | None:
    """The deck link: the URL as Topdeck gives it (leading spaces kept), else None."""
    if not isinstance(decklist, str) or not decklist.strip().startswith("http"):
        return None  # "", "No Decklist Available" and other text (§5.9)
    return decklist


def _rounds(rounds: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rounds:
        matches = []
        for table in r.get("tables") or []:
            names = [p.get("name") for p in table.get("players") or []]
            winner = table.get("winner")
            if len(names) == 1:
                matches.append(docs.match(names[0], "", "0-0-1"))  # a bye, stored as a draw
            elif len(names) == 2:
                if winner == "Draw":
                    matches.append(docs.match(names[0], names[1], "0-0-1"))
                elif winner in names:
                    loser = names[1] if winner == names[0] else names[0]
                    matches.append(docs.match(winner, loser, "1-0-0"))
        out.append({"RoundName": str(r.get("round")), "Matches": matches})
    return out


def build_document(
    detail: Mapping[str, Any], records: Sequence[Mapping[str, Any]], uri: str
) -> dict[str, Any]:
    """Cache document from the detail answer and the standings rows of the records call."""
    normalize = default_normalizer()
    try:
        data = detail["data"]
        start = datetime.fromtimestamp(int(data["startDate"]), UTC).isoformat()
        by_name = {r.get("name"): r for r in records}
        standings, decks = [], []
        for s in detail.get("standings") or []:
            name = s["name"]
            record = by_name.get(name) or {}
            rank = int(s["standing"])
            standings.append(
                docs.standing(
                    rank, name, s.get("points"),
                    int(record.get("wins") or 0), int(record.get("losses") or 0),
                    int(record.get("draws") or 0),
                    s.get("opponentWinRate"), s.get("gameWinRate"), s.get("opponentGameWinRate"),
                )
            )  # fmt: skip
            snapshot = record.get("deckSnapshot") or {}
            main = _board(snapshot.get("mainboard"), normalize)
            if not main:
                continue
            side = _board(snapshot.get("sideboard"), normalize)
            result = docs.ordinal_place_melee(rank)
            decks.append(docs.deck(start, name, result, anchor(s.get("decklist")), main, side))
        rounds = _rounds(detail.get("rounds") or [])
        tourney = docs.tournament(start, data["name"], uri, data.get("format"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PageParseError(f"unexpected tournament answer: {exc!r}", url=uri) from None
    return docs.document(tourney, decks, rounds, standings)


def _board(cards: Mapping[str, Any] | None, normalize: Any) -> list[dict[str, Any]]:
    """Card lines from a ``{name: count}`` snapshot, in its order, same names merged."""
    totals: dict[str, int] = {}
    for name, count in (cards or {}).items():
        card = normalize(name)
        totals[card] = totals.get(card, 0) + int(count)
    return [{"Count": count, "CardName": name} for name, count in totals.items()]


class TopdeckSource:
    """Topdeck adapter (see the module docstring)."""

    name = "topdeck"

    def __init__(
        self,
        api_key: str | None,
        base_url: str = "https://topdeck.gg",
        formats: Sequence[str] = FORMATS,
    ) -> None:
        if not api_key:
            raise MissingCredentials("topdeck: an API key is required")
        self._headers = {
            "Authorization": api_key,
            "Content-Type": "application/json; charset=utf-8",
        }
        self.base_url = base_url.rstrip("/")
        self.formats = tuple(formats)

    def __repr__(self) -> str:  # never show the key
        return f"TopdeckSource(base_url={self.base_url!r})"

    @property
    def _listing_url(self) -> str:
        return f"{self.base_url}/api/v2/tournaments"

    def _list(self, http: HttpClient, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        response = http.post(self._listing_url, json=body, headers=self._headers)
        return parse_listing(response.json(), response.url)

    def list_events(self, http: HttpClient, since: date, until: date) -> Iterator[EventRef]:
        since = max(since, FIRST_DAY)
        if since > until:
            return
        seen: set[str] = set()
        for fmt in self.formats:
            body = {
                "game": GAME,
                "format": fmt,
                "start": _timestamp(since),
                "end": _timestamp(until, end=True),
                "last": None,
                "columns": [],
            }
            for t in self._list(http, body):
                tid = str(t["TID"])
                url = f"{self.base_url}/event/{tid}"
                if url in seen:
                    continue
                seen.add(url)
                start = datetime.fromtimestamp(int(t.get("startDate") or 0), UTC)
                extra = {"tid": tid, "start": int(t.get("startDate") or 0)}
                yield EventRef(
                    "topdeck", url, start.date(), str(t.get("tournamentName")), fmt, extra
                )

    def fetch_event(self, http: HttpClient, ref: EventRef) -> list[CacheDocument]:
        tid = str(ref.extra["tid"])
        detail_url = f"{self.base_url}/api/v2/tournaments/{tid}"
        detail = http.get(detail_url, headers=self._headers).json()
        if not isinstance(detail, dict) or not isinstance(detail.get("data"), dict):
            raise PageParseError("tournament answer without data", url=detail_url)
        data = detail["data"]
        start = int(data.get("startDate") or ref.extra.get("start") or 0)
        body = {
            "game": GAME,
            "format": data.get("format") or ref.format,
            "start": start,
            "end": start + 1,
            "last": None,
            "columns": RECORD_COLUMNS,
        }
        records: list[dict[str, Any]] = []
        for t in self._list(http, body):
            if str(t["TID"]) == tid:
                records = list(t.get("standings") or [])
        doc = build_document(detail, records, ref.key)
        if not docs.worth_keeping(doc):
            log.info("topdeck: %s has no published decklist; skipped", ref.key)
            return []
        day = datetime.fromtimestamp(start, UTC).date()
        fmt = doc["Tournament"]["Formats"]
        stem = docs.paper_file_stem(doc["Tournament"]["Name"], fmt, tid, day, None)
        return [docs.cache_document(FOLDER, day, stem, doc)]
