"""Ingestion of a decklist-cache tree (``<root>/<Source>/yyyy/mm/dd/*.json``) into PostgreSQL.

Idempotent and incremental:

* a file whose size and modification time are unchanged since the last run is skipped
  without being read; one whose bytes hash to the stored hash is skipped without parsing;
* an event is identified by (source, canonical URI). Several files of one event (MTGO
  leagues republished daily, Melee seat files, the same event under two dates) are merged:
  the event's rows always equal a function of *all* its current documents, whatever order
  they arrive in (see :mod:`pipelines.ingest.merge`);
* each batch of files is written in one transaction with ``COPY`` (no round trip per row),
  so a changed document replaces its event's rows atomically;
* the whole run holds an advisory lock: a second ingestion waits (or, with ``wait=False``,
  reports :class:`IngestBusy`) and then finds nothing new.

Bad documents never stop the run: they are stored in ``quarantine`` with the error and their
bytes; problems inside an otherwise usable document are recorded there as warnings.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import multiprocessing
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import psycopg.types.json

from pipelines.core import db
from pipelines.ingest.parse import path_info
from pipelines.ingest.prepare import PreparedFile, prepare_file
from pipelines.ingest.raw_documents import assign_document_ids, store_raw_documents
from pipelines.ingest.state import IngestState, load_state
from pipelines.ingest.store import BatchWriter

log = logging.getLogger(__name__)

# Arbitrary fixed key of the ingestion advisory lock.
INGEST_LOCK_KEY = 0x494E4753  # "INGS"
BATCH_DECKS = 4000
BATCH_FILES = 400
PREPARE_WORKERS = 4  # at most this many processes read and parse files
IN_FLIGHT = 64  # files submitted to the workers and not yet written


class IngestBusy(RuntimeError):
    """Another ingestion holds the lock (only raised with ``wait=False``)."""


@dataclass
class IngestSummary:
    """What one run saw and did.

    ``files_new + files_changed + files_unchanged == files_seen``; ``files_duplicate`` (copies
    of an event stored by another file) and ``files_quarantined`` count among new/changed.
    """

    root: str
    run_id: int | None = None
    files_seen: int = 0
    files_new: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    files_duplicate: int = 0
    files_quarantined: int = 0
    decks: int = 0
    matches: int = 0
    warnings: int = 0
    seconds: float = 0.0
    quarantined_paths: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (Celery task result, CLI ``--json``)."""
        return asdict(self)

    def render(self) -> str:
        """The human summary printed at the end of a run."""
        rate = self.decks / self.seconds if self.seconds else 0.0
        lines = [
            f"files seen        {self.files_seen}",
            f"  new             {self.files_new}",
            f"  changed         {self.files_changed}",
            f"  unchanged       {self.files_unchanged}",
            f"  of which copies {self.files_duplicate} (another file of the same event)",
            f"  quarantined     {self.files_quarantined}",
            f"decks written     {self.decks}",
            f"matches written   {self.matches}",
            f"warnings          {self.warnings}",
            f"seconds           {self.seconds:.2f} ({rate:,.0f} decks/s)",
        ]
        lines += [f"quarantined: {path}" for path in self.quarantined_paths[:20]]
        return "\n".join(lines)


@dataclass
class CandidateFile:
    """A file of the tree with its stat, before deciding whether to read it."""

    rel: str
    path: Path
    size: int
    mtime_ns: int


