"""The lease a worker holds on a running run: its lock, its heartbeat, its checkpoints.

A :class:`RunLease` owns one autocommit connection dedicated to the run. On it the run's
advisory lock is held (:func:`pipelines.runs.store.claim`) for as long as the process lives:
when the process dies — kill -9, out of memory, hard time limit — PostgreSQL drops the
connection and the lock with it, which is how a redelivered copy of the message or the reaper
knows the run can be taken over. A daemon thread refreshes ``heartbeat_at`` every
``interval`` seconds; the run's code reports progress with :meth:`RunLease.checkpoint`.

If the connection breaks (PostgreSQL restarted), the thread reconnects and takes the lock
again; if someone else holds it by then (the run was taken over), the lease is *lost* and the
next checkpoint raises :class:`RunLost`, so two copies never go on side by side.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg

from pipelines.runs import store

log = logging.getLogger(__name__)

Connect = Callable[[], psycopg.Connection[Any]]


class RunLost(RuntimeError):
    """The run was taken over by another worker while this one still ran it."""


class RunLease:
    """A claimed run (see the module docstring). Close it when the run is over."""

    def __init__(
        self, connect: Connect, conn: psycopg.Connection[Any], run: store.Run, interval: float
    ) -> None:
        self.connect = connect
        self.conn = conn
        self.run = run
        self.interval = interval
        self.progress: dict[str, Any] = dict(run.progress)
        self.lost = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{run.id}", daemon=True)
        self._thread.start()

    @property
    def run_id(self) -> uuid.UUID:
        return self.run.id

    def checkpoint(self, **progress: Any) -> None:
        """Record progress (merged into ``task_runs.progress``) and beat; raises
        :class:`RunLost` if the run is no longer this worker's."""
        self.progress.update(progress)
        if self.lost:
            raise RunLost(f"run {self.run_id} was taken over by another worker")
        self._write(progress)

    @contextmanager
    def locked_connection(self) -> Iterator[psycopg.Connection[Any]]:
        """The lease's connection, not shared with the heartbeat meanwhile."""
        with self._lock:
            if self.conn.closed or self.conn.broken:
                raise psycopg.OperationalError(f"the connection of run {self.run_id} is broken")
            yield self.conn

    def _write(self, progress: Mapping[str, Any]) -> None:
        with self._lock:
            try:
                if not store.heartbeat(self.conn, self.run_id, progress):
                    self.lost = True
            except psycopg.OperationalError:
                self._reconnect()

    def _reconnect(self) -> None:
        """New connection, lock taken again (caller holds ``_lock``); lost if it cannot be."""
        with contextlib.suppress(psycopg.Error):  # already broken
            self.conn.close()
        try:
            conn = self.connect()
        except psycopg.OperationalError as exc:
            log.warning("heartbeat of run %s: database unreachable (%s)", self.run_id, exc)
            return
        self.conn = conn
        if store.take_lock(conn, self.run_id) and store.heartbeat(conn, self.run_id):
            log.info("heartbeat of run %s: reconnected", self.run_id)
            return
        log.error("run %s was taken over while its database connection was down", self.run_id)
        self.lost = True

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._write({})
            except Exception:  # never kill the thread: the run's own errors matter
                log.exception("heartbeat of run %s failed", self.run_id)

    def close(self) -> None:
        """Stop beating, release the lock, close the connection (errors ignored)."""
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)
        with self._lock:
            try:
                if not self.conn.closed and not self.conn.broken:
                    store.unlock(self.conn, self.run_id)
            except psycopg.Error:
                pass
            finally:
                self.conn.close()


__all__ = ["RunLease", "RunLost"]
