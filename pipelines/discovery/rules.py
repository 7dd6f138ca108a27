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

import math
from collections.abc import Callable, Iterable, Sequence
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
    holds: int  # bitset (over the index) of the decks for which the condition holds


class DeckIndex:
    """Which decks have each card in the main / side board, as bitsets over the decks'
    positions; built once per window and shared by every cluster's draft."""

    def __init__(self, decks: Sequence[Deck]) -> None:
        self.decks = list(decks)
        self.position = {deck.id: i for i, deck in enumerate(self.decks)}
        self.main: dict[str, int] = {}
        self.side: dict[str, int] = {}
        for i, deck in enumerate(self.decks):
            bit = 1 << i
            for name, _count in deck.main:
                self.main[name] = self.main.get(name, 0) | bit
            for name, _count in deck.side:
                self.side[name] = self.side.get(name, 0) | bit
        self.all = (1 << len(self.decks)) - 1
        self._holds: dict[DraftCondition, int] = {}

    def mask(self, ids: Iterable[int]) -> int:
        """The bitset of these deck ids."""
        bits = 0
        for deck_id in ids:
            bits |= 1 << self.position[deck_id]
        return bits

    def ids(self, bits: int) -> list[int]:
        """The deck ids of a bitset."""
        return [self.decks[i].id for i in range(len(self.decks)) if bits >> i & 1]

    def holds(self, cond: DraftCondition) -> int:
        """Decks for which ``cond`` holds (reference semantics, DOMAIN.md §3.7.1)."""
        found = self._holds.get(cond)
        if found is None:
            found = self._holds[cond] = self._evaluate(cond)
        return found

    def _evaluate(self, cond: DraftCondition) -> int:
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

    def passing(self, conditions: Sequence[DraftCondition]) -> int:
        """Decks for which every condition holds."""
        bits = self.all
        for cond in conditions:
            bits &= self.holds(cond)
        return bits


def draft_rule(
    name: str,
    cluster: Sequence[Deck],
    others: Sequence[Deck],
    loose: Sequence[Deck],
    canonical: Callable[[str], str] = str,
) -> Draft:
    """The fewest conditions separating ``cluster`` from ``others`` (and ``loose``)."""
    index = DeckIndex([*cluster, *others, *loose])
    groups = (cluster, others, loose)
    masks = [index.mask(d.id for d in group) for group in groups]
    return draft_in(index, name, masks[0], masks[1], masks[2], canonical)


def draft_in(
    index: DeckIndex,
    name: str,
    cluster: int,
    other: int,
    loose: int,
    canonical: Callable[[str], str] = str,
) -> Draft:
    """:func:`draft_rule` on bitsets of one :class:`DeckIndex` (cluster, other, loose)."""
    size = cluster.bit_count()
    candidates = _candidates(index, cluster, other | loose, canonical)
    need = max(1, math.ceil(MIN_COVERAGE * size))
    chosen: list[_Candidate] = []
    passing = index.all
    while len(chosen) < MAX_CONDITIONS and (passing & (other | loose) or not chosen):
        # The first condition must be positive (a rule of negatives matches almost anything);
        # it is taken even when it excludes nothing yet, later ones only when they help.
        best, best_score, best_kept = None, (0.0 if chosen else float("-inf")), 0
        for cand in candidates:
            if not chosen and cand.condition.type.startswith("DoesNot"):
                continue
            after = passing & cand.holds
            kept = (after & cluster).bit_count()
            if kept < need:
                continue
            removed_other = (passing & other & ~cand.holds).bit_count()
            removed_loose = (passing & loose & ~cand.holds).bit_count()
            lost = (passing & cluster).bit_count() - kept
            score = OTHER_WEIGHT * removed_other + removed_loose - LOST_WEIGHT * lost
            if score > best_score or (
                best is not None and score == best_score and kept > best_kept
            ):
                best, best_score, best_kept = cand, score, kept
        if best is None:
            break
        chosen.append(best)
        passing &= best.holds
    chosen = _pruned(index, chosen)
    passing = index.passing([c.condition for c in chosen])
    notes = []
    if passing & other:
        notes.append(f"{(passing & other).bit_count()} decks of other archetypes still match")
    return Draft(
        name,
        tuple(c.condition for c in chosen),
        exclusive=not passing & other,
        covered=(passing & cluster).bit_count(),
        loose=(passing & loose).bit_count(),
        notes=tuple(notes),
    )


def _candidates(
    index: DeckIndex, cluster: int, outside: int, canonical: Callable[[str], str]
) -> list[_Candidate]:
    n = max(cluster.bit_count(), 1)
    found: list[DraftCondition] = []
    spellings: dict[str, list[str]] = {}
    for card, bits in index.main.items():
        inside = (bits & cluster).bit_count()
        if not inside:
            continue
        spellings.setdefault(canonical(card), []).append(card)
        if inside >= MIN_SIGNATURE * n:
            found.append(DraftCondition("InMainboard", (card,)))
    for names in spellings.values():
        if len(names) > 1:  # one card written several ways: any of them
            union = 0
            for card in names:
                union |= index.main[card]
            if (union & cluster).bit_count() >= MIN_SIGNATURE * n:
                found.append(DraftCondition("OneOrMoreInMainboard", tuple(sorted(names))))
    # Negative conditions: cards of decks that must not match, (almost) absent from the cluster.
    for card in sorted(set(index.main) | set(index.side)):
        main, side = index.main.get(card, 0), index.side.get(card, 0)
        if not (main | side) & outside:
            continue
        if ((main | side) & cluster).bit_count() <= MAX_NEGATIVE * n:
            found.append(DraftCondition("DoesNotContain", (card,)))
        elif (main & cluster).bit_count() <= MAX_NEGATIVE * n:
            found.append(DraftCondition("DoesNotContainMainboard", (card,)))
    return [_Candidate(c, index.holds(c)) for c in found]


def _pruned(index: DeckIndex, chosen: list[_Candidate]) -> list[_Candidate]:
    """Drop conditions the others make redundant (same decks matched without them)."""
    target = index.passing([c.condition for c in chosen])
    kept = list(chosen)
    for cand in reversed(chosen):
        trial = [c for c in kept if c is not cand]
        positive = any(not c.condition.type.startswith("DoesNot") for c in trial)
        if positive and index.passing([c.condition for c in trial]) == target:
            kept = trial
    return kept


__all__ = ["MIN_COVERAGE", "DeckIndex", "Draft", "DraftCondition", "draft_in", "draft_rule"]
