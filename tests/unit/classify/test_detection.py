"""Detection semantics (DOMAIN.md §3.7, §3.9) on hand-computed cases.

Every case runs through both evaluators (``detect_both`` asserts they agree), then checks
the expected outcome worked out by hand from the specification.
"""

from __future__ import annotations

import pytest

from pipelines.classify.definitions import FormatDefinitions
from pipelines.classify.matcher import compile_format
from pipelines.classify.result import ConflictMode, Method
from tests.unit.classify.helpers import arch, detect_both, fallback, make_format, variant

NONE = ConflictMode.NONE
SIMPLER = ConflictMode.PREFER_SIMPLER


def filler(n: int) -> list[tuple[str, int]]:
    """``n`` distinct lines of cards no definition knows."""
    return [(f"Filler {i}", 1) for i in range(n)]


# --- §3.9 edge-case checklist -----------------------------------------------------------------


def test_empty_deck_only_negative_definitions_match(tiny: FormatDefinitions) -> None:
    result = detect_both(tiny, [], [])
    assert result.colour == "C"
    assert (result.archetype, result.display_name, result.method) == (
        "NoBasics",
        "No Basics",
        Method.RULE,
    )


def test_empty_deck_without_negative_definitions_is_unknown() -> None:
    fmt = make_format(
        [arch("A", ("InMainboard", ["X"]))], [fallback("Pile", ["X"])], {"Island": "U"}
    )
    result = detect_both(fmt, [], [])
    assert (result.display_name, result.method, result.colour) == ("Unknown", Method.UNKNOWN, "C")
    assert result.fallback_score is None  # all weights 0: no division by zero


def test_count_zero_is_still_present(tiny: FormatDefinitions) -> None:
    result = detect_both(tiny, [("Mox Opal", 0), ("Forest", 1)])
    assert result.archetype == "Affinity" and result.display_name == "Affinity"
    burn = [("Lightning Bolt", 4), ("Goblin Guide", 4), ("Mountain", 16)]
    assert detect_both(tiny, burn).archetype == "Burn"
    # A 0-count Counterspell both breaks Burn's DoesNotContain and satisfies Counterspells.
    zero = detect_both(tiny, [*burn, ("Counterspell", 0)], [], NONE)
    assert zero.candidates == ("Mono Red Counterspells",)


def test_duplicate_lines_count_twice_for_two_or_more() -> None:
    fmt = make_format([arch("Pair", ("TwoOrMoreInMainboard", ["A", "B"]))])
    assert detect_both(fmt, [("A", 1), ("A", 1)]).method is Method.RULE
    assert detect_both(fmt, [("A", 2)]).method is Method.UNKNOWN
    side = make_format([arch("Pair", ("TwoOrMoreInSideboard", ["A", "B"]))])
    assert detect_both(side, [], [("A", 1), ("X", 1), ("A", 3)]).method is Method.RULE
    either = make_format([arch("Pair", ("TwoOrMoreInMainOrSideboard", ["A", "B"]))])
    assert detect_both(either, [("A", 1)], [("A", 1)]).method is Method.RULE
    assert detect_both(either, [("A", 1), ("A", 1)], []).method is Method.RULE
    assert detect_both(either, [("A", 4)], []).method is Method.UNKNOWN


def test_duplicate_lines_count_in_fallback_denominator() -> None:
    fmt = make_format(fallbacks=[fallback("Pile", ["X"])])
    split = detect_both(fmt, [("X", 1), ("X", 1), *filler(18)])
    assert split.fallback_score == pytest.approx(2 / 20) and split.method is Method.UNKNOWN
    merged = detect_both(fmt, [("X", 2), *filler(18)])
    assert merged.fallback_score == pytest.approx(2 / 19) and merged.method is Method.FALLBACK


def test_duplicate_lines_add_up_for_colour() -> None:
    fmt = make_format(lands={"Mountain": "R"}, nonlands={"Bolt": "R"})
    assert detect_both(fmt, [("Mountain", 0), ("Mountain", 0), ("Bolt", 1)]).colour == "C"
    assert detect_both(fmt, [("Mountain", 0), ("Mountain", 1), ("Bolt", 1)]).colour == "R"
    # Sums, not "any line": a negative line cancels a positive one (exact path of the matcher).
    assert detect_both(fmt, [("Mountain", 1), ("Mountain", -1), ("Bolt", 1)]).colour == "C"


def test_variant_with_empty_conditions_matches_with_parent(lenient: FormatDefinitions) -> None:
    deck = [("Shared Card", 4)]
    result = detect_both(lenient, deck, [], NONE)
    assert result.display_name == (
        "Conflict(Upper B,Underscore,Space,No Conditions Key,Empty Conditions,Comma)"
    )
    with_other = detect_both(lenient, [*deck, ("Other Card", 1)], [], NONE)
    assert "Needs Other" in with_other.candidates
    simpler = detect_both(lenient, deck, [], SIMPLER)
    assert (simpler.archetype, simpler.display_name) == ("UpperB", "Upper B")


