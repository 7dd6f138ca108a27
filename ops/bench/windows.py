"""Benchmark of the statistics reads: custom windows over the whole history, standard windows.

``python -m ops.bench.windows --dsn URL`` measures an existing, refreshed database (e.g. the
500k-deck one of ``python -m ops.bench.scale``, which calls :func:`measure_windows`). Each
request goes through the real Flask app (``create_app``: pool, statement timeout, response
cache, JSON encoding) with the test client; the figure is the app's own ``Server-Timing``
(what the server spent, no network), the median of :data:`REPEATS` requests.

* **cold**: every request is a key the response cache has never seen (a cache key prefix of
  this run, and a different key per repeat: custom windows shift ``from`` by one day — same
  work, the first day of a format's history; standard windows vary a parameter that changes
  the key but not the work: ``min_decks``/``min_share``/``best_decks``/``limit`` below every
  real value). PostgreSQL's buffers are warm after the first repeat, as on a running server.
* custom windows span the whole history of the format with the most decks: meta, matchups,
  archetype detail (its most played archetype), trends (with the answer's size in kB).
* standard windows: ``last30`` (and ``current`` for meta) of the same format.

Each read also reports ``*_cpu_ms``: the CPU it cost, app (this process) plus its PostgreSQL
backends — what it would take on an idle machine (wall time on 2 cores shared by several
engineers can be five times longer). Ends with ``key=value`` lines (milliseconds, kB).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from ops.bench.common import headline, scratch_redis_url
from ops.bench.server_cpu import own_cpu_seconds, process_cpu_seconds
from pipelines.core import db

REPEATS = 5


def _target(dsn: str) -> tuple[str, date, date, str]:
    """The format with the most decks, its first and last event dates and top archetype."""
    with db.connect(dsn) as conn:
        row = conn.execute(
            "SELECT format, min(event_date), max(event_date) FROM mv_archetype_daily"
            " GROUP BY format ORDER BY sum(decks) DESC LIMIT 1"
        ).fetchone()
        assert row is not None, "no statistics: refresh the database first"
        fmt, first, last = row
        top = conn.execute(
            "SELECT n.slug FROM meta_window_stats s JOIN archetype_names n"
            "    ON n.format = s.format AND n.name = s.archetype"
            " WHERE s.generation = (SELECT max(generation) FROM refresh_log"
            "                        WHERE status = 'succeeded')"
            "   AND s.format = %s AND s.window_key = 'last30' AND s.event_group = 'all'"
            "   AND s.basis = 'matches' AND s.rank IS NOT NULL ORDER BY s.rank LIMIT 1",
            (fmt,),
        ).fetchone()
        assert top is not None
    return fmt, first, last, top[0]


def _backend_cpu(conn: Any) -> float:
    """CPU seconds so far of the app's pooled backends (application ``manalytics-api``)."""
    pids = [
        pid
        for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = 'manalytics-api'"
        )
    ]
    return sum(process_cpu_seconds(pid) or 0.0 for pid in pids)


def _median_ms(client: Any, paths: Callable[[int], str], probe: Any) -> tuple[float, float, float]:
    """Median server milliseconds over REPEATS cold paths, the median CPU milliseconds they
    cost (this process — the app runs in it — plus its PostgreSQL backends: a figure that
    does not depend on how busy the shared machine is), and the last answer's kB."""
    times = []
    cpu = []
    size = 0.0
    for i in range(REPEATS):
        before = own_cpu_seconds() + _backend_cpu(probe)
        response = client.get(paths(i), headers={"X-Forwarded-Proto": "https"})
        cpu.append((own_cpu_seconds() + _backend_cpu(probe) - before) * 1000)
        assert response.status_code == 200, (paths(i), response.status_code, response.data[:300])
        assert response.headers.get("X-Cache") == "MISS", paths(i)
        timing = response.headers["Server-Timing"]
        times.append(float(timing.split("dur=")[1]))
        size = len(response.data) / 1024
    return statistics.median(times), statistics.median(cpu), size


def measure_windows(dsn: str, redis_url: str | None = None) -> dict[str, float]:
    """The figures of the module docstring, keyed ``custom_*_ms``, ``custom_trends_kb``,
    ``standard_*_ms`` (see :func:`main`)."""
    from api import create_app
    from api.resources import resources

    fmt, first, last, top = _target(dsn)
    app = create_app(
        {
            "DATABASE_URL": dsn,
            "REDIS_URL": redis_url or scratch_redis_url(),
            "RATELIMIT_ENABLED": False,
        }
    )
    # A key prefix of this run only: every request below is a key never cached before, even
    # when the benchmark runs again on the same database and Redis.
    cache = resources(app).cache
    cache.prefix = f"{cache.prefix}:bench-{uuid.uuid4().hex}"
    client = app.test_client()
    base = f"/api/v1/formats/{quote(fmt)}"

    def custom(path: str, extra: str = "") -> Callable[[int], str]:
        return lambda i: f"{base}{path}?from={first + timedelta(days=i)}&to={last}{extra}"

    def standard(path: str, vary: str) -> Callable[[int], str]:
        return lambda i: f"{base}{path}{vary.format(i)}"

    reads = {
        "custom_meta": custom("/meta"),
        "custom_matchups": custom("/matchups"),
        "custom_archetype": custom(f"/archetypes/{top}"),
        "custom_trends": custom("/trends"),
        "standard_meta": standard("/meta", "?window=last30&min_decks={}"),
        "standard_meta_current": standard("/meta", "?window=current&min_decks={}"),
        "standard_matchups": standard("/matchups", "?window=last30&min_share=0.0{}"),
        "standard_archetype": standard(f"/archetypes/{top}", "?window=last30&best_decks={}"),
        "standard_trends": standard("/trends", "?window=last90&limit=4{}"),
    }
    figures: dict[str, float] = {}
    with db.connect(dsn, autocommit=True) as probe:
        for name, paths in reads.items():
            ms, cpu_ms, kb = _median_ms(client, paths, probe)
            figures[f"{name}_ms"] = ms
            figures[f"{name}_cpu_ms"] = cpu_ms
            if name.endswith("trends"):
                figures[f"{name}_kb"] = kb
    figures["decks_in_format"] = float(_decks(dsn, fmt))
    return figures


def _decks(dsn: str, fmt: str) -> int:
    with db.connect(dsn) as conn:
        row = conn.execute(
            "SELECT sum(decks) FROM mv_archetype_daily WHERE format = %s", (fmt,)
        ).fetchone()
    return int(row[0]) if row and row[0] else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dsn", required=True, help="a refreshed database")
    args = parser.parse_args(argv)
    figures = measure_windows(args.dsn)
    headline(dict(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
