"""The reaper (beat, every ``REAPER_INTERVAL_SECONDS``): runs whose worker is gone go back to
the queue, runs whose message may be lost are published again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import psycopg

from pipelines.runs.claims import finish_locked, take_lock, unlock
from pipelines.runs.records import COLUMNS, STAMP, Run, event, one, rows
from pipelines.runs.requests import follow_up

_REAPER_LOCK: Final = 0x52454150  # "REAP"


@dataclass(frozen=True, slots=True)
class Reaped:
    """What :func:`reap` did: runs to (re-)publish, runs given up."""

    requeue: list[Run]
    abandoned: list[Run]
    follow_ups: list[Run]


def reap(
    conn: psycopg.Connection[Any], *, stale_after: float, republish_after: float
) -> Reaped | None:
    """Re-queue runs whose worker is gone; re-publish runs whose message may be lost.

    * ``running`` with a heartbeat older than ``stale_after`` seconds whose lock is free:
      its worker died (or lost the broker and was cancelled). Back to ``queued`` for another
      attempt, or ``abandoned`` once its attempts lost their worker ``max_attempts`` times.
    * ``queued`` published more than ``republish_after`` seconds ago without starting, and
      ``retrying`` whose next attempt is ``stale_after`` overdue (its retry message was
      lost): published again (a copy that finds the run started or finished is dropped by
      :func:`pipelines.runs.claims.claim`).

    ``None`` when another reaper is at work (transaction-level lock: one at a time).
    """
    reaped = Reaped([], [], [])
    with conn.transaction():
        got = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (_REAPER_LOCK,)).fetchone()
        if not got or not got[0]:
            return None
        stale = rows(
            conn,
            f"""SELECT {COLUMNS} FROM task_runs WHERE state = 'running'
                  AND heartbeat_at < clock_timestamp() - make_interval(secs => %s)
                  FOR UPDATE SKIP LOCKED""",
            (stale_after,),
        )
        for run in stale:
            if not take_lock(conn, run.id):
                continue  # its worker still holds the lock: alive, only slow to beat
            unlock(conn, run.id)
            _worker_gone(conn, run, reaped)
        reaped.requeue.extend(
            rows(
                conn,
                f"""UPDATE task_runs SET enqueued_at = clock_timestamp(),
                           history = history || {STAMP}
                     WHERE (state = 'queued' AND coalesce(enqueued_at, requested_at)
                                < clock_timestamp() - make_interval(secs => %s))
                        OR (state = 'retrying' AND next_attempt_at
                                < clock_timestamp() - make_interval(secs => %s))
                 RETURNING {COLUMNS}""",
                (event("re-published"), republish_after, stale_after),
            )
        )
    return reaped


def _worker_gone(conn: psycopg.Connection[Any], run: Run, reaped: Reaped) -> None:
    """A running run without its worker: abandoned for good, or re-queued."""
    if run.worker_losses + 1 >= run.max_attempts:
        error = f"abandoned: no heartbeat since {run.heartbeat_at}; {run.worker_losses + 1}"
        error += " attempts lost their worker"
        done = finish_locked(conn, run, "abandoned", error=error)
        reaped.abandoned.append(done)
        follow = follow_up(conn, done)
        if follow is not None:
            reaped.follow_ups.append(follow)
        return
    updated = one(
        conn,
        f"""UPDATE task_runs SET state = 'queued', enqueued_at = clock_timestamp(),
                   error = %s, history = history || {STAMP}
             WHERE id = %s RETURNING {COLUMNS}""",
        (
            f"attempt {run.attempt} abandoned: worker {run.worker} gone "
            f"(no heartbeat since {run.heartbeat_at}); re-queued",
            event("abandoned", attempt=run.attempt, worker=run.worker, requeued=True),
            str(run.id),
        ),
    )
    assert updated is not None
    reaped.requeue.append(updated)


__all__ = ["Reaped", "reap"]
