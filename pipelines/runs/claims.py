"""A worker's side of a run: claim it, beat, record retries and its final state.

:func:`claim` is called by the worker when a message arrives. It takes the run's advisory
lock on the caller's (dedicated) connection: a copy of a message whose run is alive
elsewhere finds the lock held and is dropped without touching the row; a copy whose previous
worker died (lock released with its connection) takes the run over. A run whose attempts lost
their worker ``max_attempts`` times is given up (*poison*); transient errors (retried with
back-off by the task) do not count. :func:`finish` records the final state and creates the
follow-up when requests arrived meanwhile; :func:`mark_retrying` records a transient failure
before the back-off.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import psycopg
from psycopg.types.json import Jsonb

from pipelines.runs.records import COLUMNS, FINAL_STATES, STAMP, Run, active, event, locked, one
from pipelines.runs.requests import follow_up, request_run

#: First key of the two-key advisory lock a run holds while it runs ("RUNS").
RUN_LOCK_CLASS: Final = 0x52554E53


@dataclass(frozen=True, slots=True)
class Claim:
    """Outcome of :func:`claim` for one delivered message.

    ``action``: ``run`` (the caller owns the run and holds its lock), ``duplicate`` (the run
    is alive elsewhere: drop this copy), ``finished`` (already over: drop), ``coalesced`` (a
    message without a row joined an identical run: drop), ``poison`` (its attempts lost
    their worker too often: the run was marked failed), ``busy`` (another run of the same
    key is still running: retry later).
    """

    action: Literal["run", "duplicate", "finished", "coalesced", "poison", "busy"]
    run: Run | None


def take_lock(conn: psycopg.Connection[Any], run_id: uuid.UUID | str) -> bool:
    row = conn.execute(
        "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (RUN_LOCK_CLASS, str(run_id))
    ).fetchone()
    return bool(row and row[0])


def unlock(conn: psycopg.Connection[Any], run_id: uuid.UUID | str) -> None:
    """Release the run's session lock taken by :func:`claim` on ``conn``."""
    conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (RUN_LOCK_CLASS, str(run_id)))


def claim(
    conn: psycopg.Connection[Any],
    run_id: uuid.UUID | str,
    task_name: str,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    *,
    worker: str,
    follow_up: bool = True,
    max_attempts: int = 5,
) -> Claim:
    """Take the run of a delivered message (see the module docstring).

    ``conn`` must be an autocommit connection dedicated to this run: on ``action == "run"``
    it holds the run's session-level advisory lock until it is closed (or :func:`unlock`),
    which is how a later copy of the message knows whether this worker is still alive.
    """
    run_id = uuid.UUID(str(run_id))
    with conn.transaction():
        run = locked(conn, run_id)
        if run is None:
            # A message nobody recorded (beat, a chain, `celery call`): record it here, or
            # join the identical run that is already queued or running.
            request = request_run(
                conn,
                task_name,
                args,
                kwargs,
                follow_up=follow_up,
                max_attempts=max_attempts,
                run_id=run_id,
            )
            if request.outcome != "created":
                return Claim("coalesced", request.run)
            run = request.run
        if run.state in FINAL_STATES:
            return Claim("finished", run)
        if not take_lock(conn, run_id):
            return Claim("duplicate", run)  # its worker is alive and holds the lock
        taken_over = run.state == "running"  # the lock was free: its worker is gone
        if not taken_over and active(conn, run.dedup_key, ("running",)) is not None:
            unlock(conn, run_id)
            return Claim("busy", run)
        losses = run.worker_losses + taken_over
        if losses >= run.max_attempts:
            failed = finish_locked(
                conn,
                run,
                "failed",
                error=f"gave up after {losses} attempts that lost their worker (poison "
                f"message?); last error: {run.error or 'worker lost'}",
            )
            unlock(conn, run_id)
            return Claim("poison", failed)
        attempt = run.attempt + 1
        entry = event("taken over" if taken_over else "started", attempt=attempt, worker=worker)
        run = one(
            conn,
            f"""UPDATE task_runs SET state = 'running', attempt = %s, worker = %s,
                       started_at = coalesce(started_at, clock_timestamp()),
                       heartbeat_at = clock_timestamp(), next_attempt_at = NULL,
                       history = history || {STAMP}
                 WHERE id = %s RETURNING {COLUMNS}""",
            (attempt, worker, entry, run_id),
        )
    return Claim("run", run)


def heartbeat(
    conn: psycopg.Connection[Any],
    run_id: uuid.UUID | str,
    progress: Mapping[str, Any] | None = None,
) -> bool:
    """Refresh the run's heartbeat (and merge ``progress``); False if it is not running."""
    cur = conn.execute(
        "UPDATE task_runs SET heartbeat_at = clock_timestamp(),"
        " progress = progress || %s WHERE id = %s AND state = 'running'",
        (Jsonb(dict(progress or {})), str(run_id)),
    )
    return cur.rowcount == 1


def finish_locked(
    conn: psycopg.Connection[Any],
    run: Run,
    state: str,
    *,
    result: Any = None,
    error: str | None = None,
) -> Run:
    """Set a final state (in the caller's transaction, row locked)."""
    finished = one(
        conn,
        f"""UPDATE task_runs SET state = %s, result = %s, error = %s,
                   finished_at = clock_timestamp(), heartbeat_at = clock_timestamp(),
                   next_attempt_at = NULL, history = history || {STAMP}
             WHERE id = %s RETURNING {COLUMNS}""",
        (
            state,
            Jsonb(result) if result is not None else None,
            error[:4000] if error else None,
            event(state, attempt=run.attempt, **({"error": error[:300]} if error else {})),
            str(run.id),
        ),
    )
    assert finished is not None
    return finished


def finish(
    conn: psycopg.Connection[Any],
    run_id: uuid.UUID | str,
    state: Literal["succeeded", "failed", "abandoned"],
    *,
    result: Any = None,
    error: str | None = None,
) -> tuple[Run | None, Run | None]:
    """Record the run's final state; returns it and the follow-up run to publish, if any.

    Requests that arrived while it ran (``pending_requests``) get exactly one follow-up run,
    whatever their number, succeeded or not. A run already final is left as it is.
    """
    with conn.transaction():
        run = locked(conn, run_id)
        if run is None or run.state in FINAL_STATES:
            return run, None
        finished = finish_locked(conn, run, state, result=result, error=error)
        return finished, follow_up(conn, finished)


def mark_retrying(
    conn: psycopg.Connection[Any], run_id: uuid.UUID | str, error: str, delay_seconds: float
) -> None:
    """A transient error: the run waits ``delay_seconds`` (at most) for its next attempt."""
    with conn.transaction():
        conn.execute(
            f"""UPDATE task_runs SET state = 'retrying', error = %s,
                       next_attempt_at = clock_timestamp() + make_interval(secs => %s),
                       history = history || {STAMP}
                 WHERE id = %s AND state = 'running'""",
            (error[:4000], delay_seconds, event("retrying", error=error[:300]), str(run_id)),
        )


__all__ = [
    "RUN_LOCK_CLASS",
    "Claim",
    "claim",
    "finish",
    "finish_locked",
    "heartbeat",
    "mark_retrying",
    "take_lock",
    "unlock",
]
