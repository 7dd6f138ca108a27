"""Manatraders (www.manatraders.com) adapter: the monthly series (DOMAIN.md §5.6).

Constructor: ``ManatradersSource(base_url="https://www.manatraders.com")``; no credentials.
Not part of the reference's "all" sources: the registry decides whether it runs.

Listing: the ``<select>`` of ``/tournaments/2`` (options ``"<Month> <Year> | <Format>"``);
the event date is the month's last day, December invitationals are skipped.

Event: standings (``<event>swiss``, first ``table.table-tournament-rankings``), deck links
(``<event>``, second-to-last rankings table), the month's decklists CSV (one row per card
printing, duplicate names kept), the Swiss pairings JSON and the playoff bracket
(``<event>finals``). Decks are ordered and given placements with the MTGO logic (§5.2).

Masked names: the Swiss JSON hides player names except their first and last characters. A
mask is resolved when exactly one standings name fits (same first and last character; a tie
is broken by the mask's length when that leaves one); otherwise the mask is kept as written
and one warning per event lists how many stayed ambiguous (those matches then link to no
deck, so they count in no matchup). The reference's combinatorial solver is not reproduced.

Uncertain, following DOMAIN.md: the bracket page lists player slots in match order
(pairs of ``li``); 7 matches are Quarterfinals/Semifinals/Finals, 12 matches follow the
placement layout of the cache (quarterfinals, loser semifinals, semifinals, matches for 7th,
5th, 3rd places, final), any other count is named ``Playoff match N``.
Pure parsers: :func:`parse_listing`, :func:`parse_standings`, :func:`parse_deck_links`,
:func:`parse_csv`, :func:`parse_swiss`, :func:`parse_bracket`, :func:`resolve_masks`.
"""

from __future__ import annotations

import calendar
import csv
import io
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipelines.sources import documents as docs
from pipelines.sources.base import CacheDocument, EventRef, HttpClient, PageParseError
from pipelines.sources.cardnames import default_normalizer

log = logging.getLogger(__name__)

FOLDER = "Manatrader"
MONTHS = {name: i for i, name in enumerate(calendar.month_name) if name}
_OPTION = re.compile(r"^\s*([A-Za-z]+)\s+(\d{4})\s*\|\s*(.+?)\s*$")
_DIGITS = re.compile(r"\d+")
BRACKET_12 = (
    ["Quarterfinals"] * 4
    + ["Loser Semifinals"] * 2
    + ["Semifinals"] * 2
    + ["Match for 7th and 8th places", "Match for 5th and 6th places"]
    + ["Match for 3rd and 4th places", "Finals"]
)
BRACKET_7 = ["Quarterfinals"] * 4 + ["Semifinals"] * 2 + ["Finals"]


def parse_listing(html: str, url: str) -> list[tuple[str, int, str, str]]:
    """(month name, year, format, event URL) of every option of the series ``<select>``."""
    options = HTMLParser(html).css("select option")
    found = []
    for option in options:
        text = option.text(strip=True)
        match = _OPTION.match(text)
        value = option.attributes.get("value")
        if not match or not value or match[1] not in MONTHS:
            continue  # the placeholder option
        found.append((match[1], int(match[2]), match[3], urljoin(url, value)))
    if not found:
        raise PageParseError("no '<Month> <Year> | <Format>' option in the series list", url=url)
    return found


def _cells(row: Any) -> list[str]:
    return [td.text(strip=True) for td in row.css("td")]


def _percent(text: str) -> float:
    return float(text.strip().rstrip("%")) / 100


def parse_standings(html: str, url: str) -> list[dict[str, Any]]:
    table = HTMLParser(html).css_first("table.table-tournament-rankings")
    if table is None:
        raise PageParseError("no table.table-tournament-rankings", url=url)
    rows = []
    for row in table.css("tr"):
        cells = _cells(row)
        if len(cells) < 8 or not cells[0].isdigit():
            continue  # header
        try:
            games, wins, losses = (int(x) for x in cells[3].split("/"))
            rows.append(
                docs.standing(
                    int(cells[0]), cells[1], int(cells[2]), wins, losses, games - wins - losses,
                    _percent(cells[5]), _percent(cells[6]), _percent(cells[7]),
                )
            )  # fmt: skip
        except ValueError as exc:
            raise PageParseError(f"unreadable standings row {cells}: {exc}", url=url) from None
    return rows


