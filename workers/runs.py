"""Run-recorded tasks: every message of such a task is one attempt of a ``task_runs`` row.

Declare one with :func:`run_task`; its body receives the :class:`~pipelines.runs.lease.RunLease`
after ``self`` (``body(self, lease, *args, **kwargs)``) and reports progress through
``lease.checkpoint(...)``. Around the body, :meth:`RunTask.execute`:

1. claims the run (:func:`pipelines.runs.store.claim`) on a connection dedicated to it: a
   copy of a message whose run is alive elsewhere, finished, or identical to one already
   queued/running is dropped *without touching the row* (a duplicate never overwrites the
   real run's state);
2. runs the body while a thread keeps the heartbeat fresh;
3. records the final state — on the lease's connection while it still holds the lock, else
   on fresh connections retried with back-off (tenacity), so a dead connection never leaves
   a run ``running`` — and publishes the follow-up run when requests arrived meanwhile.

Transient errors (:data:`TRANSIENT`: database or broker connection lost, lock timeouts, a
lock held by another run) are retried by Celery's ``autoretry_for`` with exponential back-off,
full jitter and a maximum; every other error (bad data, bugs, time limits) fails the run at
once. Tasks are acknowledged late and rejected (re-queued) when their process dies; the run's
attempt counter gives up on a message that kills its worker every time (poison).

Generic on purpose: any ``<domain>.<verb>`` task (fetch runs of sources too) is declared the
same way and gets the same record, API and CLI views, reaper and metrics.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import kombu.exceptions
import psycopg
import redis
from celery.exceptions import SoftTimeLimitExceeded
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential_jitter

from pipelines.core.db import connect
from pipelines.ingest.cache import IngestBusy
from pipelines.runs import store
from pipelines.runs.lease import RunLease, RunLost
from workers import metrics
from workers.base import ManalyticsTask, current_run
from workers.celery_app import app

log = logging.getLogger(__name__)

#: Exponential back-off of transient errors: 2, 4, 8... s (full jitter), at most this long.
RETRY_BACKOFF_MAX = 120
MAX_RETRIES = 6
#: A publish rides out a Redis restart (~15 s) before the run is left to the reaper.
PUBLISH_RETRY = {"max_retries": 10, "interval_start": 0.5, "interval_step": 0.5, "interval_max": 2}


class RunBusy(RuntimeError):
    """The work is locked by another run (same dedup key, ingestion or refresh lock)."""


#: Errors worth another attempt later. psycopg's OperationalError covers a lost or refused
#: connection, lock_timeout (LockNotAvailable), statement timeouts and pool timeouts; never
#: DataError/IntegrityError/ProgrammingError (bad data or bugs: retrying cannot help).
TRANSIENT: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    redis.ConnectionError,
    redis.TimeoutError,
    kombu.exceptions.OperationalError,
    IngestBusy,
    RunBusy,
    RunLost,
)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def publish(run: store.Run) -> bool:
    """Send the run's message (task id = run id); False when the broker refused it (the
    reaper publishes it again later)."""
    try:
        app.send_task(
            run.task_name,
            args=run.args,
            kwargs=run.kwargs,
            task_id=str(run.id),
            retry=True,
            retry_policy=PUBLISH_RETRY,
        )
    except (kombu.exceptions.KombuError, redis.RedisError, OSError) as exc:
        log.warning("run %s not published (%s): the reaper will retry", run.id, _describe(exc))
        return False
    return True


class RunTask(ManalyticsTask):
    """Base of run-recorded tasks (see the module docstring)."""

    acks_late = True
    reject_on_worker_lost = True  # a killed process puts the message back (attempts bound it)
    autoretry_for = TRANSIENT
    retry_backoff = 2
    retry_backoff_max = RETRY_BACKOFF_MAX
    retry_jitter = True
    max_retries = MAX_RETRIES
    typing = False
    #: A request arriving while a run of the same key runs gets a follow-up run after it.
    follow_up = True

    def connect(self) -> psycopg.Connection[Any]:
        """A new autocommit connection (one per run: it holds the run's lock)."""
        dsn = self.settings.database_url
        assert dsn is not None  # resolved by worker_settings()
        return connect(dsn, autocommit=True, application_name=f"manalytics-run {self.name}")

    @contextmanager
    def db(self) -> Iterator[psycopg.Connection[Any]]:
        """A fresh autocommit connection, closed afterwards."""
        with self.connect() as conn:
            yield conn

    def ask_for(self, task_name: str, *, follow_up: bool = True, **kwargs: Any) -> store.Request:
        """Ask for another run (the chain's next link), coalesced with identical ones."""
        with self.db() as conn:
            requested = store.request_run(
                conn,
                task_name,
                (),
                kwargs,
                requested_by=f"{self.name} run {self.request.id}",
                follow_up=follow_up,
                max_attempts=self.settings.run_max_attempts,
            )
            # A queued run never published (its asker died between recording and sending
            # it) is published now rather than left to the reaper; a second copy is dropped.
            unsent = requested.outcome == "queued" and requested.run.enqueued_at is None
            if (requested.publish or unsent) and publish(requested.run):
                store.mark_enqueued(conn, requested.run.id)
        return requested

    @property
    def worker_name(self) -> str:
        """Who runs it: the Celery node and the pool process."""
        return f"{self.request.hostname or socket.gethostname()} pid {os.getpid()}"

    def run_here(self, run: store.Run, body: Callable[..., Any]) -> str:
        """Run another recorded run in this task (a parent working through its children):
        claimed like a delivered message of it, so its own message, delivered elsewhere, is
        dropped. Returns the claim's action (``run`` when it ran here); a transient error
        leaves it ``retrying`` for the next pass or its own message, any other error fails
        it and is raised."""
        conn = self.connect()
        try:
            claim = store.claim(
                conn,
                run.id,
                run.task_name,
                run.args,
                run.kwargs,
                worker=self.worker_name,
                follow_up=False,
                max_attempts=run.max_attempts,
            )
        except BaseException:
            conn.close()
            raise
        if claim.action != "run" or claim.run is None:
            conn.close()
            return claim.action
        lease = RunLease(self.connect, conn, claim.run, self.settings.run_heartbeat_seconds)
        try:
            result = body(self, lease, *run.args, **run.kwargs)
        except TRANSIENT as exc:
            self._record(lease, store.mark_retrying, _describe(exc), 0)
            log.warning("run %s (run here) will be retried: %s", run.id, _describe(exc))
        except Exception as exc:
            self._finish(lease, "failed", error=_describe(exc))
            raise
        else:
            self._finish(lease, "succeeded", result=result)
        finally:
            lease.close()
        return "run"

    def execute(self, body: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """Claim the run, run ``body``, record the outcome (module docstring)."""
        run_id = self.request.id or str(uuid.uuid4())
        worker = self.worker_name
        conn = self.connect()
        try:
            claim = store.claim(
                conn,
                run_id,
                self.name,
                args,
                kwargs,
                worker=worker,
                follow_up=self.follow_up,
                max_attempts=self.settings.run_max_attempts,
            )
        except BaseException:
            conn.close()
            raise
        if claim.action == "busy":
            conn.close()
            raise RunBusy(f"another run of {self.name} with these arguments is running")
        if claim.action != "run":
            conn.close()
            log.info("run %s: message dropped (%s)", run_id, claim.action)
            metrics.dropped(self.name, claim.action)
            # ignore_result: nothing of this copy reaches the result backend or the row.
            return {"run_id": str(claim.run.id) if claim.run else run_id, "status": claim.action}
        assert claim.run is not None
        lease = RunLease(self.connect, conn, claim.run, self.settings.run_heartbeat_seconds)
        token = current_run.set(str(run_id))
        try:
            return self._run_body(lease, body, args, kwargs)
        finally:
            current_run.reset(token)
            lease.close()

    def _run_body(
        self, lease: RunLease, body: Callable[..., Any], args: Sequence[Any], kwargs: dict
    ) -> Any:
        metrics.started(self.name)
        began = time.monotonic()
        try:
            result = body(self, lease, *args, **kwargs)
        except TRANSIENT as exc:
            metrics.finished(self.name, time.monotonic() - began, exc)
            if self.request.retries >= self.max_retries:
                metrics.failed(self.name, exc)
                self._finish(lease, "failed", error=f"gave up after retries: {_describe(exc)}")
            else:
                self._record(lease, store.mark_retrying, _describe(exc), RETRY_BACKOFF_MAX)
            raise  # autoretry_for: back-off, jitter, max_retries
        except (Exception, SoftTimeLimitExceeded) as exc:
            metrics.finished(self.name, time.monotonic() - began, exc)
            metrics.failed(self.name, exc)
            self._finish(lease, "failed", error=_describe(exc))
            raise
        metrics.finished(self.name, time.monotonic() - began, None)
        self._finish(lease, "succeeded", result=result)
        return result

    def _finish(self, lease: RunLease, state: Any, **outcome: Any) -> None:
        _, follow = self._record(lease, store.finish, state, **outcome)
        if follow is not None and publish(follow):
            self._record(lease, store.mark_enqueued, follow.id)

    def _record(self, lease: RunLease, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(conn, run_id, ...)`` on the lease's connection, else on fresh ones."""
        try:
            with lease.locked_connection() as conn:
                return fn(conn, *self._ids(fn, lease), *args, **kwargs)
        except psycopg.Error as exc:
            log.warning("run %s: recording on a fresh connection (%s)", lease.run_id, exc)
        return self._record_fresh(fn, self._ids(fn, lease), args, kwargs)

    @staticmethod
    def _ids(fn: Callable[..., Any], lease: RunLease) -> tuple[Any, ...]:
        return () if fn is store.mark_enqueued else (lease.run_id,)

    @retry(
        retry=retry_if_exception_type(psycopg.OperationalError),
        wait=wait_exponential_jitter(max=5),
        stop=stop_after_delay(60),
        reraise=True,
    )
    def _record_fresh(
        self, fn: Callable[..., Any], ids: tuple[Any, ...], args: Any, kwargs: Any
    ) -> Any:
        with self.db() as conn:
            return fn(conn, *ids, *args, **kwargs)

    def on_retry(self, exc: Any, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        """Count retries (the run was marked retrying before the exception left the body)."""
        metrics.retried(self.name, exc)


def run_task(name: str, *, follow_up: bool = True, **options: Any) -> Callable[..., Any]:
    """Declare a run-recorded task ``name`` whose body is ``body(self, lease, *a, **kw)``."""

    def decorate(body: Callable[..., Any]) -> Any:
        def task(self: RunTask, *args: Any, **kwargs: Any) -> Any:
            return self.execute(body, args, kwargs)

        task.__name__ = body.__name__
        task.__doc__ = body.__doc__
        task.__module__ = body.__module__
        return app.task(name=name, base=RunTask, bind=True, follow_up=follow_up, **options)(task)

    return decorate


__all__ = ["MAX_RETRIES", "RETRY_BACKOFF_MAX", "TRANSIENT", "RunBusy", "RunTask", "run_task"]
