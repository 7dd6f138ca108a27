"""Card ids of prepared boards (pipelines.ingest.state.CardIds)."""

from __future__ import annotations

from pipelines.ingest.prepare import NAME_SEPARATOR
from pipelines.ingest.state import CardIds


def test_a_board_gets_the_ids_of_its_names_in_order_and_new_names_new_ids() -> None:
    cards = CardIds({"Island": "1"})
    cards.free = [11, 10]  # a reserved block (popped from the end)
    board = NAME_SEPARATOR.join(["Forest", "Island", "Forest"])
    assert cards.board(board) == "10,1,10"
    assert cards.new == [("10", "Forest")]
    assert cards.board("") == ""


def test_boards_are_remembered_up_to_a_bound() -> None:
    cards = CardIds({"Island": "1", "Forest": "2"})
    cards.BOARDS = 2
    assert cards.board("Island") == "1"
    cards["Island"] = "7"  # never happens in a run: shows the answer comes from memory
    assert cards.board("Island") == "1"
    assert cards.board("Forest") == "2"
    assert cards.board(NAME_SEPARATOR.join(["Forest", "Island"])) == "2,7"  # full: forgets
    assert cards.boards == {NAME_SEPARATOR.join(["Forest", "Island"]): "2,7"}
    assert cards.board("Island") == "7"
