"""The nightly run end to end through a real Celery worker: ``sources.nightly`` (what beat
sends) -> ``sources.fetch`` of the cache repository (a local bare git repository) -> ingest
-> classify -> refresh -> warm the API cache. New events appear in the API's meta; a run
with nothing new upstream fetches and ingests nothing and queues no chain. Beat itself (a
real ``celery beat`` process, RedBeat) sends the nightly run it missed while it was down."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from pytest_httpserver import HTTPServer

from api import close_app, create_app
from pipelines.core.settings import REPO_ROOT
from tests.api.conftest import settings_for as api_settings
from tests.integration.test_celery import Worker, running_worker
from tests.integration.test_sources_gitcache import Upstream

FIXTURE_MTGO = REPO_ROOT / "tests" / "fixtures" / "cache" / "MTGO" / "2025" / "03" / "09"
DEFINITIONS = REPO_ROOT / "tests" / "fixtures" / "definitions"


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    repo = Upstream(tmp_path)
    target = repo.work / "Tournaments" / "MTGO" / "2025" / "03" / "09"
    target.mkdir(parents=True)
    name = "modern-challenge-32-2025-03-0912345678.json"
    (target / name).write_bytes((FIXTURE_MTGO / name).read_bytes())
    repo.commit("one modern challenge")
    return repo


@pytest.fixture
def warm_target() -> Iterator[HTTPServer]:
    """Stands in for the API the worker warms: records the requests."""
    server = HTTPServer(threaded=True)
    server.expect_request("/api/v1/formats").respond_with_json({"items": [{"format": "Modern"}]})
    server.expect_request("/api/v1/formats/Modern/meta").respond_with_json({})
    server.expect_request("/api/v1/formats/Modern/matchups").respond_with_json({})
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def worker(
    pg_dsn: str, redis_url: str, tmp_path: Path, upstream: Upstream, warm_target: HTTPServer
) -> Iterator[Worker]:
    with running_worker(
        pg_dsn,
        redis_url,
        tmp_path,
        "src",
        SOURCES_DATA_DIR=str(tmp_path / "data"),
        SOURCES_ENABLED="gitcache,topdeck",  # topdeck without its key: disabled, one line
        GITCACHE_URL=upstream.url,
        API_BASE_URL=warm_target.url_for("/").rstrip("/"),
    ) as started:
        yield started


def wait_for(check: Callable[[], bool], worker: Worker, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    pytest.fail(f"timed out; worker log:\n{worker.output()[-6000:]}")


def scalar(dsn: str, sql: str) -> object:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql).fetchone()
    return row[0] if row else None


def meta_decks(dsn: str, redis_url: str, start: str = "2025-03-01", end: str = "2025-03-31") -> int:
    """Decks in the API's Modern meta over a custom window."""
    app = create_app(
        {
            "MANALYTICS_SETTINGS": api_settings(dsn, redis_url),
            "REDIS_SINGLE_DB": True,
        }
    )
    try:
        response = app.test_client().get(f"/api/v1/formats/Modern/meta?from={start}&to={end}")
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        return sum(row["decks"] for row in body["items"])
    finally:
        close_app(app)


