"""Tests for pipelines.stats.matchups (DOMAIN §4.8)."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.stats.matchups import build_matrix, select_archetypes
from pipelines.stats.reference_stats import CellCounts, DeckRow, MatchRow, compute_reference_stats

CELLS = {
    ("Burn", "Burn"): CellCounts(mirrors=3),
    ("Burn", "Tron"): CellCounts(2, 0, 1),
    ("Tron", "Burn"): CellCounts(0, 2, 1),
    ("Tron", "Storm"): CellCounts(1, 0, 0),
    ("Storm", "Tron"): CellCounts(0, 1, 0),
}
PRESENCE = {"Burn": 5.0, "Tron": 4.0, "Storm": 1.0}


def test_cut_merges_into_other() -> None:
    matrix = build_matrix(CELLS, PRESENCE, min_share=0.2)
    assert matrix.labels == ["Burn", "Tron", "Other"]
    assert matrix.merged == ["Storm"]
    assert matrix.other_label == "Other"
    assert matrix.shares == pytest.approx({"Burn": 0.5, "Tron": 0.4, "Other": 0.1})
    assert len(matrix.cells) == 9
    tron_other = matrix.cell("Tron", "Other")
    assert (tron_other.wins, tron_other.losses, tron_other.n) == (1, 0, 1)
    assert matrix.cell("Other", "Tron").losses == 1


def test_cell_rates_and_intervals() -> None:
    matrix = build_matrix(CELLS, PRESENCE, min_share=0.2, confidence=0.95)
    bt = matrix.cell("Burn", "Tron")
    assert (bt.wins, bt.losses, bt.draws, bt.n, bt.decided) == (2, 0, 1, 3, 2)
    assert bt.win_rate == 1.0
    assert bt.lower == pytest.approx(0.025**0.5)  # Clopper–Pearson 2/2: (α/2)^(1/n)
    assert bt.upper == 1.0
    tb = matrix.cell("Tron", "Burn")
    assert tb.win_rate == 0.0 and tb.lower == 0.0
    assert tb.upper == pytest.approx(1 - 0.025**0.5)


def test_mirror_diagonal_once_without_rate_or_interval() -> None:
    matrix = build_matrix(CELLS, PRESENCE, min_share=0.2)
    mirror = matrix.cell("Burn", "Burn")
    assert mirror.mirror and mirror.mirrors == 3  # each mirror match once
    assert (mirror.wins, mirror.losses, mirror.n) == (0, 0, 0)
    assert (mirror.win_rate, mirror.lower, mirror.upper) == (None, None, None)
    empty = matrix.cell("Tron", "Tron")
    assert empty.mirror and empty.n == 0 and empty.mirrors == 0
    assert (empty.win_rate, empty.lower, empty.upper) == (None, None, None)
    oo = matrix.cell("Other", "Other")
    assert not oo.mirror and oo.win_rate is None
    assert matrix.cell("Burn", "Tron").mirrors == 0


def test_draw_only_cell_is_na() -> None:
    matrix = build_matrix(
        {("A", "B"): CellCounts(0, 0, 2), ("B", "A"): CellCounts(0, 0, 2)}, {"A": 1.0, "B": 1.0}
    )
    cell = matrix.cell("A", "B")
    assert (cell.n, cell.decided, cell.win_rate) == (2, 0, None)


def test_row_totals_exclude_mirrors() -> None:
    matrix = build_matrix(CELLS, PRESENCE, min_share=0.2)
    burn = matrix.row_totals["Burn"]
    assert (burn.wins, burn.losses, burn.draws, burn.win_rate) == (2, 0, 1, 1.0)
    tron = matrix.row_totals["Tron"]
    assert (tron.wins, tron.losses, tron.draws) == (1, 2, 1)
    assert tron.win_rate == pytest.approx(1 / 3)


def test_other_other_collects_small_archetype_games() -> None:
    cells = {
        ("C", "C"): CellCounts(mirrors=2),
        ("D", "D"): CellCounts(mirrors=1),
        ("C", "D"): CellCounts(1, 0, 0),
        ("D", "C"): CellCounts(0, 1, 0),
        ("A", "C"): CellCounts(2, 0, 0),
        ("A", "D"): CellCounts(0, 1, 0),
        ("C", "A"): CellCounts(0, 2, 0),
        ("D", "A"): CellCounts(1, 0, 0),
    }
    presence = {"A": 10.0, "B": 10.0, "C": 1.0, "D": 1.0}
    matrix = build_matrix(cells, presence, min_share=0.1)
    assert matrix.labels == ["A", "B", "Other"]  # ties in presence ordered by name
    oo = matrix.cell("Other", "Other")
    # C beat D once (seen from both sides) and the merged archetypes' 3 mirrors, once each;
    # no rate (50 % by construction) and no interval.
    assert (oo.wins, oo.losses, oo.mirrors, oo.mirror) == (1, 1, 3, False)
    assert (oo.win_rate, oo.lower, oo.upper) == (None, None, None)
    ao = matrix.cell("A", "Other")
    assert (ao.wins, ao.losses) == (2, 1)
    # The Other row total includes Other-vs-Other: C and D's pooled record (1 + 2 wins vs A
    # and D... ): wins = 2 (vs A: D 1) + 1 (C over D) = 2, losses = 2 (C vs A) + 1 = 3.
    other = matrix.row_totals["Other"]
    assert (other.wins, other.losses) == (2, 3)
    assert matrix.cell("A", "B").n == 0


def test_no_other_when_nothing_merged() -> None:
    matrix = build_matrix(CELLS, PRESENCE)
    assert matrix.labels == ["Burn", "Tron", "Storm"]
    assert matrix.other_label is None and matrix.merged == []


def test_unknown_archetype_in_cells_goes_to_other() -> None:
    cells = {("A", "Z"): CellCounts(1, 0, 0), ("Z", "A"): CellCounts(0, 1, 0)}
    matrix = build_matrix(cells, {"A": 1.0})
    assert matrix.labels == ["A", "Other"] and matrix.merged == ["Z"]
    assert matrix.cell("A", "Other").wins == 1
    assert matrix.shares["Other"] == 0.0


def test_max_archetypes_and_inclusive_cut() -> None:
    presence = {"A": 50.0, "B": 30.0, "C": 20.0}
    assert select_archetypes(presence, 0.2) == ["A", "B", "C"]  # 20 % >= 20 % kept
    assert select_archetypes(presence, 0.2001) == ["A", "B"]
    assert select_archetypes(presence, 0.0, max_archetypes=2) == ["A", "B"]
    assert select_archetypes({"Other": 90.0, "A": 10.0}) == ["A"]
    matrix = build_matrix({}, presence, max_archetypes=1)
    assert matrix.labels == ["A", "Other"] and matrix.merged == ["B", "C"]
    assert matrix.shares["Other"] == pytest.approx(0.5)


@pytest.mark.parametrize("kwargs", [{"min_share": 2.0}, {"min_share": -0.1}, {"max_archetypes": 0}])
def test_select_archetypes_validation(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        select_archetypes({"A": 1.0}, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        select_archetypes({"A": -1.0})


def test_matrix_from_reference_stats_matches_archetype_records() -> None:
    d = date(2024, 6, 1)
    decks = [DeckRow(i, a, f"p{i}", "T", d) for i, a in enumerate("AABBCC")]
    matches = [
        MatchRow("T", d, "p0", "p2", "A", "B", 2, 1),
        MatchRow("T", d, "p1", "p3", "A", "B", 0, 2),
        MatchRow("T", d, "p0", "p1", "A", "A", 2, 0),
        MatchRow("T", d, "p4", "p5", "C", "C", 1, 1),
        MatchRow("T", d, "p2", "p4", "B", "C", 1, 1),
        MatchRow("T", d, "p3", "p5", "B", "C", 2, 0),
    ]
    stats = compute_reference_stats(decks, matches)
    matrix = build_matrix(stats.cells, {k: v.seats for k, v in stats.archetypes.items()})
    for name, counts in stats.archetypes.items():
        total = matrix.row_totals[name]
        assert (total.wins, total.losses, total.draws) == (counts.wins, counts.losses, counts.draws)
        diag = matrix.cell(name, name)
        assert (diag.n, diag.mirrors) == (0, counts.mirrors)
