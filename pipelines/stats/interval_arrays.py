"""Vectorised interval bounds for many rows at once (the refresh and custom windows).

Each function computes exactly the formulas of :mod:`pipelines.stats.intervals` (the scalar
reference, tested against these) with NumPy/SciPy over arrays: a refresh computes tens of
thousands of intervals, and the clustered interval's pairwise degrees of freedom reduce to
O(n) sums here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import beta, norm, t

from pipelines.stats.intervals import DEFAULT_CONFIDENCE

__all__ = ["clopper_pearson_many", "clustered_many", "wilson_many"]


def _clamp01(values: np.ndarray) -> np.ndarray:
    return np.minimum(1.0, np.maximum(0.0, values))


def wilson_many(
    wins: Sequence[int] | np.ndarray,
    n: Sequence[int] | np.ndarray,
    confidence: float = DEFAULT_CONFIDENCE,
) -> tuple[list[float | None], list[float | None]]:
    """Vectorised :func:`pipelines.stats.intervals.wilson_interval` bounds (same formula,
    same operations); ``None`` bounds where ``n = 0``."""
    w = np.asarray(wins, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    if w.size == 0:
        return [], []
    z = float(norm.ppf(1.0 - (1.0 - confidence) / 2.0))
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        p = w / m
        denom = 1.0 + z2 / m
        centre = (p + z2 / (2.0 * m)) / denom
        half = z / denom * np.sqrt(p * (1.0 - p) / m + z2 / (4.0 * m * m))
    lower = np.where(w == 0, 0.0, _clamp01(centre - half))
    upper = np.where(w == m, 1.0, _clamp01(centre + half))
    empty = m == 0
    return (
        [None if e else float(v) for v, e in zip(lower, empty, strict=True)],
        [None if e else float(v) for v, e in zip(upper, empty, strict=True)],
    )


def clopper_pearson_many(
    wins: Sequence[int] | np.ndarray,
    n: Sequence[int] | np.ndarray,
    confidence: float = DEFAULT_CONFIDENCE,
) -> tuple[list[float | None], list[float | None]]:
    """Vectorised :func:`pipelines.stats.intervals.clopper_pearson` bounds; ``None`` where
    ``n = 0``. Distinct ``(wins, n)`` pairs are computed once (matchup cells repeat them a
    lot and the beta quantile is the expensive part)."""
    w_all = np.asarray(wins, dtype=np.int64)
    n_all = np.asarray(n, dtype=np.int64)
    if w_all.size == 0:
        return [], []
    pairs, inverse = np.unique(np.stack([w_all, n_all], axis=1), axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    x = pairs[:, 0]
    m = pairs[:, 1]
    alpha = 1.0 - confidence
    # Dummy shape parameters where the branch is not taken keep beta.ppf finite.
    lower = np.where(x == 0, 0.0, beta.ppf(alpha / 2.0, np.maximum(x, 1), m - x + 1))
    upper = np.where(x == m, 1.0, beta.ppf(1.0 - alpha / 2.0, x + 1, np.maximum(m - x, 1)))
    empty = m == 0
    lo = [None if e else float(v) for v, e in zip(lower, empty, strict=True)]
    up = [None if e else float(v) for v, e in zip(upper, empty, strict=True)]
    return [lo[i] for i in inverse], [up[i] for i in inverse]


def clustered_many(
    rows: Sequence[Mapping[str, Any]], confidence: float
) -> list[tuple[float | None, float | None, float | None, float | None]]:
    """CR2 player-clustered bounds ``(lower, upper, std_error, dof)`` per archetype row.

    The SQL of :func:`compute_window_stats` returns, over the players with decided matches
    (``ω_i = m_i / Σm``, ``q = Σω²``, ``A_i = 1 − 2ω_i + q``): ``variance = Σ ω²(y − p)²/A``
    and the sums ``s0 = Σ ω²/A``, ``s1 = Σ ω³/A``, ``s2 = Σ ω⁴/A``,
    ``cross_term = Σ ω⁴(q − 2ω)/A²``, ``d2 = Σ ω⁴/A²``. With ``P_ij = u_i u_j c_ij + [i=j] d_i``
    (``u_i² = ω_i²/A_i``, ``c_ij = q − ω_i − ω_j``, ``d_i = ω_i²/A_i``), the Bell–McCaffrey
    quantities of :func:`pipelines.stats.intervals.clustered_interval` reduce to O(n) sums:
    ``tr P = Σ ω² = q`` and
    ``Σ_ij P_ij² = q²s0² + 2 s0 s2 + 2 s1² − 4 q s0 s1 + 2 cross_term + d2``,
    so ``ν = q² / Σ P²``. (The reference loops over all pairs of players, which is too slow
    for archetypes with thousands of players.) Fewer than two players: all ``None``.
    """
    out: list[tuple[float | None, float | None, float | None, float | None]] = [
        (None, None, None, None)
    ] * len(rows)
    idx = [i for i, r in enumerate(rows) if (r["cl_players"] or 0) >= 2]
    if not idx:
        return out
    q = np.array([rows[i]["q"] for i in idx], dtype=np.float64)
    s0 = np.array([rows[i]["s0"] for i in idx], dtype=np.float64)
    s1 = np.array([rows[i]["s1"] for i in idx], dtype=np.float64)
    s2 = np.array([rows[i]["s2"] for i in idx], dtype=np.float64)
    cross = np.array([rows[i]["cross_term"] for i in idx], dtype=np.float64)
    d2 = np.array([rows[i]["d2"] for i in idx], dtype=np.float64)
    variance = np.array([rows[i]["variance"] for i in idx], dtype=np.float64)
    sum_sq = q * q * s0 * s0 + 2.0 * s0 * s2 + 2.0 * s1 * s1 - 4.0 * q * s0 * s1
    sum_sq = sum_sq + 2.0 * cross + d2
    dof = q * q / sum_sq
    se = np.sqrt(np.maximum(variance, 0.0))
    tq = np.asarray(t.ppf(1.0 - (1.0 - confidence) / 2.0, dof), dtype=np.float64)
    for k, i in enumerate(idx):
        row = rows[i]
        p = row["wins"] / (row["wins"] + row["losses"])
        half = float(tq[k]) * float(se[k])
        out[i] = (
            min(1.0, max(0.0, p - half)),
            min(1.0, max(0.0, p + half)),
            float(se[k]),
            float(dof[k]),
        )
    return out