def test_unknown_condition_cards_never_match() -> None:
    fmt = make_format(
        [
            arch("Positive", ("InMainboard", [" Bottled Cloister"])),
            arch("Negative", ("DoesNotContain", ["Bonecrusher Giant // Stomp"])),
        ]
    )
    result = detect_both(fmt, [("Bottled Cloister", 4), ("Bonecrusher Giant", 4)], [], NONE)
    assert result.candidates == ("Negative",)


def test_format_without_definitions_is_unknown() -> None:
    result = detect_both(make_format(), [("Lightning Bolt", 4)], [("Island", 1)])
    assert (result.display_name, result.method, result.candidates) == (
        "Unknown",
        Method.UNKNOWN,
        (),
    )


def test_colour_code_c_in_tables_means_no_colour(tiny: FormatDefinitions) -> None:
    fmt = make_format(lands={"Wastes": "C", "Island": "U"}, nonlands={"Eldrazi": "C"})
    assert detect_both(fmt, [("Wastes", 4), ("Eldrazi", 4)]).colour == "C"
    # Tiny lists Thought-Knot Seer with colour C.
    assert detect_both(tiny, [("Island", 4), ("Thought-Knot Seer", 4)]).colour == "C"


def test_colour_ignores_archetype(tiny: FormatDefinitions) -> None:
    burn = [("Lightning Bolt", 4), ("Goblin Guide", 4), ("Mountain", 10)]
    assert detect_both(tiny, burn).display_name == "Mono Red Burn"
    izzet = detect_both(tiny, [*burn, ("Steam Vents", 4), ("Fire // Ice", 2)])
    assert (izzet.display_name, izzet.colour) == ("Izzet Burn", "UR")


# --- §3.7.2 colour ----------------------------------------------------------------------------


def test_colour_needs_a_land_and_a_nonland(tiny: FormatDefinitions) -> None:
    assert detect_both(tiny, [("Island", 10)]).colour == "C"
    assert detect_both(tiny, [("Counterspell", 4)]).colour == "C"
    assert detect_both(tiny, [("Island", 1), ("Counterspell", 1)]).colour == "U"


def test_sideboard_adds_colour(tiny: FormatDefinitions) -> None:
    burn = [("Lightning Bolt", 4), ("Goblin Guide", 4), ("Mountain", 10)]
    result = detect_both(tiny, burn, [("Island", 1), ("Fire // Ice", 1)])
    assert result.display_name == "Izzet Burn"


def test_modal_double_faced_card_counts_on_both_sides(tiny: FormatDefinitions) -> None:
    burn = [("Lightning Bolt", 4), ("Goblin Guide", 4), ("Mountain", 10)]
    assert detect_both(tiny, [*burn, ("Emeria's Call", 1)]).display_name == "Boros Burn"


def test_overrides_apply(tiny: FormatDefinitions) -> None:
    # Ancient Ziggurat is R in card_colors.json and WUBRG in Tiny's overrides.
    deck = [("Ancient Ziggurat", 4), ("Counterspell", 4), ("Thoughtseize", 1)]
    assert detect_both(tiny, deck).colour == "UB"


# --- §3.7.3 companions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "expected"),
    [
        ([], ""),
        ([("Lurrus of the Dream-Den", 1)], "Lurrus"),
        ([("Lurrus of the Dream-Den", 1), ("Yorion, Sky Nomad", 1)], "Yorion"),
        ([("Yorion, Sky Nomad", 1), ("Lurrus of the Dream-Den", 1)], "Yorion"),
        ([("Zirda, the Dawnwaker", 1), ("Gyruda, Doom of Depths", 1)], "Zirda"),
        ([("Jegantha, the Wellspring", 0)], "Jegantha"),
        ([("Kaheera, the Orphanguard", 1), ("Keruga, the Macrosage", 1)], "Keruga"),
        ([("Obosh, the Preypiercer", 1), ("Lutri, the Spellchaser", 1)], "Obosh"),
        ([("Umori, the Collector", 1), ("lurrus of the dream-den", 1)], "Umori"),
    ],
)
def test_companion_last_table_match_wins(
    tiny: FormatDefinitions, side: list[tuple[str, int]], expected: str
) -> None:
    assert detect_both(tiny, [("Forest", 1)], side).companion == expected


def test_companion_only_from_sideboard(tiny: FormatDefinitions) -> None:
    assert detect_both(tiny, [("Lurrus of the Dream-Den", 1)], []).companion == ""


