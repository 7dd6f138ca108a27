"""Benchmark of issue 14 on an archive-size database: ``python -m ops.bench.scale``.

``--decks`` (default 500,000) decks generated with the public archive's shape
(:mod:`ops.bench.scale_db`: 2020-2026, ~17,000 files, ~1.17 matches per deck), then:

* ``ingest_s``: the whole generated archive through ``ingest_cache`` into an empty database;
* ``classify_s``: ``classify_new_decks`` of all of it (demo definitions);
* the other areas' measures, each on a throwaway copy of the cached, fully built database
  (:data:`MEASURES`: list reads, custom and standard windows, then the refresh after one new
  day and the full rebuild, then one night of the real chain, :mod:`ops.bench.nightly`); a
  measure whose module or function does not exist yet prints ``n/a``, one that fails prints
  ``error`` (and its traceback above);
* ``peak_rss_mb``: the largest peak resident memory of any step.

Every step runs in its own process (:mod:`ops.bench.scale_step`), so its peak RSS is its own.
The output ends with one ``key=value`` line per target of the issue's table, each followed by
``<key>_today=`` (the issue's figure on the real archive, before this work) and a
``targets_met=`` summary.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ops.bench.common import fresh_database, headline, server_dsn
from ops.bench.scale_db import (
    ARCHIVE_DECKS,
    drop_database,
    ensure_cache,
    files_dir,
    scale_database,
)
from pipelines.core import db

INGEST_DB = "scale_bench_ingest"
# Per process: engineers measuring different areas at once must not drop each other's copy.
COPY_DB = f"scale_bench_copy_{os.getpid()}"


@dataclass(frozen=True)
class Target:
    """One row of the issue's table: the figure's key, today's figure and the limit."""

    key: str
    today: str
    limit: float
    unit: str

    def met(self, value: object) -> bool | None:
        return value < self.limit if isinstance(value, float | int) else None


# Issue 14's table ("today" is the real archive before this work).
TARGETS = (
    Target("refresh_one_day_s", "91-110", 5, "s"),
    Target("full_rebuild_s", "91-110", 30, "s"),
    Target("full_rebuild_from_empty_s", "91-110", 30, "s"),
    Target("lists_worst_ms", "503_timeout", 50, "ms"),
    Target("custom_meta_ms", "600", 150, "ms"),
    Target("custom_matchups_ms", "2100", 150, "ms"),
    Target("custom_archetype_ms", "900", 150, "ms"),
    Target("standard_worst_ms", "10-80", 30, "ms"),
    Target("ingest_s", "65", 45, "s"),
    Target("peak_rss_mb", "447", 1000, "MB"),
)
NIGHTLY_KEYS = ("nightly_ingest_s", "nightly_classify_s", "nightly_refresh_s", "nightly_total_s")
# Other areas' measures: (module:function, keys it must provide), in run order. Reads come
# first; the refresh measure (it ingests a new day) gets a copy of its own.
MEASURES: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("ops.bench.decks:measure_lists", ("lists_worst_ms",), False),
    (
        "ops.bench.windows:measure_windows",
        ("custom_meta_ms", "custom_matchups_ms", "custom_archetype_ms", "standard_worst_ms"),
        False,
    ),
    (
        "ops.bench.refresh:measure_refresh",
        ("refresh_one_day_s", "full_rebuild_s", "full_rebuild_from_empty_s"),
        True,
    ),
    # One night of the real chain (new files -> ingest -> classify -> incremental refresh).
    ("ops.bench.nightly:measure_nightly", NIGHTLY_KEYS, True),
)


