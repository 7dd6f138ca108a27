"""Tests for pipelines.stats.tiers (DOMAIN §4.6, §4.7)."""

from __future__ import annotations

import math

import pytest

from pipelines.stats.tiers import (
    TIER_OTHER,
    TierInput,
    above_average_share,
    average_share_cut,
    compute_tiers,
    mean_sd,
    tier_label,
)

# --------------------------------------------------------------------------- tier_label


@pytest.mark.parametrize(
    ("x", "label"),
    [
        (90.0, "0"),
        (80.0, "0"),  # exactly μ + 3σ
        (79.99, "0.5"),
        (70.0, "0.5"),
        (69.99, "1"),
        (60.0, "1"),
        (59.99, "1.5"),
        (50.0, "1.5"),  # exactly μ
        (49.99, "2"),
        (40.0, "2"),
        (39.99, "2.5"),
        (30.0, "2.5"),
        (29.99, "3"),
        (20.0, "3"),
        (19.99, TIER_OTHER),
        (-100.0, TIER_OTHER),
    ],
)
def test_tier_label_bands(x: float, label: str) -> None:
    assert tier_label(x, 50.0, 10.0) == label


def test_tier_label_missing_values() -> None:
    assert tier_label(None, 50.0, 10.0) is None
    assert tier_label(float("nan"), 50.0, 10.0) is None
    assert tier_label(40.0, None, 10.0) is None


def test_tier_label_degenerate_sd() -> None:
    assert tier_label(50.0, 50.0, 0.0) == "1.5"
    assert tier_label(50.0, 50.0, None) == "1.5"
    assert tier_label(50.0, 50.0, float("nan")) == "1.5"
    assert tier_label(49.0, 50.0, 0.0) == TIER_OTHER


def test_tier_label_negative_sd() -> None:
    with pytest.raises(ValueError):
        tier_label(1.0, 0.0, -1.0)


def test_mean_sd() -> None:
    assert mean_sd([]) == (None, None)
    assert mean_sd([None, float("nan")]) == (None, None)
    assert mean_sd([3.0, None]) == (3.0, None)
    mean, sd = mean_sd([1.0, 2.0, 3.0, None])
    assert mean == 2.0 and sd == pytest.approx(1.0)  # sample SD (n − 1)
    assert mean_sd([0.1, 0.1, 0.1]) == (0.1, 0.0)


# --------------------------------------------------------------------------- share cut


def test_average_share_cut() -> None:
    assert average_share_cut([50.0, 30.0, 20.0]) == 33.33
    assert average_share_cut([25.0] * 4) == 25.0
    assert average_share_cut([0.5, 0.3, 0.2]) == 33.33  # scale-free: always percent
    assert average_share_cut([]) is None
    assert average_share_cut([0.0, 0.0]) is None


def test_above_average_share_strict() -> None:
    rows = [
        {"name": "A", "share": 50.0},
        {"name": "B", "share": 30.0},
        {"name": "C", "share": 20.0},
    ]
    assert [r["name"] for r in above_average_share(rows)] == ["A"]
    # 4 equal shares: 25 > 25 is false -> all dropped; 3 equal: 33.333 > 33.33 -> all kept
    assert above_average_share([{"share": 25.0}] * 4) == []
    assert len(above_average_share([{"share": 1.0}] * 3)) == 3


def test_above_average_share_scale_free_and_custom_key() -> None:
    rows = [("A", 0.34), ("B", 0.33), ("C", 0.2), ("D", 0.13)]
    kept = above_average_share(rows, share=lambda r: r[1])
    assert [r[0] for r in kept] == ["A", "B"]  # cut 25 %: 34 and 33 kept, 20 and 13 not


def test_above_average_share_uses_percent_of_total() -> None:
    # Shares that do not sum to 100 are re-expressed: 6/10 = 60 % > 50 %.
    rows = [TierInput("A", 6.0, 0.5, None), TierInput("B", 4.0, 0.5, None)]
    assert [r.archetype for r in above_average_share(rows)] == ["A"]


