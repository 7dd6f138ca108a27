"""Benchmark: the sources, from fetching to warm API cache, on the real sample.

Run ``python -m ops.bench.sources`` from the repository root (``DATABASE_URL`` /
``REDIS_URL`` as for the other benchmarks; it (re)creates the database
``manalytics_bench_sources``). Everything is local: rate limits are lifted
(``SOURCES_DEFAULT_RATE_LIMIT=none``) and no request leaves the machine.

1. ``mtgo`` (when the MTGO adapter and its round-trip renderer are installed): every MTGO
   document of the sample is rendered into the page MTGO would serve, served by a local HTTP
   server with the month index pages, and fetched through the whole framework (HTTP client,
   raw page storage, checkpoints, parsing, writing cache files) — events fetched and parsed
   per second, ingestion timed apart. The parser alone: ``python -m ops.bench.sources_parse``.
   ``melee`` and ``topdeck`` (:mod:`ops.bench.sources_sites`): the same for their sample
   documents, served by the tests' fake sites (Melee: the first ``--melee-events``).
2. ``gitcache``: the sample committed to a local bare git repository; a first run clones it
   and ingests every file (files per second).
3. The nightly chain for one day of new events on top of the sample (ingested, classified,
   refreshed first): the busiest day of the sample re-dated to the day after its last one
   and pushed to the repository, then fetch (git diff + ingest) -> classify -> refresh ->
   warm the API cache (the API served in-process), each step timed.

Machine load matters (2 shared cores): figures are single runs. Ends with ``key=value``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from ops.bench.common import fresh_database, headline, timed
from ops.bench.sources_sites import bench_melee, bench_topdeck
from pipelines.classify.labels import classify_new_decks
from pipelines.core.settings import Settings
from pipelines.core.settings_loader import get_settings, load_settings
from pipelines.ingest.parse import path_info
from pipelines.sources.fetch import run_source
from pipelines.sources.warm import warm_api_cache
from pipelines.stats.periods import load_periods
from pipelines.stats.refresh import refresh_all

BENCH_DB = "manalytics_bench_sources"


# --------------------------------------------------------------------------- local site


class _Site(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = self.pages.get(self.path.split("?", 1)[0])
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def serve(pages: dict[str, bytes]) -> Iterator[str]:
    """A local HTTP server answering ``pages`` (path -> body); its base URL."""
    handler = type("Site", (_Site,), {"pages": pages})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- sample


def sample_files(root: Path, folder: str | None = None) -> list[tuple[str, date]]:
    """(relative path, folder date) of the sample's cache files."""
    files = []
    for path in sorted(root.rglob("*.json")):
        rel = path.relative_to(root).as_posix()
        source, day = path_info(rel)
        if day is not None and (folder is None or source == folder):
            files.append((rel, day))
    return files


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip()


def make_repository(work: Path, sample: Path) -> Path:
    """A bare repository holding the sample under ``Tournaments/``; its path."""
    bare = work / "cache.git"
    git("init", "--quiet", "--bare", "-b", "main", str(bare), cwd=work)
    tree = work / "maintainer"
    git("init", "--quiet", "-b", "main", str(tree), cwd=work)
    shutil.copytree(sample, tree / "Tournaments")
    git("add", "--all", cwd=tree)
    git("commit", "--quiet", "-m", "sample", cwd=tree)
    git("remote", "add", "origin", bare.as_uri(), cwd=tree)
    git("push", "--quiet", "origin", "main", cwd=tree)
    return tree


def push_new_day(tree: Path) -> tuple[date, int]:
    """The sample's busiest day, re-dated to the day after its last one, pushed as new
    events (URIs changed so they are new events, not copies). Returns (day, files)."""
    root = tree / "Tournaments"
    files = sample_files(root)
    busiest, _ = Counter(day for _, day in files).most_common(1)[0]
    new_day = max(day for _, day in files) + timedelta(days=1)
    count = 0
    for rel, day in files:
        if day != busiest:
            continue
        document = json.loads((root / rel).read_bytes())
        document["Tournament"]["Uri"] = document["Tournament"]["Uri"].rstrip("/") + "0"
        source, *_rest, name = rel.split("/")
        target = root / source / f"{new_day:%Y/%m/%d}" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(document, ensure_ascii=False, indent=2))
        count += 1
    git("add", "--all", cwd=tree)
    git("commit", "--quiet", "-m", f"new events of {new_day}", cwd=tree)
    git("push", "--quiet", "origin", "main", cwd=tree)
    return new_day, count


# --------------------------------------------------------------------------- parts


