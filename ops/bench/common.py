"""Shared helpers of the benchmarks: a scratch database, timing, peak memory, output."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from pipelines.core import db
from pipelines.core.settings_loader import get_settings
from pipelines.dev.services import scratch_services
from pipelines.storage import migrations

T = TypeVar("T")


def server_dsn() -> str:
    """DATABASE_URL, else the local server, else the embedded one (as the tests)."""
    url = scratch_services(get_settings()).database_url
    assert url is not None
    return url


def scratch_redis_url() -> str:
    """REDIS_URL, else the local Redis, else the embedded one (as the tests): for the
    benchmarks that build the API app (its cache and limiter)."""
    url = scratch_services(get_settings()).redis_url
    assert url is not None
    return url


def fresh_database(name: str, migrate: bool = True) -> str:
    """Drop and create database ``name`` on the benchmark server; return its DSN."""
    admin = server_dsn()
    with db.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin)
    dsn = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    if migrate:
        migrations.upgrade(dsn)
    return dsn


def timed(func: Callable[[], T]) -> tuple[T, float]:
    """Run ``func`` once; return its result and the wall-clock seconds."""
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def peak_rss_mb() -> float:
    """Peak resident memory of this process and of its largest finished child, in MB."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(_own_peak_kb(), children) / 1024


def _own_peak_kb() -> int:
    """This program's peak RSS in kB. Linux keeps ``ru_maxrss`` across exec, so a step
    started by a large parent would report the parent's peak; ``VmHWM`` belongs to the
    current program image only."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def headline(figures: dict[str, object]) -> None:
    """The closing ``key=value`` lines every benchmark ends with."""
    print()
    for key, value in figures.items():
        if isinstance(value, float):  # up to 3 decimals: 0.04 s must not print as 0.0
            value = f"{value:.3f}".rstrip("0").rstrip(".")
        print(f"{key}={value}")
