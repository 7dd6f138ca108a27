"""Benchmark parts of ``python -m ops.bench.sources``: Melee and Topdeck through the whole
framework, from pages rendered from the real sample.

Each part renders the sample's documents of one source into the answers the site serves
(the round-trip renderers of tests/sources/, not timed), serves them from a local HTTP server
(pytest-httpserver, one thread, as in the tests) and runs ``run_source`` over the whole
sample's window: listing, sign-in, every page through the HTTP client with raw page storage,
checkpoints, parsing, writing cache files, then ingestion (timed apart). Reported: events
and pages per second of the fetch part. (Whether parsing is the bottleneck: the pure MTGO
parser alone is ``python -m ops.bench.sources_parse``.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from ops.bench.common import timed
from pipelines.core.settings import Settings
from pipelines.sources.fetch import run_source


@contextmanager
def _server() -> Iterator[Any]:
    from pytest_httpserver import HTTPServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = HTTPServer(threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def _sample(sample: Path, folder: str) -> list[dict[str, Any]]:
    docs = []
    for path in sorted((sample / folder).rglob("*.json")):
        try:
            docs.append(json.loads(path.read_bytes()))
        except ValueError:
            continue
    return docs


def _start(doc: dict[str, Any]) -> date:
    return datetime.fromisoformat(doc["Tournament"]["Date"]).date()


def _report(
    name: str, dsn: str, settings: Settings, source: Any, days: list[date]
) -> dict[str, float]:
    report, seconds = timed(
        lambda: run_source(
            dsn, settings, name, since=min(days), until=max(days), source=source,
            today=max(days) + timedelta(days=30),
        )
    )  # fmt: skip
    ingest = float((report.ingest or {}).get("seconds", 0.0))
    fetch = max(seconds - ingest, 1e-9)
    print(
        f"{name}: {report.counts.fetched} events, {report.counts.pages} pages, status "
        f"{report.status}, {seconds:.2f} s ({ingest:.2f} s of it ingesting)"
    )
    return {
        f"{name}_events": report.counts.fetched,
        f"{name}_events_per_s": report.counts.fetched / fetch,
        f"{name}_pages_per_s": report.counts.pages / fetch,
        f"{name}_ingest_seconds": ingest,
    }


def bench_melee(dsn: str, settings: Settings, sample: Path, limit: int) -> dict[str, float]:
    """Melee: the first ``limit`` events of the sample that the renderer can serve."""
    from pipelines.sources.melee import MeleeSource
    from tests.sources import render_melee
    from tests.sources.melee_site import EMAIL, PASSWORD, MeleeSite
    from tests.sources.test_melee import skip_reason

    with _server() as server:
        site = MeleeSite(server)
        events: dict[str, dict[str, Any]] = {}
        for doc in _sample(sample, "MTGmelee"):
            if len(events) < limit and not skip_reason("", doc):
                events[render_melee.tournament_id(doc)] = doc
        for doc in events.values():
            site.add(render_melee.render_event(doc))
        days = [_start(d) for d in events.values()]
        source = MeleeSource(EMAIL, PASSWORD, base_url=site.base_url, min_decklists=1)
        figures = _report("melee", dsn, settings, source, days)

    return figures


def bench_topdeck(dsn: str, settings: Settings, sample: Path) -> dict[str, float]:
    """Topdeck: every event of the sample (several formats, one listing call each)."""
    from pipelines.sources.topdeck import TopdeckSource
    from tests.sources.render_topdeck import API_KEY, TopdeckSite, render_event

    docs = _sample(sample, "Topdeck")
    with _server() as server:
        site = TopdeckSite(server)
        site.events = [render_event(doc) for doc in docs]
        source = TopdeckSource(API_KEY, base_url=site.base_url)
        return _report("topdeck", dsn, settings, source, [_start(d) for d in docs])
