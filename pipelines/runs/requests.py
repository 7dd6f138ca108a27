"""Requests for runs, coalesced: identical requests never start a second run.

A request finds the queued run of its dedup key and joins it, or finds the running one and
becomes its *pending follow-up* (``pending_requests``), run once after the current run
finishes (:func:`follow_up`) — coalesced, never skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import psycopg
from psycopg.types.json import Jsonb

from pipelines.runs.records import COLUMNS, STAMP, Run, active, dedup_key, event, kind_of, one

# Serialises requests of one dedup key (transaction-level, so it cannot leak).
_REQUEST_LOCK_CLASS: Final = 0x52455153  # "REQS"


@dataclass(frozen=True, slots=True)
class Request:
    """Outcome of :func:`request_run`.

    ``outcome``: ``created`` (a new queued run: publish its message), ``queued`` (joined the
    run already waiting), ``pending`` (a run is going on: this request is its follow-up, run
    once after it), ``running`` (joined the running run; kinds without follow-ups).
    """

    run: Run
    outcome: Literal["created", "queued", "pending", "running"]

    @property
    def publish(self) -> bool:
        return self.outcome == "created"


def insert(
    conn: psycopg.Connection[Any],
    run_id: uuid.UUID,
    task_name: str,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    *,
    requested_by: str | None,
    max_attempts: int,
    follow_up_of: uuid.UUID | None = None,
) -> Run:
    """A new ``queued`` run (in the caller's transaction)."""
    run = one(
        conn,
        f"""INSERT INTO task_runs (id, kind, task_name, arguments, dedup_key, requested_by,
                                   max_attempts, follow_up_of, history)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, {STAMP})
            RETURNING {COLUMNS}""",
        (
            str(run_id),
            kind_of(task_name),
            task_name,
            Jsonb({"args": list(args), "kwargs": dict(kwargs)}),
            dedup_key(task_name, args, kwargs),
            requested_by,
            max_attempts,
            str(follow_up_of) if follow_up_of else None,
            event("requested", by=requested_by),
        ),
    )
    assert run is not None
    return run


def lock_key(conn: psycopg.Connection[Any], key: str) -> None:
    """Serialise requests of dedup key ``key`` until the caller's transaction ends."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_REQUEST_LOCK_CLASS, key))


def request_run(
    conn: psycopg.Connection[Any],
    task_name: str,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    requested_by: str | None = None,
    follow_up: bool = True,
    max_attempts: int = 5,
    run_id: uuid.UUID | None = None,
) -> Request:
    """Record a request for ``task_name(*args, **kwargs)``, coalesced with identical ones.

    Runs in its own transaction (committed on return). The caller publishes the message
    (task id = run id) only when ``Request.publish``.
    """
    kwargs = dict(kwargs or {})
    key = dedup_key(task_name, args, kwargs)
    with conn.transaction():
        lock_key(conn, key)  # two identical requests at once: the second sees the first
        waiting = active(conn, key, ("queued", "retrying"))
        if waiting is not None:
            return Request(waiting, "queued")
        running = active(conn, key, ("running",))
        if running is not None:
            if not follow_up:
                return Request(running, "running")
            updated = one(
                conn,
                f"""UPDATE task_runs SET pending_requests = pending_requests + 1
                     WHERE id = %s RETURNING {COLUMNS}""",
                (str(running.id),),
            )
            assert updated is not None
            return Request(updated, "pending")
        run = insert(
            conn,
            run_id or uuid.uuid4(),
            task_name,
            args,
            kwargs,
            requested_by=requested_by,
            max_attempts=max_attempts,
        )
        return Request(run, "created")


def mark_enqueued(conn: psycopg.Connection[Any], run_id: uuid.UUID | str) -> None:
    """The run's message was published (now)."""
    with conn.transaction():
        conn.execute("UPDATE task_runs SET enqueued_at = now() WHERE id = %s", (str(run_id),))


def follow_up(conn: psycopg.Connection[Any], run: Run) -> Run | None:
    """The one run serving the requests that arrived while ``run`` ran (now final), if any
    (in the caller's transaction); the caller publishes it."""
    if run.pending_requests == 0:
        return None
    conn.execute("UPDATE task_runs SET pending_requests = 0 WHERE id = %s", (str(run.id),))
    lock_key(conn, run.dedup_key)
    if active(conn, run.dedup_key, ("queued", "retrying")) is not None:
        return None  # an identical run already waits: it serves those requests
    return insert(
        conn,
        uuid.uuid4(),
        run.task_name,
        run.args,
        run.kwargs,
        requested_by=f"{run.pending_requests} request(s) during run {run.id}",
        max_attempts=run.max_attempts,
        follow_up_of=run.id,
    )


__all__ = ["Request", "follow_up", "insert", "lock_key", "mark_enqueued", "request_run"]
