"""Melee (melee.gg) adapter: sign-in, decklist search, tournaments, standings, decklists and
match histories (DOMAIN.md §5.3).

Constructor: ``MeleeSource(email, password, base_url="https://melee.gg", formats=FORMATS,
min_decklists=5, page_size=500)``; missing ``email``/``password`` raise
:class:`MissingCredentials` at construction. The credentials are only sent in the sign-in
form; they are never logged nor put in an error message.

Session: the first request of a run signs in (``GET /Account/SignIn`` for the anti-forgery
token, ``POST /Account/SignInPassword``); the HTTP client keeps the session cookie for the rest
of the run, so one sign-in serves every request. A 401 on any request signs in again once and
repeats that request once (an expired session); a second 401 propagates.

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

Pure parsers for tests and the benchmark: :func:`parse_search_page`,
:func:`parse_tournament_page`, :func:`parse_standings_page`, :func:`parse_decklist_page`,
:func:`parse_match_history`, and :func:`build_document` which assembles them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipelines.sources import documents as docs
from pipelines.sources.base import (
    CacheDocument,
    EventRef,
    HttpClient,
    HttpStatusError,
    MissingCredentials,
    PageParseError,
    Response,
)
from pipelines.sources.cardnames import default_normalizer

log = logging.getLogger(__name__)

FOLDER = "MTGmelee"
FORMATS = (
    "Standard",
    "Modern",
    "Pioneer",
    "Legacy",
    "Vintage",
    "Pauper",
    "Commander",
    "Premodern",
    "Duel Commander",
)
FIRST_DAY = date(2020, 1, 1)  # Melee is not queried before 2020
SEARCH_COLUMNS = (
    "DecklistName",
    "Game",
    "FormatId",
    "FormatName",
    "OwnerDisplayName",
    "TournamentName",
    "SortDate",
    "TeamRank",
    "TeamMatchWins",
    "OrganizationName",
    "Records",
    "Archetypes",
    "TournamentTags",
    "LeaderName",
    "SecondaryName",
)
STANDING_COLUMNS = (
    "Rank",
    "Player",
    "Decklists",
    "MatchRecord",
    "GameRecord",
    "Points",
    "OpponentMatchWinPercentage",
    "TeamGameWinPercentage",
    "OpponentGameWinPercentage",
    "FinalTiebreaker",
    "OpponentCount",
)
STANDINGS_PAGE = 25
_SECTIONS_MAIN = {"maindeck", "deck"}
_SECTIONS_SIDE = {"sideboard", "companion", "commander", "partner"}
_FORMAT_IN_HEADLINE = re.compile(r"Format:\s*([^|]+)")
_SCORE = re.compile(r"^\d+-\d+(?:-\d+)?$")
_WS = re.compile(r"\s+")


class LoginRefused(MissingCredentials):
    """Melee refused the sign-in (wrong credentials or a changed sign-in form)."""


def collapse(name: str) -> str:
    return _WS.sub(" ", name).strip()


# --- request payloads -------------------------------------------------------------------------


def datatables_form(
    columns: Sequence[str], start: int, length: int, draw: int, searches: Mapping[str, str]
) -> dict[str, Any]:
    """A DataTables server-side request as the Melee pages send it."""
    form: dict[str, Any] = {"draw": draw, "start": start, "length": length}
    for i, name in enumerate(columns):
        form[f"columns[{i}][data]"] = name
        form[f"columns[{i}][name]"] = name
        form[f"columns[{i}][searchable]"] = "true"
        form[f"columns[{i}][orderable]"] = "true"
        form[f"columns[{i}][search][value]"] = searches.get(name, "")
        form[f"columns[{i}][search][regex]"] = "false"
    form["search[value]"] = ""
    form["search[regex]"] = "false"
    return form


def search_form(first: date, last: date, start: int, length: int, draw: int) -> dict[str, Any]:
    searches = {"Game": "MagicTheGathering", "SortDate": f"{first}|{last}"}
    form = datatables_form(SEARCH_COLUMNS, start, length, draw, searches)
    form["order[0][column]"] = 6
    form["order[0][dir]"] = "desc"
    return form


# --- pure parsers -----------------------------------------------------------------------------


def _json(response_text: str | bytes, url: str) -> Any:
    try:
        return json.loads(response_text)
    except ValueError as exc:
        raise PageParseError(f"invalid JSON: {exc}", url=url) from None


def parse_search_page(body: str | bytes, url: str) -> tuple[int, list[dict[str, Any]]]:
    """(recordsFiltered, rows) of one SearchDecklists answer."""
    data = _json(body, url)
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise PageParseError("search answer without a data list", url=url)
    try:
        total = int(data.get("recordsFiltered") or 0)
    except (TypeError, ValueError):
        raise PageParseError("search answer with a bad recordsFiltered", url=url) from None
    return total, data["data"]


@dataclass(frozen=True)
class TournamentPage:
    formats: tuple[str, ...]  # the headline's formats (usually one)
    completed_rounds: tuple[str, ...]  # ids of the completed rounds, in page order


def parse_tournament_page(html: str, url: str) -> TournamentPage:
    tree = HTMLParser(html)
    headline = tree.css_first("p#tournament-headline-registration")
    buttons = tree.css("button.round-selector")
    if headline is None and not buttons:
        raise PageParseError("not a Melee tournament page (no headline, no rounds)", url=url)
    formats: tuple[str, ...] = ()
    found = _FORMAT_IN_HEADLINE.search(headline.text() if headline is not None else "")
    if found:
        formats = tuple(f.strip() for f in found[1].split(",") if f.strip())
    completed = tuple(
        b.attributes.get("data-id") or ""
        for b in buttons
        if b.attributes.get("data-is-completed") == "True" and b.attributes.get("data-id")
    )
    return TournamentPage(formats, completed)


@dataclass
class StandingRow:
    rank: int
    player: str
    username: str
    points: int
    wins: int
    losses: int
    draws: int
    omwp: float
    gwp: float
    ogwp: float
    opponent_count: int
    decklist_ids: list[str] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return docs.standing(
            self.rank, self.player, self.points, self.wins, self.losses, self.draws,
            self.omwp, self.gwp, self.ogwp,
        )  # fmt: skip


def parse_standings_page(body: str | bytes, url: str) -> list[StandingRow]:
    data = _json(body, url)
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise PageParseError("standings answer without a data list", url=url)
    rows = []
    try:
        for r in data["data"]:
            player = r["Team"]["Players"][0]
            rows.append(
                StandingRow(
                    rank=int(r["Rank"]),
                    player=collapse(player["DisplayName"]),
                    username=player.get("Username") or "",
                    points=int(r["Points"]),
                    wins=int(r["MatchWins"]),
                    losses=int(r["MatchLosses"]),
                    draws=int(r["MatchDraws"]),
                    omwp=float(r["OpponentMatchWinPercentage"]),
                    gwp=float(r["TeamGameWinPercentage"]),
                    ogwp=float(r["OpponentGameWinPercentage"]),
                    opponent_count=int(r.get("OpponentCount") or 0),
                    decklist_ids=[str(d["DecklistId"]) for d in r.get("Decklists") or []],
                )
            )
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise PageParseError(f"unexpected standings row: {exc!r}", url=url) from None
    return rows


def parse_decklist_page(
    html: str, url: str, normalize: Callable[[str], str] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(mainboard, sideboard) of a decklist page, lines in page order (not merged)."""
    normalize = normalize or default_normalizer()
    pre = HTMLParser(html).css_first("pre#decklist-text")
    if pre is None:
        raise PageParseError("decklist page without pre#decklist-text", url=url)
    main: list[dict[str, Any]] = []
    side: list[dict[str, Any]] = []
    board = main
    for raw in pre.text().splitlines():
        line = raw.strip()
        lowered = line.lower()
        if not line or lowered in _SECTIONS_MAIN:
            board = main  # a blank line switches back to the mainboard, as the reference does
            continue
        if lowered in _SECTIONS_SIDE:
            board = side
            continue
        count, _, name = line.partition(" ")
        if not count.isdigit() or not name.strip():
            raise PageParseError(f"unreadable decklist line {line!r}", url=url)
        board.append({"Count": int(count), "CardName": normalize(name)})
    return main, side


