"""Writing parsed documents to PostgreSQL, one batch per transaction, with COPY.

Ids are reserved from the tables' sequences up front so that decks, standings and matches
of a whole batch go out as one COPY each, already linked to each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import psycopg

from pipelines.ingest.event_rows import EventRows
from pipelines.ingest.merge import MergedEvent, merge_documents
from pipelines.ingest.parse import DocumentError
from pipelines.ingest.prepare import (
    PreparedDocument,
    PreparedFile,
    prepare_document,
)
from pipelines.ingest.state import (
    EventKey,
    IngestState,
    StoredFile,
    reserve_ids,
)

if TYPE_CHECKING:
    from pipelines.ingest.cache import IngestSummary


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
            rows = EventRows(self.state)
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
            reserve_ids(self.conn, "tournaments", sum(t is None for t, _ in events.values()))
        )
        rows = EventRows(self.state)
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
        rows: EventRows,
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
