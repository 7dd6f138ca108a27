"""Melee (melee.gg) pages -> cache documents: the pure parsers of DOMAIN.md §5.3.

No HTTP here (the adapter, :mod:`pipelines.sources.melee`, fetches; the session,
:mod:`pipelines.sources.melee_session`, signs in): each function takes what a page served and
returns plain data, so tests and the benchmark call them on bytes.

* :func:`search_form` / :func:`parse_search_page`: the DataTables decklist search;
* :func:`parse_tournament_page`: the headline format and the completed round buttons;
* :func:`parse_standings_page`: ``/Standing/GetRoundStandings`` rows;
* :func:`parse_decklist_page` and :func:`parse_match_history` (``Json`` is a string of JSON);
* :func:`build_document`: one cache document from standings and decks, rounds merged across
  decks keyed by (round, Player1, Player2) as the reference does;
* :func:`choose_decklists`: a player's lists when they have several (§5.3).

Uncertain formats, following DOMAIN.md: result texts not in the §5.3 table raise
:class:`PageParseError` (the event is quarantined with its URL, the raw pages are kept).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipelines.sources import documents as docs
from pipelines.sources.base import PageParseError
from pipelines.sources.cardnames import default_normalizer

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
