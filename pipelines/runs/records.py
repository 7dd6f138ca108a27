"""The run record (``task_runs``, migration 0008) and how it is read.

Every background run — ingest, classify, reclassify, refresh, fetch — is one row, whose id is
also the Celery task id of its messages. The row, not the broker or the result backend, is
the source of truth an operator reads (``GET /admin/tasks/{id}``, ``manalytics tasks``).
Identical requests share a *dedup key* (:func:`dedup_key`).

Pure SQL over a psycopg connection given by the caller; no Celery here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

ACTIVE_STATES: Final = ("queued", "running", "retrying")
FINAL_STATES: Final = ("succeeded", "failed", "abandoned")
#: History events that mean "an attempt lost its worker" (kill -9, OOM, hard time limit,
#: a whole worker gone): a redelivered copy took the run over, or the reaper re-queued it.
LOSS_EVENTS: Final = frozenset({"taken over", "abandoned"})

#: Task name -> run kind; other names use their prefix (``sources.fetch`` -> ``sources``).
KINDS: Final[Mapping[str, str]] = {
    "ingest.cache_tree": "ingest",
    "ingest.nightly": "ingest",
    "classify.new_decks": "classify",
    "classify.reclassify_format": "reclassify",
    "classify.chunk": "reclassify",
    "refresh.meta_views": "refresh",
    "sources.fetch": "fetch",
}
# Arguments that say who asked, not what to do: left out of the dedup key.
_NOT_IDENTITY: Final = frozenset({"requested_by"})

COLUMNS: Final = (
    "id, kind, task_name, arguments, dedup_key, state, attempt, max_attempts, progress, result,"
    " error, requested_by, requested_at, enqueued_at, started_at, finished_at, heartbeat_at,"
    " next_attempt_at, worker, pending_requests, follow_up_of, history"
)
#: ``history || STAMP`` appends an :func:`event` stamped with the server's clock.
STAMP: Final = "jsonb_set(%s::jsonb, '{0,at}', to_jsonb(clock_timestamp()))"


@dataclass(slots=True)
class Run:
    """One row of ``task_runs``."""

    id: uuid.UUID
    kind: str
    task_name: str
    arguments: dict[str, Any]
    dedup_key: str
    state: str
    attempt: int
    max_attempts: int
    progress: dict[str, Any]
    result: Any
    error: str | None
    requested_by: str | None
    requested_at: datetime
    enqueued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    next_attempt_at: datetime | None
    worker: str | None
    pending_requests: int
    follow_up_of: uuid.UUID | None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def args(self) -> list[Any]:
        return list(self.arguments.get("args", []))

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.arguments.get("kwargs", {}))

    @property
    def worker_losses(self) -> int:
        """Attempts that lost their worker so far. Only these make a message *poison*:
        transient errors are retried and bounded by the task's own retry limit."""
        return sum(1 for entry in self.history if entry.get("event") in LOSS_EVENTS)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (ids as strings; datetimes left for the caller's encoder)."""
        out = asdict(self)
        out["id"] = str(self.id)
        out["follow_up_of"] = str(self.follow_up_of) if self.follow_up_of else None
        return out


def kind_of(task_name: str) -> str:
    """The run kind of a task name."""
    return KINDS.get(task_name) or task_name.split(".", 1)[0]


def dedup_key(task_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    """Identical requests share this key: the task name and its arguments (not who asked)."""
    identity = {k: v for k, v in kwargs.items() if k not in _NOT_IDENTITY}
    return f"{task_name}:" + json.dumps([list(args), identity], sort_keys=True, default=str)


def event(name: str, **details: Any) -> Jsonb:
    """One history entry (appended with ``history || STAMP``; the time is the server's)."""
    return Jsonb([{"event": name, **details}])


def rows(conn: psycopg.Connection[Any], query: str, params: Any = None) -> list[Run]:
    with conn.cursor(row_factory=dict_row) as cur:
        return [Run(**row) for row in cur.execute(query, params).fetchall()]


def one(conn: psycopg.Connection[Any], query: str, params: Any = None) -> Run | None:
    found = rows(conn, query, params)
    return found[0] if found else None


def get_run(conn: psycopg.Connection[Any], run_id: uuid.UUID | str) -> Run | None:
    """The run ``run_id``, or ``None``."""
    return one(conn, f"SELECT {COLUMNS} FROM task_runs WHERE id = %s", (str(run_id),))


def list_runs(
    conn: psycopg.Connection[Any],
    *,
    limit: int = 50,
    offset: int = 0,
    kind: str | None = None,
    state: str | None = None,
) -> tuple[list[Run], int]:
    """Runs newest first (optionally of one kind / state), and how many match."""
    where = "WHERE (%(kind)s::text IS NULL OR kind = %(kind)s)"
    where += " AND (%(state)s::text IS NULL OR state = %(state)s)"
    params = {"kind": kind, "state": state, "limit": limit, "offset": offset}
    found = rows(
        conn,
        f"SELECT {COLUMNS} FROM task_runs {where}"
        " ORDER BY requested_at DESC, id LIMIT %(limit)s OFFSET %(offset)s",
        params,
    )
    row = conn.execute(f"SELECT count(*) FROM task_runs {where}", params).fetchone()
    return found, int(row[0]) if row else 0


def active(conn: psycopg.Connection[Any], key: str, states: tuple[str, ...]) -> Run | None:
    """The run of dedup key ``key`` in one of ``states``, row-locked (at most one each)."""
    return one(
        conn,
        f"SELECT {COLUMNS} FROM task_runs WHERE dedup_key = %s AND state = ANY(%s) FOR UPDATE",
        (key, list(states)),
    )


def locked(conn: psycopg.Connection[Any], run_id: uuid.UUID | str) -> Run | None:
    """The run ``run_id`` with its row locked (in the caller's transaction)."""
    return one(conn, f"SELECT {COLUMNS} FROM task_runs WHERE id = %s FOR UPDATE", (str(run_id),))


__all__ = [
    "ACTIVE_STATES",
    "COLUMNS",
    "FINAL_STATES",
    "KINDS",
    "LOSS_EVENTS",
    "STAMP",
    "Run",
    "active",
    "dedup_key",
    "event",
    "get_run",
    "kind_of",
    "list_runs",
    "locked",
    "one",
    "rows",
]
