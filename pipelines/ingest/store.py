"""Writing parsed documents to PostgreSQL, one batch per transaction, with COPY.

Ids are reserved from the tables' sequences up front so that decks, standings and matches
of a whole batch go out as one COPY each, already linked to each other.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg

from pipelines.ingest import copy as c
from pipelines.ingest.merge import MergedEvent, merge_documents
from pipelines.ingest.normalize import normalize_card_name
from pipelines.ingest.parse import DocumentError
from pipelines.ingest.prepare import (
    PreparedDeck,
    PreparedDocument,
    PreparedFile,
    names_of,
    prepare_document,
)

if TYPE_CHECKING:
    from pipelines.ingest.cache import IngestSummary

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


def _reserve_ids(conn: psycopg.Connection, table: str, n: int) -> list[int]:
    """``n`` fresh ids from ``table``'s id sequence (a block of them, mostly contiguous)."""
    if n == 0:
        return []
    sequence = _sequence_of(conn, table)
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


def _sequence_of(conn: psycopg.Connection, table: str) -> str:
    if table not in _SEQUENCES:
        row = conn.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,)).fetchone()
        assert row is not None and row[0], f"{table}.id has no sequence"
        _SEQUENCES[table] = str(row[0])
    return _SEQUENCES[table]


# Table -> its id sequence. The migrations name them, the same in every database.
_SEQUENCES: dict[str, str] = {}


def _copy(conn: psycopg.Connection, statement: str, lines: list[str]) -> None:
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

    def __init__(self, known: dict[str, str]) -> None:
        super().__init__(known)
        self.free: list[int] = []
        self.new: list[tuple[str, str]] = []
        self.conn: psycopg.Connection | None = None

    def __missing__(self, name: str) -> str:
        if not self.free:
            assert self.conn is not None, "CardIds needs a connection to reserve ids"
            self.free = _reserve_ids(self.conn, "cards", self.BLOCK)[::-1]
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
        _copy(conn, "COPY cards (id, name, canonical_name) FROM STDIN", lines)
        self.new = []


