"""Match outcomes and byes (DOMAIN §2.7, §4.2).

Our rule (it deliberately replaces the reference's "somebody reached exactly 2 game wins"):

* the outcome comes from the **game scores**: more game wins = win, fewer = loss, equal = draw
  (so ``1-0`` Topdeck match results, ``2-1``, ``3-2`` and unfinished ``1-0`` all count);
* a round where either side is missing (``None``, ``""`` or ``"-"``) is a bye / forfeit /
  no-show and never counts;
* Melee duplicates are collapsed at ingestion (:mod:`pipelines.ingest.parse`), before any
  statistic sees them.

Used by the reference computation the tests compare the SQL views with.
"""

from __future__ import annotations

from typing import Literal

from pipelines.ingest.normalize import is_no_opponent

__all__ = [
    "Outcome",
    "invert_outcome",
    "is_bye",
    "match_outcome",
]

Outcome = Literal["W", "L", "D"]


def _check_games(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")


def match_outcome(p1_games: int, p2_games: int) -> Outcome:
    """Outcome from player 1's point of view: ``"W"`` if ``p1_games > p2_games``, ``"L"`` if
    fewer, ``"D"`` if equal (including ``0-0``; drawn games are not passed in — they do not
    decide the match).

    Raises:
        ValueError: for negative or non-integer game counts.
    """
    _check_games(p1_games, "p1_games")
    _check_games(p2_games, "p2_games")
    if p1_games > p2_games:
        return "W"
    if p1_games < p2_games:
        return "L"
    return "D"


def invert_outcome(outcome: Outcome) -> Outcome:
    """The same match seen from the other player: W ↔ L, D stays D."""
    if outcome == "W":
        return "L"
    if outcome == "L":
        return "W"
    if outcome == "D":
        return "D"
    raise ValueError(f"unknown outcome {outcome!r}")


def is_bye(player: str | None) -> bool:
    """True when a round's player slot is empty: ``None``, ``""`` or ``"-"`` (whitespace
    ignored). Such rounds are byes, forfeits or no-shows and are excluded from statistics."""
    return is_no_opponent(player)  # the ingestion's rule: one definition of a bye
