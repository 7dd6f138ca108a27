"""Exact cosine nearest neighbours over sparse deck vectors (issue 17, points 1, 4, 5).

Exact rather than MinHash LSH: on the sample the exact sparse product is both faster and
exact (``python -m ops.bench.discovery`` measures both; the figures are in the README). Rows
are processed in blocks so memory stays ``block x decks`` whatever the history's size, and
a nightly run only computes the lists of new decks and of the old decks a new one enters
(:func:`beaten`): work grows with what is new times the history, not with history squared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from pipelines.discovery.vectors import DeckVectors

BLOCK = 512


@dataclass(frozen=True, slots=True)
class Neighbour:
    deck_id: int
    neighbour_id: int
    rank: int  # 1 = most similar
    similarity: float


def top_k(vectors: DeckVectors, k: int, rows: Sequence[int] | None = None) -> list[Neighbour]:
    """The ``k`` most similar other decks of each row in ``rows`` (default: every row)."""
    matrix = vectors.matrix
    wanted = np.arange(matrix.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    transposed = matrix.T.tocsr()
    found: list[Neighbour] = []
    k = min(k, matrix.shape[0] - 1)
    if k <= 0:
        return found
    for start in range(0, len(wanted), BLOCK):
        block = wanted[start : start + BLOCK]
        sims = (matrix[block] @ transposed).toarray()
        sims[np.arange(len(block)), block] = -1.0  # never its own neighbour
        best = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        values = np.take_along_axis(sims, best, axis=1)
        order = np.argsort(-values, axis=1, kind="stable")
        best = np.take_along_axis(best, order, axis=1)
        values = np.take_along_axis(values, order, axis=1).round(4)
        deck_ids, neighbour_ids = vectors.ids[block].tolist(), vectors.ids[best].tolist()
        for r, deck_id in enumerate(deck_ids):
            for rank in range(k):
                found.append(
                    Neighbour(deck_id, neighbour_ids[r][rank], rank + 1, float(values[r, rank]))
                )
    return found


def beaten(vectors: DeckVectors, new_rows: Sequence[int], kth: np.ndarray) -> list[int]:
    """Rows (not in ``new_rows``) whose k-th neighbour similarity ``kth[row]`` some new row
    beats: only their lists change when ``new_rows`` join the history."""
    matrix = vectors.matrix
    hit = np.zeros(matrix.shape[0], dtype=bool)
    transposed = matrix.T.tocsr()
    new = np.asarray(new_rows, dtype=np.int64)
    for start in range(0, len(new), BLOCK):
        block = new[start : start + BLOCK]
        sims = (matrix[block] @ transposed).toarray()
        hit |= (sims > kth[None, :]).any(axis=0)
    hit[new] = False
    return [int(r) for r in np.flatnonzero(hit)]


@dataclass(frozen=True, slots=True)
class NearestArchetype:
    deck_id: int
    archetype: str
    similarity: float


def nearest_archetypes(
    vectors: DeckVectors, labels: Mapping[int, str], queries: Sequence[int]
) -> list[NearestArchetype]:
    """For each deck id in ``queries``: the labelled archetype whose centroid is closest.

    ``labels`` maps the decks labelled by a specific rule to their archetype. Each
    archetype is its decks' mean vector (normalised); the similarity is the cosine with it.
    """
    row_of = vectors.row_of()
    names = sorted(set(labels.values()))
    if not names or not queries:
        return []
    index = {name: j for j, name in enumerate(names)}
    rows = [row_of[d] for d in labels if d in row_of]
    cols = [index[labels[int(vectors.ids[r])]] for r in rows]
    member = sparse.csr_matrix(
        (np.ones(len(rows)), (cols, rows)), shape=(len(names), vectors.matrix.shape[0])
    )
    centroids = member @ vectors.matrix
    norms = np.sqrt(np.asarray(centroids.multiply(centroids).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    centroids = sparse.csr_matrix(sparse.diags(1.0 / norms) @ centroids)
    present = [q for q in queries if q in row_of]
    result: list[NearestArchetype] = []
    for start in range(0, len(present), BLOCK):
        block = present[start : start + BLOCK]
        sims = (vectors.matrix[[row_of[q] for q in block]] @ centroids.T).toarray()
        best = sims.argmax(axis=1)
        for i, deck_id in enumerate(block):
            result.append(
                NearestArchetype(deck_id, names[best[i]], round(float(sims[i, best[i]]), 4))
            )
    return result


__all__ = ["BLOCK", "NearestArchetype", "Neighbour", "beaten", "nearest_archetypes", "top_k"]