def _score(token: str) -> str:
    return token if token.count("-") == 2 else f"{token}-0"


def match_from_result(
    player: str, opponent: str | None, text: str, url: str
) -> tuple[str, str, str]:
    """(Player1, Player2, result) of one match-history line, per the table of §5.3."""
    opp = opponent if opponent is not None else "-"
    words = text.split()
    first = words[0] if words else ""
    last = words[-1] if words else ""
    if opponent is not None and text.startswith(f"{opponent} won") and _SCORE.match(last):
        return opp, player, _score(last)
    if text.startswith(f"{player} won") and _SCORE.match(last):
        return player, opp, _score(last)
    if "Draw" in text and _SCORE.match(first):
        return player, opp, _score(first)
    if "bye" in text:
        return player, "-", "2-0-0"
    if text.startswith("won "):
        return "-", player, "2-0-0"
    if text.startswith(f"{player} forfeited"):
        return player, opp, "0-2-0"
    if text.startswith("Not reported") or "[FORMAT EXCEPTION]" in text:
        return player, opp, "0-0-0"
    if "forfeited" in text and text.lower().startswith("both"):
        return player, opp, "0-0-0"
    raise PageParseError(f"unknown match result {text!r}", url=url)


def parse_match_history(
    body: str | bytes, player: str, url: str
) -> list[tuple[str, str, str, str]]:
    """(round name, Player1, Player2, result) of one decklist's matches."""
    outer = _json(body, url)
    inner = outer.get("Json") if isinstance(outer, dict) else None
    if not isinstance(inner, str):
        raise PageParseError("match history without its Json string", url=url)
    data = _json(inner, url)
    matches = []
    try:
        for m in data.get("Matches") or []:
            p1, p2, result = match_from_result(player, m.get("Opponent"), m["Result"] or "", url)
            matches.append((f"Round {m['Round']}", p1, p2, result))
    except (KeyError, TypeError, AttributeError) as exc:
        raise PageParseError(f"unexpected match history: {exc!r}", url=url) from None
    return matches


