"""Load proof through the proxy: ``python -m ops.bench.load [--duration 60] [--users 1000]``.

The production shape on loopback (``ops/stack.py``): nginx rendered from
``ops/proxy/nginx.conf.template`` (TLS, shared cache) in front of gunicorn with
``ops/gunicorn.conf.py`` (``MANALYTICS_ENV=production``, 2 workers), a private Redis and a
database seeded with the repository's fixtures (``manalytics_bench_load``).

(a) ``wrk``, ``--connections`` (1,000) connections for ``--duration`` seconds on a cached
    public read (the Modern meta page): answered by nginx's cache;
(b) locust headless, ``--users`` (1,000) users with 1–3 s think time over mixed public
    endpoints, including custom date windows (cold keys) that reach Python;
(c) the ceiling: ``wrk`` on a static file of the same size served by the same nginx.

All clients share one address, so the per-client proxy limits (64 connections, 50 r/s)
and the API's per-IP limit are raised for the run (said in the output); everything else
is the production configuration. Needs ``wrk`` (Debian) and ``locust`` (PyPI).
Ends with ``key=value`` lines.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from ops.bench.api import WRK_REPORT
from ops.bench.common import fresh_database, headline
from ops.stack import api_environment, get, proxy_values, start_api, start_proxy, start_redis, stop

CACHED = "/api/v1/formats/Modern/meta"
BENCH_LIMITS_PROXY = {"PROXY_CONN_PER_CLIENT": "60000", "PROXY_REQ_PER_CLIENT": "1000000r/s",
                      "PROXY_REQ_BURST": "100000", "PROXY_WORKER_PROCESSES": "2"}  # fmt: skip
BENCH_LIMITS_API = {"RATELIMIT_DEFAULT": "100000000/minute"}

LOCUSTFILE = """
import random
from locust import HttpUser, between, task

class Reader(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        self.client.verify = False  # the local proxy's self-signed certificate

    @task(6)
    def meta(self):
        self.client.get("/api/v1/formats/Modern/meta", name="meta (cached)")

    @task(2)
    def formats(self):
        self.client.get("/api/v1/formats", name="formats")

    @task(2)
    def matchups(self):
        self.client.get("/api/v1/formats/Modern/matchups", name="matchups")

    @task(1)
    def custom_window(self):
        day = random.randint(1, 28)
        self.client.get(f"/api/v1/formats/Modern/meta?from=2025-01-{day:02d}&to=2025-12-31",
                        name="meta custom window (cold)")
"""


def seed(dsn: str) -> None:
    from pipelines.classify.labels import classify_new_decks
    from pipelines.ingest.cache import ingest_cache
    from pipelines.stats.refresh import load_periods, refresh_all
    from tests.api.conftest import FIXTURE_CACHE, FIXTURE_DEFINITIONS

    ingest_cache(dsn, FIXTURE_CACHE)
    classify_new_decks(dsn, FIXTURE_DEFINITIONS)
    refresh_all(dsn, periods=load_periods(FIXTURE_DEFINITIONS))


def wrk(url: str, connections: int, seconds: int, work: Path) -> dict[str, float]:
    script = work / "report.lua"
    script.write_text(WRK_REPORT)
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s",
            str(script), url]  # fmt: skip
    output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    report: dict[str, Any] = json.loads(
        next(x for x in output.splitlines() if x.startswith("@@"))[2:]
    )
    run = report["duration_us"] / 1e6
    return {
        "rps": round(report["requests"] / run, 1),
        "errors": float(sum(report[k] for k in ("connect", "read", "write", "timeout", "status"))),
        "p50_ms": report["p50"] / 1000, "p95_ms": float("nan"), "p99_ms": report["p99"] / 1000,
    }  # fmt: skip


def locust(url: str, users: int, seconds: int, work: Path) -> dict[str, float]:
    binary = shutil.which("locust", path=str(Path(sys.executable).parent)) or shutil.which("locust")
    if binary is None:
        print("locust not installed (pip install locust): (b) skipped")
        return {}
    (work / "locustfile.py").write_text(LOCUSTFILE)
    prefix = work / "locust"
    result = subprocess.run(
        [binary, "-f", str(work / "locustfile.py"), "--headless", "-u", str(users),
         "-r", str(max(1, users // 10)), "-t", f"{seconds}s", "--host", url, "--csv", str(prefix),
         "--only-summary"],
        capture_output=True, text=True, check=False, timeout=seconds + 120,
    )  # fmt: skip
    if not (prefix.parent / "locust_stats.csv").is_file():
        print("locust failed:", result.stderr[-2000:])
        return {}
    rows = (prefix.parent / "locust_stats.csv").read_text().splitlines()
    header = rows[0].split(",")
    total = dict(zip(header, rows[-1].split(","), strict=False))
    return {
        "rps": float(total["Requests/s"]), "errors": float(total["Failure Count"]),
        "p50_ms": float(total["50%"]), "p95_ms": float(total["95%"]), "p99_ms": float(total["99%"]),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.bench.load")
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--users", type=int, default=1000)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk not installed (Debian: apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="manalytics-load-"))
    name = f"manalytics_bench_load_{uuid.uuid4().hex[:8]}"
    dsn = fresh_database(name)
    seed(dsn)
    redis_process, redis_url = start_redis(work)
    api = proxy = None
    figures: dict[str, object] = {}
    try:
        env = api_environment(dsn, redis_url, work / "var", **BENCH_LIMITS_API)
        api = start_api(env, work)
        status, _, body = get(f"{api.url}{CACHED}", {"X-Forwarded-Proto": "https"})
        assert status == 200, status
        static_dir = work / "static"
        static_dir.mkdir()
        (static_dir / "meta.json").write_bytes(body)  # (c): the same bytes, from disk
        extra = f"location = /static/meta.json {{ root {work}; default_type application/json; }}"
        extra = extra.replace(f"root {work}", f"alias {static_dir}/meta.json")
        values = proxy_values(work, [f"127.0.0.1:{api.port}"], PROXY_EXTRA_LOCATIONS=extra,
                              **BENCH_LIMITS_PROXY)  # fmt: skip
        proxy = start_proxy(work, values)
        assert get(proxy.https + CACHED)[0] == 200  # warm the proxy cache
        print(f"body {len(body)} bytes; per-client limits raised for one client address")
        runs = {
            "a_cached": wrk(proxy.https + CACHED, args.connections, args.duration, work),
            "c_static": wrk(
                proxy.https + "/static/meta.json", args.connections, args.duration, work
            ),
            "b_locust": locust(proxy.https, args.users, args.duration, work),
        }
        for run, result in runs.items():
            for key, value in result.items():
                figures[f"{run}_{key}"] = value
        if runs["c_static"].get("rps"):
            figures["a_over_c"] = round(runs["a_cached"]["rps"] / runs["c_static"]["rps"], 3)
    finally:
        for started in (proxy, api):
            if started is not None:
                stop(started.process)
        stop(redis_process)
        from ops.bench.common import server_dsn
        from pipelines.core import db

        with db.connect(server_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)
    headline(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
