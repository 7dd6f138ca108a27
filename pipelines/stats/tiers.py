"""Tier lists from mean/SD bands (DOMAIN §4.6, §4.7).

Two tiers per archetype:

* ``tier_ci`` — from the lower bound of the win-rate confidence interval (the published one);
* ``tier_score`` — from ``Score = NormPresence + NormWR`` where ``NormPresence`` min-max
  normalises ``ln(share)`` and ``NormWR`` min-max normalises the win rate.

A value ``x`` gets the first band it reaches, top-down: ``μ+3σ → "0"``, ``μ+2σ → "0.5"``,
``μ+σ → "1"``, ``μ → "1.5"``, ``μ−σ → "2"``, ``μ−2σ → "2.5"``, ``μ−3σ → "3"``, else
``"Other"`` (σ = sample standard deviation, n − 1).

Outlier removal: while some archetype has ``tier_ci == "Other"``, those archetypes are removed
and everything (normalisation, μ, σ, both tiers, ranks) is recomputed on the rest; removed
archetypes come back at the end with tier ``"Other"`` on both columns.

Differences from the R reference, all about degenerate inputs R turns into NaN/NA:

* missing (``None``/NaN) CI lower bounds are dropped before μ and σ, get ``tier_ci = None``
  and ``rank_ci = None``;
* when a min-max range is zero (one archetype, or all equal) the normalised value is 0.5;
* when σ is 0 or undefined (fewer than two values) the bands collapse onto μ and values at μ
  get ``"1.5"`` (the literal table would say ``"0"``).

Units: ``share`` is the presence in percent (any positive scale works for the normalisation;
the average-share cut is scale-free), ``win_rate`` and ``ci_lower`` share one scale (fractions
or percent); μ and σ are returned in that scale.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

__all__ = [
    "TIER_LABELS",
    "TIER_OTHER",
    "TierInput",
    "TierRow",
    "TierTable",
    "above_average_share",
    "average_share_cut",
    "compute_tiers",
    "mean_sd",
    "tier_label",
]

TIER_OTHER: Final = "Other"
#: All labels, best first.
TIER_LABELS: Final = ("0", "0.5", "1", "1.5", "2", "2.5", "3", TIER_OTHER)

# (k, label): x >= μ + kσ gives the label; checked top-down.
_BANDS: Final = ((3, "0"), (2, "0.5"), (1, "1"), (0, "1.5"), (-1, "2"), (-2, "2.5"), (-3, "3"))

# Tolerance when comparing a share with the (2-decimal) average-share cut.
_SHARE_EPS: Final = 1e-9

R = TypeVar("R")


def _is_missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def tier_label(x: float | None, mean: float | None, sd: float | None) -> str | None:
    """The §4.7 tier of ``x`` for bands around ``mean`` with width ``sd``.

    Returns ``None`` when ``x`` or ``mean`` is missing (``None``/NaN). When ``sd`` is missing
    or 0 the bands collapse: ``x >= mean`` → ``"1.5"``, below → ``"Other"``.

    Raises:
        ValueError: for a negative ``sd``.
    """
    if _is_missing(x) or _is_missing(mean):
        return None
    assert x is not None and mean is not None
    if _is_missing(sd) or sd == 0:
        return "1.5" if x >= mean else TIER_OTHER
    assert sd is not None
    if sd < 0:
        raise ValueError(f"sd must be >= 0, got {sd}")
    for k, label in _BANDS:
        if x >= mean + k * sd:
            return label
    return TIER_OTHER


def mean_sd(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (n − 1) of the non-missing values.

    ``(None, None)`` without values; ``(mean, None)`` with a single value. Computed with the
    :mod:`statistics` module, so identical values give exactly σ = 0.
    """
    present = [float(v) for v in values if v is not None and not math.isnan(v)]
    if not present:
        return None, None
    if len(present) == 1:
        return present[0], None
    if all(v == present[0] for v in present):
        return present[0], 0.0
    return statistics.mean(present), statistics.stdev(present)


# --------------------------------------------------------------------------- share cut


def average_share_cut(shares: Sequence[float]) -> float | None:
    """The §4.6 automatic cut ``round(mean(share) / Σ share × 100, 2)``, i.e. ``100 / N``
    rounded to two decimals, in percent. ``None`` for no shares or a zero total."""
    total = math.fsum(shares)
    if not shares or total <= 0:
        return None
    return round(statistics.fmean(shares) / total * 100.0, 2)


def _default_share(row: Any) -> float:
    if isinstance(row, Mapping):
        return float(row["share"])
    return float(row.share)


def above_average_share(rows: Sequence[R], share: Callable[[R], float] = _default_share) -> list[R]:
    """Keep the rows whose share is **strictly above** the average-share cut (§4.6).

    Shares are re-expressed as percent of their total before the comparison, so any positive
    scale works. With the 2-decimal rounding of the cut, three equal shares (33.33… > 33.33)
    are all kept while four equal shares (25 > 25) are all dropped — as in the reference.
    """
    values = [share(r) for r in rows]
    cut = average_share_cut(values)
    if cut is None:
        return []
    total = math.fsum(values)
    return [r for r, v in zip(rows, values, strict=True) if 100.0 * v / total > cut + _SHARE_EPS]


# --------------------------------------------------------------------------- tiers


@dataclass(frozen=True, slots=True)
class TierInput:
    """One archetype entering the tier computation."""

    archetype: str
    share: float
    win_rate: float
    ci_lower: float | None


