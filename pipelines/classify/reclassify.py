"""Reclassification of whole formats: runs, chunks on any worker, an atomic switch.

Reclassification after a definitions change writes the new version's rows beside the old
ones in chunks of deck ids (each chunk a separate task, on any worker, redelivery-safe);
when the last chunk is done, one UPDATE of ``active_definitions`` switches every reader at
once. The CLI runs the chunks in local processes (:func:`reclassify_formats`).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pipelines.classify.definitions import FormatDefinitions
from pipelines.classify.labels import (
    IN_SCOPE,
    detections_in_range,
    newest_deck_id,
    scope_params,
    unlabelled,
    write_labels,
)
from pipelines.classify.versions import (
    ClassificationError,
    compiled_matcher,
    ensure_version,
    load_definitions,
    origin_of,
)
from pipelines.core import db

CHUNK_DECKS = 2500  # small enough to spread one format over several workers
_CHUNKS_OF_SCOPE = sql.SQL("""
    INSERT INTO classification_chunks (run_id, chunk_no, first_deck_id, last_deck_id, decks)
    SELECT %(run)s, n, min(id), max(id), count(*)
      FROM (SELECT d.id, (row_number() OVER (ORDER BY d.id) - 1) / %(size)s AS n
              FROM decks d JOIN tournaments t ON t.id = d.tournament_id
             WHERE {scope}) numbered
     GROUP BY n