class BatchWriter:
    """Writes batches of pending files; keeps the run's lookup state current."""

    def __init__(self, conn: psycopg.Connection, state: IngestState, run_id: int) -> None:
        self.conn = conn
        self.state = state
        self.run_id = run_id

    # -- public ---------------------------------------------------------------------------

    def write(
        self,
        batch: list[PreparedFile],
        summary: IngestSummary,
        before_commit: Callable[[], None] | None = None,
    ) -> None:
        """Write one batch in one transaction and update ``summary``.

        ``before_commit`` runs last inside the transaction (the ingestion waits there for the
        batch's raw documents, stored concurrently on another connection).
        """
        # Stored versions of these files are superseded by the batch (even by an error).
        self._batch_paths = {item.rel for item in batch}
        self._previous = {item.rel: self.state.files.get(item.rel) for item in batch}
        with self.conn.transaction():
            self._write(batch, summary)
            if before_commit is not None:
                before_commit()
        for item in batch:
            tid = self._tournament_of(item)
            self.state.files[item.rel] = StoredFile(
                item.size, item.mtime_ns, item.sha256, self._status(item), tid
            )

    def forget(self, paths: list[str]) -> None:
        """Drop files that no longer exist upstream, in one transaction: their events are
        rebuilt from the documents they have left (the same merge as a changed file) or,
        with none left, deleted."""
        self._batch_paths = set(paths)
        self._previous = {rel: self.state.files.get(rel) for rel in paths}
        self._statuses: dict[str, str] = {}
        self._file_tournaments: dict[str, int | None] = {}
        events: dict[EventKey | int, tuple[int | None, list[PreparedDocument]]] = {}
        for previous in self._previous.values():
            if previous is not None and previous.tournament_id is not None:
                events.setdefault(previous.tournament_id, (previous.tournament_id, []))
        with self.conn.transaction():
            rows = _Rows(self.state)
            for key, (tid, docs) in events.items():
                self._merge_event(key, tid, docs, rows, iter(()))
            rows.flush(self.conn, self.state.cards)
            self.conn.execute("DELETE FROM source_files WHERE path = ANY(%s)", (list(paths),))
        for rel in paths:
            self.state.files.pop(rel, None)

    def touch(self, touched: list[tuple[str, int]]) -> None:
        """Record new modification times of files whose bytes did not change."""
        if not touched:
            return
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany(
                "UPDATE source_files SET mtime_ns = %s, updated_at = now() WHERE path = %s",
                [(mtime, rel) for rel, mtime in touched],
            )

    # -- one batch ------------------------------------------------------------------------

    def _write(self, batch: list[PreparedFile], summary: IngestSummary) -> None:
        self._statuses = {}
        self._file_tournaments = {}
        self._ensure_sources({item.rel.split("/", 1)[0] for item in batch})
        events = self._group_events(batch)
        new_ids = iter(
            _reserve_ids(self.conn, "tournaments", sum(t is None for t, _ in events.values()))
        )
        rows = _Rows(self.state)
        for key, (tid, docs) in events.items():
            self._merge_event(key, tid, docs, rows, new_ids)
        rows.flush(self.conn, self.state.cards)
        self._store_files(batch)
        self._store_quarantine(batch)
        for item in batch:
            if item.error is not None:
                summary.files_quarantined += 1
                summary.quarantined_paths.append(f"{item.rel}: {item.error}")
            if self._previous[item.rel] is None:
                summary.files_new += 1
            else:
                summary.files_changed += 1
            if item.document is not None and self._statuses.get(item.rel) == "duplicate":
                summary.files_duplicate += 1
            if item.document is not None:
                summary.warnings += len(item.document.warnings)
        summary.decks += rows.deck_count
        summary.matches += rows.match_count

    def _ensure_sources(self, names: set[str]) -> None:
        missing = sorted(names - set(self.state.sources))
        for name in missing:
            row = self.conn.execute(
                "INSERT INTO sources (name) VALUES (%s) ON CONFLICT (name) DO UPDATE "
                "SET name = EXCLUDED.name RETURNING id",
                (name,),
            ).fetchone()
            assert row is not None
            self.state.sources[name] = row[0]

    def _group_events(
        self, batch: list[PreparedFile]
    ) -> dict[EventKey | int, tuple[int | None, list[PreparedDocument]]]:
        """Events touched by the batch: by key for documents, by id for events a changed
        file left (they must be rebuilt from their remaining documents, or deleted)."""
        events: dict[EventKey | int, tuple[int | None, list[PreparedDocument]]] = {}
        for item in batch:
            doc = item.document
            if doc is not None:
                key = (self.state.sources[doc.source], doc.external_id)
                tid = self.state.tournaments.get(key)
                events.setdefault(key, (tid, []))[1].append(doc)
        kept_ids = {tid for tid, _ in events.values() if tid is not None}
        for item in batch:
            previous = self._previous[item.rel]
            old = previous.tournament_id if previous else None
            if old is not None and old not in kept_ids:
                events.setdefault(old, (old, []))
        return events

    def _merge_event(
        self,
        key: EventKey | int,
        tid: int | None,
        docs: list[PreparedDocument],
        rows: _Rows,
        new_ids: Iterator[int],
    ) -> None:
        batch_paths = {d.path for d in docs}
        if tid is not None:
            docs = docs + self._stored_documents(tid, batch_paths | self._batch_paths)
        if not docs:  # its only file changed into another event or into garbage
            assert tid is not None
            self._delete_event_rows(tid)
            self.conn.execute("DELETE FROM tournaments WHERE id = %s", (tid,))
            self.state.tournaments = {k: v for k, v in self.state.tournaments.items() if v != tid}
            return
        merged = merge_documents(docs)
        if tid is None:
            tid = next(new_ids)
            rows.add_tournament(tid, merged, new=True)
        else:
            self._delete_event_rows(tid)
            rows.add_tournament(tid, merged, new=False)
        if isinstance(key, tuple):
            self.state.tournaments[key] = tid
        for doc in docs:
            status = "ingested" if doc.path in merged.contributing else "duplicate"
            self._statuses[doc.path] = status
            self._file_tournaments[doc.path] = tid
        self._record_other_files(tid, docs, merged, batch_paths)

    def _delete_event_rows(self, tid: int) -> None:
        """Remove an event's labels, decks, standings and matches (no foreign key cascades)."""
        self.conn.execute(
            "DELETE FROM deck_archetypes WHERE deck_id IN "
            "(SELECT id FROM decks WHERE tournament_id = %s)",
            (tid,),
        )
        for table in ("matches", "standings", "decks"):
            self.conn.execute(
                f"DELETE FROM {table} WHERE tournament_id = %s",  # noqa: S608 fixed names
                (tid,),
            )

    def _record_other_files(
        self,
        tid: int,
        docs: list[PreparedDocument],
        merged: MergedEvent[PreparedDocument],
        batch_paths: set[str],
    ) -> None:
        """Stored copies of the event may switch between 'ingested' and 'duplicate'."""
        for doc in docs:
            if doc.path in batch_paths:
                continue
            status = "ingested" if doc.path in merged.contributing else "duplicate"
            self.conn.execute(
                "UPDATE source_files SET status = %s, tournament_id = %s WHERE path = %s",
                (status, tid, doc.path),
            )
            stored = self.state.files.get(doc.path)
            if stored:
                stored.status, stored.tournament_id = status, tid

    def _stored_documents(self, tid: int, exclude: set[str]) -> list[PreparedDocument]:
        """The event's other current documents, re-parsed from their stored raw JSON."""
        rows = self.conn.execute(
            """SELECT f.path, d.body::text, d.sha256, d.size_bytes
                 FROM source_files f JOIN raw_documents d ON d.id = f.document_id
                WHERE f.tournament_id = %s AND f.status IN ('ingested', 'duplicate')""",
            (tid,),
        ).fetchall()
        docs = []
        for path, body, sha, _size in rows:
            if path in exclude:
                continue
            try:
                docs.append(prepare_document(body.encode(), path, bytes(sha)))
            except DocumentError:  # pragma: no cover - it was valid when stored
                continue
        return docs

    def _store_files(self, batch: list[PreparedFile]) -> None:
        """Upsert the batch's files in one statement (parallel arrays, unnested)."""
        columns: list[list[Any]] = [[] for _ in range(9)]
        for item in batch:
            values = (
                self.state.sources[item.rel.split("/", 1)[0]],
                item.rel,
                item.document.folder_date if item.document else None,
                item.size,
                item.mtime_ns,
                item.sha256,
                self._status(item),
                self.state.documents.get(item.sha256) if item.document else None,
                self._tournament_of(item),
            )
            for column, value in zip(columns, values, strict=True):
                column.append(value)
        self.conn.execute(
            """INSERT INTO source_files (source_id, path, folder_date, size_bytes, mtime_ns,
                   sha256, status, document_id, tournament_id, first_run_id, last_run_id)
               SELECT s, p, f, z, m, h, st, d, t, %s, %s
                 FROM unnest(%s::smallint[], %s::text[], %s::date[], %s::bigint[],
                             %s::bigint[], %s::bytea[], %s::text[], %s::bigint[],
                             %s::bigint[]) AS x(s, p, f, z, m, h, st, d, t)
               ON CONFLICT (path) DO UPDATE SET
                   size_bytes = EXCLUDED.size_bytes, mtime_ns = EXCLUDED.mtime_ns,
                   sha256 = EXCLUDED.sha256, status = EXCLUDED.status,
                   document_id = EXCLUDED.document_id,
                   tournament_id = EXCLUDED.tournament_id,
                   last_run_id = EXCLUDED.last_run_id, updated_at = now()""",
            (self.run_id, self.run_id, *columns),
        )

    def _store_quarantine(self, batch: list[PreparedFile]) -> None:
        params: list[tuple[Any, ...]] = []
        for item in batch:
            if item.error is not None:
                params.append(
                    (item.rel, item.sha256, "error", item.error.kind, str(item.error), item.raw)
                )
                continue
            assert item.document is not None
            for kind, message in item.document.warnings:
                params.append((item.rel, item.sha256, "warning", kind, message, None))
        if not params:
            return
        with self.conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO quarantine (run_id, source_path, sha256, severity, kind, error,
                       raw, document_id)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
                [(self.run_id, *p, self.state.documents.get(p[1])) for p in params],
            )

    def _status(self, item: PreparedFile) -> str:
        if item.error is not None:
            return "quarantined"
        return self._statuses.get(item.rel, "duplicate")

    def _tournament_of(self, item: PreparedFile) -> int | None:
        return self._file_tournaments.get(item.rel) if item.error is None else None