def run_step(*args: str) -> dict[str, Any] | None:
    """Run one :mod:`ops.bench.scale_step` step in a child process; its figures, or None
    when it failed (its output is shown)."""
    proc = subprocess.run(
        [sys.executable, "-m", "ops.bench.scale_step", *args],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    for line in lines[:-1]:
        print(line)
    if proc.returncode != 0 or not lines:
        return None
    return dict(json.loads(lines[-1]))


def available(target: str) -> bool:
    """Whether ``module:function`` exists (a measure another area has not landed is n/a)."""
    import importlib

    module, _, name = target.partition(":")
    try:
        return hasattr(importlib.import_module(module), name)
    except ModuleNotFoundError:
        return False


def measure_pipeline(decks: int) -> dict[str, object]:
    """Ingestion and classification of the whole generated archive into an empty database."""
    root = files_dir(decks)
    dsn = fresh_database(INGEST_DB)  # migrated, empty
    figures: dict[str, object] = {}
    try:
        ingest = run_step("ingest", dsn, str(root))
        if ingest is None:
            return {"ingest_s": "error", "classify_s": "error"}
        print(
            f"ingest: {ingest['files']} files, {ingest['decks']} decks, "
            f"{ingest['matches']} matches in {ingest['seconds']:.1f} s "
            f"(CPU: {ingest['cpu_s']:.1f} s client, {ingest['server_cpu_s']:.1f} s server), "
            f"peak {ingest['peak_rss_mb']:.0f} MB"
        )
        figures |= {
            "files": ingest["files"],
            "decks": ingest["decks"],
            "matches": ingest["matches"],
            "ingest_s": ingest["seconds"],
            "ingest_cpu_s": ingest["cpu_s"],
            "ingest_server_cpu_s": ingest["server_cpu_s"],
            "ingest_peak_rss_mb": ingest["peak_rss_mb"],
        }
        labelled = run_step("classify", dsn)
        if labelled is None:
            return figures | {"classify_s": "error"}
        print(
            f"classify: {labelled['labelled']} decks in {labelled['seconds']:.1f} s "
            f"(CPU: {labelled['cpu_s']:.1f} s client, {labelled['server_cpu_s']:.1f} s server), "
            f"peak {labelled['peak_rss_mb']:.0f} MB"
        )
        figures |= {
            "classify_s": labelled["seconds"],
            "classify_cpu_s": labelled["cpu_s"],
            "classify_server_cpu_s": labelled["server_cpu_s"],
            "classify_peak_rss_mb": labelled["peak_rss_mb"],
        }
    finally:
        with db.connect(server_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{INGEST_DB}" WITH (FORCE)')
    return figures


def measure_others(decks: int, areas: set[str] | None = None) -> dict[str, object]:
    """Every measure of :data:`MEASURES`, on copies of the cached database."""
    figures: dict[str, object] = {}
    copy_fresh = True
    try:
        for target, keys, own_copy in MEASURES:
            if areas is not None and _area(target) not in areas:
                continue
            if not available(target):
                print(f"{target}: not available yet")
                figures |= dict.fromkeys(keys, "n/a")
                continue
            if copy_fresh or own_copy:
                dsn = scale_database(COPY_DB, decks)
            copy_fresh = own_copy
            result = run_step("measure", dsn, target)
            if result is None:
                figures |= dict.fromkeys(keys, "error")
                continue
            print(f"{target}:")
            for key, value in result.items():
                print(
                    f"    {key:36s} {value:.3f}"
                    if isinstance(value, float)
                    else f"    {key} {value}"
                )
            figures[f"{_area(target)}_peak_rss_mb"] = result.pop("peak_rss_mb")
            for key in ("seconds", "cpu_s", "server_cpu_s"):
                result.pop(key)
            figures |= derived(keys, result)
    finally:
        drop_database(COPY_DB)
    return figures


def _area(target: str) -> str:
    """``ops.bench.windows:measure_windows`` -> ``windows``."""
    return target.split(":")[1].removeprefix("measure_")


def derived(keys: tuple[str, ...], result: dict[str, Any]) -> dict[str, Any]:
    """A measure's figures plus its headline keys: a ``*_worst_ms`` key it does not give
    itself is the largest of its ``<prefix>_*_ms`` figures; a key still absent is
    ``missing``."""
    out = dict(result)
    for key in keys:
        if key in out:
            continue
        prefix = key.removesuffix("worst_ms")
        found = [
            v
            for k, v in result.items()
            if key.endswith("_worst_ms")
            and k.startswith(prefix)
            and k.endswith("_ms")
            and isinstance(v, float | int)
        ]
        out[key] = float(max(found)) if found else "missing"
    return out


def summary(figures: dict[str, object]) -> dict[str, object]:
    """The headline: each target's new figure beside today's, then how many are met."""
    out: dict[str, object] = {}
    met = 0
    for target in TARGETS:
        value = figures.get(target.key, "n/a")
        out[target.key] = value
        out[f"{target.key}_today"] = target.today
        met += bool(target.met(value))
    out["classify_s"] = figures.get("classify_s", "n/a")
    out["classify_s_today"] = "19"
    out |= {key: figures.get(key, "n/a") for key in NIGHTLY_KEYS}
    # The machine's load changes wall times several-fold; CPU seconds do not.
    for key in ("ingest_cpu_s", "ingest_server_cpu_s", "classify_cpu_s", "classify_server_cpu_s"):
        out[key] = figures.get(key, "n/a")
    # Which process the peak is: each step's own process and the PostgreSQL backends.
    out |= {k: v for k, v in figures.items() if k.endswith("_peak_rss_mb") and k != "peak_rss_mb"}
    out["load_average_start"] = figures.get("load_average_start", "n/a")
    out["load_average_end"] = _load()
    out["targets_met"] = f"{met}/{len(TARGETS)}"
    return out


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m ops.bench.scale``."""
    parser = argparse.ArgumentParser(prog="python -m ops.bench.scale", description=__doc__)
    parser.add_argument("--decks", type=int, default=ARCHIVE_DECKS, help="archive size")
    parser.add_argument(
        "--skip-pipeline", action="store_true", help="skip re-measuring ingestion/classification"
    )
    parser.add_argument(
        "--skip-others", action="store_true", help="only ingestion and classification"
    )
    parser.add_argument(
        "--measures",
        help="comma-separated areas to measure (default all: "
        + ",".join(_area(t) for t, _, _ in MEASURES)
        + ")",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    figures: dict[str, object] = {"load_average_start": _load()}
    name, built = ensure_cache(args.decks)
    took = time.perf_counter() - started
    print(f"database {name}: {'built' if built else 'reused'} in {took:.0f} s")
    if not args.skip_pipeline:
        figures |= measure_pipeline(args.decks)
    if not args.skip_others:
        areas = set(args.measures.split(",")) if args.measures else None
        figures |= measure_others(args.decks, areas)
    # The project's processes (the 447 MB was classification); PostgreSQL's backends
    # apart: their RSS counts the shared buffers they touched.
    rss = [
        v
        for k, v in figures.items()
        if k.endswith("_peak_rss_mb") and "backend" not in k and isinstance(v, float)
    ]
    figures["peak_rss_mb"] = max(rss) if rss else "n/a"
    print(f"\n{'measure':<22}{'today':>14}{'new':>12}{'target':>10}")
    for target in TARGETS:
        value = figures.get(target.key, "n/a")
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        ok = {True: "met", False: "MISSED", None: ""}[target.met(value)]
        limit = f"< {target.limit:g} {target.unit}"
        print(f"{target.key:<22}{target.today:>14}{shown:>12}  {limit} {ok}")
    headline(summary(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
