"""One window's discovery, from decks in memory (no database): the pure core of issue 17.

:func:`discover` classifies the window's decks with the format's definitions (the normal
matcher, keyed by definition *file* so that rule usage is exact even when two files share a
``Name``), clusters the Unknown and fallback-labelled decks, drafts a rule per cluster and
checks each draft by loading it with the project's definitions loader and classifying the
window again through the normal matcher with the draft added.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from pipelines.classify.definitions import (
    Archetype,
    FormatDefinitions,
    parse_archetype,
    parse_lenient_json,
)
from pipelines.classify.display import UNKNOWN, display_name
from pipelines.classify.matcher import CompiledFormat, compile_format
from pipelines.classify.result import Detection, Method
from pipelines.discovery.clusters import (
    MIN_CLUSTER_SIZE,
    cluster_name,
    cluster_rows,
    distinctive_cards,
    stable_ids,
)
from pipelines.discovery.rules import DeckIndex, Draft, DraftCondition, draft_in
from pipelines.discovery.vectors import Deck, build_vectors

DRAFT_FILE = "Discovered.json"


@dataclass(frozen=True)
class Label:
    """A deck's label in the window: how it was reached and by which definition file."""

    method: Method
    file: str | None  # definition file (Archetypes/ or Fallbacks/), None when Unknown
    display: str  # the label readers see


@dataclass(frozen=True)
class Suggestion:
    """One cluster and its drafted rule, checked through the matcher."""

    cluster_id: int
    name: str
    cards: tuple[str, ...]  # most distinctive first
    members: tuple[int, ...]  # deck ids
    draft: Draft
    definition: dict[str, Any]  # the Archetypes/*.json document
    precision: float  # of the decks the rule labels in the window, share in the cluster
    recall: float  # of the cluster's decks, share the rule labels
    relabel: tuple[tuple[str, str, int], ...]  # (old label, new label, decks) changes


@dataclass(frozen=True)
class WindowDiscovery:
    decks: int
    unknown: int
    fallback: int
    labels: Mapping[int, Label]
    suggestions: tuple[Suggestion, ...]
    usage: Mapping[str, int]  # definition file -> decks it labelled
    seconds: Mapping[str, float] = field(default_factory=dict)


class Labeller:
    """The normal matcher over a format's definitions, reporting definition files."""

    def __init__(self, fmt: FormatDefinitions) -> None:
        self.fmt = fmt
        self._by_file = {a.file: a for a in fmt.archetypes}
        self._fallbacks = {f.file: f for f in fmt.fallbacks}
        keyed = dataclasses.replace(
            fmt,
            archetypes=tuple(dataclasses.replace(a, name=a.file) for a in fmt.archetypes),
            fallbacks=tuple(dataclasses.replace(f, name=f.file) for f in fmt.fallbacks),
        )
        self.matcher: CompiledFormat = compile_format(keyed)

    def label(self, deck: Deck) -> Label:
        d: Detection = self.matcher.detect(deck.main, deck.side)
        if d.method is Method.UNKNOWN or d.archetype is None:
            return Label(Method.UNKNOWN, None, UNKNOWN)
        if d.method is Method.FALLBACK:
            fb = self._fallbacks[d.archetype]
            return Label(d.method, fb.file, display_name(fb.name, fb.include_colour, d.colour))
        arch = self._by_file[d.archetype]
        if d.variant is not None:
            variant = next(v for v in arch.variants if v.name == d.variant)
            shown = display_name(variant.name, variant.include_colour, d.colour)
        else:
            shown = display_name(arch.name, arch.include_colour, d.colour)
        return Label(d.method, arch.file, shown)


def with_draft(
    fmt: FormatDefinitions, document: dict[str, Any], file: str = DRAFT_FILE
) -> FormatDefinitions:
    """``fmt`` plus a drafted archetype, read by the project's own loader functions."""
    data = orjson.dumps(document)
    draft: Archetype = parse_archetype(parse_lenient_json(data, file), file)
    archetypes = sorted((*fmt.archetypes, draft), key=lambda a: a.file)  # ordinal file order
    return dataclasses.replace(fmt, archetypes=tuple(archetypes), version=fmt.version + "+draft")


def discover(
    fmt: FormatDefinitions,
    decks: Sequence[Deck],
    canonical: Callable[[str], str] = str,
    previous: Mapping[int, frozenset[int]] | None = None,
    new_id: Callable[[], int] | None = None,
    min_size: int = MIN_CLUSTER_SIZE,
    method: str = "agglomerative",
    verify: bool = True,
) -> WindowDiscovery:
    """Discovery over one window's ``decks`` (see the module docstring)."""
    labeller = Labeller(fmt)
    labels = {deck.id: labeller.label(deck) for deck in decks}
    counts = Counter(label.method for label in labels.values())
    usage = Counter(label.file for label in labels.values() if label.file is not None)
    for file in (*(a.file for a in fmt.archetypes), *(f.file for f in fmt.fallbacks)):
        usage.setdefault(file, 0)
    pool = [d for d in decks if labels[d.id].method in (Method.UNKNOWN, Method.FALLBACK)]
    suggestions: list[Suggestion] = []
    if pool:
        suggestions = _suggestions(
            fmt, decks, pool, labels, canonical, previous or {}, new_id, min_size, method, verify
        )
    return WindowDiscovery(
        decks=len(decks),
        unknown=counts[Method.UNKNOWN],
        fallback=counts[Method.FALLBACK],
        labels=labels,
        suggestions=tuple(suggestions),
        usage=dict(usage),
    )