""").format(scope=IN_SCOPE)


@dataclass(frozen=True)
class RunProgress:
    """Where a reclassification run stands."""

    run_id: int
    format: str
    version: str
    status: str
    chunks_total: int
    chunks_done: int
    decks_total: int


def start_reclassification(
    dsn: str,
    formats_dir: Path,
    format_name: str,
    requested_by: str | None = None,
    chunk_decks: int | None = None,
) -> RunProgress:
    """Record a run for the format's current definitions and split its decks into chunks of
    ``chunk_decks`` decks (default :data:`CHUNK_DECKS`).

    The caller runs :func:`classify_chunk` for every chunk (on any workers, in any order).
    """
    with db.connect(dsn, application_name="manalytics-classify") as conn:
        return _start_run(conn, formats_dir, format_name, requested_by, chunk_decks)


def pending_chunks(dsn: str, run_id: int) -> list[int]:
    """Chunks of a run not done yet (a resumed run labels only these)."""
    with db.connect(dsn, application_name="manalytics-classify") as conn:
        rows = conn.execute(
            "SELECT chunk_no FROM classification_chunks WHERE run_id = %s AND done_at IS NULL"
            " ORDER BY chunk_no",
            (run_id,),
        ).fetchall()
    return [int(r[0]) for r in rows]


def run_progress(dsn: str, run_id: int) -> RunProgress:
    """:func:`progress` on a connection of its own."""
    with db.connect(dsn, application_name="manalytics-classify") as conn:
        return progress(conn, run_id)


def _start_run(
    conn: psycopg.Connection,
    formats_dir: Path,
    format_name: str,
    requested_by: str | None,
    chunk_decks: int | None = None,
) -> RunProgress:
    fmt = load_definitions(formats_dir, format_name)
    version_id = ensure_version(conn, fmt, origin_of(formats_dir, fmt))
    run = conn.execute(
        "INSERT INTO classification_runs (format, version_id, requested_by) "
        "VALUES (%s, %s, %s) RETURNING id",
        (fmt.name, version_id, requested_by),
    ).fetchone()
    assert run is not None
    run_id = int(run[0])
    # Chunks of CHUNK_DECKS consecutive deck ids of the scope, cut by the server.
    scope = scope_params(formats_dir, fmt.name)
    size = chunk_decks or CHUNK_DECKS
    conn.execute(_CHUNKS_OF_SCOPE, {**scope, "run": run_id, "size": size})
    total = conn.execute(
        "UPDATE classification_runs SET decks_total = (SELECT coalesce(sum(decks), 0) "
        "FROM classification_chunks WHERE run_id = %(run)s) WHERE id = %(run)s "
        "RETURNING decks_total",
        {"run": run_id},
    ).fetchone()
    if total is not None and total[0] == 0:  # nothing to label: complete at once
        _complete(conn, run_id, fmt, scope)
    conn.commit()
    return progress(conn, run_id)


def classify_chunk(
    dsn: str,
    formats_dir: Path,
    run_id: int,
    chunk_no: int,
    conn: psycopg.Connection | None = None,
) -> RunProgress:
    """Label one chunk; the call that finishes the last chunk switches readers atomically.

    ``conn`` (idle, outside a transaction) is used instead of a new connection when given;
    the chunk's transaction is committed, or rolled back on error, before returning.
    """
    if conn is None:
        with db.connect(dsn, application_name="manalytics-classify") as own:
            return classify_chunk(dsn, formats_dir, run_id, chunk_no, own)
    try:
        done = _classify_chunk(conn, formats_dir, run_id, chunk_no)
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return done


def _classify_chunk(
    conn: psycopg.Connection, formats_dir: Path, run_id: int, chunk_no: int
) -> RunProgress:
    row = conn.execute(
        """SELECT r.format, v.version, r.version_id, ch.first_deck_id, ch.last_deck_id
             FROM classification_chunks ch
             JOIN classification_runs r ON r.id = ch.run_id
             JOIN definition_versions v ON v.id = r.version_id
            WHERE ch.run_id = %s AND ch.chunk_no = %s""",
        (run_id, chunk_no),
    ).fetchone()
    if row is None:
        raise ClassificationError(f"run {run_id} has no chunk {chunk_no}")
    format_name, version, version_id, first, last = row
    fmt = load_definitions(formats_dir, format_name)
    if fmt.version != version:
        raise ClassificationError(
            f"definitions of {format_name} changed during run {run_id} "
            f"({version} -> {fmt.version}); start a new run"
        )
    with conn.transaction():
        # Lock the chunk row: a redelivered copy of this chunk waits, then upserts.
        started = conn.execute(
            "SELECT done_at IS NOT NULL OR EXISTS (SELECT 1 FROM deck_archetypes "
            "WHERE version_id = %s AND deck_id BETWEEN %s AND %s) "
            "FROM classification_chunks WHERE run_id = %s AND chunk_no = %s FOR UPDATE",
            (version_id, first, last, run_id, chunk_no),
        ).fetchone()
        scope = scope_params(formats_dir, format_name)
        rows = detections_in_range(conn, compiled_matcher(fmt), scope, first, last)
        write_labels(conn, version_id, rows, fresh=not (started and started[0]))
        conn.execute(
            "UPDATE classification_chunks SET done_at = coalesce(done_at, now()) "
            "WHERE run_id = %s AND chunk_no = %s",
            (run_id, chunk_no),
        )
        # Lock the run row: of two chunks finishing at once, exactly one sees 0 left.
        conn.execute("SELECT 1 FROM classification_runs WHERE id = %s FOR UPDATE", (run_id,))
        left = conn.execute(
            "SELECT count(*) FROM classification_chunks WHERE run_id = %s AND done_at IS NULL",
            (run_id,),
        ).fetchone()
        if left is not None and left[0] == 0:
            _complete(conn, run_id, fmt, scope)
    return progress(conn, run_id)


def _complete(
    conn: psycopg.Connection, run_id: int, fmt: FormatDefinitions, scope: dict[str, Any]
) -> None:
    """Switch readers to the run's version, in the caller's transaction."""
    row = conn.execute(
        "SELECT format, version_id, status FROM classification_runs WHERE id = %s", (run_id,)
    ).fetchone()
    assert row is not None
    format_name, version_id, status = row
    if status != "running":
        return
    # Decks ingested while the run went on were labelled with the old version; label them
    # under the new one too before switching, so nothing is missing after the switch. Deck
    # ids only grow (one ingestion writes at a time and reserves ids batch after batch), so
    # those decks are above the run's last chunk: a range scan, not a whole-format anti-join.
    row = conn.execute(
        "SELECT coalesce(max(last_deck_id), 0) FROM classification_chunks WHERE run_id = %s",
        (run_id,),
    ).fetchone()
    after = int(row[0]) if row else 0
    through = newest_deck_id(conn)
    rows = unlabelled(conn, compiled_matcher(fmt), scope, version_id, after)
    write_labels(conn, version_id, rows)
    conn.execute(
        """INSERT INTO active_definitions (format, version_id, labelled_through)
           VALUES (%s, %s, %s)
           ON CONFLICT (format) DO UPDATE SET version_id = EXCLUDED.version_id,
               labelled_through = EXCLUDED.labelled_through, activated_at = now()""",
        (format_name, version_id, through),
    )
    conn.execute(
        "UPDATE classification_runs SET status = 'superseded' "
        "WHERE format = %s AND status = 'completed' AND id <> %s",
        (format_name, run_id),
    )
    conn.execute(
        "UPDATE classification_runs SET status = 'completed', finished_at = now() WHERE id = %s",
        (run_id,),
    )


def progress(conn: psycopg.Connection, run_id: int) -> RunProgress:
    """The run's status and chunk counts."""
    row = conn.execute(
        """SELECT r.id, r.format, v.version, r.status, r.decks_total,
                  (SELECT count(*) FROM classification_chunks ch WHERE ch.run_id = r.id),
                  (SELECT count(*) FROM classification_chunks ch
                    WHERE ch.run_id = r.id AND ch.done_at IS NOT NULL)
             FROM classification_runs r JOIN definition_versions v ON v.id = r.version_id
            WHERE r.id = %s""",
        (run_id,),
    ).fetchone()
    if row is None:
        raise ClassificationError(f"no classification run {run_id}")
    run, fmt, version, status, decks, total, done = row
    return RunProgress(run, fmt, version, status, total, done, decks)


