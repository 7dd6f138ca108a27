"""Property: the compiled matcher (keyed by name or by card id) and the reference give
identical detections.

Random decks are drawn from each format's card pool (cards its definitions mention, common
cards, companions, a slice of the colour tables, an unknown name), with random counts
(0 and negatives included, plus a huge count that would overflow packed fallback fields),
duplicate lines and a random main/side split. Half of the decks are seeded with the cards of
a few random archetypes so that matches, variants and conflicts are frequent.
"""

from __future__ import annotations

from functools import lru_cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.classify import reference
from pipelines.classify.definitions import FormatDefinitions
from pipelines.classify.definitions_loader import load_format
from pipelines.classify.matcher import CompiledFormat, compile_format
from pipelines.classify.result import COMPANIONS, ConflictMode
from tests.unit.classify.helpers import FORMATS

COUNTS = st.sampled_from([0, 1, 1, 1, 2, 3, 4, 4, 4, -1, 1 << 23])
MODES = st.sampled_from(list(ConflictMode))


@lru_cache(maxsize=32)
def compiled(fmt: FormatDefinitions, mode: ConflictMode) -> CompiledFormat:
    return compile_format(fmt, mode)


def card_pool(fmt: FormatDefinitions) -> list[str]:
    """Cards worth drawing for ``fmt``; sorted so examples are reproducible."""
    cards = {c for a in fmt.archetypes for cond in a.conditions for c in cond.cards}
    cards |= {
        c for a in fmt.archetypes for v in a.variants for cond in v.conditions for c in cond.cards
    }
    cards |= {c for f in fmt.fallbacks for c in f.common_cards}
    cards |= {card for card, _label in COMPANIONS}
    cards |= set(sorted(fmt.lands)[::25]) | set(sorted(fmt.nonlands)[::500])
    cards.add("Card Nobody Knows")
    return sorted(cards)


def archetype_cards(fmt: FormatDefinitions) -> list[list[str]]:
    """Per archetype: every card of its and its variants' conditions."""
    groups = []
    for a in fmt.archetypes:
        conds = [*a.conditions, *(c for v in a.variants for c in v.conditions)]
        groups.append(sorted({card for cond in conds for card in cond.cards}))
    return [g for g in groups if g]


@st.composite
def decks(draw: st.DrawFn, fmt: FormatDefinitions) -> tuple[list, list]:
    pool = card_pool(fmt)
    names = draw(st.lists(st.sampled_from(pool), max_size=40))
    groups = archetype_cards(fmt)
    if groups and draw(st.booleans()):
        for group in draw(st.lists(st.sampled_from(groups), min_size=1, max_size=3)):
            names += draw(st.lists(st.sampled_from(group), min_size=1, max_size=len(group) + 1))
        names = draw(st.permutations(names))
    main, side = [], []
    for name in names:
        entry = (name, draw(COUNTS))
        (side if draw(st.integers(0, 3)) == 0 else main).append(entry)
    return main, side


@lru_cache(maxsize=32)
def compiled_by_id(fmt: FormatDefinitions, mode: ConflictMode) -> tuple[CompiledFormat, dict]:
    """The id-keyed matcher (as the database path uses it) and name -> id. Half of the ids
    are given up front, the other half taught later, as cards ingested meanwhile are."""
    names = dict(enumerate(card_pool(fmt), start=100))
    first = dict(list(names.items())[::2])
    by_id = compiled(fmt, mode).for_card_ids(first)
    by_id.add_card_ids({i: n for i, n in names.items() if i not in first})
    return by_id, {n: i for i, n in names.items()}


def assert_same(fmt: FormatDefinitions, deck: tuple[list, list], mode: ConflictMode) -> None:
    main, side = deck
    expected = reference.detect(main, side, fmt, mode)
    assert compiled(fmt, mode).detect(main, side) == expected
    assert compiled(fmt, mode).detect_many([(main, side)]) == [expected]
    by_id, id_of = compiled_by_id(fmt, mode)
    ids = [[id_of[name] for name, _ in board] for board in deck]
    counts = [[count for _, count in board] for board in deck]
    assert by_id.detect_lines(ids[0], counts[0], ids[1], counts[1]) == expected


TINY = load_format(FORMATS / "Tiny")
LENIENT = load_format(FORMATS / "Lenient")


@settings(max_examples=400, deadline=None)
@given(deck=decks(TINY), mode=MODES)
def test_matcher_equals_reference_tiny(deck: tuple[list, list], mode: ConflictMode) -> None:
    assert_same(TINY, deck, mode)


@settings(max_examples=150, deadline=None)
@given(deck=decks(LENIENT), mode=MODES)
def test_matcher_equals_reference_lenient(deck: tuple[list, list], mode: ConflictMode) -> None:
    assert_same(LENIENT, deck, mode)


REAL = ["Legacy", "Modern", "Pauper", "Pioneer", "Standard", "Vintage"]


@pytest.mark.shared_data
@pytest.mark.parametrize("name", REAL)
def test_matcher_equals_reference_real_formats(
    real_formats: dict[str, FormatDefinitions], name: str
) -> None:
    fmt = real_formats[name]

    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(deck=decks(fmt), mode=MODES)
    def check(deck: tuple[list, list], mode: ConflictMode) -> None:
        assert_same(fmt, deck, mode)

    check()