def iter_cache_files(
    root: Path, *, since: date | None = None, until: date | None = None, source: str | None = None
) -> Iterator[CandidateFile]:
    """Every ``*.json`` file below ``root`` in sorted order, filtered by folder date/source."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(".json"):
                continue
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            folder_source, folder_date = path_info(rel)
            if source is not None and folder_source.lower() != source.lower():
                continue
            if (since or until) and folder_date is None:
                continue
            if since and folder_date and folder_date < since:
                continue
            if until and folder_date and folder_date > until:
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed while we walk: nothing to ingest
                continue
            yield CandidateFile(rel, path, stat.st_size, stat.st_mtime_ns)


def ingest_cache(
    dsn: str,
    root: Path,
    *,
    since: date | None = None,
    until: date | None = None,
    source: str | None = None,
    strict: bool = False,
    progress: bool = False,
    wait: bool = True,
    batch_decks: int = BATCH_DECKS,
    on_batch: Callable[[IngestSummary], None] | None = None,
) -> IngestSummary:
    """Ingest every new or changed file below ``root``; see the module docstring.

    ``strict`` only changes the caller's exit status (the CLI returns non-zero when anything
    was quarantined); the run itself always goes on with the rest. ``on_batch`` is called
    after each batch is committed (a checkpoint: a run stopped after it and started again
    skips the files already stored); an exception it raises stops the run.
    """
    del strict  # kept in the signature so the CLI and task share one call
    root = Path(root).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"cache folder not found: {root}")
    started = time.perf_counter()
    summary = IngestSummary(root=str(root))
    with db.connect(dsn, application_name="manalytics-ingest") as conn:
        _lock(conn, wait)
        try:
            summary.run_id = _start_run(conn, root, since, until, source)
            try:
                _ingest(conn, root, summary, since, until, source, progress, batch_decks, on_batch)
                if summary.decks:
                    _analyze(conn)
            except BaseException as exc:
                summary.seconds = time.perf_counter() - started
                _record_failure(dsn, conn, summary, repr(exc))
                raise
            summary.seconds = time.perf_counter() - started
            _finish_run(conn, summary, "succeeded", None)
        finally:
            if not conn.broken:
                conn.rollback()
                conn.execute("SELECT pg_advisory_unlock(%s)", (INGEST_LOCK_KEY,))
                conn.commit()
    return summary


def _record_failure(dsn: str, conn: psycopg.Connection, summary: IngestSummary, error: str) -> None:
    """Mark the run failed, on a fresh connection when the run's own one is dead (the
    database restarted): the original error is what matters, so this one never raises."""
    try:
        conn.rollback()
        _finish_run(conn, summary, "failed", error)
        return
    except psycopg.Error:
        pass
    try:
        with db.connect(dsn, application_name="manalytics-ingest", connect_timeout=5) as fresh:
            _finish_run(fresh, summary, "failed", error)
    except psycopg.Error as exc:  # the next run marks it failed (see _start_run)
        log.warning("ingestion run %s could not be marked failed: %s", summary.run_id, exc)


def _lock(conn: psycopg.Connection, wait: bool) -> None:
    if wait:
        conn.execute("SELECT pg_advisory_lock(%s)", (INGEST_LOCK_KEY,))
    else:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (INGEST_LOCK_KEY,)).fetchone()
        if not row or not row[0]:
            conn.rollback()
            raise IngestBusy("another ingestion is running")
    conn.commit()


def _analyze(conn: psycopg.Connection) -> None:
    """Fresh planner statistics for the rows just written (a few milliseconds).

    Classification follows at once in the nightly chain and selects decks by their event's
    format; with the stale estimates of a just-loaded table PostgreSQL picks a nested loop
    ~10x slower than the hash join it uses once it knows. Autovacuum only gets there later.
    """
    conn.execute("ANALYZE tournaments, decks (id, tournament_id)")
    conn.commit()


def _start_run(
    conn: psycopg.Connection,
    root: Path,
    since: date | None,
    until: date | None,
    source: str | None,
) -> int:
    options = {"since": since and since.isoformat(), "until": until and until.isoformat()}
    options["source"] = source
    # Runs left "running" by a process that died: the caller holds the ingestion lock, so
    # none of them is still going on.
    conn.execute(
        "UPDATE ingestion_runs SET status = 'failed', finished_at = now(),"
        " error = 'abandoned: the ingestion process stopped before finishing'"
        " WHERE status = 'running'"
    )
    row = conn.execute(
        "INSERT INTO ingestion_runs (root, options) VALUES (%s, %s::jsonb) RETURNING id",
        (str(root), psycopg.types.json.Jsonb(options)),
    ).fetchone()
    conn.commit()
    assert row is not None
    return int(row[0])


def _finish_run(
    conn: psycopg.Connection, summary: IngestSummary, status: str, error: str | None
) -> None:
    conn.execute(
        """UPDATE ingestion_runs SET finished_at = now(), status = %s, error = %s,
               files_seen = %s, files_new = %s, files_changed = %s, files_unchanged = %s,
               files_duplicate = %s, files_quarantined = %s, decks = %s, matches = %s,
               warnings = %s, seconds = %s
           WHERE id = %s""",
        (
            status,
            error,
            summary.files_seen,
            summary.files_new,
            summary.files_changed,
            summary.files_unchanged,
            summary.files_duplicate,
            summary.files_quarantined,
            summary.decks,
            summary.matches,
            summary.warnings,
            summary.seconds,
            summary.run_id,
        ),
    )
    conn.commit()


def _progress(files: list[CandidateFile], enabled: bool) -> Any:
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=len(files), unit="file", desc="ingest", file=sys.stderr)


def _ingest(
    conn: psycopg.Connection,
    root: Path,
    summary: IngestSummary,
    since: date | None,
    until: date | None,
    source: str | None,
    progress: bool,
    batch_decks: int,
    on_batch: Callable[[IngestSummary], None] | None = None,
) -> None:
    state = load_state(conn)
    files = list(iter_cache_files(root, since=since, until=until, source=source))
    bar = _progress(files, progress)
    touched: list[tuple[str, int]] = []
    to_read = []
    for candidate in files:
        stored = state.files.get(candidate.rel)
        if stored and (stored.size, stored.mtime_ns) == (candidate.size, candidate.mtime_ns):
            summary.files_unchanged += 1  # the nightly fast path: not even opened
        else:
            to_read.append(candidate)
    summary.files_seen = len(files)
    if bar is not None:
        bar.update(summary.files_unchanged)
    # Worker processes are forked before the writer threads start (fork copies no threads).
    with (
        _preparer(to_read) as prepared_files,
        _BackgroundWriter(conn, state, summary, on_batch) as writer,
    ):
        batch: list[PreparedFile] = []
        batch_size = 0
        for prepared in prepared_files:
            if bar is not None:
                bar.update(1)
            if prepared is None:
                continue
            stored = state.files.get(prepared.rel)
            if stored and stored.sha256 == prepared.sha256:
                summary.files_unchanged += 1
                touched.append((prepared.rel, prepared.mtime_ns))  # same bytes, new mtime
                continue
            batch.append(prepared)
            batch_size += len(prepared.document.decks) if prepared.document else 0
            if batch_size >= batch_decks or len(batch) >= BATCH_FILES:
                writer.submit(batch)
                batch, batch_size = [], 0
        if batch:
            writer.submit(batch)
        writer.submit_touch(touched)
    if bar is not None:
        bar.close()


@contextlib.contextmanager
def _preparer(files: list[CandidateFile]) -> Iterator[Iterator[PreparedFile | None]]:
    """Prepared files in order: from worker processes when there is work for several."""
    workers = _worker_count(len(files))
    if workers <= 1:
        yield (prepare_file(f.path, f.rel, f.mtime_ns) for f in files)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield _prepare_in(pool, files)


def _prepare_in(pool: Any, files: list[CandidateFile]) -> Iterator[PreparedFile | None]:
    # Bounded in flight, so memory stays flat however large the tree is.
    pending: collections.deque[Any] = collections.deque()
    for f in files:
        pending.append(pool.apply_async(prepare_file, (f.path, f.rel, f.mtime_ns)))
        if len(pending) >= IN_FLIGHT:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


def _worker_count(n_files: int) -> int:
    """Processes for reading and parsing: the cores left after PostgreSQL and the writer.

    Measured on a 2-core machine, a pool there is slower than parsing in-process (five busy
    processes on two cores), so the pool starts at 4 cores. Impossible inside a daemonic
    process (a Celery prefork child): there it always runs in-process.
    """
    if n_files < 8 or multiprocessing.current_process().daemon:
        return 1
    return max(1, min(PREPARE_WORKERS, (os.cpu_count() or 1) - 2))


class _Stage:
    """One pipeline stage: a thread with its own connection consuming a bounded queue."""

    def __init__(self, dsn: str, name: str, handle: Any) -> None:
        self.dsn = dsn
        self.handle = handle  # (connection, item) -> None
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def put(self, item: Any) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(item)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()

    def _run(self) -> None:
        try:
            with db.connect(self.dsn, application_name=self.thread.name) as conn:
                while (item := self.queue.get()) is not None:
                    self.handle(conn, item)
        except BaseException as exc:  # handed to the main thread
            self.error = exc
            while self.queue.get() is not None:  # drain so the producer never blocks
                pass


class _BackgroundWriter:
    """Two stages after parsing: raw documents and the batch's rows, written at once.

    Parsing (CPU in the main thread) overlaps with PostgreSQL storing the previous batches;
    the stage threads mostly wait on the server, which runs on another core. The documents'
    ids are reserved here first, so the rows stage need not wait for them: it waits only
    before committing (the links are checked at commit, migration 0006).
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        state: IngestState,
        summary: IngestSummary,
        on_batch: Callable[[IngestSummary], None] | None = None,
    ) -> None:
        self.conn = conn  # the run's own connection: reserves document ids
        self.state = state
        self.summary = summary
        self.on_batch = on_batch
        self.rows = _Stage(conn.info.dsn, "ingest-rows", self._write_rows)
        self.raw = _Stage(conn.info.dsn, "ingest-raw", self._write_raw)

    def __enter__(self) -> _BackgroundWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.raw.close()
        self.rows.close()
        error = self.raw.error or self.rows.error
        if error is not None and exc[0] is None:
            raise error

    def submit(self, batch: list[PreparedFile]) -> None:
        documents = assign_document_ids(self.conn, self.state, batch)
        self.conn.commit()  # ids taken: leave no transaction open on the run's connection
        done = threading.Event()
        self.raw.put((documents, done))
        self.rows.put(("batch", batch, done))

    def submit_touch(self, touched: list[tuple[str, int]]) -> None:
        self.rows.put(("touch", touched, None))

    def _write_raw(self, conn: psycopg.Connection, item: Any) -> None:
        documents, done = item
        try:
            store_raw_documents(conn, documents)
        finally:
            done.set()

    def _write_rows(self, conn: psycopg.Connection, item: Any) -> None:
        kind, payload, done = item
        writer = BatchWriter(conn, self.state, self.summary.run_id or 0)
        if kind == "touch":
            writer.touch(payload)
            return

        def documents_committed() -> None:
            done.wait()
            if self.raw.error is not None:
                raise RuntimeError("storing raw documents failed") from self.raw.error

        writer.write(payload, self.summary, before_commit=documents_committed)
        if self.on_batch is not None:
            self.on_batch(self.summary)
