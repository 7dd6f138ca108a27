"""Fill ``mv_card_usage_weekly`` for the weeks of a refresh's scope (``refresh_weeks``).

The definition (what a row holds) is in ``sql/views/07_mv_card_usage_weekly.sql``; this is
its implementation. The statistic groups every card line of every deck of the weeks (about
16 million lines for the 500k-deck archive) by (group, board, card, copies): a hash
aggregate of that many rows in SQL spilled to disk and took most of a full refresh, and
finding the boards that list a card twice cost a sub-query per board. Here PostgreSQL only
sends each deck's arrays as they are stored (``array_send``, concatenated per chunk of
groups: one value per column, no per-line work on the server) and NumPy does the grouping
with two sorts of integer keys; the rows go back through one binary ``COPY`` built from the
same arrays. Chunks of about :data:`CHUNK_DECKS` decks (whole groups) bound the memory.

Exactly the rows of the SQL definition: per (format, Monday, event kind, archetype) group
``g`` and board, a board's lines are summed per canonical card when it needs it (a card id
listed twice, or a card whose canonical name is shared by several ids: then ids not in
``cards`` are dropped, as the SQL's join did), a deck counts once per (card, copies) with
copies > 0, and the arrays are sorted by (card id, copies).
"""

from __future__ import annotations

import struct
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import numpy as np
import psycopg
from psycopg import sql

__all__ = ["CHUNK_DECKS", "fill_card_usage", "planner"]

#: Decks per chunk (whole groups): ~30 card lines a deck, a few int64 arrays a line.
CHUNK_DECKS: Final = 25_000

_COLUMNS: Final = (
    "format", "week_start", "event_kind", "archetype", "board",
    "card_ids", "copies", "decks", "wins", "losses", "rec_wins", "rec_losses",
)  # fmt: skip

# Decks per (format, Monday) of the scope: the chunks are ranges of weeks of one format.
_WEEKS_SQL = """
SELECT f.format, f.week_start, count(*)
  FROM mv_deck_facts f
 WHERE (f.format, f.week_start) IN (SELECT format, week_start FROM refresh_weeks)
 GROUP BY f.format, f.week_start
 ORDER BY f.format, f.week_start
"""
# One chunk, one row per group: its decks' columns, each an array (or the arrays concatenated)
# over the group's decks (all aggregates of one node read the rows in the same order, so the
# i-th deck of every column is the same deck), in binary form.
_CHUNK_SQL = """
SELECT f.format, f.week_start, f.event_kind, f.archetype, count(*)::int,
       array_send(array_agg(f.wins)),
       array_send(array_agg(f.losses)),
       array_send(array_agg(coalesce(f.rec_wins, 0))),
       array_send(array_agg(coalesce(f.rec_losses, 0))),
       array_send(array_agg(cardinality(d.main_card_ids))),
       array_send(array_agg(cardinality(d.side_card_ids))),
       string_agg(array_send(d.main_card_ids), ''::bytea),
       string_agg(array_send(d.main_counts), ''::bytea),
       string_agg(array_send(d.side_card_ids), ''::bytea),
       string_agg(array_send(d.side_counts), ''::bytea)
  FROM mv_deck_facts f
  JOIN decks d ON d.id = f.deck_id
 WHERE f.format = %(format)s AND f.week_start = ANY(%(weeks)s::date[])
 GROUP BY f.format, f.week_start, f.event_kind, f.archetype
"""
# A chunk is a small part of the table: its rows by index, each deck looked up by id (the
# planner may scan and hash the whole decks table), in this process (parallel workers only
# add their start-up on a busy machine).
_CHUNK_SETTINGS: Final = {
    "enable_hashjoin": "off",
    "enable_mergejoin": "off",
    "max_parallel_workers_per_gather": "0",
}
_INT4_OID: Final = 23
_EPOCH: Final = date(2000, 1, 1)
_SIGNATURE: Final = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_TRAILER: Final = struct.pack("!h", -1)