@dataclass(frozen=True, slots=True)
class TierRow:
    """One archetype of the tier table.

    For archetypes removed as outliers, ``outlier`` is true, both tiers are ``"Other"`` and the
    normalised values, score and ranks are ``None``. Ranks are 1-based, descending, ties broken
    by archetype name; ``rank_ci`` is ``None`` for a missing lower bound.
    """

    archetype: str
    share: float
    win_rate: float
    ci_lower: float | None
    norm_presence: float | None
    norm_win_rate: float | None
    score: float | None
    tier_ci: str | None
    tier_score: str | None
    rank_ci: int | None
    rank_score: int | None
    outlier: bool = False


@dataclass(frozen=True, slots=True)
class TierTable:
    """Result of :func:`compute_tiers`.

    ``rows``: kept archetypes by ``rank_ci`` (missing bounds last, by ``rank_score``), then the
    outliers in removal order. ``ci_mean``/``ci_sd`` are the final μ/σ of the lower bound (for
    drawing tier lines), ``score_mean``/``score_sd`` those of the score. ``iterations`` counts
    the computation passes (1 when nothing was removed).
    """

    rows: list[TierRow]
    ci_mean: float | None
    ci_sd: float | None
    score_mean: float | None
    score_sd: float | None
    iterations: int


def _coerce(row: TierInput | Mapping[str, Any]) -> TierInput:
    if isinstance(row, TierInput):
        item = row
    else:
        item = TierInput(
            archetype=str(row["archetype"]),
            share=row["share"],
            win_rate=row["win_rate"],
            ci_lower=row.get("ci_lower"),
        )
    if _is_missing(item.share) or item.share <= 0:
        raise ValueError(f"{item.archetype!r}: share must be > 0, got {item.share!r}")
    if _is_missing(item.win_rate):
        raise ValueError(f"{item.archetype!r}: win_rate is required")
    ci = item.ci_lower
    ci = None if ci is None or math.isnan(ci) else float(ci)
    return TierInput(item.archetype, float(item.share), float(item.win_rate), ci)


def _min_max(values: list[float]) -> list[float]:
    low = min(values)
    span = max(values) - low
    if span == 0:
        return [0.5] * len(values)
    return [(v - low) / span for v in values]


def _ranks(keys: list[tuple[str, float | None]]) -> dict[str, int]:
    """1-based ranks by descending value (ties by name); missing values get no rank."""
    present = sorted(((-v, name) for name, v in keys if v is not None))
    return {name: i for i, (_, name) in enumerate(present, start=1)}


def _one_pass(
    items: list[TierInput],
) -> tuple[list[TierRow], float | None, float | None, float | None, float | None]:
    norm_p = _min_max([math.log(i.share) for i in items])
    norm_w = _min_max([i.win_rate for i in items])
    scores = [p + w for p, w in zip(norm_p, norm_w, strict=True)]
    score_mean, score_sd = mean_sd(scores)
    ci_mean, ci_sd = mean_sd([i.ci_lower for i in items])
    rank_score = _ranks([(i.archetype, s) for i, s in zip(items, scores, strict=True)])
    rank_ci = _ranks([(i.archetype, i.ci_lower) for i in items])
    rows = [
        TierRow(
            archetype=i.archetype,
            share=i.share,
            win_rate=i.win_rate,
            ci_lower=i.ci_lower,
            norm_presence=p,
            norm_win_rate=w,
            score=s,
            tier_ci=tier_label(i.ci_lower, ci_mean, ci_sd),
            tier_score=tier_label(s, score_mean, score_sd),
            rank_ci=rank_ci.get(i.archetype),
            rank_score=rank_score[i.archetype],
        )
        for i, p, w, s in zip(items, norm_p, norm_w, scores, strict=True)
    ]
    return rows, ci_mean, ci_sd, score_mean, score_sd


def compute_tiers(
    rows: Sequence[TierInput | Mapping[str, Any]], *, remove_outliers: bool = True
) -> TierTable:
    """Tiers, ranks and normalised score for the archetypes of a tier table (§4.7).

    Args:
        rows: the archetypes kept by the share cut (see :func:`above_average_share`), each with
            ``archetype``, ``share`` (> 0), ``win_rate`` and ``ci_lower`` (may be ``None``);
            :class:`TierInput` instances or mappings with those keys. Archetype names must be
            unique.
        remove_outliers: apply the iterative removal of ``tier_ci == "Other"`` archetypes.

    Raises:
        ValueError: for duplicate archetypes, a non-positive share or a missing win rate.
    """
    items = [_coerce(r) for r in rows]
    names = [i.archetype for i in items]
    if len(set(names)) != len(names):
        raise ValueError("archetype names must be unique")
    if not items:
        return TierTable([], None, None, None, None, 0)

    removed: list[TierInput] = []
    current = items
    iterations = 0
    while True:
        iterations += 1
        table, ci_mean, ci_sd, score_mean, score_sd = _one_pass(current)
        outliers = {r.archetype for r in table if r.tier_ci == TIER_OTHER}
        if not remove_outliers or not outliers:
            break
        removed.extend(i for i in current if i.archetype in outliers)
        current = [i for i in current if i.archetype not in outliers]

    table.sort(
        key=lambda r: (
            r.rank_ci is None,
            r.rank_ci if r.rank_ci is not None else 0,
            r.rank_score if r.rank_score is not None else 0,
        )
    )
    table.extend(
        TierRow(
            archetype=i.archetype,
            share=i.share,
            win_rate=i.win_rate,
            ci_lower=i.ci_lower,
            norm_presence=None,
            norm_win_rate=None,
            score=None,
            tier_ci=TIER_OTHER,
            tier_score=TIER_OTHER,
            rank_ci=None,
            rank_score=None,
            outlier=True,
        )
        for i in removed
    )
    return TierTable(table, ci_mean, ci_sd, score_mean, score_sd, iterations)
