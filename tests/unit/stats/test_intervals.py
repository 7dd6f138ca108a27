"""Tests for pipelines.stats.intervals (DOMAIN §4.5)."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import t as student_t

from pipelines.stats.intervals import (
    METHOD_CLOPPER_PEARSON,
    METHOD_CLUSTERED,
    METHOD_WILSON,
    clopper_pearson,
    clustered_interval,
    wilson_interval,
)

# --------------------------------------------------------------------------- CR2 vectors

CR2_VECTORS = [
    # players, estimate %, sqrt V, dof, lower %, upper %
    ([(5, 1), (3, 3), (2, 4)], 55.56, 0.14699, 2.000, 0.0, 100.0),
    ([(7, 1), (6, 2), (5, 3), (4, 4), (3, 5), (2, 6)], 56.25, 0.09547, 5.000, 31.71, 80.79),
    ([(10, 2), (3, 5), (8, 8), (1, 1), (6, 9)], 52.83, 0.09288, 2.461, 19.25, 86.41),
]


@pytest.mark.parametrize(("players", "est", "se", "dof", "low", "high"), CR2_VECTORS)
def test_clustered_interval_domain_vectors(
    players: list[tuple[int, int]], est: float, se: float, dof: float, low: float, high: float
) -> None:
    ci = clustered_interval(players, 0.95)
    assert ci.method == METHOD_CLUSTERED
    assert ci.estimate is not None and ci.lower is not None and ci.upper is not None
    assert ci.std_error is not None and ci.dof is not None
    assert round(ci.estimate * 100, 2) == est
    assert round(ci.std_error, 5) == se
    assert round(ci.dof, 3) == dof
    assert round(ci.lower * 100, 2) == low
    assert round(ci.upper * 100, 2) == high


def test_clustered_interval_first_vector_is_clamped_not_raw() -> None:
    # raw interval is 0.5556 ± 4.303 × 0.147 = [-0.077, 1.188]: both sides must be clamped
    ci = clustered_interval([(5, 1), (3, 3), (2, 4)])
    assert ci.lower == 0.0
    assert ci.upper == 1.0


def test_clustered_interval_estimate_is_pooled_not_mean_of_players() -> None:
    ci = clustered_interval([(9, 1), (0, 2)])
    assert ci.estimate == pytest.approx(9 / 12)  # mean of player rates would be 0.45


def test_clustered_interval_one_player_has_no_bounds() -> None:
    ci = clustered_interval([(3, 1)])
    assert ci.estimate == pytest.approx(0.75)
    assert (ci.lower, ci.upper, ci.std_error, ci.dof) == (None, None, None, None)


def test_clustered_interval_players_without_matches_are_dropped() -> None:
    ci = clustered_interval([(3, 1), (0, 0)])
    assert ci.lower is None and ci.estimate == pytest.approx(0.75)
    with_zero = clustered_interval([(7, 1), (6, 2), (0, 0), (5, 3)])
    without = clustered_interval([(7, 1), (6, 2), (5, 3)])
    assert with_zero == without


def test_clustered_interval_no_players() -> None:
    ci = clustered_interval([])
    assert ci.estimate is None and ci.lower is None and ci.upper is None


def test_clustered_interval_zero_variance_collapses() -> None:
    ci = clustered_interval([(2, 2), (3, 3), (1, 1)])
    assert ci.estimate == pytest.approx(0.5)
    assert ci.std_error == 0.0
    assert ci.lower == pytest.approx(0.5) and ci.upper == pytest.approx(0.5)


def test_clustered_interval_hand_computed_two_players() -> None:
    # (3,1), (1,3): equal m -> one-sample t: mean 0.5, s = 0.3536, se = s/√2 = 0.25, ν = 1
    ci = clustered_interval([(3, 1), (1, 3)])
    assert ci.estimate == pytest.approx(0.5)
    assert ci.std_error == pytest.approx(0.25)
    assert ci.dof == pytest.approx(1.0)
    # t_{1,0.975} = 12.706 -> clamped to [0, 1]
    assert (ci.lower, ci.upper) == (0.0, 1.0)
    wide = clustered_interval([(3, 1), (1, 3)], confidence=0.5)
    # t_{1,0.75} = 1 -> 0.5 ± 0.25
    assert wide.lower == pytest.approx(0.25) and wide.upper == pytest.approx(0.75)


def test_clustered_interval_confidence_changes_width() -> None:
    players = [(7, 1), (6, 2), (5, 3), (4, 4), (3, 5), (2, 6)]
    c90 = clustered_interval(players, 0.90)
    c95 = clustered_interval(players, 0.95)
    assert c90.lower is not None and c95.lower is not None
    assert c90.upper is not None and c95.upper is not None
    assert c90.lower > c95.lower and c90.upper < c95.upper
    assert c90.std_error == c95.std_error


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 95, float("nan")])
def test_invalid_confidence_rejected(confidence: float) -> None:
    with pytest.raises(ValueError):
        clustered_interval([(1, 1), (2, 1)], confidence)
    with pytest.raises(ValueError):
        wilson_interval(1, 2, confidence)
    with pytest.raises(ValueError):
        clopper_pearson(1, 2, confidence)


def test_clustered_interval_rejects_negative_counts() -> None:
    with pytest.raises(ValueError):
        clustered_interval([(1, -1), (2, 2)])
    with pytest.raises(ValueError):
        clustered_interval([(-1, 3), (2, 2)])


# --------------------------------------------------------------------------- properties


def _cr2_matrix(players: list[tuple[int, int]]) -> tuple[float, float, float]:
    """Direct matrix implementation of the weighted CR2 estimator (working covariance I).

    V = M (Σ_i X_i' W_i A_i e_i e_i' A_i W_i X_i) M with M = (X'WX)⁻¹,
    A_i = [(I − H)_i (I − H)_i']^(-1/2), H = X M X' W; Bell–McCaffrey ν from the eigenvalues
    of G'G where column i of G is (I − H)_i' A_i W_i X_i M.
    """
    kept = [(w, lo) for w, lo in players if w + lo > 0]
    wins = np.array([w for w, _ in kept], dtype=float)
    m = np.array([w + lo for w, lo in kept], dtype=float)
    n = len(kept)
    y = (wins / m).reshape(n, 1)
    x = np.ones((n, 1))
    w_mat = np.diag(m)
    bread = np.linalg.inv(x.T @ w_mat @ x)
    beta = bread @ x.T @ w_mat @ y
    e = y - x @ beta
    h = x @ bread @ x.T @ w_mat
    ih = np.eye(n) - h
    meat = np.zeros((1, 1))
    g = np.zeros((n, n))
    for i in range(n):
        row = ih[i : i + 1, :]
        b_i = row @ row.T
        vals, vecs = np.linalg.eigh(b_i)
        a_i = vecs @ np.diag(vals**-0.5) @ vecs.T
        u = x[i : i + 1].T @ w_mat[i : i + 1, i : i + 1] @ a_i @ e[i : i + 1]
        meat += u @ u.T
        g[:, i] = (row.T @ a_i @ w_mat[i : i + 1, i : i + 1] @ x[i : i + 1] @ bread).ravel()
    v = bread @ meat @ bread
    lam = np.linalg.eigvalsh(g.T @ g)
    dof = lam.sum() ** 2 / (lam**2).sum()
    return float(beta[0, 0]), math.sqrt(float(v[0, 0])), float(dof)


def test_matrix_reference_reproduces_domain_vector() -> None:
    est, se, dof = _cr2_matrix([(10, 2), (3, 5), (8, 8), (1, 1), (6, 9)])
    assert round(est * 100, 2) == 52.83
    assert round(se, 5) == 0.09288
    assert round(dof, 3) == 2.461


player_lists = st.lists(st.tuples(st.integers(0, 25), st.integers(0, 25)), min_size=2, max_size=12)


@settings(max_examples=150, deadline=None)
@given(player_lists)
def test_closed_form_matches_matrix_formula(players: list[tuple[int, int]]) -> None:
    assume(sum(1 for w, lo in players if w + lo > 0) >= 2)
    est, se, dof = _cr2_matrix(players)
    ci = clustered_interval(players)
    assert ci.estimate == pytest.approx(est, rel=1e-9, abs=1e-12)
    assert ci.std_error == pytest.approx(se, rel=1e-7, abs=1e-12)
    assert ci.dof == pytest.approx(dof, rel=1e-7)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 20).flatmap(
        lambda m: st.tuples(st.just(m), st.lists(st.integers(0, m), min_size=2, max_size=15))
    )
)
def test_equal_match_counts_give_one_sample_t_interval(data: tuple[int, list[int]]) -> None:
    m, wins = data
    players = [(w, m - w) for w in wins]
    rates = [w / m for w in wins]
    n = len(rates)
    mean = statistics.fmean(rates)
    se = statistics.stdev(rates) / math.sqrt(n)
    ci = clustered_interval(players)
    assert ci.estimate == pytest.approx(mean)
    assert ci.dof == pytest.approx(n - 1)
    assert ci.std_error == pytest.approx(se, abs=1e-12)
    half = student_t.ppf(0.975, n - 1) * se
    assert ci.lower == pytest.approx(max(0.0, mean - half), abs=1e-9)
    assert ci.upper == pytest.approx(min(1.0, mean + half), abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(player_lists)
def test_clustered_bounds_are_ordered_and_clamped(players: list[tuple[int, int]]) -> None:
    assume(sum(1 for w, lo in players if w + lo > 0) >= 2)
    ci = clustered_interval(players)
    assert ci.lower is not None and ci.upper is not None and ci.estimate is not None
    assert 0.0 <= ci.lower <= ci.estimate <= ci.upper <= 1.0


# --------------------------------------------------------------------------- Clopper–Pearson

CP_VECTORS = [
    (10, 20, 27.20, 72.80),
    (0, 5, 0.0, 52.18),
    (5, 5, 47.82, 100.0),
    (7, 10, 34.75, 93.33),
]


@pytest.mark.parametrize(("wins", "n", "low", "high"), CP_VECTORS)
def test_clopper_pearson_domain_vectors(wins: int, n: int, low: float, high: float) -> None:
    ci = clopper_pearson(wins, n)
    assert ci.method == METHOD_CLOPPER_PEARSON
    assert ci.estimate == pytest.approx(wins / n)
    assert ci.lower is not None and ci.upper is not None
    assert round(ci.lower * 100, 2) == low
    assert round(ci.upper * 100, 2) == high


def test_clopper_pearson_exact_edges() -> None:
    assert clopper_pearson(0, 5).lower == 0.0
    assert clopper_pearson(5, 5).upper == 1.0
    # 1 − 0.025^(1/5): the closed form when x = n
    assert clopper_pearson(5, 5).lower == pytest.approx(0.025 ** (1 / 5))


def test_clopper_pearson_no_decided_matches_is_na() -> None:
    ci = clopper_pearson(0, 0)
    assert (ci.estimate, ci.lower, ci.upper) == (None, None, None)


def test_clopper_pearson_confidence_level() -> None:
    c99 = clopper_pearson(10, 20, 0.99)
    c95 = clopper_pearson(10, 20, 0.95)
    assert c99.lower is not None and c95.lower is not None
    assert c99.lower < c95.lower


@pytest.mark.parametrize(("wins", "n"), [(-1, 3), (4, 3), (1, -1)])
def test_binomial_rejects_bad_counts(wins: int, n: int) -> None:
    with pytest.raises(ValueError):
        clopper_pearson(wins, n)
    with pytest.raises(ValueError):
        wilson_interval(wins, n)


# --------------------------------------------------------------------------- Wilson


def test_wilson_known_values() -> None:
    ci = wilson_interval(10, 20)
    assert ci.method == METHOD_WILSON
    assert ci.lower is not None and ci.upper is not None
    assert round(ci.lower, 4) == 0.2993 and round(ci.upper, 4) == 0.7007
    seven = wilson_interval(7, 10)
    assert seven.lower is not None and seven.upper is not None
    assert round(seven.lower, 4) == 0.3968 and round(seven.upper, 4) == 0.8922


def test_wilson_zero_wins_closed_form() -> None:
    z2 = 1.959963984540054**2
    ci = wilson_interval(0, 10)
    assert ci.lower == 0.0
    assert ci.upper == pytest.approx(z2 / (10 + z2))
    full = wilson_interval(10, 10)
    assert full.upper == 1.0
    assert full.lower == pytest.approx(10 / (10 + z2))


def test_wilson_empty() -> None:
    ci = wilson_interval(0, 0)
    assert (ci.estimate, ci.lower, ci.upper) == (None, None, None)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 200).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_binomial_intervals_symmetry_and_order(data: tuple[int, int]) -> None:
    wins, n = data
    for func in (wilson_interval, clopper_pearson):
        ci = func(wins, n)
        mirror = func(n - wins, n)
        assert ci.lower is not None and ci.upper is not None and ci.estimate is not None
        assert mirror.lower is not None and mirror.upper is not None
        assert 0.0 <= ci.lower <= ci.estimate <= ci.upper <= 1.0
        assert ci.lower == pytest.approx(1.0 - mirror.upper, abs=1e-9)
