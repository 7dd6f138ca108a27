"""Generated decks classify, under the shipped demo definitions, as what they were built for.

Uses the test-only detector in ``_detect`` (DOMAIN.md §3.7 semantics evaluated directly on the
JSON), so these checks do not depend on the production classifier.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from pipelines.demo import DEMO_DEFINITIONS_DIR, DEMO_FORMATS, GeneratedEvent
from pipelines.demo.catalog import FORMATS, UNKNOWN

from ._detect import CANONICAL_COLORS, boards, deck_colour, detect, label_of, load_format

DEFINITIONS = {fmt: load_format(DEMO_DEFINITIONS_DIR, fmt) for fmt in DEMO_FORMATS}

# Colours a few builds must come out as (they drive names such as "Boros Energy").
EXPECTED_COLOURS = {
    ("Modern", "Energy"): {"WR", "WUR"},
    ("Modern", "Burn"): {"R", "WR"},
    ("Modern", "Murktide"): {"UR"},
    ("Modern", "GenericTron/EldraziTron"): {"C"},
    ("Modern", "GenericTron/GreenTron"): {"G"},
    ("Modern", "HammerTime"): {"W", "WB"},
    ("Modern", "fallback:GenericControl"): {"WU"},
    ("Pioneer", "Midrange"): {"BR", "BG"},
    ("Pioneer", "Phoenix"): {"UR"},
    ("Pioneer", "Greasefang"): {"WB", "WUB"},
    ("Pioneer", "Control"): {"WU"},
    ("Pioneer", "Spirits"): {"U", "WU"},
    ("Pioneer", "fallback:GenericAggro"): {"R"},
    ("Legacy", "Delver"): {"UR", "UB"},
    ("Legacy", "Death & Taxes"): {"W"},
    ("Legacy", "Beanstalk"): {"WURG"},
    ("Legacy", "Beanstalk/YorionBeanstalk"): {"WURG"},
    ("Legacy", "fallback:GenericControl"): {"WU"},
    ("Legacy", "fallback:GenericAggro"): {"R"},
    ("Pauper", "Affinity"): {"UBR"},
    ("Pauper", "Faeries"): {"U", "UB"},
    ("Pauper", "Elves"): {"G"},
    ("Pauper", "Kuldotha"): {"R"},
    ("Pauper", "Bogles"): {"WG"},
    ("Pauper", "fallback:GenericAggro"): {"W"},
    ("Pauper", "fallback:GenericControl"): {"B"},
}


def _decks(events: list[GeneratedEvent]):
    for event in events:
        for deck, intended in zip(event.payload["Decks"], event.intended, strict=True):
            yield event.format, deck, intended


def test_every_deck_classifies_as_intended(large_events: list[GeneratedEvent]) -> None:
    mismatches: Counter[tuple[str, str, str]] = Counter()
    for fmt, deck, intended in _decks(large_events):
        main, side = boards(deck)
        got = label_of(detect(DEFINITIONS[fmt], main, side))
        if got != intended:
            mismatches[(fmt, intended, got)] += 1
    assert not mismatches, mismatches.most_common(10)


def test_every_catalog_label_is_generated(large_events: list[GeneratedEvent]) -> None:
    seen = {(fmt, intended) for fmt, _deck, intended in _decks(large_events)}
    for fmt, spec in FORMATS.items():
        for archetype in spec.archetypes:
            for build in archetype.builds:
                assert (fmt, build.label) in seen, (fmt, build.label)


def test_fallback_similarity_is_comfortably_above_threshold(
    large_events: list[GeneratedEvent],
) -> None:
    for fmt, deck, intended in _decks(large_events):
        if intended.startswith("fallback:"):
            main, side = boards(deck)
            (match,) = detect(DEFINITIONS[fmt], main, side)
            assert match[2] > 0.3, (fmt, intended, match)


def test_deck_colours(large_events: list[GeneratedEvent]) -> None:
    colours: dict[tuple[str, str], set[str]] = defaultdict(set)
    for fmt, deck, intended in _decks(large_events):
        main, side = boards(deck)
        colours[(fmt, intended)].add(deck_colour(DEFINITIONS[fmt], main, side))
    for key, found in colours.items():
        assert found <= CANONICAL_COLORS, key
        if key in EXPECTED_COLOURS:
            assert found <= EXPECTED_COLOURS[key], (key, found)


def test_archetype_mix_is_skewed_and_plausible(large_events: list[GeneratedEvent]) -> None:
    per_format: dict[str, Counter[str]] = defaultdict(Counter)
    for fmt, _deck, intended in _decks(large_events):
        per_format[fmt][intended.split("/")[0]] += 1
    for fmt, counts in per_format.items():
        total = sum(counts.values())
        shares = sorted((c / total for c in counts.values()), reverse=True)
        assert 0.15 < shares[0] < 0.45, (fmt, shares)  # a clear top deck, not a monoculture
        assert shares[0] > 2 * shares[len(shares) // 2]  # skewed, not uniform
        off_archetype = (
            counts[UNKNOWN] + sum(c for label, c in counts.items() if label.startswith("fallback:"))
        ) / total
        assert 0.02 < off_archetype < 0.15, (fmt, off_archetype)


def _match_outcomes(events: list[GeneratedEvent]):
    """(format, archetype of the winner, archetype of the loser) for decisive matches."""
    for event in events:
        label = {
            deck["Player"]: intended.split("/")[0]
            for deck, intended in zip(event.payload["Decks"], event.intended, strict=True)
        }
        for round_ in event.payload["Rounds"]:
            seen = set()
            for m in round_["Matches"]:
                p1, p2 = m["Player1"], m["Player2"]
                pair = frozenset((p1, p2))
                if p1 not in label or p2 not in label or pair in seen:
                    continue
                seen.add(pair)
                a, b, _ = (int(x) for x in m["Result"].split("-"))
                if a != b:
                    winner, loser = (p1, p2) if a > b else (p2, p1)
                    yield event.format, label[winner], label[loser]


def test_win_rates_are_non_trivial(large_events: list[GeneratedEvent]) -> None:
    """Archetype win rates spread out (matchup model), but stay in a believable band."""
    wins: Counter[tuple[str, str]] = Counter()
    games: Counter[tuple[str, str]] = Counter()
    for fmt, winner, loser in _match_outcomes(large_events):
        if winner != loser:
            wins[(fmt, winner)] += 1
            games[(fmt, winner)] += 1
            games[(fmt, loser)] += 1
    for fmt in DEMO_FORMATS:
        rates = [wins[key] / games[key] for key in games if key[0] == fmt and games[key] >= 200]
        assert len(rates) >= 4, fmt
        assert max(rates) - min(rates) > 0.04, (fmt, rates)
        assert min(rates) > 0.3 and max(rates) < 0.7, (fmt, rates)


@pytest.mark.parametrize("fmt", DEMO_FORMATS)
def test_report_intended_mix(fmt: str, large_events: list[GeneratedEvent]) -> None:
    """Not an assertion about exact numbers: prints the mix (``pytest -s``) for the report."""
    counts = Counter(intended for f, _deck, intended in _decks(large_events) if f == fmt)
    total = sum(counts.values())
    print(
        f"\n{fmt} ({total} decks): "
        + ", ".join(f"{label} {100 * c / total:.1f}%" for label, c in counts.most_common())
    )
    assert total > 0


def test_agrees_with_the_production_reference_classifier(
    large_events: list[GeneratedEvent],
) -> None:
    """Cross-check with pipelines/classify (skipped if its API is absent or has moved)."""
    try:
        from pipelines.classify.definitions_loader import load_all
        from pipelines.classify.reference import ConflictMode
        from pipelines.classify.reference import detect as reference_detect
    except (ImportError, AttributeError) as exc:  # written concurrently by a teammate
        pytest.skip(f"pipelines.classify reference API not available: {exc}")
    formats = load_all(DEMO_DEFINITIONS_DIR)
    mismatches: Counter[tuple[str, str, str]] = Counter()
    for fmt, deck, intended in _decks(large_events[:150]):
        main, side = boards(deck)
        result = reference_detect(main, side, formats[fmt], mode=ConflictMode.NONE)
        if intended == UNKNOWN:
            expected: tuple[str | None, str | None] = (None, None)
        elif intended.startswith("fallback:"):
            expected = (intended.removeprefix("fallback:"), None)
        else:
            name, _, variant = intended.partition("/")
            expected = (name, variant or None)
        if (result.archetype, result.variant) != expected:
            mismatches[(fmt, intended, result.display_name)] += 1
    assert not mismatches, mismatches.most_common(10)
