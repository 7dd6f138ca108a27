"""Archetype identity (names, slugs, rankable) and the small-sample rules (issue 13), by hand."""

from __future__ import annotations

import math

import pytest

from pipelines.stats.names import assign_slugs, display_name, is_rankable, lookup_key, slugify
from pipelines.stats.samples import (
    METHOD_FALLBACK,
    SampleRules,
    choose_interval,
    is_low_sample,
    shrink_win_rates,
)


@pytest.mark.parametrize(
    ("label", "name", "slug"),
    [
        ("Tin Fins ", "Tin Fins", "tin-fins"),  # trailing space of the definition
        ("Oops ! All Spells", "Oops! All Spells", "oops-all-spells"),  # renderer quirk
        ("Mono Black Death 's Shadow", "Mono Black Death's Shadow", "mono-black-deaths-shadow"),
        ("Dimir Death\u2019s Shadow", "Dimir Death's Shadow", "dimir-deaths-shadow"),
        ("  Izzet   Prowess\t", "Izzet Prowess", "izzet-prowess"),
        ("Now You See Me . . .", "Now You See Me . . .", "now-you-see-me"),  # its own spelling
        ("Death & Taxes", "Death & Taxes", "death-taxes"),
        ("8-cast", "8-cast", "8-cast"),
        ("\u00c9clair ( Combo )", "\u00c9clair (Combo)", "eclair-combo"),
        ("!!!", "!!!", "archetype"),
    ],
)
def test_display_name_and_slug(label: str, name: str, slug: str) -> None:
    assert display_name(label) == name
    assert display_name(name) == name  # idempotent
    assert slugify(label) == slug


def test_lookup_key_matches_any_spelling() -> None:
    assert lookup_key("tin  FINS ") == lookup_key("Tin Fins") == "tin fins"
    assert lookup_key("Oops ! All Spells") == lookup_key("oops! all spells")


def test_unknown_and_conflicts_never_rank() -> None:
    assert not is_rankable("Unknown") and not is_rankable(" Unknown ")
    assert not is_rankable("Conflict(Amulet Titan,Gruul Ramp)")
    assert is_rankable("Unknown Pleasures") and is_rankable("Tin Fins ")


def test_slugs_are_stable_and_collisions_numbered() -> None:
    first = assign_slugs({}, ["UR Control", "Tin Fins"])
    assert first == {"Tin Fins": "tin-fins", "UR Control": "ur-control"}
    # Later names never change earlier slugs; a colliding slug gets a number.
    later = assign_slugs(first, ["Tin Fins", "Tin-Fins", "Tin  Fins!"])
    assert later == {"Tin  Fins!": "tin-fins-2", "Tin-Fins": "tin-fins-3"}


def test_choose_interval_falls_back_to_wilson_below_two_dof() -> None:
    wilson = (0.2, 0.7)
    assert choose_interval((0.1, 0.9), 2.0, wilson) == (0.1, 0.9, "cluster-cr2")
    assert choose_interval((0.0, 1.0), 1.9, wilson) == (0.2, 0.7, METHOD_FALLBACK)
    assert choose_interval((None, None), None, wilson) == (0.2, 0.7, METHOD_FALLBACK)  # 1 player
    assert choose_interval((None, None), None, (None, None)) == (None, None, None)


def test_low_sample_rule() -> None:
    rules = SampleRules(min_players=5, min_decided=20)
    assert not is_low_sample(5, 20, "cluster-cr2", 0.4, 0.6, rules)
    assert is_low_sample(4, 200, "cluster-cr2", 0.4, 0.6, rules)  # too few players
    assert is_low_sample(50, 19, "cluster-cr2", 0.4, 0.6, rules)  # too few decided matches
    assert is_low_sample(50, 200, METHOD_FALLBACK, 0.4, 0.6, rules)  # degenerate interval
    assert is_low_sample(50, 200, "cluster-cr2", 0.0, 1.0, rules)  # a [0, 1] interval
    with pytest.raises(ValueError):
        SampleRules(min_players=1)
    with pytest.raises(ValueError):
        SampleRules(min_decided=0)


def test_shrinkage_by_hand() -> None:
    # A 8/10, B 2/10: p = 0.5, Σn(p_i − p)² = 1.8, (K − 1)p(1 − p) = 0.25,
    # N − Σn²/N = 20 − 10 = 10, τ² = 0.155, M = 0.25/0.155 − 1.
    got = shrink_win_rates([(8, 10), (2, 10), (0, 0)])
    m = 0.25 / 0.155 - 1
    assert got.mean == 0.5 and got.strength == pytest.approx(m)
    assert got.estimates[0] == pytest.approx((8 + m * 0.5) / (10 + m))
    assert got.estimates[1] == pytest.approx((2 + m * 0.5) / (10 + m))
    assert got.estimates[2] is None  # no decided match: no estimate


def test_shrinkage_keeps_a_three_nil_archetype_off_the_top() -> None:
    got = shrink_win_rates([(3, 3), (110, 200), (90, 200)])
    three_nil, best, worst = got.estimates
    assert three_nil is not None and best is not None and worst is not None
    assert three_nil < best < 110 / 200 + 1e-12  # 3-0 pulled far below 100 %
    assert worst > 90 / 200  # pulled up toward the mean
    assert got.mean == pytest.approx(203 / 403)


def test_shrinkage_without_spread_or_data() -> None:
    same = shrink_win_rates([(5, 10), (10, 20)])  # identical rates: τ² = 0, M = ∞
    assert same.strength is None and same.estimates == [0.5, 0.5]
    one = shrink_win_rates([(3, 4)])  # one archetype: nothing to estimate, raw rate
    assert one.strength == 0.0 and one.estimates == [0.75]
    none = shrink_win_rates([(0, 0)])
    assert none.mean is None and none.estimates == [None]
    with pytest.raises(ValueError):
        shrink_win_rates([(3, 2)])
    assert math.isclose(shrink_win_rates([(0, 5), (0, 7)]).mean or 0.0, 0.0)