def test_companion_does_not_change_the_label(tiny: FormatDefinitions) -> None:
    burn = [("Lightning Bolt", 4), ("Goblin Guide", 4), ("Mountain", 10)]
    result = detect_both(tiny, burn, [("Yorion, Sky Nomad", 1)])
    assert (result.display_name, result.companion) == ("Mono Red Burn", "Yorion")


# --- §3.7.4 conflicts and variants ------------------------------------------------------------

CONTROL = [("Counterspell", 4), ("Supreme Verdict", 4), ("Island", 10)]


def test_conflict_mode_none(tiny: FormatDefinitions) -> None:
    result = detect_both(tiny, CONTROL, [], NONE)
    assert result.display_name == "Conflict(Mono Blue Counterspells,UW Control)"
    assert result.method is Method.CONFLICT and result.archetype is None
    assert result.candidates == ("Mono Blue Counterspells", "UW Control")


def test_prefer_simpler_picks_fewest_conditions(tiny: FormatDefinitions) -> None:
    result = detect_both(tiny, CONTROL, [], SIMPLER)
    assert (result.archetype, result.display_name, result.method) == (
        "Counterspells",
        "Mono Blue Counterspells",
        Method.RULE,
    )
    assert result.candidates == ("Mono Blue Counterspells", "UW Control")


def test_prefer_simpler_is_not_first_match() -> None:
    fmt = make_format(
        [
            arch("Complex", ("InMainboard", ["A"]), ("DoesNotContain", ["Z"])),
            arch("Simple", ("InMainboard", ["A"])),
        ]
    )
    assert detect_both(fmt, [("A", 1)], [], SIMPLER).archetype == "Simple"


def test_prefer_simpler_ties_keep_load_order() -> None:
    fmt = make_format(
        [arch("First", ("InMainboard", ["A"])), arch("Second", ("InSideboard", ["B"]))]
    )
    assert detect_both(fmt, [("A", 1)], [("B", 1)], SIMPLER).archetype == "First"


def test_complexity_counts_skipped_conditions() -> None:
    fmt = make_format(
        [
            arch("Skips", ("InMainboard", ["A"]), ("InMainboard", []), ("InSideboard", [])),
            arch("Two", ("InMainboard", ["A"]), ("DoesNotContain", ["Z"])),
        ]
    )
    assert detect_both(fmt, [("A", 1)], [], SIMPLER).archetype == "Two"


def test_duplicate_labels_in_conflicts(tiny: FormatDefinitions) -> None:
    deck = [("Mox Opal", 4), ("Memnite", 4), ("Forest", 1)]
    assert detect_both(tiny, deck, [], NONE).display_name == "Conflict(Affinity,Affinity)"
    simpler = detect_both(tiny, deck, [], SIMPLER)
    assert simpler.display_name == "Affinity" and simpler.candidates == ("Affinity", "Affinity")


TRON = [("Urza's Tower", 4), ("Urza's Mine", 4), ("Forest", 1)]


def test_parent_without_matching_variant(tiny: FormatDefinitions) -> None:
    result = detect_both(tiny, TRON)
    assert (result.archetype, result.variant, result.display_name) == ("GenericTron", None, "Tron")


def test_several_variants_conflict(tiny: FormatDefinitions) -> None:
    deck = [*TRON, ("Semblance Anvil", 1), ("Thought-Knot Seer", 4)]
    assert detect_both(tiny, deck, [], NONE).display_name == "Conflict(Anvil Tron,Eldrazi Tron)"
    simpler = detect_both(tiny, deck, [], SIMPLER)
    assert (simpler.archetype, simpler.variant) == ("GenericTron", "AnvilTron")


def test_variant_uses_its_own_colour_flag(tiny: FormatDefinitions) -> None:
    deck = [*TRON, ("Llanowar Elves", 4)]
    result = detect_both(tiny, deck, [("Thought-Knot Seer", 1)])
    assert (result.variant, result.display_name) == ("Tron", "Mono Green Tron")


def test_variant_needs_its_parent(tiny: FormatDefinitions) -> None:
    result = detect_both(tiny, [("Semblance Anvil", 1), ("Forest", 1)], [], NONE)
    assert (result.display_name, result.candidates) == ("Unknown", ())


def test_variants_of_in_memory_archetype() -> None:
    fmt = make_format(
        [
            arch(
                "Parent",
                ("InMainboard", ["A"]),
                variants=[variant("Alpha", ("InMainboard", ["B"])), variant("Beta")],
            )
        ]
    )
    only_parent = detect_both(fmt, [("A", 1)], [], NONE)
    assert only_parent.display_name == "Beta"  # the empty variant always matches
    both = detect_both(fmt, [("A", 1), ("B", 1)], [], NONE)
    assert both.display_name == "Conflict(Alpha,Beta)"