@dataclass(frozen=True, slots=True)
class _Cards:
    """Canonical id of every card id (``-1``: not in ``cards``) and the ids whose canonical
    name is shared by several ids."""

    canon: np.ndarray
    shared: np.ndarray

    def lookup(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(canonical id or the id itself when unknown, known?, shared?) of every id."""
        inside = (ids >= 0) & (ids < len(self.canon))
        safe = np.where(inside, ids, 0)
        canon = np.where(inside, self.canon[safe], -1)
        known = canon >= 0
        shared = inside & self.shared[safe]
        return np.where(known, canon, ids), known, shared


def _cards(conn: psycopg.Connection[Any]) -> _Cards:
    by_name: dict[str, list[int]] = defaultdict(list)
    for card_id, name in conn.execute("SELECT id, canonical_name FROM cards"):
        by_name[name].append(int(card_id))
    top = max((max(ids) for ids in by_name.values()), default=-1)
    canon = np.full(top + 1, -1, dtype=np.int64)
    shared = np.zeros(top + 1, dtype=bool)
    for ids in by_name.values():
        canon[ids] = min(ids)
        if len(ids) > 1:
            shared[ids] = True
    return _Cards(canon, shared)


def _elements(blob: bytes | None, sizes: np.ndarray) -> np.ndarray:
    """The elements of consecutive ``array_send`` int4[] values of ``sizes`` elements."""
    words = np.frombuffer(blob or b"", dtype=">i4")
    # A 1-D array: ndim, has-nulls, element type, length, lower bound, then (4, value) per
    # element; an empty one: ndim 0, has-nulls, element type.
    lengths = np.where(sizes > 0, 5 + 2 * sizes, 3)
    starts = np.cumsum(lengths) - lengths
    if int(lengths.sum()) != len(words):
        raise ValueError("unexpected array_send layout")
    full = sizes > 0
    head = starts[full]
    if not (
        np.all(words[head] == 1)
        and np.all(words[head + 1] == 0)
        and np.all(words[head + 2] == _INT4_OID)
        and np.all(words[head + 3] == sizes[full])
    ):
        raise ValueError("unexpected array_send header (NULL elements or not int4[])")
    total = int(sizes.sum())
    first = np.repeat(starts + 6, sizes)  # the first value of each array
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    values: np.ndarray = words[first + 2 * within].astype(np.int64)
    return values


def _chunks(weeks: list[tuple[str, date, int]]) -> list[tuple[str, list[date]]]:
    """(format, Mondays) of about CHUNK_DECKS decks each, in order."""
    out: list[tuple[str, list[date]]] = []
    decks = 0
    for fmt, week, count in weeks:
        if not out or out[-1][0] != fmt or decks + count > CHUNK_DECKS:
            out.append((fmt, []))
            decks = 0
        out[-1][1].append(week)
        decks += count
    return out


def _segments(keys: np.ndarray) -> np.ndarray:
    """Start index of every run of equal values of a sorted array."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))


def _rank(values: np.ndarray) -> tuple[np.ndarray, int]:
    """``values`` shifted to start at 0 (order-preserving, no sort) and their span."""
    if len(values) == 0:
        return values, 1
    low = int(values.min())
    return values - low, int(values.max()) - low + 1


#: Boards are checked for a repeated card in a (decks × longest board) matrix up to this
#: many cells; past it (a very long board) by sorting the chunk's lines.
_MATRIX_CELLS: Final = 4_000_000


def _repeated(deck: np.ndarray, card: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Whether each deck's board (lines ``deck``/``card`` in board order, ``sizes`` lines a
    deck) lists a card more than once."""
    decks = len(sizes)
    width = int(sizes.max()) if decks else 0
    if width <= 1:
        return np.zeros(decks, dtype=bool)
    if decks * width <= _MATRIX_CELLS:
        # One row per board, padded with distinct values below any card; sorted per row.
        matrix = np.empty((decks, width), dtype=np.int64)
        matrix[:] = np.iinfo(np.int64).min + np.arange(width, dtype=np.int64)
        within = np.arange(len(deck), dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        matrix[deck, within] = card
        matrix.sort(axis=1)
        repeated: np.ndarray = (matrix[:, 1:] == matrix[:, :-1]).any(axis=1)
        return repeated
    order = np.lexsort((card, deck))
    d, c = deck[order], card[order]
    out = np.zeros(decks, dtype=bool)
    out[d[1:][(d[1:] == d[:-1]) & (c[1:] == c[:-1])]] = True
    return out


def _merge_boards(
    deck: np.ndarray,
    card: np.ndarray,
    copies: np.ndarray,
    known: np.ndarray,
    shared: np.ndarray,
    sizes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One (deck, card, copies > 0) entry per card of each deck's board (one side).

    A board needs merging (the SQL's ``needs_merge``) when it lists a card id twice or holds
    a card whose canonical name is shared by several ids: its lines are summed per canonical
    id, only ids of ``cards`` counting (the SQL joined them); every other board's lines are
    its entries (its ids are their own canonical ids)."""
    merge = _repeated(deck, card, sizes)
    merge[deck[shared]] = True
    in_merge = merge[deck]
    plain = ~in_merge & (copies > 0)
    out_deck, out_card, out_copies = deck[plain], card[plain], copies[plain]
    if in_merge.any():
        pick = in_merge & known
        m_deck, m_card, m_copies = deck[pick], card[pick], copies[pick]
        order = np.lexsort((m_card, m_deck))
        m_deck, m_card, m_copies = m_deck[order], m_card[order], m_copies[order]
        change = np.ones(len(m_deck), dtype=bool)
        change[1:] = (m_deck[1:] != m_deck[:-1]) | (m_card[1:] != m_card[:-1])
        starts = np.flatnonzero(change)
        if len(starts):
            summed = np.add.reduceat(m_copies, starts)
            positive = summed > 0
            out_deck = np.concatenate((out_deck, m_deck[starts][positive]))
            out_card = np.concatenate((out_card, m_card[starts][positive]))
            out_copies = np.concatenate((out_copies, summed[positive]))
    return out_deck, out_card, out_copies


def _chunk_rows(
    columns: list[bytes], group_sizes: np.ndarray, cards: _Cards
) -> dict[str, np.ndarray]:
    """The distribution rows of one chunk (``columns``: the blobs of _CHUNK_SQL, joined over
    its groups): per (group, board, card, copies), sorted; ``board`` = 2 × group + side."""
    groups = len(group_sizes)
    wins, losses, rec_wins, rec_losses, n_main, n_side = (
        _elements(b, group_sizes) for b in columns[:6]
    )
    g = np.repeat(np.arange(groups, dtype=np.int64), group_sizes)
    decks = len(g)
    merged = []
    for board_side, (ids_blob, counts_blob, sizes) in enumerate(
        ((columns[6], columns[7], n_main), (columns[8], columns[9], n_side))
    ):
        ids = _elements(ids_blob, sizes)
        copies = _elements(counts_blob, sizes)
        deck = np.repeat(np.arange(decks, dtype=np.int64), sizes)
        card, known, shared = cards.lookup(ids)
        deck, card, copies = _merge_boards(deck, card, copies, known, shared, sizes)
        merged.append((deck, np.full(len(deck), board_side, dtype=np.int64), card, copies))
    deck, side, card, copies = (np.concatenate(parts) for parts in zip(*merged, strict=True))

    # Decks per (group, board, card, copies), sorted by card then copies.
    board = g[deck] * 2 + side
    card_rank, n_cards = _rank(card)
    copies_rank, n_copies = _rank(copies)
    if 2 * groups * n_cards * n_copies < 2**62:
        order = np.argsort((board * n_cards + card_rank) * n_copies + copies_rank)
    else:  # pragma: no cover - ids far beyond any card pool
        order = np.lexsort((copies_rank, card_rank, board))
    deck, board, card, copies = deck[order], board[order], card[order], copies[order]
    change = np.ones(len(deck), dtype=bool)
    change[1:] = (board[1:] != board[:-1]) | (card[1:] != card[:-1]) | (copies[1:] != copies[:-1])
    dist = np.flatnonzero(change)
    return {
        "board": board[dist],
        "card_ids": card[dist],
        "copies": copies[dist],
        "decks": np.diff(np.append(dist, len(deck))),
        "wins": np.add.reduceat(wins[deck], dist) if len(dist) else dist,
        "losses": np.add.reduceat(losses[deck], dist) if len(dist) else dist,
        "rec_wins": np.add.reduceat(rec_wins[deck], dist) if len(dist) else dist,
        "rec_losses": np.add.reduceat(rec_losses[deck], dist) if len(dist) else dist,
    }


def _text(value: str) -> bytes:
    data = value.encode()
    return struct.pack("!i", len(data)) + data


def _copy_data(rows: dict[str, np.ndarray], group_keys: list[tuple[str, date, str, str]]) -> bytes:
    """Binary COPY rows of one chunk (no signature): one row per (group, board)."""
    arrays = ("card_ids", "copies", "decks", "wins", "losses", "rec_wins", "rec_losses")
    n = len(rows["board"])
    # Every value as it travels in an int4[]: (length 4, value), big-endian.
    pairs = {}
    for name in arrays:
        words = np.empty(2 * n, dtype=">i4")
        words[0::2] = 4
        words[1::2] = rows[name]
        pairs[name] = words.tobytes()
    starts = _segments(rows["board"])
    ends = np.append(starts[1:], n)
    parts: list[bytes] = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        board = int(rows["board"][start])
        fmt, week, kind, archetype = group_keys[board // 2]
        size = end - start
        array_head = struct.pack("!iiiiii", 20 + 8 * size, 1, 0, _INT4_OID, size, 1)
        parts.append(
            struct.pack("!h", len(_COLUMNS))
            + _text(fmt)
            + struct.pack("!ii", 4, (week - _EPOCH).days)
            + _text(kind)
            + _text(archetype)
            + _text("side" if board % 2 else "main")
        )
        for name in arrays:
            parts.append(array_head)
            parts.append(pairs[name][8 * start : 8 * end])
    return b"".join(parts)


def fill_card_usage(conn: psycopg.Connection[Any], table: str = "mv_card_usage_weekly") -> int:
    """Insert the card-usage rows of the weeks in ``refresh_weeks`` into ``table`` (same
    columns as ``mv_card_usage_weekly``); returns the rows written. The caller deleted the
    weeks' old rows."""
    weeks = [(fmt, week, int(n)) for fmt, week, n in conn.execute(_WEEKS_SQL)]
    if not weeks:
        return 0
    cards = _cards(conn)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, _COLUMNS))
    )
    written = 0
    # NumPy works on one chunk (in a thread: it releases the GIL) while the server reads the
    # next one; the connection runs one statement at a time, COPY included.
    with (
        planner(conn, _CHUNK_SETTINGS),
        conn.cursor(binary=True) as cur,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="card-usage") as pool,
    ):
        pending: Future[tuple[int, bytes]] | None = None
        for fmt, mondays in _chunks(weeks):
            fetched = cur.execute(_CHUNK_SQL, {"format": fmt, "weeks": mondays}).fetchall()
            if pending is not None:
                written += _copy(cur, statement, pending.result())
            pending = pool.submit(_chunk_data, fetched, cards)
            del fetched
        if pending is not None:
            written += _copy(cur, statement, pending.result())
    return written


