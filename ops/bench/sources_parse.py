"""Benchmark: the site adapters' pure parsers on pages rendered from the real sample.

Run ``python -m ops.bench.sources_parse`` from the repository root (it reuses the round-trip
renderers of tests/sources/). Every MTGO document of the sample is rendered into the event
page MTGO would serve (not timed); the parser then reads all of them on one core, best of
``--repeat`` runs. The target of issue 10 is >= 200 MTGO event pages/s on one core. The
baseline in the same run is ``json.loads`` of the same embedded JSON (the floor any parser of
these pages pays). Ends with ``key=value`` lines.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from ops.bench.classify import pin_to_one_core
from pipelines.core.settings_loader import get_settings
from pipelines.sources.mtgo import parse_event_page
from tests.sources import render_mtgo
from tests.sources.conftest import folder_date, sample_documents


def best_of(repeat: int, func: Callable[[], Any]) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds of ``repeat`` runs. On a shared, loaded machine
    the CPU time (this process only) is the figure to compare with the target."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        func()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return min(walls), min(cpus)


def mtgo_pages(root: Path) -> list[tuple[str, dict[str, Any], str]]:
    """(page html, document, folder date) for every MTGO document of the sample."""
    return [
        (render_mtgo.event_page(doc), doc, folder_date(rel))
        for rel, doc in sample_documents(root, "MTGO")
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = get_settings().data_dir
    if not (root / "tournaments").is_dir():
        raise SystemExit(f"real sample not found at {root} (set MANALYTICS_DATA_DIR)")
    cpu = pin_to_one_core()
    pages = mtgo_pages(root)
    size = sum(len(p.encode()) for p, _, _ in pages)

    def parse_all() -> None:
        for page, doc, day in pages:
            t = doc["Tournament"]
            parse_event_page(
                page, url=t["Uri"], name=t["Name"], day=date.fromisoformat(day), fmt=t["Formats"]
            )

    def json_only() -> None:
        for page, _, _ in pages:
            start = page.index("data = ") + 7
            json.loads(page[start : page.index(";\n", start)])

    parse_wall, parse_cpu = best_of(args.repeat, parse_all)
    base_wall, base_cpu = best_of(args.repeat, json_only)
    decks = sum(len(doc["Decks"]) for _, doc, _ in pages)
    load = os.getloadavg()[0]
    print(f"MTGO: {len(pages)} event pages ({size / 1e6:.1f} MB, {decks} decks) on {cpu}")
    print(f"  parse_event_page  {parse_wall:.3f} s wall, {parse_cpu:.3f} s CPU")
    print(f"  json.loads only   {base_wall:.3f} s wall, {base_cpu:.3f} s CPU (baseline)")
    print(f"  load average      {load:.1f} (wall figures suffer on a shared machine)")
    print(f"mtgo_pages={len(pages)}")
    print(f"mtgo_pages_per_s={len(pages) / parse_wall:.0f}")
    print(f"mtgo_pages_per_cpu_s={len(pages) / parse_cpu:.0f}")
    print(f"mtgo_decks_per_cpu_s={decks / parse_cpu:.0f}")
    print(f"mtgo_mb_per_cpu_s={size / 1e6 / parse_cpu:.1f}")
    print(f"baseline_json_pages_per_cpu_s={len(pages) / base_cpu:.0f}")
    print(f"load_average={load:.1f}")


if __name__ == "__main__":
    main()
