"""Published archetype rows of one (window, event group, basis) from their counts.

:func:`finish_window` takes the counted rows
:func:`pipelines.stats.window_stats.compute_window_stats` reads from the tables (counts, the
clustered and Wilson intervals) and adds everything a reader needs to interpret them
(METHODOLOGY.md §3–§7):

* shares of decks, players and seats (fractions over all archetypes of the window);
* coverage: ``covered / decks`` (decks with at least one counted match — or record — in the
  basis) and ``decided_per_deck``;
* the published interval (``ci_lower``/``ci_upper`` with ``ci_method``: the clustered one, or
  Wilson as a flagged fallback), ``low_sample``, and the shrunk win rate;
* the presence rank and the tiers: only **rankable** (not ``Unknown``/``Conflict(…)``) rows
  that are not ``low_sample`` enter the tier table; its presence is the seat share among
  them; ``tier_cut`` is a fraction.
"""

from __future__ import annotations

from typing import Any, Final

from pipelines.stats.names import is_rankable
from pipelines.stats.samples import SampleRules, choose_interval, is_low_sample, shrink_win_rates
from pipelines.stats.tiers import TierInput, above_average_share, compute_tiers

__all__ = ["BASES", "DEFAULT_BASIS", "check_basis", "finish_window", "tier_rows"]

#: Win-rate bases (METHODOLOGY.md §4): recorded rounds, or the published decks' records.
BASES: Final = ("matches", "records")
DEFAULT_BASIS: Final = "matches"


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def tier_rows(rows: list[dict[str, Any]], total: dict[str, Any]) -> None:
    """Fill the tier columns of one (window, group, basis)'s rows and the tier lines of its
    totals (METHODOLOGY.md §6–§7). The tier table holds rankable, not-low-sample archetypes
    with a decided match; presence = their share of seats among them; the average-share
    cut keeps those strictly above ``1 / N`` (``tier_cut``, a fraction rounded to 4 places as
    the R percentage is to 2)."""
    eligible = [
        r for r in rows if r["rankable"] and not r["low_sample"] and r["wins"] + r["losses"] > 0
    ]
    seats = sum(r["seats"] for r in eligible)
    candidates = [
        TierInput(r["archetype"], r["seats"] / seats, r["win_rate"], r["ci_lower"])
        for r in eligible
        if seats and r["seats"] > 0
    ]
    kept = above_average_share(candidates, lambda c: c.share)
    total["tier_cut"] = round(100.0 / len(candidates), 2) / 100.0 if candidates else None
    table = compute_tiers(kept)
    by_name = {row.archetype: row for row in table.rows}
    total["ci_mean"], total["ci_sd"] = table.ci_mean, table.ci_sd
    total["score_mean"], total["score_sd"] = table.score_mean, table.score_sd
    for r in rows:
        tier = by_name.get(r["archetype"])
        r["in_tier_table"] = tier is not None
        r["tier_ci"] = tier.tier_ci if tier else None
        r["tier_score"] = tier.tier_score if tier else None
        r["rank_ci"] = tier.rank_ci if tier else None
        r["rank_score"] = tier.rank_score if tier else None
        r["score"] = tier.score if tier else None
        r["outlier"] = bool(tier.outlier) if tier else False


def finish_window(
    rows: list[dict[str, Any]],
    total: dict[str, Any],
    rules: SampleRules,
) -> None:
    """Complete one (window, group, basis)'s rows and totals in place (module docstring).

    Each row needs ``archetype, decks, players, seats, wins, losses, covered,
    decided_players, cl_lower, cl_upper, ci_std_error, ci_dof, wilson_lower,
    wilson_upper``; ``total`` gets ``decks, seats, covered, coverage, shrink_mean,
    shrink_strength, min_players, min_decided`` and the tier lines.
    """
    decks = sum(r["decks"] for r in rows)
    entries = sum(r["players"] for r in rows)
    seats = sum(r["seats"] for r in rows)
    shrink = shrink_win_rates([(r["wins"], r["wins"] + r["losses"]) for r in rows])
    for r, shrunk in zip(rows, shrink.estimates, strict=True):
        decided = r["wins"] + r["losses"]
        lower, upper, method = choose_interval(
            (r.pop("cl_lower"), r.pop("cl_upper")),
            r["ci_dof"],
            (r["wilson_lower"], r["wilson_upper"]),
        )
        r.update(
            win_rate=r["wins"] / decided if decided else None,
            shrunk_win_rate=shrunk,
            ci_lower=lower,
            ci_upper=upper,
            ci_method=method,
            low_sample=is_low_sample(r["decided_players"], decided, method, lower, upper, rules),
            rankable=is_rankable(r["archetype"]),
            share_decks=_share(r["decks"], decks),
            share_players=_share(r["players"], entries),
            share_seats=_share(r["seats"], seats),
            coverage=_share(r["covered"], r["decks"]),
            decided_per_deck=_share(decided, r["decks"]),
        )
    rows.sort(key=lambda r: (-r["decks"], r["archetype"]))
    rank = 0
    for r in rows:
        if r["rankable"]:
            rank += 1
            r["rank"] = rank
        else:
            r["rank"] = None
    covered = sum(r["covered"] for r in rows)
    total.update(
        decks=decks,
        seats=seats,
        archetypes=len(rows),
        covered=covered,
        coverage=_share(covered, decks),
        shrink_mean=shrink.mean,
        shrink_strength=shrink.strength,
        min_players=rules.min_players,
        min_decided=rules.min_decided,
    )
    tier_rows(rows, total)


def check_basis(basis: str) -> str:
    """``basis`` if it is a known win-rate basis; ValueError otherwise."""
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}; one of {list(BASES)}")
    return basis
