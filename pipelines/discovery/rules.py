"""Draft an archetype rule for a cluster (issue 17, point 3).

The rule is an MTGOFormatData definition (DOMAIN.md §3.4): an AND of conditions. We look for
the fewest conditions that

* hold for (nearly) every deck of the cluster — at least :data:`MIN_COVERAGE` of them, so a
  stray deck clustered by mistake does not force a weaker rule;
* hold for **none** of the window's decks labelled by another specific archetype (the rule
  would otherwise steal them), and for as few other Unknown / fallback decks as possible.

Greedy set cover on deck bitsets (Python ints): each step adds the condition that excludes
the most decks that should not match (other archetypes weigh more than loose decks) while
losing the fewest cluster decks; then every condition that has become redundant is dropped.
Conditions are ``InMainboard`` (signature cards), ``OneOrMoreInMainboard`` (a card under
several spellings, e.g. a double-faced card's full name) and ``DoesNotContain`` /
``DoesNotContainMainboard`` (cards that tell a neighbouring archetype apart). Card names are
written exactly as the decks spell them: the classifier matches names exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines.discovery.vectors import Deck

MIN_COVERAGE = 0.85  # share of the cluster the rule must keep matching
MIN_SIGNATURE = 0.5  # a positive condition's card is in at least this share of the cluster
MAX_NEGATIVE = 0.1  # a DoesNotContain card is in at most this share of the cluster
MAX_CONDITIONS = 8
OTHER_WEIGHT = 4.0  # excluding a deck of another archetype matters more than a loose deck
LOST_WEIGHT = 6.0  # ... and losing a cluster deck costs more still


@dataclass(frozen=True)
class DraftCondition:
    type: str
    cards: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"Type": self.type, "Cards": list(self.cards)}


@dataclass(frozen=True)
class Draft:
    """A drafted definition and how well it separates the cluster on the drafting decks."""

    name: str
    conditions: tuple[DraftCondition, ...]
    exclusive: bool  # no deck of another archetype passes
    covered: int  # cluster decks that pass
    loose: int  # other Unknown / fallback decks that pass
    notes: tuple[str, ...] = field(default=())

    def definition(self) -> dict[str, Any]:
        """The ``Archetypes/*.json`` document (MTGOFormatData shape)."""
        return {
            "Name": self.name,
            "IncludeColorInName": False,
            "Conditions": [c.as_json() for c in self.conditions],
        }


@dataclass
class _Candidate:
    condition: DraftCondition
    cluster: int  # bitsets of the decks for which the condition holds
    other: int
    loose: int


class _Bits:
    """Per card, which decks of a group have it in the main / side board (bitsets)."""

    def __init__(self, decks: Sequence[Deck]) -> None:
        self.n = len(decks)
        self.main: dict[str, int] = {}
        self.side: dict[str, int] = {}
        for i, deck in enumerate(decks):
            bit = 1 << i
            for name, _count in deck.main:
                self.main[name] = self.main.get(name, 0) | bit
            for name, _count in deck.side:
                self.side[name] = self.side.get(name, 0) | bit
        self.all = (1 << self.n) - 1

    def holds(self, cond: DraftCondition) -> int:
        """Decks of the group for which ``cond`` holds (reference semantics, §3.7.1)."""
        card = cond.cards[0]
        main, side = self.main.get(card, 0), self.side.get(card, 0)
        if cond.type == "InMainboard":
            return main
        if cond.type == "OneOrMoreInMainboard":
            bits = 0
            for name in cond.cards:
                bits |= self.main.get(name, 0)
            return bits
        if cond.type == "DoesNotContain":
            return self.all & ~(main | side)
        if cond.type == "DoesNotContainMainboard":
            return self.all & ~main
        raise ValueError(f"unsupported draft condition {cond.type}")


def draft_rule(
    name: str,
    cluster: Sequence[Deck],
    others: Sequence[Deck],
    loose: Sequence[Deck],
    canonical: Callable[[str], str] = str,
) -> Draft:
    """The fewest conditions separating ``cluster`` from ``others`` (and ``loose``)."""
    c_bits, o_bits, l_bits = _Bits(cluster), _Bits(others), _Bits(loose)
    candidates = _candidates(c_bits, o_bits, l_bits, canonical)
    need = max(1, -(-int(MIN_COVERAGE * 1000) * c_bits.n // 1000))
    chosen: list[_Candidate] = []
    cover, other, free = c_bits.all, o_bits.all, l_bits.all
    while len(chosen) < MAX_CONDITIONS and (other or free or not chosen):
        # The first condition must be positive (a rule of negatives matches almost anything);
        # it is taken even when it excludes nothing yet, later ones only when they help.
        best, best_score = None, (0.0 if chosen else float("-inf"))
        for cand in candidates:
            kept = cover & cand.cluster
            if kept.bit_count() < need:
                continue
            removed_other = (other & ~cand.other).bit_count()
            removed_loose = (free & ~cand.loose).bit_count()
            lost = (cover & ~cand.cluster).bit_count()
            score = OTHER_WEIGHT * removed_other + removed_loose - LOST_WEIGHT * lost
            if not chosen and cand.condition.type.startswith("DoesNot"):
                continue  # a rule needs a positive condition first
            if score > best_score or (
                best is not None and score == best_score and kept > cover & best.cluster
            ):
                best, best_score = cand, score
        if best is None:
            break
        chosen.append(best)
        cover, other, free = cover & best.cluster, other & best.other, free & best.loose
    chosen = _pruned(chosen, c_bits, o_bits, l_bits)
    cover, other, free = _apply(chosen, c_bits, o_bits, l_bits)
    notes = []
    if other:
        notes.append(f"{other.bit_count()} decks of other archetypes still match")
    return Draft(
        name,
        tuple(c.condition for c in chosen),
        exclusive=not other,
        covered=cover.bit_count(),
        loose=free.bit_count(),
        notes=tuple(notes),
    )


def _candidates(
    c_bits: _Bits, o_bits: _Bits, l_bits: _Bits, canonical: Callable[[str], str]
) -> list[_Candidate]:
    n = max(c_bits.n, 1)
    found: list[DraftCondition] = []
    spellings: dict[str, list[str]] = {}
    for card, bits in c_bits.main.items():
        spellings.setdefault(canonical(card), []).append(card)
        if bits.bit_count() >= MIN_SIGNATURE * n:
            found.append(DraftCondition("InMainboard", (card,)))
    for names in spellings.values():
        if len(names) > 1:  # one card written several ways: any of them
            union = 0
            for card in names:
                union |= c_bits.main[card]
            if union.bit_count() >= MIN_SIGNATURE * n:
                found.append(DraftCondition("OneOrMoreInMainboard", tuple(sorted(names))))
    # Negative conditions: cards of decks that must not match, (almost) absent from the cluster.
    outside = set(o_bits.main) | set(o_bits.side) | set(l_bits.main) | set(l_bits.side)
    for card in sorted(outside):
        either = c_bits.main.get(card, 0) | c_bits.side.get(card, 0)
        if either.bit_count() <= MAX_NEGATIVE * n:
            found.append(DraftCondition("DoesNotContain", (card,)))
        elif c_bits.main.get(card, 0).bit_count() <= MAX_NEGATIVE * n:
            found.append(DraftCondition("DoesNotContainMainboard", (card,)))
    return [_Candidate(c, c_bits.holds(c), o_bits.holds(c), l_bits.holds(c)) for c in found]


def _apply(chosen: Sequence[_Candidate], *groups: _Bits) -> tuple[int, ...]:
    result = []
    for index, group in enumerate(groups):
        bits = group.all
        for cand in chosen:
            bits &= (cand.cluster, cand.other, cand.loose)[index]
        result.append(bits)
    return tuple(result)


def _pruned(
    chosen: list[_Candidate], c_bits: _Bits, o_bits: _Bits, l_bits: _Bits
) -> list[_Candidate]:
    """Drop conditions the others make redundant (same decks matched without them)."""
    target = _apply(chosen, c_bits, o_bits, l_bits)
    kept = list(chosen)
    for cand in reversed(chosen):
        trial = [c for c in kept if c is not cand]
        positive = any(not c.condition.type.startswith("DoesNot") for c in trial)
        if positive and _apply(trial, c_bits, o_bits, l_bits) == target:
            kept = trial
    return kept


__all__ = ["MIN_COVERAGE", "Draft", "DraftCondition", "draft_rule"]
