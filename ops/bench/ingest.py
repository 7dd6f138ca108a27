"""Ingestion benchmark: ``python -m ops.bench.ingest [--scale N] [--tree DIR]``.

Fresh ingestion of the real sample (``<MANALYTICS_DATA_DIR>/tournaments``) into an empty
database (the median of ``--runs``, as this shared machine's speed varies by up to 1.5x
from one minute to the next), then a re-run with nothing new. Printed beside it, measured in
the same run: the parse-only ceiling (decoding + validation, no database) and, where the
process pool is used (4+ cores), the same pipeline in one process. ``--scale N`` also
generates N times the sample's deck count with the demo generator and reports the same
figures, so growth is visible.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
from pathlib import Path

from ops.bench.common import fresh_database, headline, peak_rss_mb, timed
from pipelines.core.settings_loader import get_settings
from pipelines.ingest import cache
from pipelines.ingest.cache import ingest_cache
from pipelines.ingest.parse import DocumentError, parse_document


def parse_only(root: Path) -> int:
    """Decks parsed from every file, no database: the ceiling for any writer."""
    decks = 0
    for path in sorted(root.rglob("*.json")):
        with contextlib.suppress(DocumentError):
            decks += len(parse_document(path.read_bytes(), path.relative_to(root).as_posix()).decks)
    return decks


def measure(root: Path, label: str, runs: int) -> dict[str, float]:
    """Fresh runs (median of ``runs``, each into an empty database), the in-process baseline
    where a process pool is used, and a re-run over ``root``; prints a table."""
    decks, parse_s = timed(lambda: parse_only(root))
    figures = {"parse_only_decks_per_s": decks / parse_s}
    if cache._worker_count(len(list(root.rglob("*.json")))) > 1:
        saved = cache._worker_count
        cache._worker_count = lambda n_files: 1  # baseline: everything in one process
        serial = ingest_cache(fresh_database("manalytics_bench_ingest"), root)
        cache._worker_count = saved
        figures["in_process_decks_per_s"] = serial.decks / serial.seconds
    rates = []
    for _ in range(runs):
        dsn = fresh_database("manalytics_bench_ingest")
        fresh = ingest_cache(dsn, root)
        rates.append(fresh.decks / fresh.seconds)
    rerun = ingest_cache(dsn, root)
    figures |= {
        "files": float(fresh.files_seen),
        "decks": float(fresh.decks),
        "decks_per_s": statistics.median(rates),
        "decks_per_s_min": min(rates),
        "decks_per_s_max": max(rates),
        "fresh_seconds": fresh.decks / statistics.median(rates),
        "rerun_seconds": rerun.seconds,
    }
    print(f"\n{label}")
    for key, value in figures.items():
        print(f"  {key:24s} {value:12,.2f}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", type=Path, help="cache folder (default: the real sample)")
    parser.add_argument("--scale", type=int, default=0, help="also run N x the sample, generated")
    parser.add_argument("--runs", type=int, default=3, help="fresh runs per tree (median)")
    args = parser.parse_args()
    root = args.tree or get_settings().tournaments_dir
    if not root.is_dir():
        raise SystemExit(f"no cache folder at {root} (set MANALYTICS_DATA_DIR or use --tree)")
    sample = measure(root, f"sample: {root}", args.runs)
    out: dict[str, object] = {
        key: round(value) for key, value in sample.items() if key.endswith("decks_per_s")
    }
    out |= {
        "decks_per_s_min": round(sample["decks_per_s_min"]),
        "decks_per_s_max": round(sample["decks_per_s_max"]),
        "rerun_seconds": round(sample["rerun_seconds"], 3),
    }
    if args.scale:
        from pipelines.demo.generator import generate

        with tempfile.TemporaryDirectory(prefix="manalytics-scale-") as tmp:
            target = int(sample["decks"]) * args.scale
            _, gen_s = timed(lambda: generate(Path(tmp), target, 7))
            print(f"\ngenerated {target:,} decks in {gen_s:.1f} s")
            scaled = measure(Path(tmp), f"scale x{args.scale}: {target:,} decks", 1)
            out[f"scale{args.scale}_decks_per_s"] = round(scaled["decks_per_s"])
            out[f"scale{args.scale}_rerun_seconds"] = round(scaled["rerun_seconds"], 3)
    out["peak_rss_mb"] = round(peak_rss_mb())
    headline(out)


if __name__ == "__main__":
    main()