# --- fallbacks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "copies", "similarity", "accepted"),
    [(40, 4, 0.10, False), (30, 4, 0.1333, True), (12, 1, 0.0833, False), (25, 20, 0.80, True)],
)
def test_fallback_worked_examples(
    lines: int, copies: int, similarity: float, accepted: bool
) -> None:
    fmt = make_format(fallbacks=[fallback("GenericAggro", [f"Common {i}" for i in range(5)])])
    common = [(f"Common {i}", 4) for i in range(copies // 4)] or [("Common 0", copies)]
    deck = [*common, *filler(lines - len(common))]
    assert len(deck) == lines and sum(c for n, c in deck if n.startswith("Common")) == copies
    result = detect_both(fmt, deck)
    assert result.fallback_score == pytest.approx(similarity, abs=1e-4)
    assert result.method is (Method.FALLBACK if accepted else Method.UNKNOWN)
    assert result.display_name == ("Aggro" if accepted else "Unknown")


def test_similarity_can_exceed_one() -> None:
    fmt = make_format(fallbacks=[fallback("Pile", [f"C{i}" for i in range(20)])])
    result = detect_both(fmt, [(f"C{i}", 4) for i in range(20)])
    assert result.fallback_score == 4.0 and result.method is Method.FALLBACK


def test_fallback_counts_a_card_in_both_boards_twice() -> None:
    fmt = make_format(fallbacks=[fallback("A", ["X"]), fallback("B", ["Y"])])
    result = detect_both(fmt, [("X", 2), ("Y", 3)], [("X", 2)])
    assert result.archetype == "A" and result.fallback_score == pytest.approx(4 / 3)


def test_fallback_ties_fewest_common_cards_then_load_order() -> None:
    fmt = make_format(
        fallbacks=[
            fallback("Big", ["X", "P", "Q"]),
            fallback("Small", ["X", "R"]),
            fallback("SmallToo", ["X", "S"]),
        ]
    )
    assert detect_both(fmt, [("X", 4)]).archetype == "Small"


def test_fallback_colour_in_name(tiny: FormatDefinitions) -> None:
    deck = [("Supreme Verdict", 4), ("Swords to Plowshares", 4), ("Island", 4), ("Plains", 4)]
    result = detect_both(tiny, deck)
    assert (result.display_name, result.method) == ("Azorius Control", Method.FALLBACK)
    assert result.candidates == ("Azorius Control",)


def test_fallbacks_never_combine_with_specific_matches(tiny: FormatDefinitions) -> None:
    result = detect_both(tiny, [("Lightning Bolt", 4), ("Goblin Guide", 4), ("Mountain", 10)])
    assert result.method is Method.RULE and result.fallback_score is None


def test_mode_parsing() -> None:
    assert ConflictMode.parse("prefer-simpler") is SIMPLER
    assert ConflictMode.parse("PreferSimpler") is SIMPLER
    assert ConflictMode.parse("none") is NONE
    with pytest.raises(ValueError):
        ConflictMode.parse("first")


def test_fallback_size_counts_duplicate_common_cards() -> None:
    # "Fewest CommonCards" is the raw list length: a listed duplicate makes a fallback bigger.
    fmt = make_format(
        fallbacks=[fallback("Plain", ["X", "P", "Q"]), fallback("Dup", ["X", "X", "Y"])]
    )
    assert detect_both(fmt, [("X", 4)]).archetype == "Plain"
    assert detect_both(fmt, [("X", 2)], [("X", 2)]).fallback_score == pytest.approx(2.0)


def test_archetypes_without_positive_cards_are_always_candidates() -> None:
    fmt = make_format(
        [
            arch("OnlySkipped", ("InMainboard", []), ("TwoOrMoreInSideboard", [])),
            arch("OnlyNegative", ("DoesNotContainMainboard", ["Z"])),
            arch("Positive", ("InMainboard", ["A"])),
        ]
    )
    for main in ([], [("Q", 1)], [("A", 1)]):
        result = detect_both(fmt, main, [], NONE)
        assert result.candidates[:2] == ("Only Skipped", "Only Negative")


def test_compiled_matcher_api() -> None:
    fmt = make_format([arch("A", ("InMainboard", ["X"])), arch("B", ("InMainOrSideboard", ["X"]))])
    simpler = compile_format(fmt, "prefer-simpler")
    none = simpler.with_mode(ConflictMode.NONE)
    decks = [([("X", 1)], []), ([], [("X", 1)]), ([], [])]
    assert [d.display_name for d in simpler.detect_many(decks)] == ["A", "B", "Unknown"]
    assert [d.display_name for d in none.detect_many(decks)] == ["Conflict(A,B)", "B", "Unknown"]
    assert simpler.mode is SIMPLER and set(simpler.vocabulary) == {"X"}
