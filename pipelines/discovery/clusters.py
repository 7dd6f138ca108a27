"""Clusters of the decks no specific rule names (issue 17, point 2).

The pool (a window's Unknown and fallback-labelled decks) is clustered on cosine distance
between deck vectors by agglomerative clustering (scikit-learn, average linkage, cut at a
distance threshold): it needs no number of clusters and clusters below the minimum size are
left as noise. HDBSCAN (``--method hdbscan``) was measured too: on the leave-one-out
benchmark it splits an archetype into several dense cores (Pioneer median recall 0.31 vs
0.95 for average linkage at the same precision, 1.0), see the README.

Each cluster is named by its most distinctive cards (frequent in the cluster, rare in the
rest of the window) and gets a stable id: a cluster most of whose decks belonged to one
cluster of the previous run keeps that cluster's id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from scipy import sparse
from sklearn.cluster import HDBSCAN, AgglomerativeClustering

MIN_CLUSTER_SIZE = 5
AGGLOMERATIVE_DISTANCE = 0.8  # cosine distance; chosen by ops.bench.discovery (README)
METHODS = ("hdbscan", "agglomerative")


def cluster_rows(
    matrix: sparse.csr_matrix,
    min_size: int = MIN_CLUSTER_SIZE,
    method: str = "agglomerative",
) -> np.ndarray:
    """A cluster number per row (-1 = noise), clusters below ``min_size`` dropped."""
    n = matrix.shape[0]
    if n < max(min_size, 2):
        return np.full(n, -1, dtype=np.int64)
    similarity = (matrix @ matrix.T).toarray()
    distance = np.clip(1.0 - similarity, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    if method == "hdbscan":
        model = HDBSCAN(
            min_cluster_size=min_size,
            min_samples=min(min_size, 3),
            metric="precomputed",
            cluster_selection_method="eom",
            copy=False,
        )
        labels = model.fit_predict(distance)
    elif method == "agglomerative":
        model = AgglomerativeClustering(
            n_clusters=None,
            metric="precomputed",
            linkage="average",
            distance_threshold=AGGLOMERATIVE_DISTANCE,
        )
        labels = model.fit_predict(distance)
    else:
        raise ValueError(f"unknown clustering method {method!r}; one of {METHODS}")
    return _drop_small(np.asarray(labels, dtype=np.int64), min_size)


def _drop_small(labels: np.ndarray, min_size: int) -> np.ndarray:
    result = np.full_like(labels, -1)
    numbers, counts = np.unique(labels[labels >= 0], return_counts=True)
    kept = sorted((n for n, c in zip(numbers, counts, strict=True) if c >= min_size))
    for new, old in enumerate(kept):
        result[labels == old] = new
    return result


def distinctive_cards(
    member_cards: Sequence[set[str]],
    window_frequency: Mapping[str, float],
    count: int = 3,
) -> list[str]:
    """Cards most typical of the members and least of the window (share x lift, ties by name)."""
    share: dict[str, float] = {}
    for cards in member_cards:
        for card in cards:
            share[card] = share.get(card, 0.0) + 1.0
    n = max(len(member_cards), 1)

    def score(card: str) -> float:
        inside = share[card] / n
        return inside * (inside - window_frequency.get(card, 0.0))

    ranked = sorted(share, key=lambda c: (-score(c), c))
    return ranked[:count]


def cluster_name(cards: Sequence[str]) -> str:
    """``"Card A + Card B"``: what a curator reads first."""
    return " + ".join(cards) if cards else "(empty)"


def stable_ids(
    clusters: Sequence[frozenset[int]],
    previous: Mapping[int, frozenset[int]],
    new_id: Callable[[], int],
) -> list[int]:
    """An id per cluster: the previous cluster's id when most of that cluster's decks are in
    this one and they make up most of this one (greedy by overlap, each id used once);
    otherwise a fresh id from ``new_id``."""
    pairs = []
    for i, members in enumerate(clusters):
        for old_id, old in previous.items():
            overlap = len(members & old)
            if overlap * 2 > len(old) and overlap * 2 > len(members):
                pairs.append((overlap, -old_id, i))
    ids: list[int | None] = [None] * len(clusters)
    used: set[int] = set()
    for _overlap, neg_old, i in sorted(pairs, reverse=True):
        if ids[i] is None and -neg_old not in used:
            ids[i] = -neg_old
            used.add(-neg_old)
    return [i if i is not None else new_id() for i in ids]


__all__ = [
    "AGGLOMERATIVE_DISTANCE",
    "METHODS",
    "MIN_CLUSTER_SIZE",
    "cluster_name",
    "cluster_rows",
    "distinctive_cards",
    "stable_ids",
]
