"""Vectorised interval bounds for many rows at once (the refresh and custom windows).

Each function computes exactly the formulas of :mod:`pipelines.stats.intervals` (the scalar
reference, tested against these) with NumPy/SciPy over arrays: a refresh computes tens of
thousands of intervals, and the clustered interval's pairwise degrees of freedom reduce to
O(n) sums here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import beta, norm, t

from pipelines.stats.intervals import DEFAULT_CONFIDENCE

__all__ = ["clopper_pearson_many", "clustered_segments", "wilson_many"]


def _clamp01(values: np.ndarray) -> np.ndarray:
    clamped: np.ndarray = np.minimum(1.0, np.maximum(0.0, values))
    return clamped


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


def clustered_segments(
    wins: np.ndarray,
    losses: np.ndarray,
    bounds: np.ndarray,
    confidence: float = DEFAULT_CONFIDENCE,
) -> list[tuple[float | None, float | None, float | None, float | None]]:
    """CR2 player-clustered bounds ``(lower, upper, std_error, dof)`` of many archetypes at once.

    ``wins``/``losses`` hold the per-player counts of every archetype, archetype ``k``'s
    players at ``[bounds[k], bounds[k + 1])``; players without a decided match are ignored.
    The formulas are those of :func:`pipelines.stats.intervals.clustered_interval`
    (``ω_i = m_i / Σm``, ``q = Σω²``, ``A_i = 1 − 2ω_i + q``, ``V = Σ ω²(y − p)²/A``), but the
    Bell–McCaffrey degrees of freedom reduce to O(n) sums: with ``s0 = Σ ω²/A``,
    ``s1 = Σ ω³/A``, ``s2 = Σ ω⁴/A``, ``cross = Σ ω⁴(q − 2ω)/A²`` and ``d2 = Σ ω⁴/A²``,
    ``tr P = q`` and ``Σ_ij P_ij² = q²s0² + 2 s0 s2 + 2 s1² − 4 q s0 s1 + 2 cross + d2``, so
    ``ν = q² / Σ P²`` (the reference loops over all pairs of players, too slow for archetypes
    with thousands of them).

    The players of an archetype are summed in a canonical order (sorted by ``(W, L)``), so the
    result depends only on the multiset of per-player records — not on the order a query
    returned them in, nor on which pre-aggregates they were summed from. Fewer than two
    players with decided matches: all ``None``.
    """
    bounds = np.asarray(bounds, dtype=np.int64)
    out: list[tuple[float | None, float | None, float | None, float | None]] = [
        (None, None, None, None)
    ] * (len(bounds) - 1)
    w_all = np.asarray(wins, dtype=np.int64)
    l_all = np.asarray(losses, dtype=np.int64)
    decided = (w_all + l_all) > 0
    row_of = np.repeat(np.arange(len(bounds) - 1), np.diff(bounds))
    counts = np.bincount(row_of[decided], minlength=len(bounds) - 1)
    rows = np.flatnonzero(counts >= 2)
    if rows.size == 0:
        return out
    chosen = decided & (counts >= 2)[row_of]
    # Canonical order: each archetype's players sorted by (W, L), packed in one int64.
    packed = w_all[chosen] << 32 | l_all[chosen]
    sizes = counts[rows]
    ends = np.cumsum(sizes)
    starts = ends - sizes
    packed = np.concatenate(
        [np.sort(packed[a:b]) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    )
    seg = np.repeat(np.arange(rows.size), sizes)
    w = (packed >> 32).astype(np.float64)
    m = w + (packed & 0xFFFFFFFF).astype(np.float64)
    total = np.add.reduceat(m, starts)
    p = np.add.reduceat(w, starts) / total
    omega = m / total[seg]
    y = w / m
    w2 = omega * omega
    w3 = w2 * omega
    w4 = w2 * w2
    q = np.add.reduceat(w2, starts)
    a = 1.0 - 2.0 * omega + q[seg]  # > 0 with two players or more
    variance = np.add.reduceat(w2 * (y - p[seg]) ** 2 / a, starts)
    s0 = np.add.reduceat(w2 / a, starts)
    s1 = np.add.reduceat(w3 / a, starts)
    s2 = np.add.reduceat(w4 / a, starts)
    cross = np.add.reduceat(w4 * (q[seg] - 2.0 * omega) / (a * a), starts)
    d2 = np.add.reduceat(w4 / (a * a), starts)
    sum_sq = q * q * s0 * s0 + 2.0 * s0 * s2 + 2.0 * s1 * s1 - 4.0 * q * s0 * s1
    sum_sq = sum_sq + 2.0 * cross + d2
    dof = q * q / sum_sq
    se = np.sqrt(np.maximum(variance, 0.0))
    half = np.asarray(t.ppf(1.0 - (1.0 - confidence) / 2.0, dof), dtype=np.float64) * se
    lower = _clamp01(p - half)
    upper = _clamp01(p + half)
    for k, row in enumerate(rows.tolist()):
        out[row] = (float(lower[k]), float(upper[k]), float(se[k]), float(dof[k]))
    return out
