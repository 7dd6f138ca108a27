"""A weighted card-set vector per deck, for cosine similarity (issue 17, point 1).

A deck is a set of canonical card names (split cards as ``A // B``, double-faced and
adventure cards by their front face: ``cards.canonical_name``), each weighted by

* its board — a mainboard card counts fully (a 1-of half as much as a 4-of), a card seen only
  in the sideboard counts :data:`SIDEBOARD_WEIGHT` (sideboards answer the field, mainboards
  define the deck);
* how rare it is in the format — inverse document frequency ``log(N / df)``, so a staple in
  most decks (fetch lands, Lightning Bolt, Thoughtseize) says little and a signature card a
  lot; basic lands carry :data:`BASIC_WEIGHT` on top (their count says colours, which the
  other cards already say).

Rows are L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

Entry = tuple[str, int]

SIDEBOARD_WEIGHT = 0.3
BASIC_WEIGHT = 0.1
BASIC_LANDS = frozenset(
    {
        "Plains",
        "Island",
        "Swamp",
        "Mountain",
        "Forest",
        "Wastes",
        "Snow-Covered Plains",
        "Snow-Covered Island",
        "Snow-Covered Swamp",
        "Snow-Covered Mountain",
        "Snow-Covered Forest",
        "Snow-Covered Wastes",
    }
)


@dataclass(frozen=True, slots=True)
class Deck:
    """One decklist as the classifier sees it (raw names, file order, duplicates kept)."""

    id: int
    main: tuple[Entry, ...]
    side: tuple[Entry, ...]


def board_weights(deck: Deck, canonical: Callable[[str], str]) -> dict[str, float]:
    """Canonical card -> board weight (before rarity): main 0.5..1 by copies, side-only 0.3."""
    copies: dict[str, int] = {}
    for name, count in deck.main:
        key = canonical(name)
        copies[key] = copies.get(key, 0) + max(count, 0)
    weights = {card: 0.5 + 0.125 * min(n, 4) for card, n in copies.items()}
    for name, _count in deck.side:
        weights.setdefault(canonical(name), SIDEBOARD_WEIGHT)
    return weights


@dataclass(frozen=True)
class DeckVectors:
    """Deck vectors of one format: row ``i`` is deck ``ids[i]``; columns are ``cards``."""

    ids: np.ndarray  # int64 deck ids, one per row
    matrix: sparse.csr_matrix  # L2-normalised rows
    cards: tuple[str, ...]  # canonical card name per column
    idf: np.ndarray  # rarity weight per column

    def row_of(self) -> dict[int, int]:
        """Deck id -> row index."""
        return {int(d): i for i, d in enumerate(self.ids)}


def build_vectors(decks: Sequence[Deck], canonical: Callable[[str], str] = str) -> DeckVectors:
    """Vectors of ``decks``; card rarity is measured over these decks (a format's history)."""
    column: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    for i, deck in enumerate(decks):
        for card, weight in board_weights(deck, canonical).items():
            j = column.setdefault(card, len(column))
            rows.append(i)
            cols.append(j)
            values.append(weight)
    n = len(decks)
    shape = (n, len(column))
    raw = sparse.csr_matrix((values, (rows, cols)), shape=shape, dtype=np.float64)
    df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=len(column))
    cards = tuple(sorted(column, key=column.__getitem__))
    idf = np.array([math.log((n + 1) / (d + 1)) + 0.05 for d in df], dtype=np.float64)
    basics = np.array([c in BASIC_LANDS for c in cards], dtype=bool)
    idf[basics] *= BASIC_WEIGHT
    weighted = raw @ sparse.diags(idf) if len(cards) else raw
    ids = np.array([d.id for d in decks], dtype=np.int64)
    return DeckVectors(ids, _normalised(sparse.csr_matrix(weighted)), cards, idf)


def _normalised(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


__all__ = ["BASIC_LANDS", "Deck", "DeckVectors", "board_weights", "build_vectors"]
