"""Run records (``task_runs``, migration 0008): what was asked, what runs, what happened.

Every background run — ingest, classify, reclassify, refresh, fetch — is one row, whose id is
also the Celery task id of its messages. The row, not the broker or the result backend, is
the source of truth an operator reads (``GET /admin/tasks/{id}``, ``manalytics tasks``):

* :func:`request_run` records a request. Identical requests (same task and arguments: the
  *dedup key*) never start a second run: a request finds the queued run and joins it, or
  finds the running one and becomes its *pending follow-up* (``pending_requests``), run once
  after the current run finishes — coalesced, never skipped.
* :func:`claim` is called by the worker when a message arrives. It takes the run's advisory
  lock on the caller's (dedicated) connection: a copy of a message whose run is alive
  elsewhere finds the lock held and is dropped without touching the row; a copy whose
  previous worker died (lock released with its connection) takes the run over.
* :func:`finish` records the final state and creates the follow-up when requests arrived
  meanwhile; :func:`mark_retrying` records a transient failure before the back-off.
* :func:`reap` (beat) re-queues runs whose worker vanished (heartbeat older than N and lock
  free) and re-publishes queued runs whose message may be lost.

Pure SQL over a psycopg connection given by the caller; no Celery here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

__all__ = [
    "ACTIVE_STATES",
    "FINAL_STATES",
    "KINDS",
    "RUN_LOCK_CLASS",
    "Claim",
    "Request",
    "Run",
    "claim",
    "dedup_key",
    "finish",
    "get_run",
    "heartbeat",
    "kind_of",
    "list_runs",
    "mark_enqueued",
    "mark_retrying",
    "reap",
    "request_run",
    "take_lock",
    "unlock",
]

ACTIVE_STATES: Final = ("queued", "running", "retrying")
FINAL_STATES: Final = ("succeeded", "failed", "abandoned")
#: First key of the two-key advisory lock a run holds while it runs ("RUNS").
RUN_LOCK_CLASS: Final = 0x52554E53
# Serialises requests of one dedup key (transaction-level, so it cannot leak).
_REQUEST_LOCK_CLASS: Final = 0x52455153  # "REQS"
_REAPER_LOCK: Final = 0x52454150  # "REAP"

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

_COLUMNS: Final = (
    "id, kind, task_name, arguments, dedup_key, state, attempt, max_attempts, progress, result,"
    " error, requested_by, requested_at, enqueued_at, started_at, finished_at, heartbeat_at,"
    " next_attempt_at, worker, pending_requests, follow_up_of, history"
)


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

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (ids as strings; datetimes left for the caller's encoder)."""
        out = asdict(self)
        out["id"] = str(self.id)
        out["follow_up_of"] = str(self.follow_up_of) if self.follow_up_of else None
        return out


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


@dataclass(frozen=True, slots=True)
class Claim:
    """Outcome of :func:`claim` for one delivered message.

    ``action``: ``run`` (the caller owns the run and holds its lock), ``duplicate`` (the run
    is alive elsewhere: drop this copy), ``finished`` (already over: drop), ``coalesced`` (a
    message without a row joined an identical run: drop), ``poison`` (too many attempts: the
    run was marked failed), ``busy`` (another run of the same key is still running: retry
    later).
    """

    action: Literal["run", "duplicate", "finished", "coalesced", "poison", "busy"]
    run: Run | None


def kind_of(task_name: str) -> str:
    """The run kind of a task name."""
    return KINDS.get(task_name) or task_name.split(".", 1)[0]


