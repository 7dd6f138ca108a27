"""What ingestion knows before writing a batch, and the id/COPY primitives it writes with.

:class:`IngestState` (files, documents and cards already stored) is loaded once per run;
ids are reserved from the tables' sequences up front (:func:`reserve_ids`) so that a whole
batch's rows go out as one COPY per table, already linked to each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from pipelines.ingest import copy as c
from pipelines.ingest.normalize import normalize_card_name
from pipelines.ingest.prepare import names_of

# A tournament is identified by (source id, natural key).
EventKey = tuple[int, str]


@dataclass
class StoredFile:
    """What the database remembers of one file."""

    size: int
    mtime_ns: int
    sha256: bytes
    status: str
    tournament_id: int | None


@dataclass
class IngestState:
    """Lookup tables loaded once per run (the run holds the ingestion lock)."""

    files: dict[str, StoredFile]
    sources: dict[str, int]
    documents: dict[bytes, int]
    tournaments: dict[EventKey, int]
    cards: CardIds


def load_state(conn: psycopg.Connection) -> IngestState:
    """Read the lookup tables the run needs."""
    files = {
        path: StoredFile(size, mtime, bytes(sha), status, tid)
        for path, size, mtime, sha, status, tid in conn.execute(
            "SELECT path, size_bytes, mtime_ns, sha256, status, tournament_id FROM source_files"
        )
    }
    sources: dict[str, int] = dict(conn.execute("SELECT name, id FROM sources").fetchall())
    documents = {bytes(sha): i for sha, i in conn.execute("SELECT sha256, id FROM raw_documents")}
    tournaments = {
        (sid, ext): tid
        for sid, ext, tid in conn.execute("SELECT source_id, external_id, id FROM tournaments")
    }
    cards = CardIds({name: str(i) for name, i in conn.execute("SELECT name, id FROM cards")})
    conn.commit()
    return IngestState(files, sources, documents, tournaments, cards)


def reserve_ids(conn: psycopg.Connection, table: str, n: int) -> list[int]:
    """``n`` fresh ids from ``table``'s id sequence (a block of them, mostly contiguous)."""
    if n == 0:
        return []
    sequence = sequence_of(conn, table)
    row = conn.execute(
        "SELECT min(v), max(v) FROM (SELECT nextval(%s::regclass) AS v "
        "FROM generate_series(1, %s)) AS drawn",
        (sequence, n),
    ).fetchone()
    assert row is not None  # an aggregate always returns its one row
    lo, hi = row
    if hi - lo + 1 == n:  # nobody else drew meanwhile: the ids are lo..hi, no list to send
        return list(range(lo, hi + 1))
    # Another session drew from the sequence at the same time: draw again, as a list (the
    # first draw only leaves a gap in the ids).
    query = "SELECT nextval(%s::regclass) FROM generate_series(1, %s)"
    return [r[0] for r in conn.execute(query, (sequence, n))]


def sequence_of(conn: psycopg.Connection, table: str) -> str:
    if table not in _SEQUENCES:
        row = conn.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,)).fetchone()
        assert row is not None and row[0], f"{table}.id has no sequence"
        _SEQUENCES[table] = str(row[0])
    return _SEQUENCES[table]


# Table -> its id sequence. The migrations name them, the same in every database.
_SEQUENCES: dict[str, str] = {}


def copy_lines(conn: psycopg.Connection, statement: str, lines: list[str]) -> None:
    if not lines:
        return
    with conn.cursor().copy(statement) as copy:
        copy.write("".join(lines))


class CardIds(dict[str, str]):
    """Card name -> id (as text, ready for COPY); unknown names get ids on first use.

    New ids come from blocks reserved on the cards sequence, so encoding a deck never waits
    for the database; the new cards are written (COPY) before the decks that use them.
    """

    BLOCK = 1000
    BOARDS = 100_000  # boards remembered (then forgotten all at once: memory stays flat)

    def __init__(self, known: dict[str, str]) -> None:
        super().__init__(known)
        self.free: list[int] = []
        self.new: list[tuple[str, str]] = []
        self.conn: psycopg.Connection | None = None
        self.boards: dict[str, str] = {}

    def board(self, names: str) -> str:
        """The ids of a prepared board's NUL-separated card names, comma-separated (the
        inside of the COPY array). Remembered per board: the same list recurs across
        players and events (a third of the real sample's mainboards are repeats), and a
        name's id never changes during a run."""
        ids = self.boards.get(names)
        if ids is None:
            ids = ",".join(map(self.__getitem__, names_of(names)))
            if len(self.boards) >= self.BOARDS:
                self.boards.clear()
            self.boards[names] = ids
        return ids

    def __missing__(self, name: str) -> str:
        if not self.free:
            assert self.conn is not None, "CardIds needs a connection to reserve ids"
            self.free = reserve_ids(self.conn, "cards", self.BLOCK)[::-1]
        card_id = str(self.free.pop())
        self[name] = card_id
        self.new.append((card_id, name))
        return card_id

    def flush(self, conn: psycopg.Connection) -> None:
        """COPY the cards first seen since the last flush."""
        lines = [
            c.line((card_id, c.text(name), c.text(normalize_card_name(name))))
            for card_id, name in self.new
        ]
        copy_lines(conn, "COPY cards (id, name, canonical_name) FROM STDIN", lines)
        self.new = []