def _chunk_data(fetched: list[tuple[Any, ...]], cards: _Cards) -> tuple[int, bytes]:
    """Rows (count, binary COPY data) of one chunk's groups (the rows of _CHUNK_SQL)."""
    group_keys = [(r[0], r[1], r[2], r[3]) for r in fetched]
    sizes = np.array([r[4] for r in fetched], dtype=np.int64)
    columns = [b"".join(r[5 + i] for r in fetched) for i in range(10)]
    rows = _chunk_rows(columns, sizes, cards)
    del columns
    return len(_segments(rows["board"])), _copy_data(rows, group_keys)


def _copy(cur: psycopg.Cursor[Any], statement: sql.Composed, chunk: tuple[int, bytes]) -> int:
    with cur.copy(statement) as copy:
        copy.write(_SIGNATURE)
        copy.write(chunk[1])
        copy.write(_TRAILER)
    return chunk[0]


@contextmanager
def planner(conn: psycopg.Connection[Any], settings: dict[str, str]) -> Iterator[None]:
    """Transaction-local planner settings, restored afterwards."""
    before = {
        name: conn.execute("SELECT current_setting(%s)", (name,)).fetchone() for name in settings
    }
    for name, value in settings.items():
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))
    try:
        yield
    finally:
        for name, row in before.items():
            if row is not None:
                conn.execute("SELECT set_config(%s, %s, true)", (name, row[0]))