# --------------------------------------------------------------------------- compute_tiers


def test_compute_tiers_hand_computed() -> None:
    rows = [
        TierInput("A", 40.0, 0.55, 0.40),
        TierInput("B", 20.0, 0.60, 0.45),
        TierInput("C", 10.0, 0.40, 0.30),
    ]
    table = compute_tiers(rows)
    by = {r.archetype: r for r in table.rows}
    # ln shares normalised: ln4/ln4, ln2/ln4, 0
    assert by["A"].norm_presence == pytest.approx(1.0)
    assert by["B"].norm_presence == pytest.approx(0.5)
    assert by["C"].norm_presence == pytest.approx(0.0)
    # win rates normalised: (0.55-0.4)/0.2, 1, 0
    assert by["A"].norm_win_rate == pytest.approx(0.75)
    assert by["B"].norm_win_rate == pytest.approx(1.0)
    assert by["C"].norm_win_rate == pytest.approx(0.0)
    assert by["A"].score == pytest.approx(1.75)
    assert by["B"].score == pytest.approx(1.5)
    assert by["C"].score == pytest.approx(0.0)
    # score μ = 13/12, σ = √(0.8958…) = 0.94648
    assert table.score_mean == pytest.approx(13 / 12)
    assert table.score_sd == pytest.approx(0.946485, abs=1e-6)
    # CI μ = 0.38333, σ = 0.076376: 0.45 < μ+σ = 0.4597 -> 1.5; 0.30 < μ−σ = 0.3070 -> 2.5
    assert table.ci_mean == pytest.approx(0.383333, abs=1e-6)
    assert table.ci_sd == pytest.approx(0.076376, abs=1e-6)
    assert [by[a].tier_ci for a in "ABC"] == ["1.5", "1.5", "2.5"]
    assert [by[a].tier_score for a in "ABC"] == ["1.5", "1.5", "2.5"]
    assert [by[a].rank_ci for a in "ABC"] == [2, 1, 3]
    assert [by[a].rank_score for a in "ABC"] == [1, 2, 3]
    # rows come in CI-rank order
    assert [r.archetype for r in table.rows] == ["B", "A", "C"]
    assert table.iterations == 1
    assert not any(r.outlier for r in table.rows)


def _cascade_rows() -> list[TierInput]:
    rows = [TierInput(f"A{i:02d}", 10.0 + i, 0.5 + 0.001 * i, 0.5) for i in range(11)]
    rows.append(TierInput("Near", 5.0, 0.45, 0.45))
    rows.append(TierInput("Far", 4.0, 0.30, 0.0))
    return rows


def test_outlier_removal_is_iterative() -> None:
    # Pass 1 (13 rows): Far's z = 3.31 -> Other. Pass 2 (12 rows): Near's z = 11/√12 = 3.18
    # -> Other (it was not an outlier in pass 1). Pass 3: eleven equal bounds, σ = 0.
    table = compute_tiers(_cascade_rows())
    assert table.iterations == 3
    assert [r.archetype for r in table.rows[-2:]] == ["Far", "Near"]
    for r in table.rows[-2:]:
        assert r.outlier
        assert r.tier_ci == TIER_OTHER and r.tier_score == TIER_OTHER
        assert r.rank_ci is None and r.rank_score is None and r.score is None
    kept = table.rows[:-2]
    assert len(kept) == 11
    assert all(r.tier_ci == "1.5" for r in kept)
    assert table.ci_mean == 0.5 and table.ci_sd == 0.0
    # final normalisation is over the kept rows only: A00 has the smallest kept share
    by = {r.archetype: r for r in kept}
    assert by["A00"].norm_presence == 0.0 and by["A10"].norm_presence == 1.0
    assert sorted(r.rank_score for r in kept if r.rank_score is not None) == list(range(1, 12))