def assign_document_ids(
    conn: psycopg.Connection, state: IngestState, batch: list[PreparedFile]
) -> list[tuple[int, PreparedFile]]:
    """Reserve ids for the batch's documents not stored yet (content-addressed: one row per
    distinct content) and record them in ``state``; returns what to store."""
    fresh: dict[bytes, PreparedFile] = {}
    for item in batch:
        if item.document is not None and item.sha256 not in state.documents:
            fresh.setdefault(item.sha256, item)
    ids = _reserve_ids(conn, "raw_documents", len(fresh))
    state.documents.update(zip(fresh, ids, strict=True))
    return list(zip(ids, fresh.values(), strict=True))


def store_raw_documents(
    conn: psycopg.Connection, documents: list[tuple[int, PreparedFile]]
) -> None:
    """Store documents with their reserved ids, in one transaction of their own."""
    if not documents:
        return
    # Binary COPY: the bytes go out as received, no escaping of 50 MB of text.
    chunks = [_BINARY_HEADER]
    for doc_id, item in documents:
        chunks.append(_RAW_TUPLE.pack(4, 8, doc_id, 32, item.sha256, 4, item.size))
        chunks.append(struct.pack("!i", len(item.raw)))  # json: the text itself
        chunks.append(item.raw)
    chunks.append(b"\xff\xff")
    with (
        conn.transaction(),
        conn.cursor().copy(
            "COPY raw_documents (id, sha256, size_bytes, body) FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        copy.write(b"".join(chunks))


_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
# field count, then (length, value) for id bigint, sha256 bytea(32), size integer
_RAW_TUPLE = struct.Struct("!hiqi32sii")


class _Rows:
    """COPY buffers of one batch: tournaments, decks, standings, matches."""

    def __init__(self, state: IngestState) -> None:
        self.state = state
        self.new_tournaments: list[str] = []
        self.updated_tournaments: list[tuple[Any, ...]] = []
        self.pending_decks: list[tuple[int, MergedEvent[PreparedDocument]]] = []
        self.deck_count = 0
        self.match_count = 0

    def add_tournament(self, tid: int, merged: MergedEvent[PreparedDocument], new: bool) -> None:
        state = self.state
        doc = merged.document
        values = (
            state.sources[doc.source],
            doc.external_id,
            doc.source_event_id,
            doc.name,
            doc.event_date,
            doc.starts_at,
            doc.format,
            doc.format_inferred,
            doc.event_kind,
            doc.uri or None,
            max(doc.player_count, len({d.player_key for d in merged.decks})),
            len(merged.decks),
            doc.match_count,
            state.documents[doc.sha256],
            doc.document_key,
        )
        if new:
            fields = [str(tid)] + [_cell(v) for v in values]
            self.new_tournaments.append(c.line(fields))
        else:
            self.updated_tournaments.append((*values, tid))
        self.pending_decks.append((tid, merged))

    def flush(self, conn: psycopg.Connection, cards: CardIds) -> None:
        _copy(
            conn,
            """COPY tournaments (id, source_id, external_id, source_event_id, name, event_date,
                   starts_at, format, format_inferred, event_kind, uri, player_count,
                   deck_count, match_count, document_id, document_key) FROM STDIN""",
            self.new_tournaments,
        )
        if self.updated_tournaments:
            with conn.cursor() as cur:
                cur.executemany(
                    """UPDATE tournaments SET source_id = %s, external_id = %s,
                           source_event_id = %s, name = %s, event_date = %s, starts_at = %s,
                           format = %s, format_inferred = %s, event_kind = %s, uri = %s,
                           player_count = %s, deck_count = %s, match_count = %s,
                           document_id = %s, document_key = %s, updated_at = now()
                       WHERE id = %s""",
                    self.updated_tournaments,
                )
        self._flush_children(conn, cards)

    def _flush_children(self, conn: psycopg.Connection, cards: CardIds) -> None:
        total = sum(len(m.decks) for _, m in self.pending_decks)
        deck_ids = iter(_reserve_ids(conn, "decks", total))
        cards.conn = conn
        decks, standings, matches = [], [], []
        for tid, merged in self.pending_decks:
            by_player: dict[str, str] = {}
            for position, deck in enumerate(merged.decks):
                deck_id = str(next(deck_ids))
                by_player.setdefault(deck.player_key, deck_id)
                decks.append(_deck_line(deck_id, tid, position, deck, cards))
            doc = merged.document
            standings += [
                f"{tid}\t{position}\t{text}\t{by_player.get(key, c.NULL)}\n"
                for position, (text, key) in enumerate(doc.standings)
            ]
            matches += [
                f"{tid}\t{position}\t{text}\t{by_player.get(k1, c.NULL) if k1 else c.NULL}\t"
                f"{by_player.get(k2, c.NULL) if k2 else c.NULL}\n"
                for position, (text, k1, k2) in enumerate(doc.matches)
            ]
        cards.flush(conn)
        _copy(
            conn,
            """COPY decks (id, tournament_id, position, player, player_key, result, rank,
                   record_wins, record_losses, record_draws, anchor_uri, deck_date,
                   main_card_ids, main_counts, side_card_ids, side_counts, main_total,
                   side_total, decklist_hash) FROM STDIN""",
            decks,
        )
        _copy(
            conn,
            """COPY standings (tournament_id, position, rank, player, player_key, points, wins,
                   losses, draws, omwp, gwp, ogwp, deck_id) FROM STDIN""",
            standings,
        )
        _copy(
            conn,
            """COPY matches (tournament_id, position, round_index, round_name, player1,
                   player2, p1_games, p2_games, draw_games, is_bye, deck1_id, deck2_id)
                   FROM STDIN""",
            matches,
        )
        self.deck_count += len(decks)
        self.match_count += len(matches)


def _cell(value: Any) -> str:
    if value is None:
        return c.NULL
    if isinstance(value, bool):
        return c.boolean(value)
    if isinstance(value, int | float):
        return str(value)
    return c.text(str(value))


def _deck_line(deck_id: str, tid: int, position: int, deck: PreparedDeck, cards: CardIds) -> str:
    # Hot loop of the writer (one call per deck): only ids are filled in here.
    card_id = cards.__getitem__  # unknown names get an id through CardIds.__missing__
    main_ids = ",".join(map(card_id, names_of(deck.main_names)))
    side_ids = ",".join(map(card_id, names_of(deck.side_names)))
    return (
        f"{deck_id}\t{tid}\t{position}\t{deck.text}\t{{{main_ids}}}\t{deck.main_counts}\t"
        f"{{{side_ids}}}\t{deck.side_counts}\t{deck.totals}\n"
    )
