"""Definitions compiled into bit masks, for :mod:`pipelines.classify.matcher`.

:class:`RuleCompiler` numbers the cards a format's conditions name and folds each
definition's conditions into a :class:`Rule` (``need``/``forbid`` masks of the board word and
count tests); an :class:`Outcome` is what a passing rule yields, with its display names per
colour (:class:`Labels`). The board word's layout is described in the matcher's docstring.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipelines.classify.colour_bits import COLOUR_CODES
from pipelines.classify.definitions import Condition, ConditionType, FormatDefinitions
from pipelines.classify.display import display_name

T = ConditionType


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled definition: all ``need`` bits set, no ``forbid`` bit, every count test."""

    need: int
    forbid: int
    counts: tuple[tuple[int, int], ...]  # (mask, minimum hits 1 or 2)


class Labels:
    """Display names per 5-bit colour mask, rendered on first use.

    Rendering all 32 up front for every archetype made compiling a format slow; a format's
    decks only ever show a few colours.
    """

    __slots__ = ("_include_colour", "_name", "_rendered")

    def __init__(self, name: str, include_colour: bool) -> None:
        self._name = name
        self._include_colour = include_colour
        self._rendered: dict[int, str] = {}

    def __getitem__(self, mask: int) -> str:
        label = self._rendered.get(mask)
        if label is None:
            code = COLOUR_CODES[mask]
            label = self._rendered[mask] = display_name(self._name, self._include_colour, code)
        return label


@dataclass(frozen=True, slots=True)
class Outcome:
    """A possible match: labels per colour mask and its complexity."""

    archetype: str
    variant: str | None
    complexity: int
    labels: Labels  # indexed by the 5-bit deck colour mask


class RuleCompiler:
    """Builds the masks of one format (the board word layout: :mod:`pipelines.classify.matcher`)."""

    def __init__(self, fmt: FormatDefinitions) -> None:
        self.fmt = fmt
        self.vocabulary: dict[str, int] = {}
        for arch in fmt.archetypes:
            for conds in (arch.conditions, *(v.conditions for v in arch.variants)):
                for cond in conds:
                    for card in evaluated_cards(cond):
                        self.vocabulary.setdefault(card, len(self.vocabulary))
        self.k = len(self.vocabulary)

    def bits(self, cards: Iterable[str], region: int) -> int:
        return sum(1 << (region * self.k + self.vocabulary[c]) for c in set(cards))

    def rule(self, conditions: Sequence[Condition]) -> Rule:
        main, side, either = 0, 1, 2
        need = forbid = 0
        counts = []
        for cond in conditions:
            cards = evaluated_cards(cond)
            if not cards:
                continue  # skipped condition: always holds
            match cond.type:
                case T.IN_MAINBOARD:
                    need |= self.bits(cards, main)
                case T.IN_SIDEBOARD:
                    need |= self.bits(cards, side)
                case T.IN_MAIN_OR_SIDEBOARD:
                    need |= self.bits(cards, either)
                case T.DOES_NOT_CONTAIN:
                    forbid |= self.bits(cards, either)
                case T.DOES_NOT_CONTAIN_MAINBOARD:
                    forbid |= self.bits(cards, main)
                case T.DOES_NOT_CONTAIN_SIDEBOARD:
                    forbid |= self.bits(cards, side)
                case T.ONE_OR_MORE_IN_MAINBOARD:
                    counts.append((self.bits(cards, main), 1))
                case T.ONE_OR_MORE_IN_SIDEBOARD:
                    counts.append((self.bits(cards, side), 1))
                case T.ONE_OR_MORE_IN_MAIN_OR_SIDEBOARD:
                    counts.append((self.bits(cards, either), 1))
                case T.TWO_OR_MORE_IN_MAINBOARD:
                    counts.append((self.bits(cards, main), 2))
                case T.TWO_OR_MORE_IN_SIDEBOARD:
                    counts.append((self.bits(cards, side), 2))
                case T.TWO_OR_MORE_IN_MAIN_OR_SIDEBOARD:
                    # hits(main) + hits(side): count the main AND side regions.
                    counts.append((self.bits(cards, main) | self.bits(cards, side), 2))
        return Rule(need, forbid, tuple(counts))

    def key_groups(self) -> list[tuple[str, ...] | None]:
        """Per archetype: cards of which one must be present, or None (always a candidate)."""
        usage: dict[str, int] = {}
        for arch in self.fmt.archetypes:
            for cond in arch.conditions:
                for card in evaluated_cards(cond):
                    usage[card] = usage.get(card, 0) + 1
        keys = []
        for arch in self.fmt.archetypes:
            groups = [
                evaluated_cards(c) for c in arch.conditions if not c.type.negative and c.cards
            ]
            # Smallest group first, then the least used cards: fewer false candidates.
            groups.sort(key=lambda g: (len(g), sum(usage[c] for c in g)))
            keys.append(groups[0] if groups else None)
        return keys


def evaluated_cards(cond: Condition) -> tuple[str, ...]:
    """The cards a condition actually looks at (first card only for single-card types)."""
    return cond.cards[:1] if cond.type.single_card else cond.cards


__all__ = ["Labels", "Outcome", "Rule", "RuleCompiler", "evaluated_cards"]