def start_time(value: str, url: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise PageParseError(f"bad tournament start date {value!r}", url=url) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class DeckData:
    """One fetched decklist: its id, boards and match history."""

    decklist_id: str
    main: list[dict[str, Any]]
    side: list[dict[str, Any]]
    matches: list[tuple[str, str, str, str]]


def merge_rounds(decks: Sequence[DeckData]) -> list[dict[str, Any]]:
    """Rounds rebuilt from every deck's history, de-duplicated on (round, P1, P2)."""
    by_round: dict[str, dict[tuple[str, str], str]] = {}
    for d in decks:
        for round_name, p1, p2, result in d.matches:
            by_round.setdefault(round_name, {}).setdefault((p1, p2), result)

    def number(name: str) -> tuple[int, str]:
        digits = name.rsplit(" ", 1)[-1]
        return (int(digits), name) if digits.isdigit() else (1 << 30, name)

    return [
        {
            "RoundName": name,
            "Matches": [docs.match(p1, p2, r) for (p1, p2), r in by_round[name].items()],
        }
        for name in sorted(by_round, key=number)
    ]


def build_document(
    *,
    name: str,
    uri: str,
    start: datetime,
    fmt: str | None,
    standings: Sequence[StandingRow],
    decks: Mapping[str, DeckData],
    deck_url: Callable[[str], str],
) -> dict[str, Any]:
    """The cache document of one event (or seat): ``decks`` maps a player to their deck."""
    deck_docs = []
    for row in standings:
        deck = decks.get(row.player)
        if deck is None:
            continue
        result = docs.ordinal_place_melee(row.rank)
        deck_docs.append(
            docs.deck(None, row.player, result, deck_url(deck.decklist_id), deck.main, deck.side)
        )
    tourney = docs.tournament(start.isoformat(), name, uri, fmt)
    rounds = merge_rounds([decks[p] for p in decks])
    return docs.document(tourney, deck_docs, rounds, [row.document() for row in standings])


# --- the adapter ------------------------------------------------------------------------------


def choose_decklists(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """A player's decklists to keep (§5.3): the one valid list, else the first of identical
    lists, else all of them (multi-format seats)."""
    valid = [r for r in rows if r.get("valid")]
    if len(valid) == 1:
        return valid
    if len({r.get("records") for r in rows}) == 1:
        return [rows[0]]
    return list(rows)


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
    ) -> None:
        if not email or not password:
            raise MissingCredentials("melee: email and password are required to search decklists")
        self._email = email
        self._password = password
        self.base_url = base_url.rstrip("/")
        self.formats = tuple(formats)
        self.min_decklists = min_decklists
        self.page_size = page_size
        self.normalize = default_normalizer()
        self._signed_in: int | None = None  # id() of the client holding our session cookie

    def __repr__(self) -> str:  # never show the credentials
        return f"MeleeSource(base_url={self.base_url!r})"

    # session -------------------------------------------------------------------------------

    def sign_in(self, http: HttpClient) -> None:
        page = http.get(f"{self.base_url}/Account/SignIn")
        token = HTMLParser(page.text()).css_first('input[name="__RequestVerificationToken"]')
        value = token.attributes.get("value") if token is not None else None
        if not value:
            raise PageParseError("sign-in page without __RequestVerificationToken", url=page.url)
        headers = {
            "X-Requested-With": "XMLHttpRequest",
            "Origin": self.base_url,
            "Referer": f"{self.base_url}/Account/SignIn",
        }
        form = {"email": self._email, "password": self._password}
        form["__RequestVerificationToken"] = value
        try:
            answer = http.post(
                f"{self.base_url}/Account/SignInPassword", data=form, headers=headers
            )
        except HttpStatusError as exc:
            raise LoginRefused(f"melee: sign-in refused (HTTP {exc.status})") from None
        if b'"Error":true' in answer.body.replace(b" ", b""):
            raise LoginRefused("melee: sign-in refused (wrong email or password?)")
        self._signed_in = id(http)
        log.info("melee: signed in")

    def _call(self, http: HttpClient, send: Callable[[], Response]) -> Response:
        """One request with the session: sign in first if needed; on 401, once more."""
        if self._signed_in != id(http):
            self.sign_in(http)
        try:
            return send()
        except HttpStatusError as exc:
            if exc.status != 401:
                raise
            log.info("melee: session expired (401); signing in again")
            self.sign_in(http)
            return send()

    def _get(self, http: HttpClient, url: str) -> Response:
        return self._call(http, lambda: http.get(url))

    def _post(self, http: HttpClient, url: str, form: Mapping[str, Any]) -> Response:
        return self._call(http, lambda: http.post(url, data=form))

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
