"""The Swiss / bracket simulator keeps tournament invariants."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from pipelines.demo.swiss import BYE, MatchModel, run_bracket, run_swiss, swiss_rounds_for


def _model(n: int, seed: int = 1, draw_rate: float = 0.05) -> MatchModel:
    rng = random.Random(seed)
    logit = [[0.0, 0.4], [-0.4, 0.0]]
    return MatchModel(
        logit=logit,
        arch=[rng.randrange(2) for _ in range(n)],
        skill=[rng.gauss(0, 0.3) for _ in range(n)],
        draw_rate=draw_rate,
        rng=rng,
    )


@pytest.mark.parametrize("n", [2, 7, 8, 33, 101])
def test_swiss_invariants(n: int) -> None:
    rounds = swiss_rounds_for(n)
    result = run_swiss(n, rounds, _model(n))
    assert len(result.rounds) == rounds
    for matches in result.rounds:
        players = Counter()
        for a, b, ga, gb, gd in matches:
            players[a] += 1
            if b != BYE:
                players[b] += 1
                assert (ga, gb, gd) in {
                    (2, 0, 0),
                    (2, 1, 0),
                    (0, 2, 0),
                    (1, 2, 0),
                    (1, 1, 1),
                    (1, 1, 0),
                    (0, 0, 3),
                }
        assert sorted(players) == list(range(n)) and set(players.values()) == {1}
        assert sum(1 for m in matches if m[1] == BYE) == n % 2
    for i in range(n):
        assert result.wins[i] + result.losses[i] + result.draws[i] == rounds
        assert result.points[i] == 3 * result.wins[i] + result.draws[i]
    assert sorted(result.order) == list(range(n))
    points = [result.points[i] for i in result.order]
    assert points == sorted(points, reverse=True)


def test_no_rematch_when_avoidable() -> None:
    n = 64
    result = run_swiss(n, 6, _model(n, seed=3))
    pairs = Counter(frozenset((a, b)) for r in result.rounds for a, b, *_ in r if b != BYE)
    assert max(pairs.values()) == 1


def test_tiebreakers_in_range() -> None:
    result = run_swiss(40, 6, _model(40, seed=9))
    for values in (result.omwp, result.gwp, result.ogwp):
        assert all(0.0 <= v <= 1.0 for v in values)
    assert all(v >= 1 / 3 - 1e-9 for v in result.omwp)


def test_bracket_placement() -> None:
    model = _model(8, seed=5, draw_rate=0.0)
    seeds = list(range(8))
    bracket = run_bracket(seeds, model)
    assert [len(r) for r in bracket.rounds] == [4, 2, 1]
    champion, finalist = bracket.rounds[-1][0][:2]
    assert bracket.placement[:2] == [champion, finalist]
    assert sorted(bracket.placement) == seeds
    semi_losers = [m[1] for m in bracket.rounds[1]]
    assert bracket.placement[2:4] == sorted(semi_losers)
    assert {frozenset(m[:2]) for m in bracket.rounds[0]} <= {
        frozenset(p) for p in ((0, 7), (3, 4), (1, 6), (2, 5))
    }
    assert bracket.wins[champion] == 3 and bracket.losses[champion] == 0


def test_deterministic() -> None:
    a = run_swiss(50, 6, _model(50, seed=11))
    b = run_swiss(50, 6, _model(50, seed=11))
    assert a.rounds == b.rounds and a.order == b.order
