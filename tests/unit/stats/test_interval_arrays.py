"""The vectorised intervals (interval_arrays) against the scalar reference (intervals)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from pipelines.stats.interval_arrays import clopper_pearson_many, clustered_segments, wilson_many
from pipelines.stats.intervals import clopper_pearson, clustered_interval, wilson_interval

DOMAIN_VECTORS = [
    [(5, 1), (3, 3), (2, 4)],
    [(7, 1), (6, 2), (5, 3), (4, 4), (3, 5), (2, 6)],
    [(10, 2), (3, 5), (8, 8), (1, 1), (6, 9)],
    [(3, 0), (0, 3)],
    [(2, 2), (4, 4), (1, 1)],  # zero variance
    [(40, 1), (1, 0), (0, 1), (2, 2), (9, 30), (0, 0)],  # a player without decided matches
    [(4, 1)],  # one player: no interval
    [(0, 0), (0, 0)],  # nobody decided
    [],  # an archetype without players
]


def _segments(groups: list[list[tuple[int, int]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    wins = np.array([w for g in groups for w, _ in g], dtype=np.int64)
    losses = np.array([lo for g in groups for _, lo in g], dtype=np.int64)
    bounds = np.concatenate(([0], np.cumsum([len(g) for g in groups])))
    return wins, losses, bounds


@pytest.mark.parametrize("level", [0.8, 0.95, 0.99])
def test_clustered_segments_equal_the_scalar_interval(level: float) -> None:
    rng = random.Random(7)
    groups = [*DOMAIN_VECTORS]
    for _ in range(200):  # random archetypes, 1 to 60 players, some heavy regulars
        n = rng.randint(1, 60)
        groups.append(
            [(rng.randint(0, rng.choice((3, 9, 40))), rng.randint(0, 12)) for _ in range(n)]
        )
    got = clustered_segments(*_segments(groups), level)
    assert len(got) == len(groups)
    for players, (lower, upper, se, dof) in zip(groups, got, strict=True):
        ref = clustered_interval(players, level)
        if ref.dof is None:
            assert (lower, upper, se, dof) == (None, None, None, None), players
            continue
        assert lower == pytest.approx(ref.lower, abs=1e-12), players
        assert upper == pytest.approx(ref.upper, abs=1e-12), players
        assert se == pytest.approx(ref.std_error, rel=1e-9, abs=1e-15), players
        assert dof == pytest.approx(ref.dof, rel=1e-9), players


def test_clustered_segments_do_not_depend_on_player_order() -> None:
    """Bit-identical whatever order a query returned the players in (the window statistics
    read them from different pre-aggregates for standard and custom windows)."""
    rng = random.Random(3)
    players = [(rng.randint(0, 30), rng.randint(0, 30)) for _ in range(500)]
    first = clustered_segments(*_segments([players]))
    for _ in range(5):
        rng.shuffle(players)
        assert clustered_segments(*_segments([players])) == first


def test_domain_test_vectors() -> None:
    """DOMAIN §4.5.1's table (checked against R's estimatr)."""
    got = clustered_segments(*_segments(DOMAIN_VECTORS[:3]))
    expected = [(0.14699, 2.000, 0.0, 1.0), (0.09547, 5.000, 0.3171, 0.8079),
                (0.09288, 2.461, 0.1925, 0.8641)]  # fmt: skip
    for (lower, upper, se, dof), (e_se, e_dof, e_lo, e_up) in zip(got, expected, strict=True):
        assert se == pytest.approx(e_se, abs=5e-6)
        assert dof == pytest.approx(e_dof, abs=5e-4)
        assert lower == pytest.approx(e_lo, abs=5e-5)
        assert upper == pytest.approx(e_up, abs=5e-5)


def test_binomial_intervals_equal_the_scalar_functions() -> None:
    pairs = [(w, n) for n in range(0, 40) for w in range(0, n + 1)] + [(517, 1000), (0, 3000)]
    for level in (0.8, 0.95, 0.99):
        wl, wu = wilson_many([w for w, _ in pairs], [n for _, n in pairs], level)
        cl, cu = clopper_pearson_many([w for w, _ in pairs], [n for _, n in pairs], level)
        for (w, n), a, b, c, e in zip(pairs, wl, wu, cl, cu, strict=True):
            wil = wilson_interval(w, n, level)
            cp = clopper_pearson(w, n, level)
            assert (a, b) == (wil.lower, wil.upper)
            assert (c, e) == (cp.lower, cp.upper)
