"""Small samples handled on purpose (METHODOLOGY.md §6): the minimum sample of the tier table,
the interval fallback when the clustered interval degenerates, and the empirically shrunk
win rate.

* :class:`SampleRules` — minimum players with a decided match and minimum decided matches an
  archetype needs to rank and tier (settings ``STATS_MIN_PLAYERS`` / ``STATS_MIN_DECIDED``).
* :func:`choose_interval` — the clustered CR2 interval when it is well defined (≥ 2 players
  and ν ≥ :data:`MIN_DOF`), else the Wilson interval, flagged ``"wilson-fallback"``.
* :func:`is_low_sample` — below the minimum, on a fallback interval, or an interval that
  spans all of [0, 1]: such a row shows its numbers but never ranks or tiers.
* :func:`shrink_win_rates` — beta-binomial empirical Bayes toward the pooled win rate of the
  window (method of moments), so a 3–0 archetype does not top a chart.

Pure Python; fractions in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

__all__ = [
    "DEFAULT_MIN_DECIDED",
    "DEFAULT_MIN_PLAYERS",
    "METHOD_FALLBACK",
    "MIN_DOF",
    "SampleRules",
    "Shrinkage",
    "choose_interval",
    "is_low_sample",
    "shrink_win_rates",
]

DEFAULT_MIN_PLAYERS: Final = 5
DEFAULT_MIN_DECIDED: Final = 20
#: Below these degrees of freedom the t quantile explodes (t₀.₉₇₅ at ν = 1 is 12.7) and the
#: clustered interval is no longer informative: fall back to Wilson.
MIN_DOF: Final = 2.0
METHOD_CLUSTERED: Final = "cluster-cr2"
METHOD_FALLBACK: Final = "wilson-fallback"


@dataclass(frozen=True, slots=True)
class SampleRules:
    """Minimum sample an archetype needs to rank and tier (both conditions)."""

    min_players: int = DEFAULT_MIN_PLAYERS
    min_decided: int = DEFAULT_MIN_DECIDED

    def __post_init__(self) -> None:
        if self.min_players < 2:
            raise ValueError("min_players must be >= 2 (the clustered interval needs two)")
        if self.min_decided < 1:
            raise ValueError("min_decided must be >= 1")


Bounds = tuple[float | None, float | None]


def choose_interval(
    clustered: Bounds, dof: float | None, wilson: Bounds
) -> tuple[float | None, float | None, str | None]:
    """``(lower, upper, method)`` of the published win-rate interval.

    The clustered bounds when they exist and ``dof >= MIN_DOF``; otherwise the Wilson bounds
    with method ``"wilson-fallback"``; ``(None, None, None)`` without a decided match.
    """
    if clustered[0] is not None and dof is not None and dof >= MIN_DOF:
        return clustered[0], clustered[1], METHOD_CLUSTERED
    if wilson[0] is None:
        return None, None, None
    return wilson[0], wilson[1], METHOD_FALLBACK


def is_low_sample(
    players: int, decided: int, method: str | None, lower: float | None, upper: float | None,
    rules: SampleRules,
) -> bool:  # fmt: skip
    """True when the row must not rank or tier: fewer than ``rules.min_players`` players with
    a decided match, fewer than ``rules.min_decided`` decided matches, an interval that is
    not the clustered one, or an interval covering all of [0, 1]."""
    if players < rules.min_players or decided < rules.min_decided:
        return True
    if method != METHOD_CLUSTERED or lower is None or upper is None:
        return True
    return lower <= 0.0 and upper >= 1.0


@dataclass(frozen=True, slots=True)
class Shrinkage:
    """The fitted prior and the shrunk estimates.

    ``mean``: pooled win rate ``ΣW / Σn`` of the archetypes (the prior mean); ``strength``:
    the prior's ``α + β`` in pseudo-matches (``None`` = infinite: no detectable spread, every
    estimate equals the mean; ``0`` = no shrinkage); ``estimates``: one per input, ``None``
    where ``n = 0``.
    """

    mean: float | None
    strength: float | None
    estimates: list[float | None]


def shrink_win_rates(records: Sequence[tuple[int, int]]) -> Shrinkage:
    """Beta-binomial empirical-Bayes win rates for ``(wins, decided)`` per archetype.

    With ``K`` archetypes having ``n_i > 0``, ``N = Σ n_i``, ``p̄ = ΣW / N``:

    * between-archetype variance of true win rates (moment estimator, as for random effects
      on proportions): ``τ² = max(0, (Σ n_i (p_i − p̄)² − (K − 1) p̄(1 − p̄)) / (N − Σ n_i²/N))``;
    * prior ``Beta(M p̄, M (1 − p̄))`` with ``M = p̄(1 − p̄)/τ² − 1`` (clamped at 0);
      ``τ² = 0`` means ``M = ∞``;
    * estimate ``(W_i + M p̄) / (n_i + M)`` (``p̄`` when ``M = ∞``).

    With fewer than two archetypes, or ``p̄`` at 0 or 1, nothing can be estimated: the raw
    rates are returned with ``strength = 0``.
    """
    present = [(w, n) for w, n in records if n > 0]
    if any(w < 0 or w > n for w, n in records):
        raise ValueError("need 0 <= wins <= decided for every archetype")
    total = sum(n for _, n in present)
    raw = [w / n if n else None for w, n in records]
    if len(present) < 2 or total == 0:
        return Shrinkage(sum(w for w, _ in present) / total if total else None, 0.0, raw)
    mean = sum(w for w, _ in present) / total
    spread = mean * (1.0 - mean)
    if spread == 0.0:
        return Shrinkage(mean, 0.0, raw)
    between = math.fsum(n * (w / n - mean) ** 2 for w, n in present)
    denominator = total - math.fsum(n * n for _, n in present) / total
    tau2 = max(0.0, (between - (len(present) - 1) * spread) / denominator)
    if tau2 == 0.0:
        return Shrinkage(mean, None, [mean if n else None for _, n in records])
    strength = max(0.0, spread / tau2 - 1.0)
    estimates = [(w + strength * mean) / (n + strength) if n else None for w, n in records]
    return Shrinkage(mean, strength, estimates)