def bench_mtgo(dsn: str, settings: Settings, sample: Path) -> dict[str, Any]:
    """MTGO through the whole framework (needs the adapter and its renderer)."""
    try:
        from pipelines.sources.mtgo import MtgoSource
        from tests.sources import render_mtgo
    except ImportError as exc:
        print(f"mtgo: skipped ({exc})")
        return {}
    pages: dict[str, bytes] = {}
    months: dict[tuple[int, int], list[tuple[str, str, date]]] = {}
    for rel, day in sample_files(sample, "MTGO"):
        stem = rel.rsplit("/", 1)[-1].removesuffix(".json")
        path = f"/decklist/{stem}"
        if path in pages:  # a league republished under another date: one URL, one page
            continue
        try:
            document = json.loads((sample / rel).read_bytes())
            pages[path] = render_mtgo.event_page(document).encode()
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # the sample's broken files (ingestion quarantines them): no page
        months.setdefault((day.year, day.month), []).append(
            (path, document["Tournament"]["Name"], day)
        )
    for (year, month), events in months.items():
        pages[f"/decklists/{year}/{month:02d}"] = render_mtgo.month_index(events).encode()
    days = [day for events in months.values() for _, _, day in events]
    with serve(pages) as base:
        source = MtgoSource(base_url=base)
        report, seconds = timed(
            lambda: run_source(
                dsn, settings, "mtgo", since=min(days), until=max(days), source=source,
                today=max(days) + timedelta(days=30),
            )
        )  # fmt: skip
    ingest = float((report.ingest or {}).get("seconds", 0.0))
    fetched = report.counts.fetched
    print(
        f"mtgo: {fetched} events, {report.counts.pages} pages, status {report.status}, "
        f"{seconds:.2f} s ({ingest:.2f} s of it ingesting)"
    )
    return {
        "mtgo_events": fetched,
        "mtgo_events_per_s": fetched / max(seconds - ingest, 1e-9),
        "mtgo_pages_per_s": report.counts.pages / max(seconds - ingest, 1e-9),
        "mtgo_ingest_seconds": ingest,
    }


def bench_gitcache_and_chain(
    dsn: str, settings: Settings, sample: Path, work: Path
) -> dict[str, Any]:
    tree = make_repository(work, sample)
    first, seconds = timed(lambda: run_source(dsn, settings, "gitcache"))
    files = (first.ingest or {}).get("files_seen", 0)
    print(f"gitcache first run: {files} files in {seconds:.2f} s ({first.status})")
    definitions = settings.definitions_dir
    periods = load_periods(definitions)
    _, initial_classify = timed(lambda: classify_new_decks(dsn, definitions))
    _, initial_refresh = timed(lambda: refresh_all(dsn, periods=periods))

    new_day, new_files = push_new_day(tree)
    steps: dict[str, float] = {}
    report, steps["fetch"] = timed(lambda: run_source(dsn, settings, "gitcache"))
    ingested = report.ingest or {}
    steps["ingest"] = float(ingested.get("seconds", 0.0))
    steps["fetch"] -= steps["ingest"]  # git fetch + diff + staging alone
    labelled, steps["classify"] = timed(lambda: classify_new_decks(dsn, definitions))
    _, steps["refresh"] = timed(lambda: refresh_all(dsn, periods=periods))
    warm, steps["warm"] = timed(lambda: _warm(dsn, settings))
    total = sum(steps.values())
    print(f"nightly chain, {new_files} new files of {new_day} ({ingested.get('decks', 0)} decks):")
    for step, value in steps.items():
        print(f"  {step:10s} {value:8.3f} s")
    print(
        f"  warm requests: {warm.requested} ({warm.absent} absent windows, "
        f"{len(warm.errors)} failed)"
    )
    return {
        "gitcache_files": files,
        "gitcache_first_run_seconds": seconds,
        "gitcache_files_per_s": files / seconds if seconds else 0.0,
        "initial_classify_seconds": initial_classify,
        "initial_refresh_seconds": initial_refresh,
        "nightly_new_files": new_files,
        "nightly_new_decks": ingested.get("decks", 0),
        "nightly_labelled": sum(labelled.values()),
        **{f"nightly_{step}_seconds": value for step, value in steps.items()},
        "nightly_total_seconds": total,
        "nightly_warm_requests": warm.requested,
        "nightly_warm_failed": len(warm.errors),
    }


def _warm(dsn: str, settings: Settings) -> Any:
    """Warm the API cache against the API served in this process (werkzeug, one thread)."""
    import logging

    from werkzeug.serving import make_server

    from api import close_app, create_app

    # One access-log line per warming request would drown the figures.
    logging.getLogger("manalytics.api.access").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    redis_url = settings.redis_url or "redis://127.0.0.1:6379/0"
    app_settings = replace(settings, database_url=dsn, redis_url=redis_url, env="test")
    app = create_app({"MANALYTICS_SETTINGS": app_settings})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        return warm_api_cache(f"http://127.0.0.1:{server.port}", user_agent="bench")
    finally:
        server.shutdown()
        close_app(app)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--no-mtgo", action="store_true", help="skip the MTGO part")
    parser.add_argument("--no-sites", action="store_true", help="skip Melee and Topdeck")
    parser.add_argument(
        "--melee-events", type=int, default=40, help="Melee events served (two pages a deck)"
    )
    args = parser.parse_args(argv)
    base = get_settings()
    sample = base.tournaments_dir
    if not sample.is_dir():
        print(f"sample not found at {sample} (set MANALYTICS_DATA_DIR)")
        return 2
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-sources-") as tmp:
        work = Path(tmp)
        settings = replace(
            load_settings(
                {
                    "SOURCES_DATA_DIR": str(work / "data"),
                    "SOURCES_DEFAULT_RATE_LIMIT": "none",
                    "GITCACHE_URL": (work / "cache.git").as_uri(),
                }
            ),
            formats_dir=base.real_formats_dir if base.real_formats_dir.is_dir() else None,
            redis_url=base.redis_url,
        )
        if not args.no_mtgo:
            figures.update(bench_mtgo(fresh_database(BENCH_DB), settings, sample))
        if not args.no_sites:
            figures.update(
                bench_melee(fresh_database(BENCH_DB), settings, sample, args.melee_events)
            )
            figures.update(bench_topdeck(fresh_database(BENCH_DB), settings, sample))
        dsn = fresh_database(BENCH_DB)
        figures.update(bench_gitcache_and_chain(dsn, settings, sample, work))
    headline(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
