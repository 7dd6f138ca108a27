"""Matchup matrix from cell counts, with a presence cut and an "Other" bucket (DOMAIN §4.8).

Differences from the R reference (METHODOLOGY.md):

* cells carry wins, losses **and draws**; the cell win rate is ``wins / (wins + losses)`` with
  a Clopper–Pearson interval on the same counts; ``None`` when no match was decided;
* every cell carries ``mirrors``: mirror matches (same archetype on both sides), **each
  counted once**; they are only ever on the diagonal and never in wins/losses/draws, so the
  diagonal ``[A, A]`` of a real archetype has no win rate and no interval (flagged
  ``mirror``);
* archetypes below the cut, beyond ``max_archetypes``, or absent from ``presence`` are merged
  into one ``Other`` row **and** column (no double counting, no silent absorption into the
  last real archetype). ``[Other, Other]`` holds the matches between *different* merged
  archetypes (from both sides, so its own rate is 50 % by construction and is not shown)
  plus the merged archetypes' mirrors in ``mirrors``;
* a row total sums every cell of the row including the diagonal's non-mirror matches: for a
  real archetype that is its win rate (mirrors excluded); for ``Other`` it includes the
  Other-vs-Other matches, so it equals the pooled win rate of the merged archetypes.

Shares and win rates are fractions in [0, 1].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from pipelines.stats.interval_arrays import clopper_pearson_many
from pipelines.stats.intervals import DEFAULT_CONFIDENCE

__all__ = [
    "CellLike",
    "MatchupCell",
    "MatchupMatrix",
    "RowTotal",
    "build_matrix",
    "select_archetypes",
]


class CellLike(Protocol):
    """Anything with ``wins``, ``losses``, ``draws`` and ``mirrors`` counts. On the diagonal
    ``[A, A]`` only ``mirrors`` (mirror matches, each once) is used."""

    @property
    def wins(self) -> int: ...

    @property
    def losses(self) -> int: ...

    @property
    def draws(self) -> int: ...

    @property
    def mirrors(self) -> int: ...


@dataclass(frozen=True, slots=True)
class MatchupCell:
    """Cell ``[row, col]`` from the row archetype's view.

    ``n = wins + losses + draws`` (non-mirror matches); ``decided = wins + losses``;
    ``mirrors`` = mirror matches, each once (diagonal only); ``win_rate``, ``lower`` and
    ``upper`` are ``None`` when ``decided == 0`` and on the diagonal.
    """

    row: str
    col: str
    wins: int
    losses: int
    draws: int
    n: int
    decided: int
    win_rate: float | None
    lower: float | None
    upper: float | None
    mirror: bool
    mirrors: int = 0


@dataclass(frozen=True, slots=True)
class RowTotal:
    """A row's non-mirror record over all columns (the diagonal's non-mirror matches, i.e.
    Other-vs-Other, included)."""

    label: str
    wins: int
    losses: int
    draws: int
    win_rate: float | None


@dataclass(frozen=True, slots=True)
class MatchupMatrix:
    """The matrix: ``labels`` in display order (presence descending, ``other_label`` last when
    present), a cell for every ordered pair of labels, each label's presence share, the
    archetypes merged into ``Other``, and row totals."""

    labels: list[str]
    cells: dict[tuple[str, str], MatchupCell]
    shares: dict[str, float]
    merged: list[str]
    other_label: str | None
    row_totals: dict[str, RowTotal]
    confidence: float

    def cell(self, row: str, col: str) -> MatchupCell:
        """The cell ``[row, col]``."""
        return self.cells[(row, col)]


def select_archetypes(
    presence: Mapping[str, float],
    min_share: float = 0.0,
    max_archetypes: int | None = None,
    other_label: str = "Other",
) -> list[str]:
    """Archetypes shown individually: share ``presence / Σ presence >= min_share`` (inclusive,
    as R's chart cut), by presence descending then name, at most ``max_archetypes``. An
    archetype literally named ``other_label`` is never selected (it joins the bucket).

    Raises:
        ValueError: for a negative presence, ``min_share`` outside [0, 1] or
            ``max_archetypes < 1``.
    """
    if not 0.0 <= min_share <= 1.0:
        raise ValueError(f"min_share must be a fraction in [0, 1], got {min_share}")
    if max_archetypes is not None and max_archetypes < 1:
        raise ValueError(f"max_archetypes must be >= 1, got {max_archetypes}")
    if any(v < 0 for v in presence.values()):
        raise ValueError("presence values must be >= 0")
    total = sum(presence.values())
    ordered = sorted(presence.items(), key=lambda kv: (-kv[1], kv[0]))
    kept = [
        name
        for name, value in ordered
        if name != other_label and total > 0 and value / total >= min_share
    ]
    if max_archetypes is not None:
        kept = kept[:max_archetypes]
    return kept


def build_matrix(
    cells: Mapping[tuple[str, str], CellLike],
    presence: Mapping[str, float],
    *,
    min_share: float = 0.0,
    max_archetypes: int | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
    other_label: str = "Other",
) -> MatchupMatrix:
    """Build the matchup matrix.

    Args:
        cells: counts per ordered ``(row archetype, column archetype)``, from the row's view;
            a diagonal key ``(A, A)`` gives A's mirror matches in ``mirrors`` (each once).
        presence: presence metric per archetype (decks, players or matches); decides order and
            the cut.
        min_share: fraction of total presence an archetype needs to get its own row/column.
        max_archetypes: optional cap on individual rows (the rest go to ``Other``).
        confidence: level of the Clopper–Pearson intervals.
        other_label: label of the merged bucket.
    """
    kept = select_archetypes(presence, min_share, max_archetypes, other_label)
    kept_set = set(kept)
    names = set(presence) | {a for key in cells for a in key}
    merged = sorted(n for n in names if n not in kept_set)
    labels = [*kept, other_label] if merged else list(kept)

    def bucket(name: str) -> str:
        return name if name in kept_set else other_label

    wins: dict[tuple[str, str], int] = {}
    losses: dict[tuple[str, str], int] = {}
    draws: dict[tuple[str, str], int] = {}
    mirrors: dict[tuple[str, str], int] = {}
    for (row, col), counts in cells.items():
        key = (bucket(row), bucket(col))
        if row == col:  # a mirror, once; merged archetypes' mirrors land on [Other, Other]
            mirrors[key] = mirrors.get(key, 0) + counts.mirrors
            continue
        wins[key] = wins.get(key, 0) + counts.wins
        losses[key] = losses.get(key, 0) + counts.losses
        draws[key] = draws.get(key, 0) + counts.draws

    keys = [(row, col) for row in labels for col in labels]
    # The diagonal has no rate or interval (0 of 0); every bound at once (vectorised, the
    # same values as intervals.clopper_pearson).
    x = [0 if row == col else wins.get((row, col), 0) for row, col in keys]
    n = [0 if row == col else wins.get((row, col), 0) + losses.get((row, col), 0)
         for row, col in keys]  # fmt: skip
    lowers, uppers = clopper_pearson_many(x, n, confidence)
    matrix: dict[tuple[str, str], MatchupCell] = {}
    for (row, col), xi, ni, lower, upper in zip(keys, x, n, lowers, uppers, strict=True):
        w = wins.get((row, col), 0)
        lo = losses.get((row, col), 0)
        d = draws.get((row, col), 0)
        matrix[(row, col)] = MatchupCell(
            row=row,
            col=col,
            wins=w,
            losses=lo,
            draws=d,
            n=w + lo + d,
            decided=w + lo,
            win_rate=xi / ni if ni else None,
            lower=lower,
            upper=upper,
            mirror=row == col and row in kept_set,
            mirrors=mirrors.get((row, col), 0),
        )

    total_presence = sum(presence.values())
    shares: dict[str, float] = {}
    for label in labels:
        members = [label] if label in kept_set else merged
        value = sum(presence.get(m, 0.0) for m in members)
        shares[label] = value / total_presence if total_presence else 0.0

    row_totals: dict[str, RowTotal] = {}
    for row in labels:
        row_cells = [matrix[(row, col)] for col in labels]
        w = sum(c.wins for c in row_cells)
        lo = sum(c.losses for c in row_cells)
        d = sum(c.draws for c in row_cells)
        row_totals[row] = RowTotal(row, w, lo, d, w / (w + lo) if w + lo else None)

    return MatchupMatrix(
        labels=labels,
        cells=matrix,
        shares=shares,
        merged=merged,
        other_label=other_label if merged else None,
        row_totals=row_totals,
        confidence=confidence,
    )
