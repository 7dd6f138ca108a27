"""Explanations: per-condition traces, fallback weights, conflict resolution."""

from __future__ import annotations

from pipelines.classify import reference
from pipelines.classify.definitions import FormatDefinitions
from pipelines.classify.explain import explain, render_text
from pipelines.classify.result import ConflictMode, Method

CONTROL = [("Counterspell", 4), ("Supreme Verdict", 4), ("Island", 10)]


def test_explanation_matches_reference(tiny: FormatDefinitions) -> None:
    result = explain(tiny, CONTROL, [], ConflictMode.NONE)
    assert result.detection == reference.detect(CONTROL, [], tiny, ConflictMode.NONE)
    assert result.detection.method is Method.CONFLICT
    assert "reported as a conflict" in result.resolution
    passed = [(t.archetype, t.variant) for t in result.definitions if t.passed]
    assert passed == [("Counterspells", None), ("UWControl", None)]


def test_condition_traces_say_why(tiny: FormatDefinitions) -> None:
    deck = [*CONTROL, ("Lightning Bolt", 4)]
    result = explain(tiny, deck, [("Lightning Bolt", 1)])
    burn = next(t for t in result.definitions if t.archetype == "Burn")
    bolt, one_or_more, no_counter = burn.conditions
    assert bolt.held and bolt.found_main == ("Lightning Bolt",)
    assert bolt.found_side == ("Lightning Bolt",)
    assert not one_or_more.held and "found 0" in one_or_more.reason
    assert not no_counter.held and "'Counterspell' found in either board" in no_counter.reason
    assert burn.failed == 2 and not burn.passed
    shadow = next(t for t in result.definitions if t.archetype == "Death's Shadow")
    assert shadow.conditions[1].held and "skipped" in shadow.conditions[1].reason
    mixed = next(t for t in result.definitions if t.archetype == "Izzet Mixed")
    assert "extra card(s) ignored" in mixed.conditions[3].reason


def test_variants_traced_only_when_parent_passes(tiny: FormatDefinitions) -> None:
    tron = [("Urza's Tower", 4), ("Urza's Mine", 4), ("Forest", 1), ("Semblance Anvil", 1)]
    traced = explain(tiny, tron, [])
    variants = [t.variant for t in traced.definitions if t.archetype == "GenericTron"]
    assert variants == [None, "AnvilTron", "EldraziTron", "Tron"]
    assert [t.complexity for t in traced.definitions if t.archetype == "GenericTron"] == [
        1,
        2,
        2,
        2,
    ]
    other = explain(tiny, CONTROL, [])
    assert [t.variant for t in other.definitions if t.archetype == "GenericTron"] == [None]


def test_fallback_traces_and_resolution(tiny: FormatDefinitions) -> None:
    deck = [("Supreme Verdict", 4), ("Swords to Plowshares", 4), ("Island", 4), ("Plains", 4)]
    result = explain(tiny, deck, [("Swords to Plowshares", 1)])
    weights = {f.name: f.weight for f in result.fallbacks}
    assert weights == {"GenericAggro": 0, "GenericControl": 9, "Midrange": 0}
    assert result.deck_lines == 5
    assert result.detection.display_name == "Azorius Control"
    assert "best fallback similarity 1.800 > 0.1" in result.resolution
    assert (
        result.land_colours["W"] == 4 and result.nonland_colours["W"] == 9
    )  # Verdict 4 + Swords 4 + 1


def test_render_text(tiny: FormatDefinitions) -> None:
    text = render_text(explain(tiny, CONTROL, [], "none"))
    assert "Label: Conflict(Mono Blue Counterspells,UW Control)" in text
    assert "PASS" in text and "[Counterspells.json]" in text
    assert "GenericControl [GenericControl.json] weight 8" in text
    # Non-verbose output hides archetypes failing two or more conditions; verbose shows all.
    assert "Izzet Mixed" not in text
    assert "Izzet Mixed" in render_text(explain(tiny, CONTROL, []), verbose=True)


def test_unknown_resolution(tiny: FormatDefinitions) -> None:
    result = explain(tiny, [("Forest", 1)], [])
    assert result.detection.display_name == "Unknown"
    assert "no fallback card" in result.resolution
