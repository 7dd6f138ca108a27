"""Zero-downtime restarts under continuous load through nginx; not one request may fail.

1. Instance swap (how compose and Kubernetes deploy: new instance ready, old one drained):
   two instances serve; the first is stopped (SIGTERM: gunicorn finishes in-flight
   requests, closes its socket) and started again, then the second is stopped: nginx sends
   each request to a live instance (proxy_next_upstream).
2. gunicorn graceful reload (HUP, one host): ``ops/gunicorn.conf.py`` keeps the old workers
   serving until each new one has loaded the app (without that, HUP left no worker
   accepting for the new workers' boot and requests timed out).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.stack import api_environment, get, start_api, stop
from tests.ops.conftest import FIXTURE_DEFINITIONS, Stack, launch_stack

CLIENTS = 4
# Limits out of the way: this measures failures, not throttling (all clients share an IP).
NO_LIMITS_API = {"RATELIMIT_DEFAULT": "1000000/minute"}
NO_LIMITS_PROXY = {"PROXY_REQ_PER_CLIENT": "100000r/s", "PROXY_REQ_BURST": "100000"}
# Not cached by the proxy (no-store): every request reaches gunicorn.
PATH = "/api/v1/ping"


@pytest.fixture
def stack(pg_admin_dsn: str, seeded_template: str, tmp_path: Path) -> Iterator[Stack]:
    with launch_stack(pg_admin_dsn, seeded_template, tmp_path, api_env=NO_LIMITS_API,
                      proxy=NO_LIMITS_PROXY) as started:  # fmt: skip
        yield started


class Load:
    """Clients calling ``url`` in a loop until stopped; every answer's status counted."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.statuses: Counter[int | str] = Counter()
        self.running = threading.Event()
        self.threads = [threading.Thread(target=self._client) for _ in range(CLIENTS)]
        self.lock = threading.Lock()

    def _client(self) -> None:
        while self.running.is_set():
            try:
                status: int | str = get(self.url, timeout=30)[0]
            except OSError as exc:
                status = type(exc).__name__
            with self.lock:
                self.statuses[status] += 1

    def __enter__(self) -> Load:
        self.running.set()
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running.clear()
        for thread in self.threads:
            thread.join(timeout=60)

    def total(self) -> int:
        with self.lock:
            return sum(self.statuses.values())


def wait_for(condition: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise TimeoutError("condition not met")


def test_replacing_the_api_process_behind_the_proxy_fails_no_request(
    stack: Stack, tmp_path: Path
) -> None:
    """Two instances behind nginx; the first is stopped (SIGTERM, graceful) and started
    again on its port while clients keep calling: nginx retries on the live one."""

    def environment(name: str) -> dict[str, str]:
        return api_environment(
            stack.database_url, stack.redis_url, tmp_path / name,
            MANALYTICS_FORMATS_DIR=str(FIXTURE_DEFINITIONS), **NO_LIMITS_API,
        )  # fmt: skip

    second = start_api(environment("second"), tmp_path, workers=1)
    config = stack.proxy.config
    first_peer = f"server 127.0.0.1:{stack.api.port} max_fails=0;"
    second_peer = f"server 127.0.0.1:{second.port} max_fails=0;"
    config.write_text(config.read_text().replace(first_peer, first_peer + " " + second_peer))
    stack.proxy.reload()
    try:
        with Load(stack.proxy.https + PATH) as load:
            wait_for(lambda: load.total() > 50)
            stop(stack.api.process)  # instance 1 goes away (deploy replaces it)
            served = load.total()
            wait_for(lambda: load.total() > served + 50)
            replacement = start_api(
                environment("replacement"), tmp_path, workers=1, port=stack.api.port
            )
            served = load.total()
            wait_for(lambda: load.total() > served + 50)
            stop(second.process)  # and now instance 2
            served = load.total()
            wait_for(lambda: load.total() > served + 50)
        assert set(load.statuses) == {200}, load.statuses
        stop(replacement.process)
    finally:
        stop(second.process)


def worker_pids(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


def test_gunicorn_reload_under_load_fails_no_request(stack: Stack) -> None:
    """HUP (graceful reload: new workers, then the old ones stopped) while clients call
    through nginx: every worker is replaced and no request fails."""
    master = stack.api.process.pid
    before = worker_pids(master)
    with Load(stack.proxy.https + PATH) as load:
        wait_for(lambda: load.total() > 50)
        for _ in range(2):
            old = worker_pids(master)
            os.kill(master, signal.SIGHUP)
            wait_for(lambda old=old: not (worker_pids(master) & old))  # type: ignore[misc]
            served = load.total()
            wait_for(lambda served=served: load.total() > served + 50)  # type: ignore[misc]
    assert not (worker_pids(master) & before)
    assert set(load.statuses) == {200}, load.statuses
    # The handoff ends with the configured count (2), and a worker that dies later is
    # replaced without shrinking the pool (only reload forks hand off).
    wait_for(lambda: len(worker_pids(master)) == 2)
    victim = min(worker_pids(master))
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: victim not in worker_pids(master) and len(worker_pids(master)) == 2)
    time.sleep(5)  # a wrong "one fewer" from the replacement would show by now
    assert len(worker_pids(master)) == 2
