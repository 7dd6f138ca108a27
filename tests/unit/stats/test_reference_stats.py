"""Tests for pipelines.stats.reference_stats (hand-computed small event data)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.stats.intervals import clustered_interval, wilson_interval
from pipelines.stats.reference_stats import (
    CellCounts,
    DeckRow,
    MatchRow,
    archetype_intervals,
    compute_reference_stats,
)
from pipelines.stats.windows import DateWindow

D1 = date(2024, 6, 1)
D2 = date(2024, 6, 8)

DECKS = [
    DeckRow(1, "Burn", "Alice", "T1", D1),
    DeckRow(2, "Burn", "Bob", "T1", D1),
    DeckRow(3, "Tron", "Carol", "T1", D1),
    DeckRow(4, "Tron", "Dave", "T1", D1),
    DeckRow(5, "Storm", "Erin", "T1", D1),
    DeckRow(6, "Burn", "Alice", "T2", D2),
    DeckRow(7, "Tron", "Frank", "T2", D2),
]

MATCHES = [
    MatchRow("T1", D1, "Alice", "Carol", "Burn", "Tron", 2, 1, "Round 1"),
    MatchRow("T1", D1, "Bob", "Dave", "Burn", "Tron", 1, 1, "Round 1"),  # draw
    MatchRow("T1", D1, "Erin", None, "Storm", None, 2, 0, "Round 1"),  # bye
    MatchRow("T1", D1, "Alice", "Bob", "Burn", "Burn", 0, 2, "Round 2"),  # mirror
    MatchRow("T1", D1, "Carol", "Erin", "Tron", "Storm", 2, 0, "Round 2"),
    MatchRow("T1", D1, "Dave", "-", "Tron", "-", 2, 0, "Round 2"),  # bye
    MatchRow("T2", D2, "Frank", "Alice", "Tron", "Burn", 1, 2, "Round 1"),
]


def test_archetype_counts() -> None:
    stats = compute_reference_stats(DECKS, MATCHES)
    assert list(stats.archetypes) == ["Burn", "Storm", "Tron"]
    burn = stats.archetypes["Burn"]
    assert (burn.decks, burn.players) == (3, 2)
    assert (burn.wins, burn.losses, burn.draws, burn.mirrors) == (2, 0, 1, 1)
    assert burn.seats == 5  # 3 non-mirror seats + 2 mirror seats
    assert burn.win_rate == 1.0  # mirror excluded
    assert burn.player_records == (("Alice", 2, 0),)  # Bob only drew and played the mirror
    tron = stats.archetypes["Tron"]
    assert (tron.decks, tron.players) == (3, 3)
    assert (tron.wins, tron.losses, tron.draws, tron.mirrors, tron.seats) == (1, 2, 1, 0, 4)
    assert tron.win_rate == pytest.approx(1 / 3)
    assert tron.player_records == (("Carol", 1, 1), ("Frank", 0, 1))
    storm = stats.archetypes["Storm"]
    assert (storm.decks, storm.players, storm.wins, storm.losses, storm.seats) == (1, 1, 0, 1, 1)


def test_shares() -> None:
    stats = compute_reference_stats(DECKS, MATCHES)
    a = stats.archetypes
    shares = (a["Burn"].share_decks, a["Tron"].share_decks, a["Storm"].share_decks)
    assert shares == pytest.approx((3 / 7, 3 / 7, 1 / 7))
    # players: denominators are Σ per-archetype distinct players = 2 + 3 + 1
    assert a["Burn"].share_players == pytest.approx(2 / 6)
    assert a["Tron"].share_players == pytest.approx(3 / 6)
    assert a["Burn"].share_seats == pytest.approx(5 / 10)
    assert a["Tron"].share_seats == pytest.approx(4 / 10)
    assert a["Storm"].share_seats == pytest.approx(1 / 10)
    assert sum(x.share_decks for x in a.values()) == pytest.approx(1.0)


def test_totals() -> None:
    stats = compute_reference_stats(DECKS, MATCHES)
    assert stats.total_decks == 7
    assert stats.total_players == 6
    assert stats.total_matches == 5
    assert stats.excluded_matches == 2


def test_cells_both_perspectives_and_mirror_diagonal() -> None:
    cells = compute_reference_stats(DECKS, MATCHES).cells
    assert cells == {
        ("Burn", "Burn"): CellCounts(mirrors=1),  # one mirror match, once
        ("Burn", "Tron"): CellCounts(2, 0, 1),
        ("Storm", "Tron"): CellCounts(0, 1, 0),
        ("Tron", "Burn"): CellCounts(0, 2, 1),
        ("Tron", "Storm"): CellCounts(1, 0, 0),
    }
    assert cells[("Burn", "Tron")].n == 3 and cells[("Burn", "Tron")].decided == 2


def test_drawn_mirror_is_one_mirror_match() -> None:
    decks = [DeckRow(1, "Burn", "A", "T", D1), DeckRow(2, "Burn", "B", "T", D1)]
    stats = compute_reference_stats(decks, [MatchRow("T", D1, "A", "B", "Burn", "Burn", 1, 1)])
    assert stats.cells == {("Burn", "Burn"): CellCounts(mirrors=1)}
    burn = stats.archetypes["Burn"]
    assert (burn.wins, burn.losses, burn.draws, burn.mirrors, burn.seats) == (0, 0, 0, 1, 2)
    assert burn.win_rate is None


def test_window_filter_end_inclusive() -> None:
    only_t2 = compute_reference_stats(DECKS, MATCHES, DateWindow(D2, D2))
    assert {k: (v.decks, v.wins, v.losses) for k, v in only_t2.archetypes.items()} == {
        "Burn": (1, 1, 0),
        "Tron": (1, 0, 1),
    }
    before = compute_reference_stats(DECKS, MATCHES, DateWindow(D1, date(2024, 6, 7)))
    assert before.total_decks == 5
    both = compute_reference_stats(DECKS, MATCHES, DateWindow(D1, D2))
    assert both.total_decks == 7 and both.total_matches == 5


def test_duplicate_deck_id_rejected() -> None:
    with pytest.raises(ValueError):
        compute_reference_stats([DECKS[0], DECKS[0]], [])


def test_archetype_intervals() -> None:
    tron = compute_reference_stats(DECKS, MATCHES).archetypes["Tron"]
    clustered, wilson = archetype_intervals(tron, 0.9)
    assert clustered == clustered_interval([(1, 1), (0, 1)], 0.9)
    assert wilson == wilson_interval(1, 3, 0.9)
    burn = compute_reference_stats(DECKS, MATCHES).archetypes["Burn"]
    assert archetype_intervals(burn)[0].lower is None  # one player with decided matches


ARCHS = ["A", "B", "C"]
match_rows = st.lists(
    st.tuples(
        st.sampled_from(["p1", "p2", "p3", "p4"]),
        st.sampled_from(["p5", "p6", "p7"]),
        st.sampled_from(ARCHS),
        st.sampled_from([*ARCHS, None]),
        st.integers(0, 3),
        st.integers(0, 3),
    ),
    max_size=40,
)


@settings(max_examples=100, deadline=None)
@given(match_rows)
def test_invariants(rows: list[tuple[str, str, str, str | None, int, int]]) -> None:
    matches = [MatchRow("T", D1, p1, p2, a1, a2, g1, g2) for p1, p2, a1, a2, g1, g2 in rows]
    stats = compute_reference_stats([], matches)
    counted = [m for m in matches if m.archetype2 is not None]
    assert stats.total_matches == len(counted)
    assert stats.excluded_matches == len(matches) - len(counted)
    assert sum(a.seats for a in stats.archetypes.values()) == 2 * len(counted)
    for (row, col), cell in stats.cells.items():
        other = stats.cells[(col, row)]
        assert (cell.wins, cell.losses, cell.draws) == (other.losses, other.wins, other.draws)
    for name, a in stats.archetypes.items():
        assert a.seats == a.wins + a.losses + a.draws + 2 * a.mirrors
        off = [c for (r, col), c in stats.cells.items() if r == name and col != name]
        assert (a.wins, a.losses, a.draws) == (
            sum(c.wins for c in off),
            sum(c.losses for c in off),
            sum(c.draws for c in off),
        )
        assert sum(w for _, w, _ in a.player_records) == a.wins
        assert sum(lo for _, _, lo in a.player_records) == a.losses
