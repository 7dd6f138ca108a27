"""The C# ConditionTests (DOMAIN.md §3.11), run against the reference AND the matcher.

One format with one archetype holding one condition; every listed card has 4 copies;
"Card N" names are fictitious so the colour is C and there are no fallbacks.
"""

from __future__ import annotations

import pytest

from pipelines.classify.definitions import FormatDefinitions
from pipelines.classify.result import ConflictMode, Method
from tests.unit.classify.helpers import arch, detect_both, make_format

C1_C4 = ["Card 1", "Card 2", "Card 3", "Card 4"]

ROWS = [
    ("InMainboard", ["Card 1"], ["Card 1", "Card 2"], [], True),
    ("InSideboard", ["Card 1"], [], ["Card 1", "Card 2"], True),
    ("InMainOrSideboard", ["Card 1"], ["Card 1", "Card 2"], [], True),
    ("InMainOrSideboard", ["Card 1"], [], ["Card 1", "Card 2"], True),
    ("OneOrMoreInMainboard", ["Card 1", "Card 2"], ["Card 1", "Card 3"], [], True),
    ("OneOrMoreInMainboard", ["Card 1", "Card 2"], ["Card 2", "Card 3"], [], True),
    ("OneOrMoreInSideboard", ["Card 1", "Card 2"], [], ["Card 1", "Card 3"], True),
    ("OneOrMoreInSideboard", ["Card 1", "Card 2"], [], ["Card 2", "Card 3"], True),
    ("OneOrMoreInMainOrSideboard", ["Card 1", "Card 2"], ["Card 1", "Card 3"], [], True),
    ("OneOrMoreInMainOrSideboard", ["Card 1", "Card 2"], [], ["Card 2", "Card 3"], True),
    ("TwoOrMoreInMainboard", C1_C4, ["Card 1", "Card 5"], [], False),
    ("TwoOrMoreInMainboard", C1_C4, ["Card 1", "Card 3"], [], True),
    ("TwoOrMoreInMainboard", C1_C4, ["Card 2", "Card 3"], [], True),
    ("TwoOrMoreInSideboard", C1_C4, [], ["Card 1", "Card 5"], False),
    ("TwoOrMoreInSideboard", C1_C4, [], ["Card 1", "Card 3"], True),
    ("TwoOrMoreInSideboard", C1_C4, [], ["Card 2", "Card 3"], True),
    ("TwoOrMoreInMainOrSideboard", C1_C4, ["Card 1"], ["Card 5"], False),
    ("TwoOrMoreInMainOrSideboard", C1_C4, ["Card 1", "Card 3"], [], True),
    ("TwoOrMoreInMainOrSideboard", C1_C4, [], ["Card 2", "Card 3"], True),
    ("TwoOrMoreInMainOrSideboard", C1_C4, ["Card 1"], ["Card 4"], True),
    ("DoesNotContain", ["Card 1"], ["Card 2", "Card 3"], [], True),
    ("DoesNotContain", ["Card 1"], ["Card 1", "Card 3"], [], False),
    ("DoesNotContain", ["Card 1"], [], ["Card 1", "Card 3"], False),
    ("DoesNotContainMainboard", ["Card 1"], ["Card 2", "Card 3"], [], True),
    ("DoesNotContainMainboard", ["Card 1"], ["Card 1", "Card 3"], [], False),
    ("DoesNotContainMainboard", ["Card 1"], [], ["Card 1", "Card 3"], True),
    ("DoesNotContainSideboard", ["Card 1"], ["Card 2", "Card 3"], [], True),
    ("DoesNotContainSideboard", ["Card 1"], ["Card 1", "Card 3"], [], True),
    ("DoesNotContainSideboard", ["Card 1"], [], ["Card 1", "Card 3"], False),
]


def _format(ctype: str, cards: list[str], colours: FormatDefinitions) -> FormatDefinitions:
    return make_format(
        [arch("Test", (ctype, cards))], lands=dict(colours.lands), nonlands=dict(colours.nonlands)
    )


@pytest.mark.parametrize("mode", list(ConflictMode))
@pytest.mark.parametrize(("ctype", "cards", "main", "side", "expect"), ROWS)
def test_condition_table(
    tiny: FormatDefinitions,
    mode: ConflictMode,
    ctype: str,
    cards: list[str],
    main: list[str],
    side: list[str],
    expect: bool,
) -> None:
    fmt = _format(ctype, cards, tiny)
    result = detect_both(fmt, [(c, 4) for c in main], [(c, 4) for c in side], mode)
    assert result.colour == "C"
    if expect:
        assert result.method is Method.RULE
        assert (result.archetype, result.variant) == ("Test", None)
        assert result.candidates == ("Test",)
    else:
        assert result.method is Method.UNKNOWN
        assert result.archetype is None and result.candidates == ()
        assert result.display_name == "Unknown"
        assert result.fallback_score is None  # no fallbacks exist


def test_four_copies_of_one_listed_card_are_not_two_or_more() -> None:
    fmt = make_format([arch("Test", ("TwoOrMoreInMainboard", C1_C4))])
    assert detect_both(fmt, [("Card 1", 4)]).method is Method.UNKNOWN


def test_single_card_types_look_at_the_first_card_only() -> None:
    fmt = make_format([arch("Test", ("InMainboard", ["Card 1", "Card 2"]))])
    assert detect_both(fmt, [("Card 2", 4)]).method is Method.UNKNOWN
    assert detect_both(fmt, [("Card 1", 4)]).method is Method.RULE
    negative = make_format([arch("Test", ("DoesNotContain", ["Card 1", "Card 2"]))])
    assert detect_both(negative, [("Card 2", 4)]).method is Method.RULE


@pytest.mark.parametrize(
    "ctype",
    ["InMainboard", "InSideboard", "OneOrMoreInMainboard", "TwoOrMoreInMainOrSideboard"],
)
def test_empty_card_list_is_skipped(ctype: str) -> None:
    fmt = make_format([arch("Test", (ctype, []), ("InMainboard", ["Card 9"]))])
    assert detect_both(fmt, [("Card 9", 1)]).method is Method.RULE


def test_conditions_are_anded() -> None:
    fmt = make_format([arch("Test", ("InMainboard", ["A"]), ("InSideboard", ["B"]))])
    assert detect_both(fmt, [("A", 1)], [("B", 1)]).method is Method.RULE
    assert detect_both(fmt, [("A", 1)], []).method is Method.UNKNOWN
    assert detect_both(fmt, [], [("B", 1)]).method is Method.UNKNOWN