def test_nightly_run_fills_the_meta_and_a_second_run_fetches_nothing(
    worker: Worker,
    pg_dsn: str,
    redis_url: str,
    upstream: Upstream,
    warm_target: HTTPServer,
) -> None:
    def refreshes() -> int:
        return int(scalar(pg_dsn, "SELECT count(*) FROM refresh_log WHERE status = 'succeeded'"))

    def warmed() -> int:
        return sum(1 for request, _ in warm_target.log if request.path == "/api/v1/formats")

    def runs(status: str = "%") -> int:
        sql = (
            f"SELECT count(*) FROM source_runs WHERE source = 'gitcache' AND status LIKE '{status}'"
        )
        return int(scalar(pg_dsn, sql))

    # Night 1: what beat sends at SOURCES_HOUR_UTC.
    worker.client.send_task("sources.nightly", queue="ingest")
    wait_for(lambda: warmed() == 1, worker)
    assert runs("succeeded") == 1 and refreshes() == 1
    assert scalar(pg_dsn, "SELECT status FROM source_runs WHERE source = 'topdeck'") == "disabled"
    assert worker.output().count("source topdeck disabled: topdeck needs TOPDECK_API_KEY") == 1
    first = meta_decks(pg_dsn, redis_url)
    assert first == 4

    # Night 2: the cache repository got a new event.
    target = upstream.work / "Tournaments" / "MTGO" / "2025" / "03" / "16"
    target.mkdir(parents=True)
    document = json.loads(
        (FIXTURE_MTGO / "modern-challenge-32-2025-03-0912345678.json").read_text()
    )
    document["Tournament"]["Date"] = "2025-03-16"
    document["Tournament"]["Uri"] = (
        "https://www.mtgo.com/decklist/modern-challenge-32-2025-03-1612399999"
    )
    (target / "modern-challenge-32-2025-03-1612399999.json").write_text(json.dumps(document))
    upstream.commit("a new challenge")
    worker.client.send_task("sources.nightly", queue="ingest")
    wait_for(lambda: warmed() == 2, worker)
    assert refreshes() == 2
    last = json.loads(
        json.dumps(
            scalar(
                pg_dsn,
                "SELECT row_to_json(r) FROM (SELECT * FROM source_runs "
                "WHERE source = 'gitcache' ORDER BY id DESC LIMIT 1) r",
            )
        )
    )
    assert last["fetched"] == 1 and last["newest_event"] == "2025-03-16"
    assert meta_decks(pg_dsn, redis_url) == first + 4

    # Night 3: nothing new upstream. The run fetches and ingests nothing, no chain follows.
    ingestions = int(scalar(pg_dsn, "SELECT count(*) FROM ingestion_runs"))
    worker.client.send_task("sources.nightly", queue="ingest")
    wait_for(lambda: runs("succeeded") == 3, worker)
    time.sleep(3)  # a chain, if one were queued, would have started by now
    assert int(scalar(pg_dsn, "SELECT count(*) FROM ingestion_runs")) == ingestions
    assert refreshes() == 2 and warmed() == 2
    assert (
        scalar(
            pg_dsn,
            "SELECT fetched FROM source_runs WHERE source = 'gitcache' ORDER BY id DESC LIMIT 1",
        )
        == 0
    )


def test_nightly_run_of_the_mtgo_adapter_against_the_fixture_site(
    pg_dsn: str, redis_url: str, tmp_path: Path, warm_target: HTTPServer
) -> None:
    """The same through the MTGO adapter: month index and event page served by a local
    server (the worker lists the real last 7 days, so the event is dated two days ago). A
    failing source queued before it (CardsRealm, refused) does not block it."""
    from tests.sources import render_mtgo

    day = datetime.now(UTC).date() - timedelta(days=2)
    stem = f"modern-challenge-32-{day.isoformat()}12399999"
    document = json.loads(
        (FIXTURE_MTGO / "modern-challenge-32-2025-03-0912345678.json").read_text()
    )
    document["Tournament"]["Date"] = day.isoformat()
    site = HTTPServer(threaded=True)
    site.start()
    try:
        site.expect_request(f"/decklist/{stem}").respond_with_data(render_mtgo.event_page(document))
        # CardsRealm is down (its listing answers 403): its run fails, MTGO's goes on.
        site.expect_request("/en-us/tournament/searchtours").respond_with_data(
            "blocked", status=403
        )
        index = render_mtgo.month_index([(f"/decklist/{stem}", "Modern Challenge 32", day)])
        today = datetime.now(UTC).date()
        # Every month the worker's window (today - SOURCES_LOOKBACK_DAYS .. today) touches.
        for month in {today.replace(day=1), (today - timedelta(days=7)).replace(day=1)}:
            body = index if month == day.replace(day=1) else render_mtgo.month_index([])
            site.expect_request(f"/decklists/{month:%Y/%m}").respond_with_data(body)
        with running_worker(
            pg_dsn,
            redis_url,
            tmp_path,
            "src",
            SOURCES_DATA_DIR=str(tmp_path / "data"),
            SOURCES_ENABLED="cardsrealm,mtgo",
            SOURCES_STAGGER_MINUTES="0",
            MTGO_BASE_URL=site.url_for("/").rstrip("/"),
            CARDSREALM_BASE_URL=site.url_for("/").rstrip("/"),
            API_BASE_URL=warm_target.url_for("/").rstrip("/"),
        ) as worker:
            worker.client.send_task("sources.nightly", queue="ingest")
            wait_for(lambda: any(r.path == "/api/v1/formats" for r, _ in warm_target.log), worker)
            window = ((day - timedelta(days=1)).isoformat(), (day + timedelta(days=1)).isoformat())
            assert meta_decks(pg_dsn, redis_url, *window) == 4
            failed = "SELECT error FROM source_runs WHERE source = 'cardsrealm'"
            wait_for(lambda: scalar(pg_dsn, failed) is not None, worker)
            assert "HTTP 403" in str(scalar(pg_dsn, failed))
            # Second night: the event is young, so it is fetched again, but its page did not
            # change: nothing is rewritten, ingested or chained.
            fetches = sum(1 for r, _ in site.log if r.path == f"/decklist/{stem}")
            worker.client.send_task("sources.nightly", queue="ingest")
            sql = "SELECT count(*) FROM source_runs WHERE source = 'mtgo' AND status = 'succeeded'"
            wait_for(lambda: scalar(pg_dsn, sql) == 2, worker)
            assert sum(1 for r, _ in site.log if r.path == f"/decklist/{stem}") == fetches + 1
            last = (
                "SELECT documents FROM source_runs WHERE source = 'mtgo' ORDER BY id DESC LIMIT 1"
            )
            assert scalar(pg_dsn, last) == 0
            assert sum(1 for r, _ in warm_target.log if r.path == "/api/v1/formats") == 1
    finally:
        site.clear()
        site.stop()


