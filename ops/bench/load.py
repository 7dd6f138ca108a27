"""Load proof through the proxy: ``python -m ops.bench.load [--duration 60] [--users 1000]``.

The production shape on loopback (``ops/stack.py``): nginx rendered from
``ops/proxy/nginx.conf.template`` (TLS, shared cache) in front of gunicorn with
``ops/gunicorn.conf.py`` (``MANALYTICS_ENV=production``, 2 workers), a private Redis and a
database seeded with the repository's fixtures (``manalytics_bench_load_*``).

(a) ``wrk``, ``--connections`` (1,000) connections for ``--duration`` seconds on a cached
    public read (the Modern meta page), twice: *saturated* (every connection sends its next
    request as soon as the answer arrives: the throughput) and *paced* (each connection
    waits ``--pace-ms`` between answer and next request, ~1,000 / 0.5 s = 2,000 requests/s
    offered: the latency of 1,000 open connections below saturation). At saturation a
    closed loop's latency is connections / throughput (Little's law): p99 < 100 ms there
    needs > 10,000 requests/s, which the static ceiling (c) of a shared 2-core machine
    does not reach either — both figures are printed, neither hides the other.
    ``a_upstream_requests`` counts the meta requests that reached gunicorn during (a)
    (from the API's own metrics): the cache keeps hot reads away from Python.
(b) locust headless (FastHttpUser, one process per core), ``--users`` (1,000) users with
    1–3 s think time over mixed public endpoints, including custom date windows never asked
    before (cold keys that reach Python);
(c) the ceiling: ``wrk`` saturated on a static file of the same bytes served by the same
    nginx.

The generator runs on the same 2 cores as the servers: each run prints the CPU seconds
of the generator, nginx and gunicorn, the share of the machine they got (the rest went to
other processes: ``load_avg``) and nginx's CPU cost per request, which does not depend on
how busy the machine is. All clients share one address, so the per-client proxy limits
and the API's per-IP limit are raised for the run; everything else is the production
configuration. Needs ``wrk`` (Debian) and ``locust`` (PyPI). Ends with ``key=value`` lines.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ops.bench.common import fresh_database, headline
from ops.stack import api_environment, get, proxy_values, start_api, start_proxy, start_redis, stop

CACHED = "/api/v1/formats/Modern/meta"
BENCH_LIMITS_PROXY = {"PROXY_CONN_PER_CLIENT": "60000", "PROXY_REQ_PER_CLIENT": "1000000r/s",
                      "PROXY_REQ_BURST": "100000", "PROXY_WORKER_PROCESSES": "2"}  # fmt: skip
BENCH_LIMITS_API = {"RATELIMIT_DEFAULT": "100000000/minute"}
TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1

# wrk's summary as one JSON line; ``delay()`` paces each connection when PACE_MS is set.
WRK_SCRIPT = """
local pace = tonumber(os.getenv("PACE_MS") or "0")
if pace > 0 then
  delay = function() return pace end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '@@{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50":%d,"p95":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""

# Weights: mostly the hot pages a visitor opens, a few windows already asked for (warm
# keys), ~3 % custom windows nobody asked for before (cold: Python computes them).
LOCUSTFILE = """
import itertools, os, random
from datetime import date, timedelta
import gevent.ssl
from locust import FastHttpUser, between, task

_cold = itertools.count(os.getpid() * 100_000)
# One TLS context for every user: geventhttpclient's default factory builds one per
# connection and loads the CA bundle into it (~25 ms of CPU each), which made the generator,
# not the server, the bottleneck. Unverified: the local proxy's self-signed certificate.
_CONTEXT = gevent.ssl._create_unverified_context()


def shared_context(cafile=None):
    return _CONTEXT


class Reader(FastHttpUser):
    wait_time = between(1, 3)
    ssl_context_factory = staticmethod(shared_context)

    @task(20)
    def meta(self):
        self.client.get("/api/v1/formats/Modern/meta", name="meta")

    @task(5)
    def formats(self):
        self.client.get("/api/v1/formats", name="formats")

    @task(5)
    def matchups(self):
        self.client.get("/api/v1/formats/Modern/matchups", name="matchups")

    @task(3)
    def warm_window(self):
        day = random.randint(1, 10)
        self.client.get(f"/api/v1/formats/Modern/meta?from=2025-01-{day:02d}&to=2025-12-31",
                        name="meta window (warm)")

    @task(1)
    def cold_window(self):
        n = next(_cold)
        start = date(2017, 1, 1) + timedelta(days=n % 3000)  # windows span <= 3,660 days
        end = start + timedelta(days=30 + (n // 3000) % 3000)
        self.client.get(f"/api/v1/formats/Modern/meta?from={start}&to={end}",
                        name="meta window (cold)")
"""


def seed(dsn: str) -> None:
    from pipelines.classify.labels import classify_new_decks
    from pipelines.ingest.cache import ingest_cache
    from pipelines.stats.periods import load_periods
    from pipelines.stats.refresh import refresh_all
    from tests.api.conftest import FIXTURE_CACHE, FIXTURE_DEFINITIONS

    ingest_cache(dsn, FIXTURE_CACHE)
    classify_new_decks(dsn, FIXTURE_DEFINITIONS)
    refresh_all(dsn, periods=load_periods(FIXTURE_DEFINITIONS))