def dedup_key(task_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    """Identical requests share this key: the task name and its arguments (not who asked)."""
    identity = {k: v for k, v in kwargs.items() if k not in _NOT_IDENTITY}
    return f"{task_name}:" + json.dumps([list(args), identity], sort_keys=True, default=str)


def _event(event: str, **details: Any) -> Jsonb:
    """One history entry (appended with ``history || %s``; the time is the server's)."""
    return Jsonb([{"event": event, **details}])


_STAMP: Final = "jsonb_set(%s::jsonb, '{0,at}', to_jsonb(clock_timestamp()))"


def _rows(conn: psycopg.Connection[Any], query: str, params: Any = None) -> list[Run]:
    with conn.cursor(row_factory=dict_row) as cur:
        return [Run(**row) for row in cur.execute(query, params).fetchall()]


def _one(conn: psycopg.Connection[Any], query: str, params: Any = None) -> Run | None:
    rows = _rows(conn, query, params)
    return rows[0] if rows else None


def get_run(conn: psycopg.Connection[Any], run_id: uuid.UUID | str) -> Run | None:
    """The run ``run_id``, or ``None``."""
    return _one(conn, f"SELECT {_COLUMNS} FROM task_runs WHERE id = %s", (str(run_id),))


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
    runs = _rows(
        conn,
        f"SELECT {_COLUMNS} FROM task_runs {where}"
        " ORDER BY requested_at DESC, id LIMIT %(limit)s OFFSET %(offset)s",
        params,
    )
    row = conn.execute(f"SELECT count(*) FROM task_runs {where}", params).fetchone()
    return runs, int(row[0]) if row else 0


def _active(conn: psycopg.Connection[Any], key: str, states: tuple[str, ...]) -> Run | None:
    return _one(
        conn,
        f"SELECT {_COLUMNS} FROM task_runs WHERE dedup_key = %s AND state = ANY(%s) FOR UPDATE",
        (key, list(states)),
    )


def _insert(
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
    run = _one(
        conn,
        f"""INSERT INTO task_runs (id, kind, task_name, arguments, dedup_key, requested_by,
                                   max_attempts, follow_up_of, history)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, {_STAMP})
            RETURNING {_COLUMNS}""",
        (
            str(run_id),
            kind_of(task_name),
            task_name,
            Jsonb({"args": list(args), "kwargs": dict(kwargs)}),
            dedup_key(task_name, args, kwargs),
            requested_by,
            max_attempts,
            str(follow_up_of) if follow_up_of else None,
            _event("requested", by=requested_by),
        ),
    )
    assert run is not None
    return run


def _lock_key(conn: psycopg.Connection[Any], key: str) -> None:
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
        _lock_key(conn, key)  # two identical requests at once: the second sees the first
        waiting = _active(conn, key, ("queued", "retrying"))
        if waiting is not None:
            return Request(waiting, "queued")
        running = _active(conn, key, ("running",))
        if running is not None:
            if not follow_up:
                return Request(running, "running")
            updated = _one(
                conn,
                f"""UPDATE task_runs SET pending_requests = pending_requests + 1
                     WHERE id = %s RETURNING {_COLUMNS}""",
                (str(running.id),),
            )
            assert updated is not None
            return Request(updated, "pending")
        run = _insert(
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
        run = _one(conn, f"SELECT {_COLUMNS} FROM task_runs WHERE id = %s FOR UPDATE", (run_id,))
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
        if not taken_over and _active(conn, run.dedup_key, ("running",)) is not None:
            unlock(conn, run_id)
            return Claim("busy", run)
        attempt = run.attempt + 1
        if attempt > run.max_attempts:
            failed = _finish_locked(
                conn,
                run,
                "failed",
                error=f"gave up after {run.attempt} attempts (poison message?); last error: "
                f"{run.error or 'worker lost'}",
            )
            unlock(conn, run_id)
            return Claim("poison", failed)
        event = _event("taken over" if taken_over else "started", attempt=attempt, worker=worker)
        run = _one(
            conn,
            f"""UPDATE task_runs SET state = 'running', attempt = %s, worker = %s,
                       started_at = coalesce(started_at, clock_timestamp()),
                       heartbeat_at = clock_timestamp(), next_attempt_at = NULL,
                       history = history || {_STAMP}
                 WHERE id = %s RETURNING {_COLUMNS}""",
            (attempt, worker, event, run_id),
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


def _finish_locked(
    conn: psycopg.Connection[Any],
    run: Run,
    state: str,
    *,
    result: Any = None,
    error: str | None = None,
) -> Run:
    """Set a final state (in the caller's transaction, row locked)."""
    finished = _one(
        conn,
        f"""UPDATE task_runs SET state = %s, result = %s, error = %s,
                   finished_at = clock_timestamp(), heartbeat_at = clock_timestamp(),
                   next_attempt_at = NULL, history = history || {_STAMP}
             WHERE id = %s RETURNING {_COLUMNS}""",
        (
            state,
            Jsonb(result) if result is not None else None,
            error[:4000] if error else None,
            _event(state, attempt=run.attempt, **({"error": error[:300]} if error else {})),
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
        run = _one(conn, f"SELECT {_COLUMNS} FROM task_runs WHERE id = %s FOR UPDATE", (run_id,))
        if run is None or run.state in FINAL_STATES:
            return run, None
        finished = _finish_locked(conn, run, state, result=result, error=error)
        return finished, _follow_up(conn, finished)


def _follow_up(conn: psycopg.Connection[Any], run: Run) -> Run | None:
    if run.pending_requests == 0:
        return None
    conn.execute("UPDATE task_runs SET pending_requests = 0 WHERE id = %s", (str(run.id),))
    _lock_key(conn, run.dedup_key)
    if _active(conn, run.dedup_key, ("queued", "retrying")) is not None:
        return None  # an identical run already waits: it serves those requests
    return _insert(
        conn,
        uuid.uuid4(),
        run.task_name,
        run.args,
        run.kwargs,
        requested_by=f"{run.pending_requests} request(s) during run {run.id}",
        max_attempts=run.max_attempts,
        follow_up_of=run.id,
    )


def mark_retrying(
    conn: psycopg.Connection[Any], run_id: uuid.UUID | str, error: str, delay_seconds: float
) -> None:
    """A transient error: the run waits ``delay_seconds`` (at most) for its next attempt."""
    with conn.transaction():
        conn.execute(
            f"""UPDATE task_runs SET state = 'retrying', error = %s,
                       next_attempt_at = clock_timestamp() + make_interval(secs => %s),
                       history = history || {_STAMP}
                 WHERE id = %s AND state = 'running'""",
            (error[:4000], delay_seconds, _event("retrying", error=error[:300]), str(run_id)),
        )


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
      attempt, or ``abandoned`` once it used all its attempts.
    * ``queued`` published more than ``republish_after`` seconds ago without starting, and
      ``retrying`` whose next attempt is ``stale_after`` overdue (its retry message was
      lost, or Celery cancelled it after a broker connection loss): published again (a copy
      that finds the run started or finished is dropped by :func:`claim`).

    ``None`` when another reaper is at work (transaction-level lock: one at a time).
    """
    requeue: list[Run] = []
    abandoned: list[Run] = []
    follow_ups: list[Run] = []
    with conn.transaction():
        locked = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (_REAPER_LOCK,)).fetchone()
        if not locked or not locked[0]:
            return None
        stale = _rows(
            conn,
            f"""SELECT {_COLUMNS} FROM task_runs WHERE state = 'running'
                  AND heartbeat_at < clock_timestamp() - make_interval(secs => %s)
                  FOR UPDATE SKIP LOCKED""",
            (stale_after,),
        )
        for run in stale:
            if not take_lock(conn, run.id):
                continue  # its worker still holds the lock: alive, only slow to beat
            unlock(conn, run.id)
            if run.attempt >= run.max_attempts:
                error = f"abandoned: no heartbeat since {run.heartbeat_at} after {run.attempt}"
                error += " attempts"
                done = _finish_locked(conn, run, "abandoned", error=error)
                abandoned.append(done)
                follow = _follow_up(conn, done)
                if follow is not None:
                    follow_ups.append(follow)
                continue
            event = _event("abandoned", attempt=run.attempt, worker=run.worker, requeued=True)
            updated = _one(
                conn,
                f"""UPDATE task_runs SET state = 'queued', enqueued_at = clock_timestamp(),
                           error = %s, history = history || {_STAMP}
                     WHERE id = %s RETURNING {_COLUMNS}""",
                (
                    f"attempt {run.attempt} abandoned: worker {run.worker} gone "
                    f"(no heartbeat since {run.heartbeat_at}); re-queued",
                    event,
                    str(run.id),
                ),
            )
            assert updated is not None
            requeue.append(updated)
        lost = _rows(
            conn,
            f"""UPDATE task_runs SET enqueued_at = clock_timestamp(),
                       history = history || {_STAMP}
                 WHERE (state = 'queued' AND coalesce(enqueued_at, requested_at)
                            < clock_timestamp() - make_interval(secs => %s))
                    OR (state = 'retrying' AND next_attempt_at
                            < clock_timestamp() - make_interval(secs => %s))
             RETURNING {_COLUMNS}""",
            (_event("re-published"), republish_after, stale_after),
        )
        requeue += lost
    return Reaped(requeue, abandoned, follow_ups)
