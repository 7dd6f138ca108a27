"""Building blocks of the cache documents (DOMAIN.md §2.2) shared by the site adapters.

Key order follows the real files (``Tournament, Decks, Rounds, Standings``; a deck's ``Date,
Player, Result, AnchorUri, Mainboard, Sideboard``) so a written file reads like the cache's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from pipelines.ingest.normalize import slug
from pipelines.sources.base import CacheDocument

Doc = dict[str, Any]

_UNSAFE_FILE_CHARS = re.compile(r'[<>:"/\\|?*]')


def ordinal_place(rank: int) -> str:
    """``Result`` of a placement as MTGO, CardsRealm and Manatraders write it: 1st, 2nd, 3rd,
    then ``Nth`` for everything else (``21th`` included, as in the cache; DOMAIN.md §2.5)."""
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(rank, "th")
    return f"{rank}{suffix} Place"


def ordinal_place_melee(rank: int) -> str:
    """``Result`` as Melee and Topdeck write it: ``st`` for ranks 1-3, ``th`` above (§2.5)."""
    return f"{rank}{'st' if rank <= 3 else 'th'} Place"


def tournament(day_or_time: str, name: str, uri: str, fmt: str | None) -> Doc:
    return {"Date": day_or_time, "Name": name, "Uri": uri, "Formats": fmt}


def deck(
    when: str | None,
    player: str,
    result: str,
    anchor: str | None,
    main: list[Doc],
    side: list[Doc],
) -> Doc:
    return {
        "Date": when,
        "Player": player,
        "Result": result,
        "AnchorUri": anchor,
        "Mainboard": main,
        "Sideboard": side,
    }


def standing(
    rank: int,
    player: str,
    points: int,
    wins: int,
    losses: int,
    draws: int,
    omwp: float,
    gwp: float,
    ogwp: float,
) -> Doc:
    return {
        "Rank": rank,
        "Player": player,
        "Points": points,
        "Wins": wins,
        "Losses": losses,
        "Draws": draws,
        "OMWP": omwp,
        "GWP": gwp,
        "OGWP": ogwp,
    }


def match(player1: str | None, player2: str | None, result: str) -> Doc:
    return {"Player1": player1, "Player2": player2, "Result": result}


def document(
    tourney: Doc, decks: list[Doc], rounds: list[Doc] | None, standings: list[Doc] | None
) -> Doc:
    return {
        "Tournament": tourney,
        "Decks": decks,
        "Rounds": rounds or [],
        "Standings": standings or [],
    }


def worth_keeping(doc: Mapping[str, Any]) -> bool:
    """The reference skips events with no decks or with only empty mainboards (§5.1)."""
    return any(d["Mainboard"] for d in doc["Decks"])


def file_stem(name: str) -> str:
    """File name without the characters the reference deletes (``< > : " / \\ | ? *``)."""
    return _UNSAFE_FILE_CHARS.sub("", name)


def paper_file_stem(name: str, fmt: str | None, event_id: str, day: date, seat: int | None) -> str:
    """Melee / Topdeck file name (§2.1): slug of the name (+ format when the name lacks it,
    + seat), the event id, the date."""
    title = name
    if fmt and fmt.lower() not in name.lower():
        title += f" ({fmt})"
    if seat is not None:
        title += f" (Seat {seat})"
    return file_stem(f"{slug(title).strip('-')}-{event_id}-{day.isoformat()}")


def placement_order(
    players: Sequence[str], rank_of: Mapping[str, int], bracket: Sequence[Doc]
) -> list[str]:
    """Final order of an event with a playoff (§5.2): Swiss-rank order, then for each bracket
    round in turn its losers and then its winners moved to the top (each group by Swiss rank).

    Winner = ``Player1`` of each match (the adapters put the winner first)."""
    order = list(players)

    def by_rank(names: Iterable[str]) -> list[str]:
        return sorted(names, key=lambda p: rank_of.get(p, len(rank_of) + 1))

    for round_ in bracket:
        winners = [m["Player1"] for m in round_["Matches"] if m["Player1"]]
        losers = [m["Player2"] for m in round_["Matches"] if m["Player2"]]
        for group in (by_rank(losers), by_rank(winners)):
            moved = [p for p in group if p in order]
            order = moved + [p for p in order if p not in moved]
    return order


def reorder_decks(
    decks: list[Doc],
    standings: Sequence[Doc],
    bracket: Sequence[Doc] | None,
    place: Callable[[int], str] = ordinal_place,
) -> list[Doc]:
    """Decks in final order; with a bracket, ``Result`` becomes the placement (§5.2).

    Like the reference, only a player's first deck is kept. Unlike it, decks of players
    missing from the standings are kept (after the others, their ``Result`` unchanged) rather
    than silently dropped.
    """
    rank_of = {s["Player"]: s["Rank"] for s in standings}
    order = placement_order([s["Player"] for s in standings], rank_of, bracket or [])
    first: dict[str, Doc] = {}
    for d in decks:
        first.setdefault(d["Player"], d)
    ordered = [first[p] for p in order if p in first]
    if bracket:
        ordered = [{**d, "Result": place(i)} for i, d in enumerate(ordered, start=1)]
    placed = {d["Player"] for d in ordered}
    return ordered + [d for d in first.values() if d["Player"] not in placed]


def cache_document(folder: str, day: date, stem: str, doc: Doc) -> CacheDocument:
    return CacheDocument(folder=folder, date=day, name=stem, document=doc)
