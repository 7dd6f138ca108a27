"""Confidence intervals for win rates (DOMAIN §4.5).

Three intervals, all returned as fractions in ``[0, 1]`` (the API multiplies by 100):

* :func:`clustered_interval` — the archetype win-rate interval: a weighted intercept-only
  regression of per-player win rates, clustered by player, with CR2 (Bell–McCaffrey) standard
  errors and Satterthwaite-style degrees of freedom, in the closed form of DOMAIN §4.5.1.
  It treats *players* as the unit of variation, not matches.
* :func:`wilson_interval` — the Wilson score interval on pooled matches (shown next to the
  clustered interval for comparison).
* :func:`clopper_pearson` — the exact binomial interval (matchup cells, cards, players).

Every function takes ``confidence`` (default 0.95), i.e. ``1 − α``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from scipy.stats import beta, norm, t

__all__ = [
    "DEFAULT_CONFIDENCE",
    "METHOD_CLOPPER_PEARSON",
    "METHOD_CLUSTERED",
    "METHOD_WILSON",
    "Interval",
    "clopper_pearson",
    "clustered_interval",
    "wilson_interval",
]

DEFAULT_CONFIDENCE: Final = 0.95
METHOD_CLUSTERED: Final = "cluster-cr2"
METHOD_WILSON: Final = "wilson"
METHOD_CLOPPER_PEARSON: Final = "clopper-pearson"


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with a two-sided confidence interval, all as fractions in [0, 1].

    Attributes:
        estimate: the point estimate (pooled win rate), ``None`` when there is no data.
        lower: lower bound, clamped to [0, 1]; ``None`` when it cannot be computed.
        upper: upper bound, clamped to [0, 1]; ``None`` when it cannot be computed.
        std_error: standard error of the estimate (√V for the clustered interval, the binomial
            ``√(p(1−p)/n)`` for the binomial ones); ``None`` when undefined.
        dof: degrees of freedom of the t quantile (clustered interval only), else ``None``.
        method: one of ``"cluster-cr2"``, ``"wilson"``, ``"clopper-pearson"``.
    """

    estimate: float | None
    lower: float | None
    upper: float | None
    std_error: float | None
    dof: float | None
    method: str


def _check_confidence(confidence: float) -> float:
    if not (isinstance(confidence, int | float) and 0.0 < float(confidence) < 1.0):
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return float(confidence)


def _check_counts(wins: int, n: int) -> None:
    if isinstance(wins, bool) or isinstance(n, bool):
        raise TypeError("wins and n must be integers, not booleans")
    if wins < 0 or n < 0 or wins > n:
        raise ValueError(f"need 0 <= wins <= n, got wins={wins}, n={n}")


def _clamp(x: float) -> float:
    return min(1.0, max(0.0, x))


