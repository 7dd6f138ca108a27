"""Page weight and first paint: ``python -m ops.bench.pages [--runs 5] [--reuse]``.

Builds (or with ``--reuse`` keeps) the benchmark database of :mod:`ops.bench.api` (the real
sample, ingested, classified and refreshed), draws the charts the measured pages show, starts
a private Redis and the app under gunicorn with the production configuration, then loads each
page in Debian's headless chromium (playwright) on loopback, every load in a fresh browser
context (empty browser cache, as a first visit):

* **weight**: bytes transferred for the document and every subresource (Resource Timing
  ``transferSize``: headers and bodies as sent; the app does not compress);
* **first paint**: ``first-contentful-paint`` from the Paint Timing API (navigation start to
  the first text/image painted), with the time to the document's first byte beside it (what
  the server took, as opposed to the browser's parsing and painting).

``/formats/Nope`` (the small HTML 404 page) is the baseline of the same run: its first
paint is the floor the browser and the machine's load put under every page.

The first load of each page also fills the server's response cache (``cold``); the median of
the following ``--runs`` loads is the steady state. Budget of ``/formats/Modern``: < 300 kB
and < 500 ms. Measured, printed, not asserted. Ends with ``key=value`` lines.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ops.bench.api import build_database, gunicorn, redis_server
from ops.bench.common import headline
from ops.browser import chromium_path, launch

BENCH_DB = "manalytics_bench_pages"
BUDGET_KB = 300
BUDGET_PAINT_MS = 500
HEADERS = {"X-Forwarded-Proto": "https"}  # the app runs as behind its TLS proxy

MEASURE = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const paint = Object.fromEntries(performance.getEntriesByType('paint')
                                   .map(p => [p.name, p.startTime]));
  return {
    bytes: nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
    requests: 1 + resources.length,
    fcp: paint['first-contentful-paint'] ?? null,
    fp: paint['first-paint'] ?? null,
    load: nav.loadEventEnd,
    ttfb: nav.responseStart,
  };
}"""


def _top_archetype(dsn: str) -> str:
    from pipelines.charts.data import archetype_slug, by_rank
    from pipelines.core.db import connect
    from pipelines.stats.store import meta_rows

    with connect(dsn) as conn:
        rows = meta_rows(conn, "Modern", "last30", "all")["archetypes"]
    return archetype_slug(by_rank(rows)[0])


def _featured(dsn: str) -> Any:
    from pipelines.charts.featured import featured_meta
    from pipelines.core.db import connect

    with connect(dsn) as conn:
        return featured_meta(conn, "all")


def measure(browser: Any, url: str, status: int = 200) -> dict[str, float]:
    """One first-visit load of ``url``."""
    context = browser.new_context(extra_http_headers=HEADERS)
    try:
        page = context.new_page()
        response = page.goto(url, wait_until="load")
        if response is None or response.status != status:
            sys.exit(f"{url}: HTTP {response.status if response else 'no response'}")
        page.wait_for_timeout(50)  # paint entries are queued just after load
        result: dict[str, float] = page.evaluate(MEASURE)
        return result
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="warm loads per page")
    parser.add_argument("--reuse", action="store_true", help="reuse an existing bench database")
    args = parser.parse_args(argv)
    if chromium_path() is None:
        sys.exit("chromium is needed (Debian: apt-get install -y chromium)")

    dsn = build_database(args.reuse, BENCH_DB)
    from pipelines.charts.render import render_generation

    drawn = render_generation(
        dsn, formats=["Modern"], windows=["last30", "current"], groups=["all"]
    )
    print(f"charts: {drawn.charts} drawn in {drawn.seconds:.1f} s ({drawn.status})")
    featured = _featured(dsn)
    if featured is not None:  # the landing page's meta (the workers draw it first)
        drawn = render_generation(
            dsn, formats=[featured.format], windows=[featured.window], groups=["all"]
        )
        print(f"landing page: {featured.format} {featured.window} ({drawn.charts} charts)")
    pages = {
        # Baseline of the same run: a tiny page (the HTML 404) on the same stylesheet: the
        # floor the machine's load puts under every first paint.
        "floor": "/formats/Nope",
        "index": "/",
        "format": "/formats/Modern",
        # The current meta period: in the real sample the largest window (~3,500 decks).
        "format_current": "/formats/Modern?window=current",
        "matchups": "/formats/Modern/matchups",
        "archetype": f"/formats/Modern/archetypes/{quote(_top_archetype(dsn))}",
    }
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="manalytics-bench-pages-") as tmp:
        work = Path(tmp)
        with (
            redis_server(work) as redis_url,
            gunicorn(dsn, redis_url, work, 2, []) as base,
            launch() as browser,
        ):
            for name, path in pages.items():
                status = 404 if name == "floor" else 200
                cold = measure(browser, base + path, status)
                warm = [measure(browser, base + path, status) for _ in range(args.runs)]
                kb = statistics.median(w["bytes"] for w in warm) / 1000
                fcp = statistics.median(w["fcp"] or w["load"] for w in warm)
                ttfb = statistics.median(w["ttfb"] for w in warm)
                print(
                    f"{path}: {kb:.1f} kB in {warm[0]['requests']:.0f} requests, first "
                    f"paint median {fcp:.0f} ms (first byte {ttfb:.0f} ms; cold server cache: "
                    f"{cold['bytes'] / 1000:.1f} kB, {cold['fcp'] or cold['load']:.0f} ms)"
                )
                figures[f"{name}_kb"] = round(kb, 1)
                figures[f"{name}_first_paint_ms"] = round(fcp)
                figures[f"{name}_first_byte_ms"] = round(ttfb)
                figures[f"{name}_cold_first_paint_ms"] = round(cold["fcp"] or cold["load"])
    # What the page itself adds to the floor of the same run (the machine's load is in both).
    figures["format_first_paint_over_floor_ms"] = round(
        float(str(figures["format_first_paint_ms"])) - float(str(figures["floor_first_paint_ms"]))
    )
    figures["format_within_weight_budget"] = float(str(figures["format_kb"])) < BUDGET_KB
    figures["format_within_paint_budget"] = (
        float(str(figures["format_first_paint_ms"])) < BUDGET_PAINT_MS
    )
    headline(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
