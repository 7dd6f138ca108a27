"""Melee (melee.gg) adapter: sign-in, decklist search, tournaments, standings, decklists and
match histories (DOMAIN.md §5.3).

Constructor: ``MeleeSource(email, password, base_url="https://melee.gg", formats=FORMATS,
min_decklists=5, page_size=500, session_file=None)``; missing ``email``/``password`` raise
:class:`MissingCredentials` at construction.

Session (:mod:`pipelines.sources.melee_session`): sign-in with the anti-forgery token, the
session cookie saved in ``session_file`` and reused by later runs for up to 21 days, re-login
on a 401. The credentials are only sent in the sign-in form; never logged.

Listing: ``POST /Decklist/SearchDecklists`` (DataTables form) for 7-day slices of the window,
paged by ``page_size`` until ``recordsFiltered`` rows are read; rows are de-duplicated by
decklist ``Guid`` and grouped by ``TournamentId`` (one :class:`EventRef` each, whose ``extra``
carries the tournament's decklist ids per owner). Events are dropped as the reference drops
them: names containing ``Team ``, status other than ``Ended``, fewer than ``min_decklists``
valid lists or less than half valid.

Event: ``GET /Tournament/View/{id}`` (format from the headline, completed round buttons);
standings of the last completed round (``POST /Standing/GetRoundStandings``, 25 rows a page
until an empty page; the round before when the last one has none); then per standings row with
a deck, the decklist page (``pre#decklist-text``) and the match history
(``GET /Decklist/GetTournamentViewData/{id}``, JSON whose ``Json`` property is a string of
JSON). Rounds are merged across decks keyed by (round, Player1, Player2) as the reference does
(draws therefore appear from both sides; the ingestion de-duplicates them, DOMAIN.md §2.7).

Uncertain formats, following DOMAIN.md: result texts not in the §5.3 table raise
:class:`PageParseError` (the event is quarantined with its URL, the raw pages are kept); the
headline format when several are listed is resolved per seat by the majority of the decklists'
``FormatDescription``. Differences from the reference on purpose: a multi-seat event's seat N
file holds each player's N-th deck (the reference repeats the last deck in every seat), and
``Tournament.Date`` is always written with an offset.

Pure parsers (tests and the benchmark call them on bytes): :mod:`pipelines.sources.melee_parse`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pipelines.sources import documents as docs
from pipelines.sources.base import (
    CacheDocument,
    EventRef,
    HttpClient,
    MissingCredentials,
    Response,
)
from pipelines.sources.cardnames import default_normalizer
from pipelines.sources.melee_parse import (
    FIRST_DAY,
    FOLDER,
    FORMATS,
    STANDING_COLUMNS,
    STANDINGS_PAGE,
    DeckData,
    StandingRow,
    build_document,
    choose_decklists,
    datatables_form,
    parse_decklist_page,
    parse_match_history,
    parse_search_page,
    parse_standings_page,
    parse_tournament_page,
    search_form,
    start_time,
)
from pipelines.sources.melee_session import LoginRefused, MeleeSession

__all__ = ["FORMATS", "LoginRefused", "MeleeSource"]

log = logging.getLogger(__name__)


class MeleeSource:
    """Melee adapter (see the module docstring)."""

    name = "melee"

    def __init__(
        self,
        email: str | None,
        password: str | None,
        base_url: str = "https://melee.gg",
        formats: Sequence[str] = FORMATS,
        min_decklists: int = 5,
        page_size: int = 500,
        session_file: Path | None = None,
    ) -> None:
        if not email or not password:
            raise MissingCredentials("melee: email and password are required to search decklists")
        self.base_url = base_url.rstrip("/")
        self.session = MeleeSession(email, password, self.base_url, session_file)
        self.formats = tuple(formats)
        self.min_decklists = min_decklists
        self.page_size = page_size
        self.normalize = default_normalizer()

    def __repr__(self) -> str:  # never show the credentials
        return f"MeleeSource(base_url={self.base_url!r})"

    def _get(self, http: HttpClient, url: str) -> Response:
        return self.session.get(http, url)

    def _post(self, http: HttpClient, url: str, form: Mapping[str, Any]) -> Response:
        return self.session.post(http, url, form)

    # listing -------------------------------------------------------------------------------

    def _search(self, http: HttpClient, first: date, last: date) -> Iterator[dict[str, Any]]:
        url = f"{self.base_url}/Decklist/SearchDecklists"
        start, draw = 0, 1
        while True:
            form = search_form(first, last, start, self.page_size, draw)
            response = self._post(http, url, form)
            total, rows = parse_search_page(response.body, response.url)
            yield from rows
            start += len(rows)
            draw += 1
            if not rows or start >= total:
                return

    def list_events(self, http: HttpClient, since: date, until: date) -> Iterator[EventRef]:
        seen: set[str] = set()
        events: dict[str, list[dict[str, Any]]] = {}
        first = max(since, FIRST_DAY)
        while first <= until:
            last = min(first + timedelta(days=6), until)
            for row in self._search(http, first, last):
                guid = str(row.get("Guid") or row.get("ID") or "")
                if not guid or guid in seen or row.get("TournamentId") is None:
                    continue
                seen.add(guid)
                events.setdefault(str(row["TournamentId"]), []).append(row)
            first = last + timedelta(days=1)
        for tournament_id, rows in events.items():
            ref = self._event_ref(tournament_id, rows)
            if ref is not None and since <= ref.date <= until:
                yield ref

    def _event_ref(self, tournament_id: str, rows: list[dict[str, Any]]) -> EventRef | None:
        head = rows[0]
        name = str(head.get("TournamentName") or "")
        url = f"{self.base_url}/Tournament/View/{tournament_id}"
        if "Team " in name:
            return None
        if head.get("TournamentStatusDescription") != "Ended":
            log.info("melee: %s not ended yet; skipped", url)
            return None
        valid = sum(1 for r in rows if r.get("IsValid"))
        if valid < self.min_decklists or valid * 2 < len(rows):
            log.info("melee: %s has %d valid of %d decklists; skipped", url, valid, len(rows))
            return None
        start = start_time(str(head.get("TournamentStartDate") or ""), url)
        lists = [
            {
                "id": str(r.get("Guid") or r.get("ID")),
                "owner": str(r.get("OwnerUsername") or ""),
                "valid": bool(r.get("IsValid")),
                "format": r.get("FormatDescription"),
                # A digest of the card list: enough to tell identical lists apart.
                "records": hashlib.sha1(
                    json.dumps(r.get("Records"), sort_keys=True).encode(), usedforsecurity=False
                ).hexdigest(),
            }
            for r in rows
        ]
        formats = Counter(str(r["format"]) for r in lists if r["format"])
        fmt = formats.most_common(1)[0][0] if formats else None
        extra = {"tournament_id": tournament_id, "start": start.isoformat(), "decklists": lists}
        return EventRef("melee", url, start.date(), name, fmt, extra)

    # one event -----------------------------------------------------------------------------

    def _standings(self, http: HttpClient, round_id: str) -> list[StandingRow]:
        url = f"{self.base_url}/Standing/GetRoundStandings"
        rows: list[StandingRow] = []
        start, draw = 0, 1
        while True:
            form = datatables_form(STANDING_COLUMNS, start, STANDINGS_PAGE, draw, {})
            form["roundId"] = round_id
            response = self._post(http, url, form)
            page = parse_standings_page(response.body, response.url)
            if not page:
                return rows
            rows.extend(page)
            start += len(page)
            draw += 1

    def _deck(self, http: HttpClient, decklist_id: str, player: str) -> DeckData:
        view = self._get(http, f"{self.base_url}/Decklist/View/{decklist_id}")
        main, side = parse_decklist_page(view.text(), view.url, self.normalize)
        history_url = f"{self.base_url}/Decklist/GetTournamentViewData/{decklist_id}"
        history = self._get(http, history_url)
        matches = parse_match_history(history.body, player, history.url)
        return DeckData(decklist_id, main, side, matches)

    def fetch_event(self, http: HttpClient, ref: EventRef) -> list[CacheDocument]:
        tournament_id = str(ref.extra["tournament_id"])
        page = self._get(http, ref.key)
        info = parse_tournament_page(page.text(), page.url)
        allowed = [f for f in info.formats if f in self.formats] or (
            [ref.format] if not info.formats and ref.format in self.formats else []
        )
        if not allowed:
            log.info("melee: %s format %s not followed; skipped", ref.key, info.formats)
            return []
        standings: list[StandingRow] = []
        for round_id in reversed(info.completed_rounds[-2:]):
            standings = self._standings(http, round_id)
            if standings:
                break
        if not standings:
            log.info("melee: %s has no standings yet; skipped", ref.key)
            return []
        if "Commander" in allowed and any(
            s.opponent_count > s.wins + s.losses + s.draws for s in standings
        ):
            log.info("melee: %s is a multiplayer Commander event; skipped", ref.key)
            return []
        seats = self._seats(ref, standings)
        start = start_time(str(ref.extra["start"]), ref.key)
        out = []
        for seat_number, seat in enumerate(seats, start=1):
            decks = {player: self._deck(http, ident, player) for player, ident in seat.items()}
            if not decks:
                continue
            fmt = self._seat_format(ref, seat, allowed)
            doc = build_document(
                name=ref.name,
                uri=ref.key,
                start=start,
                fmt=fmt,
                standings=standings,
                decks=decks,
                deck_url=lambda ident: f"{self.base_url}/Decklist/View/{ident}",
            )
            if not docs.worth_keeping(doc):
                continue
            stem = docs.paper_file_stem(
                ref.name, fmt, tournament_id, ref.date, seat_number if len(seats) > 1 else None
            )
            out.append(docs.cache_document(FOLDER, ref.date, stem, doc))
        return out

    def _seats(self, ref: EventRef, standings: Sequence[StandingRow]) -> list[dict[str, str]]:
        """Per seat, player -> decklist id (one seat unless players have several lists)."""
        by_owner: dict[str, list[Mapping[str, Any]]] = {}
        for item in ref.extra.get("decklists") or []:
            by_owner.setdefault(item["owner"], []).append(item)
        chosen: dict[str, list[str]] = {}
        for row in standings:
            lists = choose_decklists(by_owner.get(row.username, []))
            ids = [str(item["id"]) for item in lists] or row.decklist_ids[-1:]
            if ids:
                chosen[row.player] = ids
        width = max((len(ids) for ids in chosen.values()), default=0)
        return [
            {player: ids[seat] for player, ids in chosen.items() if seat < len(ids)}
            for seat in range(width)
        ]

    def _seat_format(self, ref: EventRef, seat: Mapping[str, str], allowed: list[str]) -> str:
        if len(allowed) == 1:
            return allowed[0]
        fmt_of = {str(item["id"]): item.get("format") for item in ref.extra.get("decklists") or []}
        votes = Counter(fmt_of.get(ident) for ident in list(seat.values())[:16])
        best = [f for f, _ in votes.most_common() if f in allowed]
        return best[0] if best else allowed[0]
