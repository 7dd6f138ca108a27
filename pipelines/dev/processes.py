"""Starting, probing and stopping the developer runtime's processes.

Probes and helpers shared by the embedded services (:mod:`pipelines.dev.embedded_redis`,
:mod:`pipelines.dev.embedded_postgres`) and the run command (:mod:`pipelines.dev.runner`),
and the run command's children: each started in its own session with its output appended to
a log file, stopped with TERM then KILL of its process group.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from pipelines.core.settings import REPO_ROOT, Settings
from pipelines.core.settings_export import settings_environment

START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0

Printer = Callable[[str], None]


class ServiceError(RuntimeError):
    """An embedded service could not be started, reached or stopped; the message says why."""


def print_line(message: str) -> None:
    print(message, flush=True)


def read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its parent to reap it counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        # /proc/<pid>/stat: "pid (comm) state ..."; daemons are reparented to init, which
        # may reap them late.
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] != "Z"
    return True


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        # Reap it if it happens to be our child (zombies still answer kill(pid, 0)).
        with contextlib.suppress(ChildProcessError):
            reaped, _ = os.waitpid(pid, os.WNOHANG)
            if reaped == pid:
                return True
        time.sleep(0.05)
    return not pid_alive(pid)


def port_in_use(host: str, port: int) -> bool:
    """Something accepts TCP connections at ``host:port`` (a wildcard host: this machine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host if host not in {"0.0.0.0", ""} else "127.0.0.1", port)) == 0


def log_tail(path: Path, lines: int = 20, indent: str = "") -> str:
    """The last ``lines`` lines of a log file, each prefixed with ``indent``."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(indent + line for line in text[-lines:])


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class Child:
    """A subprocess started by the run command (leader of its own process group)."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid


def _log_header(log_path: Path, argv: list[str]) -> TextIO:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - handed to the child
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    handle.write(f"\n===== manalytics run {stamp}: {' '.join(argv)}\n")
    handle.flush()
    return handle


def start_child(name: str, argv: list[str], env: dict[str, str], log_path: Path) -> Child:
    """Start ``argv`` in its own session with output appended to ``log_path``."""
    handle = _log_header(log_path, argv)
    try:
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
    finally:
        handle.close()
    return Child(name, popen, log_path)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_children(
    children: list[Child], timeout: float = STOP_TIMEOUT, force: bool = False
) -> None:
    """TERM every child (its main process), wait up to ``timeout``, then KILL its group.

    Only the main process gets TERM so gunicorn and Celery shut their own workers down
    gracefully; whatever is left in the process group afterwards is killed.
    """
    for child in children:
        if child.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL if force else signal.SIGTERM)
    deadline = time.monotonic() + (0 if force else timeout)
    for child in children:
        remaining = max(0.0, deadline - time.monotonic())
        try:
            child.popen.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.popen.wait(timeout=10)
    # Stragglers (a pool child orphaned by a killed parent) share the leader's group id.
    for child in children:
        if group_alive(child.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            grace = time.monotonic() + 5
            while group_alive(child.pid) and time.monotonic() < grace:
                time.sleep(0.05)


def child_environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a child process: ours, plus ``settings`` written back as variables.

    This is one of the places allowed to touch ``os.environ``: it builds a subprocess env.
    """
    env = dict(os.environ)
    for var, value in settings_environment(settings).items():
        if value is None:
            env.pop(var, None)
        else:
            env[var] = value
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


__all__ = [
    "START_TIMEOUT",
    "STOP_TIMEOUT",
    "Child",
    "Printer",
    "ServiceError",
    "child_environment",
    "file_lock",
    "log_tail",
    "pid_alive",
    "port_in_use",
    "print_line",
    "read_int",
    "start_child",
    "stop_children",
    "wait_gone",
]
