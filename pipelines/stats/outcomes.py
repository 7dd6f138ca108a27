"""Match outcomes, byes and de-duplication of round records (DOMAIN §2.7, §4.2).

Our rule (it deliberately replaces the reference's "somebody reached exactly 2 game wins"):

* the outcome comes from the **game scores**: more game wins = win, fewer = loss, equal = draw
  (so ``1-0`` Topdeck match results, ``2-1``, ``3-2`` and unfinished ``1-0`` all count);
* a round where either side is missing (``None``, ``""`` or ``"-"``) is a bye / forfeit /
  no-show and never counts;
* Melee duplicates are collapsed on ``(round name, unordered player pair)``, preferring a
  decisive score when the copies disagree.

These helpers are shared by ingestion and by the tests' reference computation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = [
    "BYE_MARKERS",
    "Match",
    "Outcome",
    "dedupe_matches",
    "invert_outcome",
    "is_bye",
    "match_key",
    "match_outcome",
    "parse_result",
]

Outcome = Literal["W", "L", "D"]

#: Player-2 values that mean "no opponent" (after stripping whitespace); ``None`` too.
BYE_MARKERS: Final = frozenset({"", "-"})

_RESULT_RE: Final = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*-\s*(\d+)\s*$")


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
    return player is None or player.strip() in BYE_MARKERS


def parse_result(result: str | None) -> tuple[int, int, int] | None:
    """Parse a round result ``"a-b-c"`` (player-1 game wins, player-2 game wins, drawn games).

    Returns ``None`` unless the text is exactly three non-negative integers separated by
    dashes (the reference CLI's rule, §3.10).
    """
    if result is None:
        return None
    found = _RESULT_RE.match(result)
    if found is None:
        return None
    a, b, c = (int(x) for x in found.groups())
    return a, b, c


@dataclass(frozen=True, slots=True)
class Match:
    """One round record of an event.

    ``player2`` is ``None`` for a bye (normalise ``""``/``"-"`` with :func:`is_bye` or use
    :meth:`from_round`). ``p1_wins``/``p2_wins`` are game wins, ``draws`` drawn games.
    """

    round_name: str
    player1: str
    player2: str | None
    p1_wins: int
    p2_wins: int
    draws: int = 0

    @property
    def is_bye(self) -> bool:
        """True when either player slot is empty."""
        return is_bye(self.player1) or is_bye(self.player2)

    @property
    def outcome(self) -> Outcome:
        """Outcome from player 1's point of view (see :func:`match_outcome`)."""
        return match_outcome(self.p1_wins, self.p2_wins)

    @property
    def is_decisive(self) -> bool:
        """True when one player won more games than the other."""
        return self.p1_wins != self.p2_wins

    @classmethod
    def from_round(cls, round_name: str, raw: Mapping[str, Any]) -> Match | None:
        """Build from a cache ``Rounds[].Matches[]`` object ``{"Player1", "Player2",
        "Result": "a-b-c"}``. Empty player slots become ``None``; returns ``None`` when the
        result is not ``a-b-c``."""
        parsed = parse_result(raw.get("Result"))
        if parsed is None:
            return None
        p1 = raw.get("Player1")
        p2 = raw.get("Player2")
        return cls(
            round_name=round_name,
            player1=p1 if isinstance(p1, str) else "",
            player2=None if not isinstance(p2, str) or is_bye(p2) else p2,
            p1_wins=parsed[0],
            p2_wins=parsed[1],
            draws=parsed[2],
        )


def match_key(match: Match) -> tuple[str, frozenset[str | None]]:
    """De-duplication key: round name and the **unordered** pair of players (bye slots
    normalised to ``None``)."""
    p1 = None if is_bye(match.player1) else match.player1
    p2 = None if is_bye(match.player2) else match.player2
    return match.round_name, frozenset((p1, p2))


def _preference(match: Match) -> int:
    """Higher is better: decisive > a played draw > an unplayed 0-0-0 record."""
    if match.is_decisive:
        return 2
    if match.p1_wins + match.p2_wins + match.draws > 0:
        return 1
    return 0


def dedupe_matches(matches: Iterable[Match]) -> list[Match]:
    """Collapse records of the same match: same round name and same unordered player pair.

    Melee rebuilds rounds from both players' histories, so a draw appears as A–B and B–A and a
    forfeit can appear as ``0-2-0`` from one side and ``0-0-0`` from the other. Among the
    copies we keep the first **decisive** record; if none is decisive, the first record with at
    least one game played; otherwise the first record. (Two decisive copies naming different
    winners are genuinely contradictory; the first one seen is kept.)

    The result keeps the order of each key's first appearance and each kept record's own
    orientation (player 1 / player 2 are not swapped).
    """
    chosen: dict[tuple[str, frozenset[str | None]], Match] = {}
    for match in matches:
        key = match_key(match)
        current = chosen.get(key)
        if current is None or _preference(match) > _preference(current):
            chosen[key] = match
    return list(chosen.values())
