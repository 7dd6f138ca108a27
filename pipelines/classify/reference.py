"""A deliberately simple evaluator that follows DOMAIN.md §3.7 line by line.

It is slow on purpose: every rule is written the way the specification states it, so it can
be read against the document and serve as the oracle for the compiled matcher
(:mod:`pipelines.classify.matcher`), which must give identical :class:`Detection` results.

Decks are sequences of ``(card name, count)`` entries **as they appear in the deck**:
duplicate lines are not merged and a count of 0 still makes the card present.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.classify.definitions import (
    COLOUR_LETTERS,
    Archetype,
    Condition,
    ConditionType,
    Fallback,
    FormatDefinitions,
    Variant,
)
from pipelines.classify.display import UNKNOWN, conflict_label, display_name
from pipelines.classify.result import (
    COMPANIONS,
    DEFAULT_MODE,
    MIN_SIMILARITY,
    ConflictMode,
    Detection,
    Method,
)

Entry = tuple[str, int]
Board = Sequence[Entry]

T = ConditionType


def present(board: Board, card: str) -> bool:
    """Some entry of ``board`` has this name (its count is irrelevant, even 0)."""
    return any(name == card for name, _count in board)


def hits(board: Board, cards: Sequence[str]) -> int:
    """Number of ENTRIES of ``board`` whose name is listed (duplicate lines count twice)."""
    return sum(1 for name, _count in board if name in cards)


def condition_holds(cond: Condition, main: Board, side: Board) -> bool:
    """§3.7.1: whether one condition holds; an empty card list is skipped (holds)."""
    cards = cond.cards
    if not cards:
        return True
    first = cards[0]  # single-card types look at the first card only
    match cond.type:
        case T.IN_MAINBOARD:
            return present(main, first)
        case T.IN_SIDEBOARD:
            return present(side, first)
        case T.IN_MAIN_OR_SIDEBOARD:
            return present(main, first) or present(side, first)
        case T.ONE_OR_MORE_IN_MAINBOARD:
            return hits(main, cards) >= 1
        case T.ONE_OR_MORE_IN_SIDEBOARD:
            return hits(side, cards) >= 1
        case T.ONE_OR_MORE_IN_MAIN_OR_SIDEBOARD:
            return hits(main, cards) >= 1 or hits(side, cards) >= 1
        case T.TWO_OR_MORE_IN_MAINBOARD:
            return hits(main, cards) >= 2
        case T.TWO_OR_MORE_IN_SIDEBOARD:
            return hits(side, cards) >= 2
        case T.TWO_OR_MORE_IN_MAIN_OR_SIDEBOARD:
            return hits(main, cards) + hits(side, cards) >= 2
        case T.DOES_NOT_CONTAIN:
            return not present(main, first) and not present(side, first)
        case T.DOES_NOT_CONTAIN_MAINBOARD:
            return not present(main, first)
        case T.DOES_NOT_CONTAIN_SIDEBOARD:
            return not present(side, first)
    raise ValueError(f"unknown condition type {cond.type!r}")


def passes(conditions: Sequence[Condition], main: Board, side: Board) -> bool:
    """A definition passes when every condition holds (logical AND, no OR)."""
    return all(condition_holds(c, main, side) for c in conditions)


def deck_colour(main: Board, side: Board, fmt: FormatDefinitions) -> str:
    """§3.7.2: colours with a land AND a non-land of that colour (sideboard included)."""
    land_hits = dict.fromkeys(COLOUR_LETTERS, 0)
    nonland_hits = dict.fromkeys(COLOUR_LETTERS, 0)
    for name, count in [*main, *side]:
        if name in fmt.lands:
            for c in fmt.lands[name]:
                if c in land_hits:  # a "C" entry means "no colour" (§3.9)
                    land_hits[c] += count
        if name in fmt.nonlands:
            for c in fmt.nonlands[name]:
                if c in nonland_hits:
                    nonland_hits[c] += count
    colour = "".join(c for c in COLOUR_LETTERS if land_hits[c] > 0 and nonland_hits[c] > 0)
    return colour or "C"


def companion_of(side: Board) -> str:
    """§3.7.3: scan the table in order over the sideboard; the last match wins."""
    label = ""
    for card, name in COMPANIONS:
        if present(side, card):
            label = name
    return label


@dataclass(frozen=True)
class Match:
    """One matching definition: an archetype (+ variant) or a fallback with its similarity."""

    archetype: Archetype | Fallback
    variant: Variant | None
    similarity: float

    @property
    def complexity(self) -> int:
        """Conditions of archetype + variant, skipped (empty) ones included."""
        arch = self.archetype
        own = len(arch.conditions) if isinstance(arch, Archetype) else 0
        return own + (len(self.variant.conditions) if self.variant else 0)

    def label(self, colour: str) -> str:
        """Display name: the variant's own name and flag if present, else the archetype's."""
        source = self.variant or self.archetype
        return display_name(source.name, source.include_colour, colour)


def best_fallback(main: Board, side: Board, fallbacks: Sequence[Fallback]) -> Match | None:
    """§3.7.4 fallback scoring, quirks included (similarity = copies / deck LINES)."""
    if not fallbacks:
        return None
    weights = []
    for fallback in fallbacks:
        common = fallback.common_cards
        weights.append(sum(count for name, count in [*main, *side] if name in common))
    if all(w == 0 for w in weights):
        return None
    top = max(weights)
    tied = [f for f, w in zip(fallbacks, weights, strict=True) if w == top]
    # min() keeps the first of equal keys, i.e. load order among equally small fallbacks.
    chosen = min(tied, key=lambda f: len(f.common_cards))
    similarity = top / (len(main) + len(side))
    return Match(chosen, None, similarity)


def specific_matches(main: Board, side: Board, fmt: FormatDefinitions) -> list[Match]:
    """Every passing archetype/variant in load order; a parent alone if no variant passes."""
    matches = []
    for arch in fmt.archetypes:
        if not passes(arch.conditions, main, side):
            continue
        any_variant = False
        for variant in arch.variants:
            if passes(variant.conditions, main, side):
                matches.append(Match(arch, variant, 1.0))
                any_variant = True
        if not any_variant:
            matches.append(Match(arch, None, 1.0))
    return matches


def detect(
    main: Board,
    side: Board,
    fmt: FormatDefinitions,
    mode: ConflictMode = DEFAULT_MODE,
    min_similarity: float = MIN_SIMILARITY,
) -> Detection:
    """Classify one deck exactly as the reference does (§3.7.4, §3.7.5)."""
    companion = companion_of(side)
    colour = deck_colour(main, side, fmt)
    matches = specific_matches(main, side, fmt)
    candidates = tuple(m.label(colour) for m in matches)
    score = None
    if not matches:
        best = best_fallback(main, side, fmt.fallbacks)
        if best is not None:
            score = best.similarity
            if best.similarity > min_similarity:  # strictly greater
                return _single(best, colour, companion, Method.FALLBACK, score)
        return Detection(None, None, colour, companion, UNKNOWN, Method.UNKNOWN, score, ())
    if len(matches) > 1 and mode is ConflictMode.NONE:
        label = conflict_label(candidates)
        return Detection(None, None, colour, companion, label, Method.CONFLICT, None, candidates)
    # One match, or PreferSimpler: the first match with the smallest complexity (stable).
    chosen = min(matches, key=lambda m: m.complexity)
    return _single(chosen, colour, companion, Method.RULE, None, candidates)


def _single(
    match: Match,
    colour: str,
    companion: str,
    method: Method,
    score: float | None,
    candidates: tuple[str, ...] | None = None,
) -> Detection:
    label = match.label(colour)
    return Detection(
        archetype=match.archetype.name,
        variant=match.variant.name if match.variant else None,
        colour=colour,
        companion=companion,
        display_name=label,
        method=method,
        fallback_score=score,
        candidates=candidates if candidates is not None else (label,),
    )


__all__ = [
    "Match",
    "best_fallback",
    "companion_of",
    "condition_holds",
    "deck_colour",
    "detect",
    "hits",
    "passes",
    "present",
    "specific_matches",
]
