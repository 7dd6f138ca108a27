"""``python -m ops.bench``: list the benchmarks (each is its own command)."""

BENCHMARKS = {
    "ops.bench.ingest": "ingestion of the real sample (--scale N: N x generated)",
    "ops.bench.classify": "in-memory matcher vs reference evaluator",
    "ops.bench.reclassify": "classification end to end through PostgreSQL",
    "ops.bench.refresh": "materialized views refresh (--scale N)",
    "ops.bench.api": "HTTP throughput and latency under gunicorn",
    "ops.bench.load": "load through nginx: wrk and locust (make bench-tools), static ceiling",
    "ops.bench.images": "installed Python environment of each image",
    "ops.bench.discovery": "archetype discovery, leave-one-out",
    "ops.bench.sources_parse": "site parsers (MTGO pages/s) on pages rendered from the sample",
    "ops.bench.sources": "sources: fetch+parse rate, nightly chain for one new day",
    "ops.bench.pages": "page weight and first paint in headless chromium",
    "ops.bench.scale": "issue 14's table on an archive-size database (--decks 500000)",
    "ops.bench.decks": "deck and tournament lists on the cached archive (--decks N)",
    "ops.bench.windows": "custom and standard window reads (--dsn URL)",
}

if __name__ == "__main__":
    print("Run one benchmark at a time (each prints key=value headline figures):")
    for module, what in BENCHMARKS.items():
        print(f"  python -m {module:24s} {what}")
