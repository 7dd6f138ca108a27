"""Tests for pipelines.stats.decklists (DOMAIN §4.9)."""

from __future__ import annotations

import pytest

from pipelines.stats.decklists import (
    CardUsage,
    DeckList,
    card_usage,
    most_common_value,
    stock_decklist,
)


def _decks() -> list[DeckList]:
    return [
        DeckList.from_lines({"A": 4, "B": 4, "C": 2}, {"A": 2, "X": 1}),  # main 10, side 3
        DeckList.from_lines({"A": 4, "B": 3, "D": 3}, {"A": 2, "Y": 1}),  # main 10, side 3
        DeckList.from_lines({"A": 3, "C": 3, "E": 6}, {"Y": 3}),  # main 12, side 3
    ]


def test_from_lines_merges_duplicates_and_formats() -> None:
    deck = DeckList.from_lines(
        [("Lightning Bolt", 2), ("Lightning Bolt", 2), ("Mountain", 0)],
        [{"CardName": "Pyroblast", "Count": 1}, {"CardName": "Pyroblast", "Count": 2}],
    )
    assert deck.main == {"Lightning Bolt": 4}
    assert deck.side == {"Pyroblast": 3}
    assert deck.main_size == 4 and deck.side_size == 3
    assert deck.board("both") == {"Lightning Bolt": 4, "Pyroblast": 3}


@pytest.mark.parametrize("line", [("X", -1), ("", 2), ("X", 1.5), ("X", True)])
def test_from_lines_rejects_bad_lines(line: tuple[str, int]) -> None:
    with pytest.raises(ValueError):
        DeckList.from_lines([line])


def test_board_rejects_unknown() -> None:
    with pytest.raises(ValueError):
        DeckList().board("maybe")  # type: ignore[arg-type]


def test_most_common_value_smallest_on_ties() -> None:
    assert most_common_value([4, 4, 3]) == 4
    assert most_common_value([4, 3]) == 3
    assert most_common_value([2, 3, 3, 2, 1]) == 2
    assert most_common_value([]) is None


def test_card_usage_main() -> None:
    usage = {u.name: u for u in card_usage(_decks(), "main")}
    assert usage["A"] == CardUsage("A", 3, 1.0, 11, 11 / 3, 4)
    assert usage["B"] == CardUsage("B", 2, 2 / 3, 7, 3.5, 3)  # tie 4/3 -> 3
    assert usage["C"] == CardUsage("C", 2, 2 / 3, 5, 2.5, 2)
    assert usage["E"] == CardUsage("E", 1, 1 / 3, 6, 6.0, 6)
    assert set(usage) == {"A", "B", "C", "D", "E"}
    order = [u.name for u in card_usage(_decks(), "main")]
    assert order == ["A", "B", "C", "E", "D"]  # decks desc, total copies desc, name


def test_card_usage_side_and_both() -> None:
    side = {u.name: u for u in card_usage(_decks(), "side")}
    assert side["A"] == CardUsage("A", 2, 2 / 3, 4, 2.0, 2)
    assert side["Y"] == CardUsage("Y", 2, 2 / 3, 4, 2.0, 1)
    assert side["X"] == CardUsage("X", 1, 1 / 3, 1, 1.0, 1)
    both = {u.name: u for u in card_usage(_decks(), "both")}
    # deck 1: 4+2, deck 2: 4+2, deck 3: 3
    assert both["A"] == CardUsage("A", 3, 1.0, 15, 5.0, 6)


def test_card_usage_empty() -> None:
    assert card_usage([], "main") == []


def test_stock_decklist() -> None:
    stock = stock_decklist(_decks())
    assert stock.main_size == 10 and stock.side_size == 3 and stock.deck_count == 3
    # A (share 1) at 4, B (2/3, avg 3.5) at 3, C (2/3, avg 2.5) at 2, then E (1/3, avg 6)
    # before D (1/3, avg 3), trimmed from 6 to the 1 remaining slot.
    assert stock.main == [("A", 4), ("B", 3), ("C", 2), ("E", 1)]
    assert sum(n for _, n in stock.main) == stock.main_size
    # Sideboard from sideboard shares only: A (2/3, avg 2) ties Y (2/3, avg 2) -> name order;
    # A is in both boards (the R reference would have excluded it from the sideboard).
    assert stock.side == [("A", 2), ("Y", 1)]


def test_stock_decklist_size_tie_takes_smallest() -> None:
    decks = [
        DeckList.from_lines({"A": 4, "B": 2}),  # 6
        DeckList.from_lines({"A": 4, "B": 1}),  # 5
    ]
    stock = stock_decklist(decks)
    assert stock.main_size == 5
    # A (4) then B: counts [2, 1] tie -> 1
    assert stock.main == [("A", 4), ("B", 1)]
    assert stock.side == [] and stock.side_size == 0


def test_stock_decklist_not_enough_cards() -> None:
    decks = [DeckList.from_lines({"A": 2, "B": 8}), DeckList.from_lines({"A": 2, "C": 8})]
    stock = stock_decklist(decks)
    # size 10; A (1.0) 2, then B, C (0.5 each, avg 8): B 8 fills exactly
    assert stock.main == [("A", 2), ("B", 8)]
    few = stock_decklist([DeckList.from_lines({"A": 1, "B": 9}), DeckList.from_lines({"A": 3})])
    # sizes 10 and 3 tie -> 3; A most common count tie (1, 3) -> 1; then B trimmed to 2
    assert few.main_size == 3
    assert few.main == [("A", 1), ("B", 2)]


def test_stock_decklist_empty() -> None:
    stock = stock_decklist([])
    assert (stock.main, stock.side, stock.main_size, stock.side_size) == ([], [], 0, 0)