# --------------------------------------------------------------------------- CPU accounting


def tree_ticks(root: int) -> int:
    """CPU ticks (user + system) of ``root`` and every living descendant."""
    return sum(tree_pid_ticks(root).values())


def tree_pid_ticks(root: int) -> dict[int, int]:
    """CPU ticks of ``root`` and of each living descendant, by pid."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        found[pid] = ticks.get(pid, 0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return found


def machine_busy_ticks() -> int:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4]  # minus idle and iowait


def measured(
    run: Callable[[], dict[str, float]], servers: dict[str, int], log: AccessLog
) -> dict[str, float]:
    """``run()``'s figures plus nginx's own latency percentiles, the CPU seconds of the
    generator (this process's waited children) and of each server tree, and the machine's
    load while it ran."""
    log.start()
    children = os.times()
    before = {name: tree_ticks(pid) for name, pid in servers.items()}
    busy, start = machine_busy_ticks(), time.monotonic()
    figures = run()
    wall = time.monotonic() - start
    figures.update(log.finish())
    after = os.times()
    cpu = {name: (tree_ticks(pid) - before[name]) / TICKS for name, pid in servers.items()}
    cpu["generator"] = figures.pop("generator_cpu_s", 0.0) or (
        after.children_user + after.children_system
        - children.children_user - children.children_system)  # fmt: skip
    for name, seconds in cpu.items():
        figures[f"{name}_cpu_s"] = round(seconds, 2)
    ours = sum(cpu.values())
    figures["generator_cpu_share"] = round(cpu["generator"] / ours, 3) if ours else 0.0
    figures["our_machine_share"] = round(ours / (CORES * wall), 3)
    figures["machine_busy"] = round((machine_busy_ticks() - busy) / TICKS / (CORES * wall), 3)
    figures["load_avg"] = os.getloadavg()[0]
    requests = figures.get("rps", 0.0) * figures.get("seconds", wall)
    if requests and "proxy_cpu_s" in figures:
        figures["proxy_cpu_us_per_req"] = round(figures["proxy_cpu_s"] / requests * 1e6, 1)
    return figures


# --------------------------------------------------------------------------- generators


def wrk(url: str, connections: int, seconds: int, work: Path, pace_ms: int = 0) -> dict[str, float]:
    script = work / "report.lua"
    script.write_text(WRK_SCRIPT)
    # One wrk thread per core: more threads than cores only add context switches.
    argv = ["wrk", f"-t{CORES}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
            "-s", str(script), url]  # fmt: skip
    env = dict(os.environ, PACE_MS=str(pace_ms))
    output = subprocess.run(argv, capture_output=True, text=True, check=True, env=env).stdout
    report: dict[str, Any] = json.loads(
        next(x for x in output.splitlines() if x.startswith("@@"))[2:]
    )
    run = report["duration_us"] / 1e6
    return {
        "rps": round(report["requests"] / run, 1), "seconds": run,
        "errors": float(sum(report[k] for k in ("connect", "read", "write", "timeout", "status"))),
        "p50_ms": report["p50"] / 1000, "p95_ms": report["p95"] / 1000,
        "p99_ms": report["p99"] / 1000, "max_ms": report["max"] / 1000,
    }  # fmt: skip


def locust(url: str, users: int, seconds: int, work: Path) -> dict[str, float]:
    binary = shutil.which("locust", path=str(Path(sys.executable).parent)) or shutil.which("locust")
    if binary is None:
        print("locust not installed (`make bench-tools`): (b) skipped")
        return {}
    (work / "locustfile.py").write_text(LOCUSTFILE)
    prefix = work / "locust"
    # Ramp up in 10 s, then the figures restart (--reset-stats): steady state of all users
    # for the rest of the run. FastHttpUser (geventhttpclient), one process per core, one
    # shared TLS context: the generator's CPU share is printed.
    log = work / "locust.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [binary, "-f", str(work / "locustfile.py"), "--headless", "-u", str(users),
             "-r", str(max(1, users // 10)), "-t", f"{seconds}s", "--host", url,
             "--csv", str(prefix), "--only-summary", "--processes", str(CORES),
             "--stop-timeout", "5", "--reset-stats"],
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        # locust's worker processes are not all reaped through us: sample their CPU ticks
        # while they live (cumulative per pid, the last sample of each counts).
        seen: dict[int, int] = {}
        while process.poll() is None:
            seen.update(tree_pid_ticks(process.pid))
            time.sleep(1)
    stats = work / "locust_stats.csv"
    if not stats.is_file():
        print("locust failed:", log.read_text()[-2000:])
        return {}
    failures = work / "locust_failures.csv"
    if failures.is_file():  # which requests failed and how, for the report
        print("locust failures:", *failures.read_text().splitlines()[1:6], sep="\n  ")
    rows = stats.read_text().splitlines()
    header = rows[0].split(",")
    figures: dict[str, float] = {}
    for row in rows[1:]:
        values = dict(zip(header, row.split(","), strict=False))
        if values["Name"] == "meta window (cold)":
            figures["cold_p99_ms"] = float(values["99%"])
            figures["cold_requests"] = float(values["Request Count"])
    total = dict(zip(header, rows[-1].split(","), strict=False))
    return {
        "rps": float(total["Requests/s"]), "errors": float(total["Failure Count"]),
        "requests": float(total["Request Count"]),
        "p50_ms": float(total["50%"]), "p95_ms": float(total["95%"]), "p99_ms": float(total["99%"]),
        "generator_cpu_s": sum(seen.values()) / TICKS, **figures,
    }  # fmt: skip


class AccessLog:
    """nginx's JSON access log, one file per run: the server-side latency of each request
    (``request_time``), which a CPU-starved generator cannot inflate."""

    def __init__(self, path: Path, master: int) -> None:
        self.path, self.master = path, master

    def _reopen(self) -> None:
        os.kill(self.master, signal.SIGUSR1)  # nginx reopens its logs, flushing buffers
        time.sleep(1.5)

    def start(self) -> None:
        self.path.unlink(missing_ok=True)
        self._reopen()

    def finish(self) -> dict[str, float]:
        done = self.path.with_suffix(".done")
        self.path.rename(done)
        self._reopen()
        times = sorted(float(x) for x in re.findall(r'"request_time":([0-9.]+)', done.read_text()))
        done.unlink()
        if not times:
            return {}

        def at(q: float) -> float:
            return round(times[min(len(times) - 1, int(q * len(times)))] * 1000, 1)

        return {"server_p50_ms": at(0.50), "server_p95_ms": at(0.95), "server_p99_ms": at(0.99)}


def upstream_meta_requests(api_url: str) -> float:
    """Meta requests gunicorn has answered (the API's prometheus counters, all workers)."""
    text = get(f"{api_url}/metrics")[2].decode()
    pattern = (r'^flask_http_request_duration_seconds_count'
               r'\{[^}]*endpoint="stats\.meta"[^}]*\} (\S+)')  # fmt: skip
    return sum(float(value) for value in re.findall(pattern, text, re.MULTILINE))


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.bench.load")
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--only", choices=("a", "b", "c"), action="append",
                        help="run only these parts (repeatable); default all")  # fmt: skip
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--pace-ms", type=int, default=500)
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
    figures: dict[str, object] = {"load_avg_start": os.getloadavg()[0], "cores": CORES}
    try:
        env = api_environment(dsn, redis_url, work / "var", **BENCH_LIMITS_API)
        api = start_api(env, work)
        status, _, body = get(f"{api.url}{CACHED}", {"X-Forwarded-Proto": "https"})
        assert status == 200, status
        static_dir = work / "static"
        static_dir.mkdir()
        (static_dir / "meta.json").write_bytes(body)  # (c): the same bytes, from disk
        extra = f"location = /static/meta.json {{ alias {static_dir}/meta.json; }}"
        access = work / "access.log"
        values = proxy_values(work, [f"127.0.0.1:{api.port}"], PROXY_EXTRA_LOCATIONS=extra,
                              PROXY_ACCESS_LOG=f"{access} json buffer=256k flush=1s",
                              **BENCH_LIMITS_PROXY)  # fmt: skip
        proxy = start_proxy(work, values)
        get(proxy.https + CACHED)  # the first answer fills the proxy's cache
        status, headers, _ = get(proxy.https + CACHED)
        assert status == 200 and headers.get("X-Proxy-Cache") == "HIT", headers
        print(f"body {len(body)} bytes; per-client limits raised for one client address")
        servers = {"proxy": proxy.process.pid, "api": api.process.pid}
        log = AccessLog(access, proxy.process.pid)
        url, static = proxy.https + CACHED, proxy.https + "/static/meta.json"
        n, seconds = args.connections, args.duration
        upstream = upstream_meta_requests(api.url)
        parts = set(args.only or "abc")
        runs: dict[str, dict[str, float]] = {}
        if "a" in parts:  # (c) right after (a)'s saturated run: the ratio's machine is the same
            runs["a_saturated"] = measured(lambda: wrk(url, n, seconds, work), servers, log)
        if "c" in parts:
            runs["c_static"] = measured(lambda: wrk(static, n, seconds, work), servers, log)
        if "a" in parts:
            paced = args.pace_ms
            runs["a_paced"] = measured(lambda: wrk(url, n, seconds, work, paced), servers, log)
            figures["a_upstream_requests"] = upstream_meta_requests(api.url) - upstream
        if "b" in parts:
            runs["b_locust"] = measured(
                lambda: locust(proxy.https, args.users, seconds, work), servers, log
            )
        for run, result in runs.items():
            for key, value in result.items():
                if key != "seconds":
                    figures[f"{run}_{key}"] = value
        if runs.get("c_static", {}).get("rps") and "a_saturated" in runs:
            figures["a_over_c"] = round(runs["a_saturated"]["rps"] / runs["c_static"]["rps"], 3)
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
