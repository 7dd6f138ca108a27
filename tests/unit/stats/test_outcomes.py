"""Tests for pipelines.stats.outcomes (DOMAIN §2.7)."""

from __future__ import annotations

import pytest

from pipelines.stats.outcomes import (
    Match,
    dedupe_matches,
    invert_outcome,
    is_bye,
    match_key,
    match_outcome,
    parse_result,
)


@pytest.mark.parametrize(
    ("p1", "p2", "expected"),
    [
        (2, 0, "W"),
        (2, 1, "W"),
        (1, 2, "L"),
        (0, 2, "L"),
        (1, 1, "D"),
        (0, 0, "D"),
        (1, 0, "W"),  # Topdeck match-level result / unfinished match still decides
        (3, 2, "W"),  # best of five
        (1, 3, "L"),
    ],
)
def test_match_outcome(p1: int, p2: int, expected: str) -> None:
    assert match_outcome(p1, p2) == expected


@pytest.mark.parametrize(("p1", "p2"), [(-1, 0), (0, -2), (True, 0), (1.5, 0)])
def test_match_outcome_rejects_bad_scores(p1: int, p2: int) -> None:
    with pytest.raises(ValueError):
        match_outcome(p1, p2)


def test_invert_outcome() -> None:
    assert [invert_outcome(o) for o in ("W", "L", "D")] == ["L", "W", "D"]
    with pytest.raises(ValueError):
        invert_outcome("X")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("player", "bye"),
    [
        (None, True),
        ("", True),
        ("-", True),
        (" - ", True),
        ("   ", True),
        ("Bob", False),
        ("-Bob", False),
        ("0", False),
    ],
)
def test_is_bye(player: str | None, bye: bool) -> None:
    assert is_bye(player) is bye


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2-1-0", (2, 1, 0)),
        ("0-0-1", (0, 0, 1)),
        (" 2 - 0 - 0 ", (2, 0, 0)),
        ("2-1", None),
        ("2-1-0-0", None),
        ("a-b-c", None),
        ("-1-2-0", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_result(text: str | None, expected: tuple[int, int, int] | None) -> None:
    assert parse_result(text) == expected


def test_match_from_round() -> None:
    m = Match.from_round("Round 1", {"Player1": "Ann", "Player2": "-", "Result": "2-0-0"})
    assert m == Match("Round 1", "Ann", None, 2, 0, 0)
    assert m is not None and m.is_bye
    m2 = Match.from_round("Round 2", {"Player1": "Ann", "Player2": "Bob", "Result": "1-2-1"})
    assert m2 is not None and not m2.is_bye and m2.outcome == "L" and m2.draws == 1
    assert Match.from_round("R", {"Player1": "A", "Player2": "B", "Result": "2-1"}) is None
    nul = Match.from_round("R", {"Player1": "A", "Player2": None, "Result": "2-0-0"})
    assert nul is not None and nul.player2 is None


def test_match_key_is_unordered_and_normalises_byes() -> None:
    assert match_key(Match("R1", "A", "B", 2, 0)) == match_key(Match("R1", "B", "A", 0, 2))
    assert match_key(Match("R1", "A", "-", 2, 0)) == match_key(Match("R1", "A", None, 2, 0))
    assert match_key(Match("R1", "A", "B", 2, 0)) != match_key(Match("R2", "A", "B", 2, 0))


def test_dedupe_doubled_draw() -> None:
    ab = Match("Round 3", "A", "B", 1, 1, 1)
    ba = Match("Round 3", "B", "A", 1, 1, 1)
    assert dedupe_matches([ab, ba]) == [ab]


@pytest.mark.parametrize("decisive_first", [True, False])
def test_dedupe_contradictory_forfeit_prefers_decisive(decisive_first: bool) -> None:
    decisive = Match("Round 4", "A", "B", 0, 2, 0)
    unplayed = Match("Round 4", "B", "A", 0, 0, 0)
    records = [decisive, unplayed] if decisive_first else [unplayed, decisive]
    assert dedupe_matches(records) == [decisive]


def test_dedupe_prefers_played_draw_over_unplayed() -> None:
    unplayed = Match("R1", "A", "B", 0, 0, 0)
    drawn = Match("R1", "B", "A", 1, 1, 0)
    assert dedupe_matches([unplayed, drawn]) == [drawn]


def test_dedupe_contradictory_winners_keeps_first() -> None:
    first = Match("R1", "A", "B", 2, 0)
    second = Match("R1", "B", "A", 2, 1)
    assert dedupe_matches([first, second]) == [first]


def test_dedupe_keeps_distinct_rounds_and_order() -> None:
    r1 = Match("Round 1", "A", "B", 2, 0)
    r2 = Match("Round 2", "A", "B", 0, 2)
    other = Match("Round 1", "C", "D", 2, 1)
    dup = Match("Round 1", "B", "A", 0, 2)  # same as r1 from B's side
    top8 = Match("Quarterfinals", "A", "B", 2, 1)
    assert dedupe_matches([r1, other, r2, dup, top8]) == [r1, other, r2, top8]


def test_dedupe_byes() -> None:
    a = Match("R1", "A", None, 2, 0)
    b = Match("R1", "A", "-", 2, 0)
    c = Match("R1", "C", None, 2, 0)
    assert dedupe_matches([a, b, c]) == [a, c]


def test_dedupe_empty() -> None:
    assert dedupe_matches([]) == []