def test_beat_fires_the_nightly_run_it_missed(
    worker: Worker,
    pg_dsn: str,
    redis_url: str,
    tmp_path: Path,
    upstream: Upstream,
    warm_target: HTTPServer,
) -> None:
    """Beat itself (celery beat, RedBeat scheduler) drives the nightly run: beat was down at
    SOURCES_HOUR_UTC yesterday, so on start it finds ``sources-nightly`` overdue and sends it
    once; the worker fetches, ingests, classifies, refreshes and warms."""
    import redis

    hour = time.gmtime().tm_hour
    env = dict(
        os.environ,
        DATABASE_URL=pg_dsn,
        REDIS_URL=redis_url,
        MANALYTICS_VAR_DIR=str(tmp_path / "var"),
        MANALYTICS_FORMATS_DIR=str(DEFINITIONS),
        SOURCES_DATA_DIR=str(tmp_path / "data"),
        SOURCES_ENABLED="gitcache",
        GITCACHE_URL=upstream.url,
        SOURCES_HOUR_UTC=str((hour - 1) % 24),
        # The other daily entries must not fire during the test (formats sync would go out).
        INGEST_HOUR_UTC=str((hour + 12) % 24),
        FORMATS_SYNC_HOUR_UTC=str((hour + 12) % 24),
        PYTHONUNBUFFERED="1",
    )
    # What RedBeat recorded before beat went down: the entry, last run two days ago.
    last = datetime.now(UTC) - timedelta(days=2)
    meta = {
        "last_run_at": {
            "__type__": "datetime", "year": last.year, "month": last.month, "day": last.day,
            "hour": last.hour, "minute": last.minute, "second": 0, "microsecond": 0,
            "timezone": "UTC",
        }
    }  # fmt: skip
    definition = {
        "name": "sources-nightly", "task": "sources.nightly", "args": [], "kwargs": {},
        "options": {}, "enabled": True,
        "schedule": {
            "__type__": "crontab", "minute": "0", "hour": env["SOURCES_HOUR_UTC"],
            "day_of_week": "*", "day_of_month": "*", "month_of_year": "*",
        },
    }  # fmt: skip
    store = redis.Redis.from_url(redis_url)
    store.hset(
        "manalytics:redbeatsources-nightly",
        mapping={"meta": json.dumps(meta), "definition": json.dumps(definition)},
    )
    log = tmp_path / "beat.log"
    with open(log, "wb") as handle:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "beat",
             "--loglevel", "INFO"],
            stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_for(lambda: any(r.path == "/api/v1/formats" for r, _ in warm_target.log), worker)
        assert meta_decks(pg_dsn, redis_url) == 4
        sql = "SELECT trigger, status FROM source_runs WHERE source = 'gitcache'"
        assert scalar(pg_dsn, sql) == "schedule"
        time.sleep(3)  # beat keeps ticking: the run it caught up on is not sent again
        runs = "SELECT count(*) FROM source_runs WHERE source = 'gitcache'"
        assert int(scalar(pg_dsn, runs)) == 1
        sent = log.read_text(errors="replace").count("Sending due task sources-nightly")
        assert sent == 1
    finally:
        beat.send_signal(signal.SIGTERM)
        try:
            beat.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(beat.pid, signal.SIGKILL)
            beat.wait(timeout=10)
        store.close()
