"""Card usage and the stock ("average") decklist of an archetype (DOMAIN §4.9).

Choices (deliberate differences from the R reference):

* Card names are matched exactly; duplicate lines of one card in a board are **summed** (R
  counts each line separately, so ``2 X`` + ``2 X`` counted as two decks running X).
* Stock list: mainboard size = the most common mainboard total of the decks (smallest on ties);
  cards are added by decreasing mainboard share (ties: higher average copies, then name) at
  their most common count until the size is reached, the last card being trimmed to fit.
  The sideboard is built the same way to the **most common sideboard total** (not a fixed 15),
  from sideboard shares computed independently of the mainboard step — a card in the stock
  mainboard can also be in the stock sideboard (R removed it from the sideboard candidates).
* The caller chooses the decks (e.g. one archetype, optionally one colour); the functions do
  not restrict to the most common colour themselves.

Shares are fractions in [0, 1] of the number of decks given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Board",
    "CardUsage",
    "DeckList",
    "StockDecklist",
    "card_usage",
    "most_common_value",
    "stock_decklist",
]

Board = Literal["main", "side", "both"]

CardLines = Mapping[str, int] | Iterable[tuple[str, int]] | Iterable[Mapping[str, Any]]


def _merge_lines(lines: CardLines) -> dict[str, int]:
    """Sum card lines into ``{name: copies}``; zero-count lines are ignored."""
    merged: dict[str, int] = {}
    items: Iterable[Any] = lines.items() if isinstance(lines, Mapping) else lines
    for line in items:
        if isinstance(line, Mapping):
            name, count = line["CardName"], line["Count"]
        else:
            name, count = line
        if not isinstance(name, str) or not name:
            raise ValueError(f"card name must be a non-empty string, got {name!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"{name!r}: count must be a non-negative integer, got {count!r}")
        if count:
            merged[name] = merged.get(name, 0) + count
    return merged


@dataclass(frozen=True, slots=True)
class DeckList:
    """A deck's two boards as ``{card name: copies}`` (duplicate lines already summed)."""

    main: dict[str, int] = field(default_factory=dict)
    side: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_lines(cls, main: CardLines = (), side: CardLines = ()) -> DeckList:
        """Build from ``{name: count}``, ``(name, count)`` pairs or cache objects
        ``{"CardName": ..., "Count": ...}``; duplicate lines are summed."""
        return cls(_merge_lines(main), _merge_lines(side))

    def board(self, which: Board) -> dict[str, int]:
        """The requested board; ``"both"`` sums main and side per card."""
        if which == "main":
            return self.main
        if which == "side":
            return self.side
        if which == "both":
            combined = dict(self.main)
            for name, count in self.side.items():
                combined[name] = combined.get(name, 0) + count
            return combined
        raise ValueError(f"board must be 'main', 'side' or 'both', got {which!r}")

    @property
    def main_size(self) -> int:
        """Total mainboard copies."""
        return sum(self.main.values())

    @property
    def side_size(self) -> int:
        """Total sideboard copies."""
        return sum(self.side.values())


@dataclass(frozen=True, slots=True)
class CardUsage:
    """How one card is played in one board across a set of decks.

    ``decks``: number of decks running it; ``share``: ``decks / number of decks``;
    ``total_copies``: copies summed over all decks; ``average_copies``: mean copies among the
    decks running it; ``most_common_count``: most frequent copy count among those decks,
    smallest on ties.
    """

    name: str
    decks: int
    share: float
    total_copies: int
    average_copies: float
    most_common_count: int


def most_common_value(values: Iterable[int]) -> int | None:
    """The most frequent value, smallest on ties; ``None`` for no values."""
    counts = Counter(values)
    if not counts:
        return None
    return min(counts, key=lambda v: (-counts[v], v))


def card_usage(decks: Sequence[DeckList], board: Board = "main") -> list[CardUsage]:
    """Per-card usage in ``board`` over ``decks``.

    Sorted by decks running the card (desc), then total copies (desc), then name.
    """
    per_card: dict[str, list[int]] = {}
    for deck in decks:
        for name, count in deck.board(board).items():
            per_card.setdefault(name, []).append(count)
    n = len(decks)
    usages = [
        CardUsage(
            name=name,
            decks=len(counts),
            share=len(counts) / n,
            total_copies=sum(counts),
            average_copies=sum(counts) / len(counts),
            most_common_count=most_common_value(counts) or 0,
        )
        for name, counts in per_card.items()
    ]
    usages.sort(key=lambda u: (-u.decks, -u.total_copies, u.name))
    return usages


@dataclass(frozen=True, slots=True)
class StockDecklist:
    """The stock list: ``main``/``side`` as ``(name, copies)`` in the order cards were added.

    ``main_size``/``side_size`` are the target sizes (most common totals); the lists reach them
    unless the decks do not offer enough distinct cards.
    """

    main: list[tuple[str, int]]
    side: list[tuple[str, int]]
    main_size: int
    side_size: int
    deck_count: int


def _fill(usages: list[CardUsage], size: int) -> list[tuple[str, int]]:
    ordered = sorted(usages, key=lambda u: (-u.share, -u.average_copies, u.name))
    chosen: list[tuple[str, int]] = []
    remaining = size
    for usage in ordered:
        if remaining <= 0:
            break
        copies = min(usage.most_common_count, remaining)
        chosen.append((usage.name, copies))
        remaining -= copies
    return chosen


def stock_decklist(decks: Sequence[DeckList]) -> StockDecklist:
    """Build the stock decklist of ``decks`` (see the module docstring for the rules).

    With no decks the result is empty with sizes 0.
    """
    if not decks:
        return StockDecklist([], [], 0, 0, 0)
    main_size = most_common_value(d.main_size for d in decks) or 0
    side_size = most_common_value(d.side_size for d in decks) or 0
    main = _fill(card_usage(decks, "main"), main_size)
    side = _fill(card_usage(decks, "side"), side_size)
    return StockDecklist(main, side, main_size, side_size, len(decks))