def clustered_interval(
    per_player: Sequence[tuple[int, int]], confidence: float = DEFAULT_CONFIDENCE
) -> Interval:
    """Player-clustered CR2 interval on an archetype's win rate (DOMAIN §4.5.1).

    Args:
        per_player: one ``(W_i, L_i)`` pair per player (already aggregated over that player's
            decks of the archetype; draws are not part of the win rate). Players with
            ``W_i + L_i = 0`` are dropped.
        confidence: two-sided confidence level ``1 − α``.

    Returns:
        ``estimate = ΣW / Σ(W+L)`` (the pooled win rate) with the t-interval
        ``estimate ± t_{ν, 1−α/2} · √V``, clamped to [0, 1]. With fewer than two players with
        matches the bounds, ``std_error`` and ``dof`` are ``None`` (and with no player at all
        the estimate is ``None`` too). With zero variance (every player at the same rate) the
        interval collapses to the estimate.

    Closed form, with ``m_i = W_i + L_i``, ``ω_i = m_i / Σm``, ``q = Σω²``,
    ``A_i = 1 − 2ω_i + q`` and ``y_i = W_i / m_i``::

        V    = Σ ω_i² (y_i − p)² / A_i
        P_ij = ω_i ω_j (q − ω_i − ω_j) / √(A_i A_j) + [i = j] ω_i² / A_i
        ν    = (tr P)² / Σ_ij P_ij²
    """
    conf = _check_confidence(confidence)
    wins: list[int] = []
    totals: list[int] = []
    for w, lo in per_player:
        if isinstance(w, bool) or isinstance(lo, bool) or w < 0 or lo < 0:
            raise ValueError(f"per-player wins and losses must be integers >= 0, got {(w, lo)}")
        if w + lo > 0:
            wins.append(w)
            totals.append(w + lo)

    if not totals:
        return Interval(None, None, None, None, None, METHOD_CLUSTERED)
    total = sum(totals)
    p = sum(wins) / total
    if len(totals) < 2:
        return Interval(p, None, None, None, None, METHOD_CLUSTERED)

    omega = [m / total for m in totals]
    q = math.fsum(o * o for o in omega)
    a = [1.0 - 2.0 * o + q for o in omega]
    y = [w / m for w, m in zip(wins, totals, strict=True)]

    variance = math.fsum(o * o * (yi - p) ** 2 / ai for o, yi, ai in zip(omega, y, a, strict=True))
    sqrt_a = [math.sqrt(ai) for ai in a]
    trace = 0.0
    sum_sq = 0.0
    n = len(omega)
    for i in range(n):
        oi = omega[i]
        for j in range(n):
            oj = omega[j]
            pij = oi * oj * (q - oi - oj) / (sqrt_a[i] * sqrt_a[j])
            if i == j:
                pij += oi * oi / a[i]
                trace += pij
            sum_sq += pij * pij
    dof = trace * trace / sum_sq

    se = math.sqrt(variance)
    half = float(t.ppf(1.0 - (1.0 - conf) / 2.0, dof)) * se
    return Interval(p, _clamp(p - half), _clamp(p + half), se, dof, METHOD_CLUSTERED)


def wilson_interval(wins: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Wilson score interval for ``wins`` successes out of ``n`` decided matches.

    Returns ``estimate = wins / n``; with ``n = 0`` every field except ``method`` is ``None``.
    The bound is exactly 0 when ``wins = 0`` and exactly 1 when ``wins = n``.
    """
    conf = _check_confidence(confidence)
    _check_counts(wins, n)
    if n == 0:
        return Interval(None, None, None, None, None, METHOD_WILSON)
    p = wins / n
    z = float(norm.ppf(1.0 - (1.0 - conf) / 2.0))
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    lower = 0.0 if wins == 0 else _clamp(centre - half)
    upper = 1.0 if wins == n else _clamp(centre + half)
    se = math.sqrt(p * (1.0 - p) / n)
    return Interval(p, lower, upper, se, None, METHOD_WILSON)


def clopper_pearson(wins: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Exact (Clopper–Pearson) binomial interval, DOMAIN §4.5.2.

    ``lower = 0`` if ``wins = 0`` else ``Beta⁻¹(α/2; wins, n − wins + 1)``;
    ``upper = 1`` if ``wins = n`` else ``Beta⁻¹(1 − α/2; wins + 1, n − wins)``.
    With ``n = 0`` (no decided match) every field except ``method`` is ``None``.
    """
    conf = _check_confidence(confidence)
    _check_counts(wins, n)
    if n == 0:
        return Interval(None, None, None, None, None, METHOD_CLOPPER_PEARSON)
    alpha = 1.0 - conf
    p = wins / n
    lower = 0.0 if wins == 0 else float(beta.ppf(alpha / 2.0, wins, n - wins + 1))
    upper = 1.0 if wins == n else float(beta.ppf(1.0 - alpha / 2.0, wins + 1, n - wins))
    se = math.sqrt(p * (1.0 - p) / n)
    return Interval(p, lower, upper, se, None, METHOD_CLOPPER_PEARSON)
