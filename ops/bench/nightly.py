"""Benchmark: one night of the real chain on the archive-size database.

``python -m ops.bench.nightly [--decks 500000] [--night 1500]``

On a throwaway copy of the cached archive-size database (:mod:`ops.bench.scale_db`), one new
day of files (``--night`` decks, the archive's mix, the day after the archive ends) is added
to a hard-linked copy of the archive's folder, then the nightly chain runs as the workers run
it (:func:`measure_nightly`): ``ingest_cache`` over the whole folder (the archive's ~17,000
unchanged files are skipped without being read), ``classify_new_decks`` with the demo
definitions, and the incremental ``refresh_all``. A night must cost what the night holds, not
what history holds: the output ends with each step's seconds and the chain's total as
``key=value`` lines. ``ops.bench.scale`` runs the same measure (area ``nightly``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from ops.bench.common import headline
from ops.bench.scale_db import ARCHIVE_DECKS, ARCHIVE_END, drop_database, scale_database
from pipelines.core import db

NIGHT_DECKS = 1_500
# Not the archive's seed: the night's events and players are new ones.
NIGHT_SEED = 2026
COPY_DB = f"nightly_bench_{os.getpid()}"


def archive_root(dsn: str) -> Path:
    """The folder the database was ingested from (its first ingestion run)."""
    with db.connect(dsn) as conn:
        row = conn.execute("SELECT root FROM ingestion_runs ORDER BY id LIMIT 1").fetchone()
    if row is None:
        raise RuntimeError("the database records no ingestion run")
    return Path(row[0])


def night_folder(archive: Path, target: Path, decks: int) -> int:
    """``target``: the archive's files hard-linked (same bytes, size and mtime: known to the
    database) plus one new day of ``decks`` decks; returns the new day's files."""
    from pipelines.demo.generator import ARCHIVE_MIX, generate

    shutil.copytree(archive, target, copy_function=os.link)
    summary = generate(
        target, decks, NIGHT_SEED, start=ARCHIVE_END + timedelta(days=1), days=1, mix=ARCHIVE_MIX
    )
    return int(summary.files)


def measure_nightly(dsn: str, decks: int = NIGHT_DECKS) -> dict[str, float]:
    """The nightly chain on ``dsn`` (modified: it gains the new day) after adding one day of
    ``decks`` decks to a copy of its archive folder; seconds per step."""
    from pipelines.classify.labels import classify_new_decks
    from pipelines.demo import DEMO_DEFINITIONS_DIR
    from pipelines.ingest.cache import ingest_cache
    from pipelines.stats.periods import load_periods
    from pipelines.stats.refresh import refresh_all

    with tempfile.TemporaryDirectory(prefix="nightly-bench-") as tmp:
        root = Path(tmp) / "cache"
        night_files = night_folder(archive_root(dsn), root, decks)
        started = time.perf_counter()
        ingested = ingest_cache(dsn, root)
        ingest_s = time.perf_counter() - started
    step = time.perf_counter()
    labelled = sum(classify_new_decks(dsn, DEMO_DEFINITIONS_DIR).values())
    classify_s = time.perf_counter() - step
    step = time.perf_counter()
    refreshed = refresh_all(dsn, periods=load_periods(DEMO_DEFINITIONS_DIR))
    refresh_s = time.perf_counter() - step
    return {
        "nightly_files_seen": float(ingested.files_seen),
        "nightly_new_files": float(night_files),
        "nightly_decks": float(ingested.decks),
        "nightly_labelled": float(labelled),
        "nightly_refresh_days": float(refreshed.days),
        "nightly_ingest_s": ingest_s,
        "nightly_classify_s": classify_s,
        "nightly_refresh_s": refresh_s,
        "nightly_total_s": time.perf_counter() - started,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.bench.nightly", description=__doc__)
    parser.add_argument("--decks", type=int, default=ARCHIVE_DECKS, help="archive size")
    parser.add_argument("--night", type=int, default=NIGHT_DECKS, help="decks of the new day")
    args = parser.parse_args(argv)
    dsn = scale_database(COPY_DB, args.decks)
    try:
        figures: dict[str, Any] = measure_nightly(dsn, args.night)
    finally:
        drop_database(COPY_DB)
    headline(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