def reclassify_formats(
    dsn: str,
    formats_dir: Path,
    format_names: Sequence[str],
    requested_by: str | None = None,
    processes: int = 2,
) -> list[RunProgress]:
    """Start one run per format and do all their chunks in local processes (the CLI path;
    Celery workers share the chunks of an operator's run instead)."""
    processes = min(processes, os.cpu_count() or 1)
    if processes <= 1 or multiprocessing.current_process().daemon:
        runs = [start_reclassification(dsn, formats_dir, f, requested_by) for f in format_names]
        for run in runs:
            for chunk_no in range(run.chunks_total):
                classify_chunk(dsn, formats_dir, run.run_id, chunk_no)
    else:
        # Definitions parsed once, here, before forking: the processes inherit them. They
        # start on one format's chunks while the next format's run is being set up here
        # (each compiles the matchers it needs).
        for name in format_names:
            load_definitions(formats_dir, name)
        pool = multiprocessing.get_context("fork").Pool(processes, _open_process_connection, (dsn,))
        with pool:
            pending = []
            with db.connect(dsn, application_name="manalytics-classify") as conn:
                runs = []
                for name in format_names:
                    runs.append(_start_run(conn, formats_dir, name, requested_by))
                    pending += [
                        pool.apply_async(_chunk_in_process, (formats_dir, runs[-1].run_id, n))
                        for n in range(runs[-1].chunks_total)
                    ]
            for result in pending:
                result.get()
            pool.close()  # let the processes exit normally: they close their connections
            pool.join()
    with db.connect(dsn) as conn:
        return [progress(conn, r.run_id) for r in runs]


# One connection per pool process, reused by all the chunks it labels.
_PROCESS_CONNECTION: psycopg.Connection | None = None


def _open_process_connection(dsn: str) -> None:
    global _PROCESS_CONNECTION
    conn = db.connect(dsn, application_name="manalytics-classify")
    _PROCESS_CONNECTION = conn
    multiprocessing.util.Finalize(None, conn.close, exitpriority=10)


def _chunk_in_process(formats_dir: Path, run_id: int, chunk_no: int) -> RunProgress:
    assert _PROCESS_CONNECTION is not None, "pool process without its connection"
    conn = _PROCESS_CONNECTION
    return classify_chunk(conn.info.dsn, formats_dir, run_id, chunk_no, conn)


def reclassify_format(
    dsn: str, formats_dir: Path, format_name: str, requested_by: str | None = None
) -> RunProgress:
    """Reclassify one format (see :func:`reclassify_formats`)."""
    return reclassify_formats(dsn, formats_dir, [format_name], requested_by)[0]
