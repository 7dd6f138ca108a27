"""Tests for pipelines.stats.outcomes (DOMAIN §2.7)."""

from __future__ import annotations

import pytest

from pipelines.stats.outcomes import invert_outcome, is_bye, match_outcome


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
