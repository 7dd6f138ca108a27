"""Plain-Python reference computation of archetype and matchup counts.

This module is the independent check the tests compare the PostgreSQL materialized views
against, so it is written to be obviously correct rather than fast: simple loops over
normalised rows, no SQL, no clever aggregation.

Input rows (already normalised by ingestion and classification):

* :class:`DeckRow` — one per deck: archetype, player, tournament (event identity), event date;
* :class:`MatchRow` — one per (de-duplicated) match between two decks: both players, both
  decks' archetypes and the game scores.

Rules (METHODOLOGY.md):

* outcome from game scores (more game wins = win, fewer = loss, equal = draw);
* byes and matches against a player without a decklist (empty player/archetype slot) are
  excluded and counted in ``excluded_matches``;
* a **mirror** (same archetype on both sides) is excluded from the archetype's W/L/D and counted
  in ``mirrors``; it appears on the matchup diagonal;
* every non-excluded match is counted once from each side: cell ``[A, B]`` from A's view and
  cell ``[B, A]`` from B's view (so ``[A, B].wins == [B, A].losses``). A mirror adds one to
  ``[A, A].mirrors`` (each mirror match once) and nothing to its wins, losses or draws;
* ``seats`` (the presence metric) counts seats: each match adds 1 to both sides' archetype,
  so a mirror adds 2 — ``seats = wins + losses + draws + 2 × mirrors``;
* ``covered``: decks of the archetype with at least one counted match (mirrors included),
  recognised by (tournament, player);
* shares are fractions: ``decks / Σ decks``, ``players / Σ_archetypes players`` (a player with
  two archetypes counts in both), ``seats / Σ seats``.

:func:`records_basis` computes the *records* basis from each deck's own record
(:attr:`DeckRow.record`, byes already removed by the caller).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from pipelines.stats.intervals import (
    DEFAULT_CONFIDENCE,
    Interval,
    clustered_interval,
    wilson_interval,
)
from pipelines.stats.outcomes import is_bye, match_outcome
from pipelines.stats.windows import DateWindow

__all__ = [
    "ArchetypeCounts",
    "CellCounts",
    "DeckRow",
    "MatchRow",
    "RecordCounts",
    "ReferenceStats",
    "archetype_intervals",
    "compute_reference_stats",
    "records_basis",
]


@dataclass(frozen=True, slots=True)
class DeckRow:
    """One deck: ``deck_id`` must be unique across the input."""

    deck_id: str | int
    archetype: str
    player: str
    tournament: str
    event_date: date
    record: tuple[int, int, int] | None = None  # (W, L, D) of the records basis


@dataclass(frozen=True, slots=True)
class MatchRow:
    """One match between two players of one tournament, with both decks' archetypes.

    ``p1_games``/``p2_games`` are game wins. An empty ``player2``/``archetype2`` (``None``,
    ``""`` or ``"-"``) marks a bye or an opponent without a decklist.
    """

    tournament: str
    event_date: date
    player1: str
    player2: str | None
    archetype1: str | None
    archetype2: str | None
    p1_games: int
    p2_games: int
    round_name: str = ""


@dataclass(frozen=True, slots=True)
class CellCounts:
    """Matchup cell ``[row, col]`` seen from the row archetype."""

    wins: int = 0
    losses: int = 0
    draws: int = 0
    mirrors: int = 0

    @property
    def decided(self) -> int:
        """Wins + losses: the denominator of the win rate."""
        return self.wins + self.losses

    @property
    def n(self) -> int:
        """All matches of the cell: wins + losses + draws."""
        return self.wins + self.losses + self.draws


@dataclass(frozen=True, slots=True)
class ArchetypeCounts:
    """Counts of one archetype (see the module docstring for the definitions).

    ``player_records``: ``(player, wins, losses)`` per player with at least one non-mirror
    match, sorted by player — the input of the clustered interval.
    """

    archetype: str
    decks: int
    players: int
    wins: int
    losses: int
    draws: int
    mirrors: int
    seats: int
    share_decks: float
    share_players: float
    share_seats: float
    player_records: tuple[tuple[str, int, int], ...]
    covered: int = 0

    @property
    def decided(self) -> int:
        """Non-mirror wins + losses."""
        return self.wins + self.losses

    @property
    def win_rate(self) -> float | None:
        """``wins / (wins + losses)`` (mirrors and draws excluded); ``None`` without decided
        matches."""
        return self.wins / self.decided if self.decided else None


@dataclass(frozen=True, slots=True)
class ReferenceStats:
    """Result of :func:`compute_reference_stats`.

    ``archetypes`` is keyed by archetype (sorted by name); ``cells`` holds only cells with at
    least one match. ``total_players`` counts distinct player names overall.
    """

    archetypes: dict[str, ArchetypeCounts]
    cells: dict[tuple[str, str], CellCounts]
    total_decks: int
    total_players: int
    total_matches: int
    excluded_matches: int


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _blank(value: str | None) -> bool:
    return value is None or is_bye(value)


def compute_reference_stats(
    decks: Iterable[DeckRow],
    matches: Iterable[MatchRow],
    window: DateWindow | None = None,
) -> ReferenceStats:
    """Count decks, players, results and matchup cells per archetype.

    Args:
        decks: deck rows; ``deck_id`` must be unique.
        matches: de-duplicated match rows.
        window: when given, only rows whose ``event_date`` lies in it (ends inclusive) count.

    Raises:
        ValueError: for a repeated ``deck_id``.
    """
    deck_ids: set[str | int] = set()
    kept_decks: list[DeckRow] = []
    deck_count: dict[str, int] = {}
    players_of: dict[str, set[str]] = {}
    all_players: set[str] = set()
    for deck in decks:
        if window is not None and not window.contains(deck.event_date):
            continue
        if deck.deck_id in deck_ids:
            raise ValueError(f"duplicate deck_id {deck.deck_id!r}")
        deck_ids.add(deck.deck_id)
        kept_decks.append(deck)
        deck_count[deck.archetype] = deck_count.get(deck.archetype, 0) + 1
        players_of.setdefault(deck.archetype, set()).add(deck.player)
        all_players.add(deck.player)

    wins: dict[str, int] = {}
    losses: dict[str, int] = {}
    draws: dict[str, int] = {}
    mirrors: dict[str, int] = {}
    seats: dict[str, int] = {}
    per_player: dict[str, dict[str, list[int]]] = {}  # archetype -> player -> [W, L]
    cell_w: dict[tuple[str, str], int] = {}
    cell_l: dict[tuple[str, str], int] = {}
    cell_d: dict[tuple[str, str], int] = {}
    cell_m: dict[tuple[str, str], int] = {}
    counted = 0
    excluded = 0
    played: set[tuple[str, str]] = set()  # (tournament, player) with a counted match

    def bump(table: dict[tuple[str, str], int], key: tuple[str, str], by: int = 1) -> None:
        table[key] = table.get(key, 0) + by

    def record(archetype: str, player: str, outcome: str) -> None:
        """One non-mirror result for one side."""
        rec = per_player.setdefault(archetype, {}).setdefault(player, [0, 0])
        if outcome == "W":
            wins[archetype] = wins.get(archetype, 0) + 1
            rec[0] += 1
        elif outcome == "L":
            losses[archetype] = losses.get(archetype, 0) + 1
            rec[1] += 1
        else:
            draws[archetype] = draws.get(archetype, 0) + 1

    for match in matches:
        if window is not None and not window.contains(match.event_date):
            continue
        if (
            _blank(match.player1)
            or _blank(match.player2)
            or _blank(match.archetype1)
            or _blank(match.archetype2)
        ):
            excluded += 1
            continue
        a1 = match.archetype1
        a2 = match.archetype2
        p2 = match.player2
        assert a1 is not None and a2 is not None and p2 is not None
        outcome1 = match_outcome(match.p1_games, match.p2_games)
        outcome2 = match_outcome(match.p2_games, match.p1_games)
        counted += 1
        played.add((match.tournament, match.player1))
        played.add((match.tournament, p2))
        seats[a1] = seats.get(a1, 0) + 1
        seats[a2] = seats.get(a2, 0) + 1

        if a1 == a2:  # the diagonal: each mirror match once, never as wins/losses
            mirrors[a1] = mirrors.get(a1, 0) + 1
            bump(cell_m, (a1, a1))
            continue
        # Matchup cells, once from each side.
        for row, col, outcome in ((a1, a2, outcome1), (a2, a1, outcome2)):
            if outcome == "W":
                bump(cell_w, (row, col))
            elif outcome == "L":
                bump(cell_l, (row, col))
            else:
                bump(cell_d, (row, col))
        record(a1, match.player1, outcome1)
        record(a2, p2, outcome2)

    archetype_names = sorted(set(deck_count) | set(seats))
    total_decks = sum(deck_count.values())
    total_player_entries = sum(len(players_of.get(a, ())) for a in archetype_names)
    total_seats = sum(seats.values())

    covered: dict[str, int] = {}
    for deck in kept_decks:
        if (deck.tournament, deck.player) in played:
            covered[deck.archetype] = covered.get(deck.archetype, 0) + 1

    archetypes: dict[str, ArchetypeCounts] = {}
    for name in archetype_names:
        n_players = len(players_of.get(name, ()))
        records = tuple(
            (player, wl[0], wl[1])
            for player, wl in sorted(per_player.get(name, {}).items())
            if wl[0] + wl[1] > 0
        )
        archetypes[name] = ArchetypeCounts(
            archetype=name,
            decks=deck_count.get(name, 0),
            players=n_players,
            wins=wins.get(name, 0),
            losses=losses.get(name, 0),
            draws=draws.get(name, 0),
            mirrors=mirrors.get(name, 0),
            seats=seats.get(name, 0),
            share_decks=_share(deck_count.get(name, 0), total_decks),
            share_players=_share(n_players, total_player_entries),
            share_seats=_share(seats.get(name, 0), total_seats),
            player_records=records,
            covered=covered.get(name, 0),
        )

    cell_keys = sorted(set(cell_w) | set(cell_l) | set(cell_d) | set(cell_m))
    cells = {
        key: CellCounts(
            cell_w.get(key, 0), cell_l.get(key, 0), cell_d.get(key, 0), cell_m.get(key, 0)
        )
        for key in cell_keys
    }
    return ReferenceStats(
        archetypes=archetypes,
        cells=cells,
        total_decks=total_decks,
        total_players=len(all_players),
        total_matches=counted,
        excluded_matches=excluded,
    )


def archetype_intervals(
    counts: ArchetypeCounts, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[Interval, Interval]:
    """The archetype's player-clustered CR2 interval and its Wilson interval (non-mirror
    wins over wins + losses)."""
    per_player: Sequence[tuple[int, int]] = [(w, lo) for _, w, lo in counts.player_records]
    return (
        clustered_interval(per_player, confidence),
        wilson_interval(counts.wins, counts.decided, confidence),
    )


@dataclass(frozen=True, slots=True)
class RecordCounts:
    """One archetype in the records basis: summed deck records, decks with a record of at
    least one match (``covered``), and ``(player, W, L)`` per player with a decided match."""

    archetype: str
    decks: int
    wins: int
    losses: int
    draws: int
    covered: int
    player_records: tuple[tuple[str, int, int], ...]


def records_basis(
    decks: Iterable[DeckRow], window: DateWindow | None = None
) -> dict[str, RecordCounts]:
    """The records basis per archetype from :attr:`DeckRow.record` (``None`` = no record)."""
    acc: dict[str, list[int]] = {}
    per_player: dict[str, dict[str, list[int]]] = {}
    for deck in decks:
        if window is not None and not window.contains(deck.event_date):
            continue
        a = acc.setdefault(deck.archetype, [0, 0, 0, 0, 0])
        a[0] += 1
        if deck.record is None:
            continue
        w, lo, d = deck.record
        a[1] += w
        a[2] += lo
        a[3] += d
        a[4] += 1 if w + lo + d > 0 else 0
        rec = per_player.setdefault(deck.archetype, {}).setdefault(deck.player, [0, 0])
        rec[0] += w
        rec[1] += lo
    return {
        name: RecordCounts(
            name,
            a[0],
            a[1],
            a[2],
            a[3],
            a[4],
            tuple(
                (p, wl[0], wl[1])
                for p, wl in sorted(per_player.get(name, {}).items())
                if wl[0] + wl[1] > 0
            ),
        )
        for name, a in sorted(acc.items())
    }