def test_first_pass_does_not_flag_near() -> None:
    # Without removal we see the single first pass: only Far is Other.
    table = compute_tiers(_cascade_rows(), remove_outliers=False)
    assert table.iterations == 1
    others = [r.archetype for r in table.rows if r.tier_ci == TIER_OTHER]
    assert others == ["Far"]
    assert not any(r.outlier for r in table.rows)


def test_missing_lower_bounds_are_dropped_from_mean_sd() -> None:
    rows = [
        TierInput("A", 30.0, 0.6, 0.50),
        TierInput("B", 30.0, 0.5, 0.40),
        TierInput("Solo", 40.0, 0.7, None),  # one player: no CI
    ]
    table = compute_tiers(rows)
    by = {r.archetype: r for r in table.rows}
    assert table.ci_mean == pytest.approx(0.45)
    assert table.ci_sd == pytest.approx(math.sqrt(0.005))
    assert by["Solo"].tier_ci is None and by["Solo"].rank_ci is None
    assert by["Solo"].tier_score is not None and by["Solo"].rank_score == 1
    assert table.rows[-1].archetype == "Solo"  # missing bound sorts last
    assert [by["A"].rank_ci, by["B"].rank_ci] == [1, 2]


def test_single_archetype_has_no_nan() -> None:
    table = compute_tiers([{"archetype": "Only", "share": 100.0, "win_rate": 0.5, "ci_lower": 0.4}])
    (row,) = table.rows
    assert row.norm_presence == 0.5 and row.norm_win_rate == 0.5 and row.score == 1.0
    assert row.tier_ci == "1.5" and row.tier_score == "1.5"
    assert row.rank_ci == 1 and row.rank_score == 1
    assert table.ci_mean == 0.4 and table.ci_sd is None
    assert table.score_sd is None


def test_zero_variance_has_no_nan() -> None:
    rows = [TierInput(n, 25.0, 0.5, 0.4) for n in "ABCD"]
    table = compute_tiers(rows)
    assert table.ci_sd == 0.0 and table.score_sd == 0.0
    for r in table.rows:
        assert r.tier_ci == "1.5" and r.tier_score == "1.5"
        assert r.score is not None and not math.isnan(r.score)
    # equal values rank by name
    assert [r.archetype for r in table.rows] == ["A", "B", "C", "D"]


def test_all_missing_bounds() -> None:
    table = compute_tiers([TierInput("A", 60.0, 0.6, None), TierInput("B", 40.0, 0.4, None)])
    assert table.ci_mean is None and table.ci_sd is None
    assert all(r.tier_ci is None and r.rank_ci is None for r in table.rows)
    assert [r.rank_score for r in table.rows] == [1, 2]


def test_compute_tiers_empty_and_validation() -> None:
    assert compute_tiers([]).rows == []
    with pytest.raises(ValueError):
        compute_tiers([TierInput("A", 10.0, 0.5, 0.4), TierInput("A", 20.0, 0.5, 0.4)])
    with pytest.raises(ValueError):
        compute_tiers([TierInput("A", 0.0, 0.5, 0.4)])
    with pytest.raises(ValueError):
        compute_tiers([{"archetype": "A", "share": 10.0, "win_rate": None, "ci_lower": 0.4}])


def test_percent_and_fraction_scales_give_same_tiers() -> None:
    frac = [
        TierInput(n, s, w, c)
        for n, s, w, c in [
            ("A", 40, 0.55, 0.4),
            ("B", 20, 0.6, 0.45),
            ("C", 10, 0.4, 0.3),
            ("D", 30, 0.52, 0.41),
        ]
    ]
    pct = [
        TierInput(r.archetype, r.share / 100, r.win_rate * 100, (r.ci_lower or 0) * 100)
        for r in frac
    ]
    a, b = compute_tiers(frac), compute_tiers(pct)
    assert [(r.archetype, r.tier_ci, r.tier_score) for r in a.rows] == [
        (r.archetype, r.tier_ci, r.tier_score) for r in b.rows
    ]
    assert b.ci_mean == pytest.approx(a.ci_mean * 100)  # type: ignore[operator]
