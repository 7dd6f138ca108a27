"""CPU seconds spent by a step, client and server side: figures that do not depend on how
busy the shared machine is (wall time does: on 2 cores shared by several engineers, a step
can take five times longer than alone).

:class:`ServerCpu` samples, on a background thread, the PostgreSQL backends connected to one
database (``pg_stat_activity``) and reads their CPU time from ``/proc/<pid>/stat`` (the
server runs on this machine); a backend's last sample counts, so up to one interval of a
backend that exits is missed. Where ``/proc`` or the server's processes are not readable it
reports 0.
"""

from __future__ import annotations

import os
import resource
import threading
from types import TracebackType
from typing import Any

from pipelines.core import db

INTERVAL_S = 0.25
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def own_cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its finished children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (``None``: not readable)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            stat = handle.read()
    except OSError:
        return None
    # Fields after the command name (which may hold spaces), numbered from 3: utime is 14,
    # stime is 15.
    rest = stat.rpartition(")")[2].split()
    return (int(rest[11]) + int(rest[12])) / _TICKS


class ServerCpu:
    """CPU seconds of the backends of database ``dsn`` while the ``with`` block runs."""

    def __init__(self, dsn: str, interval: float = INTERVAL_S) -> None:
        self.dsn = dsn
        self.interval = interval
        self.baseline: dict[int, float] = {}
        self.latest: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="server-cpu", daemon=True)

    @property
    def seconds(self) -> float:
        return sum(v - self.baseline.get(pid, 0.0) for pid, v in self.latest.items())

    def __enter__(self) -> ServerCpu:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop.set()
        self.thread.join()

    def _sample(self, conn: Any, first: bool) -> None:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
        for (pid,) in rows:
            value = process_cpu_seconds(pid)
            if value is None:
                continue
            if first:  # backends already busy before the step: count only what follows
                self.baseline.setdefault(pid, value)
            self.latest[pid] = value

    def _run(self) -> None:
        try:
            with db.connect(self.dsn, autocommit=True, application_name="bench-cpu") as conn:
                self._sample(conn, first=True)
                while not self.stop.wait(self.interval):
                    self._sample(conn, first=False)
                self._sample(conn, first=False)
        except Exception:  # a measuring aid: never fail the step it measures
            return