def parse_deck_links(html: str, url: str) -> dict[str, str]:
    """Lower-cased player -> deck link, from the second-to-last rankings table."""
    tables = HTMLParser(html).css("table.table-tournament-rankings")
    if len(tables) < 2:
        raise PageParseError("fewer than two rankings tables on the event page", url=url)
    links = {}
    for row in tables[-2].css("tr"):
        cells = row.css("td")
        if len(cells) > 5:
            link = cells[5].css_first("a[href]")
            if link is not None:
                links[cells[1].text(strip=True).lower()] = urljoin(
                    url, link.attributes["href"] or ""
                )
    return links


def parse_csv(text: str, url: str) -> dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Player (username) -> (mainboard, sideboard), one line per CSV row, in file order."""
    normalize = default_normalizer()
    reader = csv.DictReader(io.StringIO(text))
    needed = {"Player_Username", "Qty", "Card", "Sideboard"}
    if not reader.fieldnames or not needed <= set(reader.fieldnames):
        raise PageParseError(f"decklists CSV without the columns {sorted(needed)}", url=url)
    decks: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for row in reader:
        player = (row.get("Player_Username") or row.get("Player_Name") or "").strip()
        main, side = decks.setdefault(player, ([], []))
        try:
            card = {"Count": int(row["Qty"]), "CardName": normalize(row["Card"])}
        except (TypeError, ValueError):
            raise PageParseError(f"bad CSV quantity {row.get('Qty')!r}", url=url) from None
        (side if row["Sideboard"].strip() == "1" else main).append(card)
    return decks


def parse_swiss(data: Any, url: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """(round name, matches with the names as given) of the Swiss pairings JSON."""
    if not isinstance(data, dict):
        raise PageParseError("Swiss pairings are not an object", url=url)
    try:
        return [
            (name, [docs.match(m["p1"], m.get("p2"), str(m["res"])) for m in matches])
            for name, matches in data.items()
        ]
    except (KeyError, TypeError) as exc:
        raise PageParseError(f"unexpected Swiss pairing: {exc!r}", url=url) from None


def _fits(mask: str, name: str) -> bool:
    return bool(mask) and bool(name) and mask[0] == name[0] and mask[-1] == name[-1]


def resolve_masks(masks: Iterable[str], names: Sequence[str]) -> tuple[dict[str, str], set[str]]:
    """(mask -> name for the unambiguous masks, the masks left ambiguous)."""
    resolved: dict[str, str] = {}
    ambiguous: set[str] = set()
    for mask in set(masks):
        if mask in names or "*" not in mask:
            continue  # not masked
        candidates = [n for n in names if _fits(mask, n)]
        if len(candidates) > 1:
            candidates = [n for n in candidates if len(n) == len(mask)]
        if len(candidates) == 1:
            resolved[mask] = candidates[0]
        else:
            ambiguous.add(mask)
    return resolved, ambiguous


def parse_bracket(html: str, url: str) -> list[dict[str, Any]]:
    """Playoff rounds, winner first (``"{w}-{l}-0"``), named by the layout (module docstring)."""
    slots = []
    for li in HTMLParser(html).css(".tournament-brackets ul li"):
        divs = li.css("div")
        if not divs:
            continue
        wins = divs[-1].text(strip=True)
        slots.append((divs[0].text(strip=True), int(wins) if wins.isdigit() else 0))
    pairs = [(slots[i], slots[i + 1]) for i in range(0, len(slots) - 1, 2)]
    names = BRACKET_7 if len(pairs) == 7 else BRACKET_12 if len(pairs) == 12 else []
    rounds: dict[str, list[dict[str, Any]]] = {}
    for i, ((p1, w1), (p2, w2)) in enumerate(pairs):
        if p1 in ("", "-") or p2 in ("", "-") or p1 == p2:
            continue
        name = names[i] if names else f"Playoff match {i + 1}"
        first, second = ((p1, w1), (p2, w2)) if w1 >= w2 else ((p2, w2), (p1, w1))
        result = f"{first[1]}-{second[1]}-0"
        rounds.setdefault(name, []).append(docs.match(first[0], second[0], result))
    return [{"RoundName": name, "Matches": matches} for name, matches in rounds.items()]


class ManatradersSource:
    """Manatraders adapter (see the module docstring)."""

    name = "manatraders"

    def __init__(self, base_url: str = "https://www.manatraders.com") -> None:
        self.base_url = base_url.rstrip("/")

    def list_events(self, http: HttpClient, since: date, until: date) -> Iterator[EventRef]:
        page = http.get(f"{self.base_url}/tournaments/2")
        seen: set[str] = set()
        for month_name, year, fmt, url in parse_listing(page.text(), page.url):
            month = MONTHS[month_name]
            if month == 12:
                continue  # the December invitational is not a series event
            day = date(year, month, calendar.monthrange(year, month)[1])
            if not since <= day <= until or url in seen:
                continue
            seen.add(url)
            name = f"ManaTraders Series {fmt} {month_name} {year}"
            extra = {"month": month, "year": year, "format": fmt, "month_name": month_name}
            yield EventRef("manatraders", url, day, name, fmt, extra)

    def fetch_event(self, http: HttpClient, ref: EventRef) -> list[CacheDocument]:
        url = ref.key if ref.key.endswith("/") else ref.key + "/"
        month, year = int(ref.extra["month"]), int(ref.extra["year"])
        query = {"month": month, "year": year}
        standings = parse_standings(http.get(f"{url}swiss").text(), f"{url}swiss")
        links = parse_deck_links(http.get(url).text(), url)
        csv_url = f"{self.base_url}/tournaments/download_csv_by_month_and_year"
        csv_answer = http.get(csv_url, params=query)
        lists = parse_csv(csv_answer.text(), csv_answer.url)
        swiss_url = f"{self.base_url}/tournaments/swiss_json_by_month_and_year"
        swiss_answer = http.get(swiss_url, params=query)
        swiss = parse_swiss(swiss_answer.json(), swiss_answer.url)
        bracket = parse_bracket(http.get(f"{url}finals").text(), f"{url}finals")
        rounds = self._unmask(ref, swiss, [s["Player"] for s in standings]) + bracket
        by_lower = {s["Player"].lower(): s["Player"] for s in standings}
        decks = [
            docs.deck(None, by_lower.get(p.lower(), p), "", links.get(p.lower(), ""), main, side)
            for p, (main, side) in lists.items()
        ]
        playoff = [
            r for r in bracket if r["RoundName"] in ("Quarterfinals", "Semifinals", "Finals")
        ]
        decks = docs.reorder_decks(decks, standings, playoff or None)
        if not playoff:
            decks = [{**d, "Result": docs.ordinal_place(i)} for i, d in enumerate(decks, start=1)]
        when = f"{ref.date.isoformat()}T00:00:00+00:00"
        doc = docs.document(
            docs.tournament(when, ref.name, ref.key, None), decks, rounds, standings
        )
        if not docs.worth_keeping(doc):
            return []
        fmt = str(ref.extra["format"]).lower().replace(" ", "-")
        month_name = str(ref.extra["month_name"]).lower()
        stem = f"manatraders-series-{fmt}-{month_name}-{year}-{ref.date.isoformat()}"
        return [docs.cache_document(FOLDER, ref.date, stem, doc)]

    def _unmask(
        self, ref: EventRef, swiss: list[tuple[str, list[dict[str, Any]]]], names: list[str]
    ) -> list[dict[str, Any]]:
        masks = [m[k] for _, matches in swiss for m in matches for k in ("Player1", "Player2")]
        resolved, ambiguous = resolve_masks([m for m in masks if m], names)
        if ambiguous:
            log.warning(
                "manatraders: %s: %d masked player names stay ambiguous (%s); their matches "
                "keep the masked name and link to no deck",
                ref.key, len(ambiguous), ", ".join(sorted(ambiguous)[:10]),
            )  # fmt: skip
        return [
            {
                "RoundName": name,
                "Matches": [
                    {**m, **{k: resolved.get(m[k], m[k]) for k in ("Player1", "Player2")}}
                    for m in matches
                ],
            }
            for name, matches in swiss
        ]


def swiss_masks(rounds: Sequence[Mapping[str, Any]]) -> set[str]:
    """The masked names still present in rounds (for tests and status displays)."""
    return {
        m[k] for r in rounds for m in r["Matches"] for k in ("Player1", "Player2")
        if m[k] and "*" in m[k]
    }  # fmt: skip
