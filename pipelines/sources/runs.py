"""Run records, per-event checkpoints, quarantined pages and per-source checkpoints
(tables of migration 0007). Every function takes the caller's connection and commits what
it wrote, so a run that dies half-way keeps its progress."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from pipelines.sources.base import EventRef


@dataclass
class RunCounts:
    """What a fetch run saw and did (columns of ``source_runs``)."""

    listed: int = 0
    fetched: int = 0
    skipped: int = 0
    failed: int = 0
    quarantined: int = 0
    documents: int = 0
    pages: int = 0
    retries: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    newest_event: date | None = None
    written: list[str] = field(default_factory=list)

    def fail(self, reason: str) -> None:
        """Count one failure under ``reason`` (``http_404``, ``parse``, ``transient``...)."""
        self.failures[reason] = self.failures.get(reason, 0) + 1

    def saw(self, day: date) -> None:
        """Track the newest event date met."""
        if self.newest_event is None or day > self.newest_event:
            self.newest_event = day


def start_run(
    conn: psycopg.Connection,
    source: str,
    *,
    trigger: str,
    since: date | None = None,
    until: date | None = None,
) -> int:
    """Insert a ``running`` row; its id."""
    row = conn.execute(
        "INSERT INTO source_runs (source, trigger, since, until) VALUES (%s, %s, %s, %s) "
        "RETURNING id",
        (source, trigger, since, until),
    ).fetchone()
    conn.commit()
    assert row is not None
    return int(row[0])


def finish_run(
    conn: psycopg.Connection, run_id: int, status: str, counts: RunCounts, error: str | None
) -> None:
    """Close the run with its status and counts."""
    conn.rollback()  # whatever the failure left open
    conn.execute(
        "UPDATE source_runs SET status = %s, finished_at = now(), listed = %s, fetched = %s, "
        "skipped = %s, failed = %s, quarantined = %s, documents = %s, pages = %s, "
        "retries = %s, failures = %s, newest_event = %s, error = %s, written = %s "
        "WHERE id = %s",
        (
            status,
            counts.listed,
            counts.fetched,
            counts.skipped,
            counts.failed,
            counts.quarantined,
            counts.documents,
            counts.pages,
            counts.retries,
            Jsonb(counts.failures),
            counts.newest_event,
            error,
            Jsonb(counts.written[:10000]),
            run_id,
        ),
    )
    conn.commit()


def record_disabled(conn: psycopg.Connection, source: str, reason: str) -> None:
    """A finished ``disabled`` run: ``sources status`` shows why a source did nothing."""
    conn.execute(
        "INSERT INTO source_runs (source, trigger, status, finished_at, error) "
        "VALUES (%s, 'schedule', 'disabled', now(), %s)",
        (source, reason),
    )
    conn.commit()


def known_events(conn: psycopg.Connection, source: str, keys: Iterable[str]) -> dict[str, str]:
    """Status of each already-checkpointed event among ``keys``."""
    rows = conn.execute(
        "SELECT event_key, status FROM source_events WHERE source = %s AND event_key = ANY(%s)",
        (source, list(keys)),
    ).fetchall()
    conn.commit()
    return {key: status for key, status in rows}


def record_event(
    conn: psycopg.Connection,
    run_id: int,
    ref: EventRef,
    status: str,
    *,
    documents: list[str] | None = None,
    error: str | None = None,
) -> None:
    """Upsert the checkpoint of one event after an attempt."""
    fetched = status in ("fetched", "empty")
    conn.execute(
        """
        INSERT INTO source_events AS e (source, event_key, event_date, name, format, status,
            attempts, last_fetched_at, documents, last_error, last_run_id)
        VALUES (%(source)s, %(key)s, %(date)s, %(name)s, %(format)s, %(status)s, 1,
            CASE WHEN %(fetched)s THEN now() END, %(documents)s, %(error)s, %(run)s)
        ON CONFLICT (source, event_key) DO UPDATE SET
            event_date = EXCLUDED.event_date, name = EXCLUDED.name, format = EXCLUDED.format,
            status = EXCLUDED.status, attempts = e.attempts + 1, last_listed_at = now(),
            last_fetched_at = COALESCE(EXCLUDED.last_fetched_at, e.last_fetched_at),
            documents = CASE WHEN %(fetched)s THEN EXCLUDED.documents ELSE e.documents END,
            last_error = EXCLUDED.last_error, last_run_id = EXCLUDED.last_run_id
        """,
        {
            "source": ref.source,
            "key": ref.key,
            "date": ref.date,
            "name": ref.name,
            "format": ref.format,
            "status": status,
            "fetched": fetched,
            "documents": Jsonb(documents or []),
            "error": error,
            "run": run_id,
        },
    )
    conn.commit()


def quarantine_page(
    conn: psycopg.Connection,
    source: str,
    run_id: int | None,
    *,
    event_key: str | None,
    url: str | None,
    status: int | None,
    error: str,
) -> None:
    """Keep a page that could not be parsed (the raw bytes are in ``source_pages``)."""
    conn.execute(
        "INSERT INTO source_quarantine (source, run_id, event_key, url, status, error) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (source, run_id, event_key, url, status, error[:4000]),
    )
    conn.commit()


def get_checkpoint(conn: psycopg.Connection, source: str) -> dict[str, Any] | None:
    """The stored state of ``source`` (e.g. the cache repository's ingested commit)."""
    row = conn.execute("SELECT state FROM source_checkpoints WHERE source = %s", (source,))
    found = row.fetchone()
    conn.commit()
    return dict(found[0]) if found else None


def set_checkpoint(conn: psycopg.Connection, source: str, state: Mapping[str, Any]) -> None:
    """Replace the stored state of ``source``."""
    conn.execute(
        "INSERT INTO source_checkpoints (source, state) VALUES (%s, %s) "
        "ON CONFLICT (source) DO UPDATE SET state = EXCLUDED.state, updated_at = now()",
        (source, Jsonb(dict(state))),
    )
    conn.commit()


def unfinished_writes(conn: psycopg.Connection, source: str) -> list[str]:
    """Files written by failed runs since the last run that got through: a run that died
    between writing files and ingesting them hands them to the next run."""
    rows = conn.execute(
        """
        SELECT DISTINCT jsonb_array_elements_text(written) FROM source_runs
         WHERE source = %(source)s AND status = 'failed'
           AND id > COALESCE((SELECT max(id) FROM source_runs WHERE source = %(source)s
                               AND status IN ('succeeded', 'partial')), 0)
        """,
        {"source": source},
    ).fetchall()
    conn.commit()
    return sorted(row[0] for row in rows)
