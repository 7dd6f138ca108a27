"""Files deleted upstream: their rows leave the database, nothing else does.

The cache repository deletes files (a bad scrape withdrawn, an event re-published under
another name). Ingestion is keyed by file path, so a vanished file would keep its event in
the statistics for ever. :func:`forget_files` drops the files' records and hands their events
to the same merge a changed file goes through (:meth:`BatchWriter.forget`): an event that
keeps other documents (another snapshot of a league, a copy under another date) is rebuilt
from them, an event left without any is deleted with its decks, standings, matches and
labels. Raw documents stay (content-addressed, possibly shared; nothing is lost).

The result names the (format, event date) pairs whose rows changed — before and after, since
a rebuild can move an event — so that the statistics refresh knows which days to recompute.
It runs under the ingestion lock: never interleaved with an ingestion run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import psycopg

from pipelines.core import db
from pipelines.ingest.cache import INGEST_LOCK_KEY
from pipelines.ingest.state import load_state
from pipelines.ingest.store import BatchWriter

log = logging.getLogger(__name__)


@dataclass
class ForgetSummary:
    """What :func:`forget_files` did."""

    files: int = 0  # file records dropped (paths never ingested are ignored)
    events_deleted: int = 0
    events_rebuilt: int = 0
    days: set[tuple[str, date]] = field(default_factory=set)  # (format, event_date) touched

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (task results, run details)."""
        return {
            "files": self.files,
            "events_deleted": self.events_deleted,
            "events_rebuilt": self.events_rebuilt,
            "days": sorted([fmt, day.isoformat()] for fmt, day in self.days),
        }


def _event_days(conn: psycopg.Connection, ids: Iterable[int]) -> dict[int, tuple[str, date]]:
    rows = conn.execute(
        "SELECT id, format, event_date FROM tournaments WHERE id = ANY(%s)", (list(ids),)
    ).fetchall()
    return {tid: (fmt, day) for tid, fmt, day in rows}


def forget_files(dsn: str, paths: Iterable[str]) -> ForgetSummary:
    """Drop the records of ``paths`` (relative cache paths) and fix their events."""
    wanted = sorted(set(paths))
    summary = ForgetSummary()
    if not wanted:
        return summary
    with db.connect(dsn, application_name="manalytics-ingest-forget") as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (INGEST_LOCK_KEY,))
        conn.commit()
        try:
            state = load_state(conn)
            known = [rel for rel in wanted if rel in state.files]
            touched = {tid for rel in known if (tid := state.files[rel].tournament_id) is not None}
            before = _event_days(conn, touched)
            BatchWriter(conn, state, run_id=0).forget(known)
            after = _event_days(conn, touched)
            conn.commit()
        finally:
            if not conn.broken:
                conn.rollback()
                conn.execute("SELECT pg_advisory_unlock(%s)", (INGEST_LOCK_KEY,))
                conn.commit()
    summary.files = len(known)
    summary.events_rebuilt = len(after)
    summary.events_deleted = len(touched) - len(after)
    summary.days = set(before.values()) | set(after.values())
    if known:
        log.info(
            "forgot %d files: %d events deleted, %d rebuilt",
            summary.files,
            summary.events_deleted,
            summary.events_rebuilt,
        )
    return summary