def _suggestions(
    fmt: FormatDefinitions,
    decks: Sequence[Deck],
    pool: Sequence[Deck],
    labels: Mapping[int, Label],
    canonical: Callable[[str], str],
    previous: Mapping[int, frozenset[int]],
    new_id: Callable[[], int] | None,
    min_size: int,
    method: str,
    verify: bool,
) -> list[Suggestion]:
    vectors = build_vectors(pool, canonical)
    numbers = cluster_rows(vectors.matrix, min_size, method)
    groups = [
        [pool[int(i)] for i in np.flatnonzero(numbers == n)] for n in range(int(numbers.max()) + 1)
    ]
    counter = iter(range(1, 1 << 62))
    ids = stable_ids(
        [frozenset(d.id for d in g) for g in groups], previous, new_id or (lambda: next(counter))
    )
    window_cards = [_card_set(d, canonical) for d in decks]
    frequency = Counter(card for cards in window_cards for card in cards)
    share = {card: n / max(len(decks), 1) for card, n in frequency.items()}
    index = DeckIndex(decks)
    other = index.mask(d.id for d in decks if labels[d.id].method in (Method.RULE, Method.CONFLICT))
    unruled = index.mask(d.id for d in pool)
    result = []
    for cluster_id, group in zip(ids, groups, strict=True):
        member_ids = {d.id for d in group}
        cards = distinctive_cards([_card_set(d, canonical) for d in group], share)
        name = cluster_name(cards)
        members = index.mask(member_ids)
        draft = draft_in(index, name, members, other, unruled & ~members, canonical)
        document = draft.definition()
        precision = recall = 0.0
        relabel: tuple[tuple[str, str, int], ...] = ()
        if verify and draft.conditions:
            precision, recall, relabel = evaluate(
                fmt, document, decks, labels, member_ids, index, draft.conditions
            )
        result.append(
            Suggestion(
                cluster_id,
                name,
                tuple(cards),
                tuple(sorted(member_ids)),
                draft,
                document,
                precision,
                recall,
                relabel,
            )
        )
    result.sort(key=lambda s: (-len(s.members), s.cluster_id))
    return result


def evaluate(
    fmt: FormatDefinitions,
    document: dict[str, Any],
    decks: Sequence[Deck],
    labels: Mapping[int, Label],
    target: set[int],
    index: DeckIndex | None = None,
    conditions: Sequence[DraftCondition] = (),
) -> tuple[float, float, tuple[tuple[str, str, int], ...]]:
    """Add the drafted definition, classify ``decks`` again through the normal matcher and
    compare: (precision, recall) of its labels against ``target``, and the label moves.

    Only decks the draft passes can move. When none of them has a specific label (an
    exclusive draft), they all take the draft's label and the format need not be compiled
    again; otherwise the whole format with the draft decides (PreferSimpler may keep the
    older rule). ``index`` and ``conditions`` (the draft's) narrow the decks handed to the
    matcher to those the conditions pass on the bitsets; the matcher still decides.
    """
    drafted = with_draft(fmt, document)
    draft = next(a for a in drafted.archetypes if a.file == DRAFT_FILE)
    alone = compile_format(dataclasses.replace(fmt, archetypes=(draft,), fallbacks=()))
    if index is not None and conditions:
        decks = [index.decks[i] for i in _positions(index.passing(conditions))]
    passing = [d for d in decks if alone.detect(d.main, d.side).method is Method.RULE]
    if any(labels[d.id].method in (Method.RULE, Method.CONFLICT) for d in passing):
        labeller = Labeller(drafted)
        new_labels = {d.id: labeller.label(d) for d in passing}
    else:
        new_labels = {}
        for d in passing:
            colour = alone.detect(d.main, d.side).colour
            shown = display_name(draft.name, draft.include_colour, colour)
            new_labels[d.id] = Label(Method.RULE, DRAFT_FILE, shown)
    moved: Counter[tuple[str, str]] = Counter()
    taken = [i for i, label in new_labels.items() if label.file == DRAFT_FILE]
    for deck_id, new in new_labels.items():
        old = labels[deck_id]
        if new.display != old.display or new.file != old.file:
            moved[(old.display, new.display)] += 1
    hits = len(target.intersection(taken))
    precision = hits / len(taken) if taken else 0.0
    recall = hits / len(target) if target else 0.0
    changes = tuple((o, n, k) for (o, n), k in sorted(moved.items(), key=lambda x: (-x[1], x[0])))
    return round(precision, 4), round(recall, 4), changes


def _positions(bits: int) -> list[int]:
    found = []
    while bits:
        low = bits & -bits
        found.append(low.bit_length() - 1)
        bits ^= low
    return found


def _card_set(deck: Deck, canonical: Callable[[str], str]) -> set[str]:
    return {canonical(name) for name, _count in deck.main}


__all__ = [
    "DRAFT_FILE",
    "Label",
    "Labeller",
    "Suggestion",
    "WindowDiscovery",
    "discover",
    "evaluate",
    "with_draft",
]
