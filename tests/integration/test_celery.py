"""Celery against real Redis and PostgreSQL: configuration, a real worker subprocess, tasks.

No eager mode: the worker is ``celery -A workers.celery_app worker`` in a subprocess, with the
broker and result backend on this test process's own logical Redis database (``redis_url``
fixture) passed on the command line, and ``DATABASE_URL`` pointing at a fresh database.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
import pytest
from celery import Celery
from celery.schedules import crontab

from pipelines.core.settings import REPO_ROOT, Settings
from pipelines.core.settings_loader import load_settings
from pipelines.ingest.cache import INGEST_LOCK_KEY, IngestBusy
from workers.celery_app import celery_config, create_celery_app, load_beat_schedule
from workers.tasks.ingest import run_ingest

FIXTURE_CACHE = REPO_ROOT / "tests" / "fixtures" / "cache"


def settings_for(redis_url: str, **changes: object) -> Settings:
    return replace(load_settings({}), redis_url=redis_url, **changes)  # type: ignore[arg-type]


# -- configuration ---------------------------------------------------------------------------


def test_config_follows_the_reliability_table() -> None:
    settings = settings_for("redis://cache:6379", celery_visibility_timeout=7200)
    config = celery_config(settings)
    assert config["broker_url"] == "redis://cache:6379/0"
    assert config["result_backend"] == "redis://cache:6379/1"
    assert config["broker_transport_options"]["visibility_timeout"] == 7200
    assert config["result_backend_transport_options"]["visibility_timeout"] == 7200
    assert config["visibility_timeout"] == 7200
    assert config["task_acks_late"] is True
    assert config["task_reject_on_worker_lost"] is True  # run records bound the attempts
    assert config["beat_scheduler"] == "workers.beat:Scheduler"  # RedBeat riding out restarts
    assert config["worker_cancel_long_running_tasks_on_connection_loss"] is False
    assert config["redbeat_redis_url"] == "redis://cache:6379/4"
    assert config["worker_prefetch_multiplier"] == 1
    assert config["accept_content"] == ["json"] and config["task_serializer"] == "json"
    assert config["task_ignore_result"] is True
    assert config["worker_hijack_root_logger"] is False
    assert config["broker_connection_retry_on_startup"] is True
    assert config["timezone"] == "UTC"
    assert {queue.name for queue in config["task_queues"]} == {"ingest", "classify", "refresh"}
    # Hard limits stay well below the visibility timeout (no redelivery of running tasks).
    assert 2 * config["task_time_limit"] <= config["visibility_timeout"]
    assert config["beat_schedule_filename"] == str(settings.beat_schedule_filename)


def test_beat_schedule_comes_from_the_data_file_and_settings() -> None:
    schedule = load_beat_schedule(settings_for("redis://cache:6379", ingest_hour_utc=5))
    nightly = schedule["ingest-nightly"]
    assert nightly["task"] == "ingest.nightly"
    assert nightly["schedule"] == crontab(minute=0, hour=5)
    assert nightly["options"]["queue"] == "ingest"


def test_importing_the_app_touches_no_service() -> None:
    code = (
        "import workers.celery_app as c, workers.tasks.ingest, workers.tasks.maintenance;"
        "assert not c.app.configured; assert c._resolved is None"
    )
    env = dict(os.environ, REDIS_URL="", DATABASE_URL="", MANALYTICS_VAR_DIR="/nonexistent/x")
    subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO_ROOT, check=True)


# -- a real worker ---------------------------------------------------------------------------


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path
    client: Celery

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def running_worker(
    pg_dsn: str, redis_url: str, tmp_path: Path, node: str = "test", **env: str
) -> Iterator[Worker]:
    """A real Celery worker (prefork, concurrency 1) on the three queues, with the fixture
    definitions and ``env``, and a client app; stopped (TERM, then KILL) on exit."""
    node_name = f"{node}-{uuid.uuid4().hex[:8]}@%h"
    log = tmp_path / "worker.log"
    environment = {
        **os.environ,
        "DATABASE_URL": pg_dsn,
        "REDIS_URL": redis_url,
        "MANALYTICS_VAR_DIR": str(tmp_path / "var"),
        "MANALYTICS_FORMATS_DIR": str(REPO_ROOT / "tests" / "fixtures" / "definitions"),
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    argv = [
        sys.executable, "-m", "celery", "-A", "workers.celery_app", "-b", redis_url,
        "--result-backend", redis_url, "worker", "-Q", "ingest,classify,refresh", "-c", "1",
        "-n", node_name, "--without-mingle", "--without-gossip", "--loglevel", "INFO",
    ]  # fmt: skip
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            argv, stdout=handle, stderr=subprocess.STDOUT, env=environment, cwd=REPO_ROOT,
            start_new_session=True,
        )  # fmt: skip
    client = create_celery_app(settings_for(redis_url), set_as_current=False)
    client.conf.update(broker_url=redis_url, result_backend=redis_url)
    try:
        yield Worker(process, log, client)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        client.close()


@pytest.fixture
def worker(pg_dsn: str, redis_url: str, tmp_path: Path) -> Iterator[Worker]:
    """A prefork worker (concurrency 1) on the three queues, and a client app."""
    schedule = str(tmp_path / "var" / "celerybeat-schedule")
    with running_worker(pg_dsn, redis_url, tmp_path, BEAT_SCHEDULE_FILENAME=schedule) as started:
        yield started


def test_worker_runs_a_registered_task_end_to_end(worker: Worker) -> None:
    result = worker.client.send_task("maintenance.ping", kwargs={"echo": {"n": 1}})
    try:
        answer = result.get(timeout=60)
    except Exception:
        print(worker.output())
        raise
    assert answer["pong"] is True
    assert answer["echo"] == {"n": 1}  # JSON round trip
    assert answer["database"] is True  # the per-process pool reached PostgreSQL
    assert answer["task_id"] == result.id
    assert answer["pid"] != worker.process.pid  # ran in a prefork child, not the main process

    # The "succeeded" line is written just after the result is stored: give it a moment.
    # Log lines are JSON objects carrying the task context (LOG_FORMAT=json, the default).
    def task_lines() -> list[dict]:
        records = [json.loads(line) for line in worker.output().splitlines()
                   if line.startswith("{")]  # fmt: skip
        return [r for r in records if r.get("task_id") == result.id]

    deadline = time.monotonic() + 10
    while not task_lines() and time.monotonic() < deadline:
        time.sleep(0.1)
    [line, *_] = task_lines()
    assert line["task_name"] == "maintenance.ping" and line["run_id"] == "-"
    assert {"time", "level", "logger", "processName", "message"} <= set(line)


def test_worker_ingests_a_cache_tree(worker: Worker, pg_dsn: str, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    shutil.copytree(FIXTURE_CACHE, root)
    worker.client.send_task("ingest.cache_tree", kwargs={"root": str(root)})
    deadline = time.monotonic() + 90
    status = None
    while time.monotonic() < deadline:
        with psycopg.connect(pg_dsn) as conn:
            row = conn.execute(
                "SELECT status, files_seen FROM ingestion_runs ORDER BY id DESC LIMIT 1"
            ).fetchone()
        status = row and row[0]
        if status in {"succeeded", "failed"}:
            break
        time.sleep(0.25)
    assert status == "succeeded", worker.output()
    with psycopg.connect(pg_dsn) as conn:
        decks = conn.execute("SELECT count(*) FROM decks").fetchone()
    assert decks and decks[0] > 0
    # The chain goes on by itself: classify.new_decks, then refresh.meta_views.
    deadline = time.monotonic() + 90
    labelled = refreshed = 0
    while time.monotonic() < deadline and not refreshed:
        with psycopg.connect(pg_dsn) as conn:
            labelled = conn.execute("SELECT count(*) FROM current_deck_archetypes").fetchone()[0]  # type: ignore[index]
            refreshed = conn.execute(
                "SELECT count(*) FROM refresh_log WHERE status = 'succeeded'"
            ).fetchone()[0]  # type: ignore[index]
        time.sleep(0.25)
    assert labelled == 19, worker.output()  # Modern 10 + Legacy 4 + Pioneer 5 (fixture rules)
    assert refreshed >= 1, worker.output()


def test_operator_reclassification_fans_out_and_switches(
    worker: Worker, pg_dsn: str, tmp_path: Path
) -> None:
    from pipelines.classify.labels import classify_new_decks

    definitions = REPO_ROOT / "tests" / "fixtures" / "definitions"
    run_ingest(pg_dsn, FIXTURE_CACHE)
    classify_new_decks(pg_dsn, definitions)
    result = worker.client.send_task(
        "classify.reclassify_format", kwargs={"format_name": "Modern", "requested_by": "test"}
    )
    deadline = time.monotonic() + 90
    run: dict = {}
    while time.monotonic() < deadline and run.get("state") not in {"succeeded", "failed"}:
        with psycopg.connect(pg_dsn) as conn:
            found = conn.execute(
                "SELECT state, result FROM task_runs WHERE id = %s", (result.id,)
            ).fetchone()
        run = {"state": found[0], "result": found[1]} if found else {}
        time.sleep(0.25)
    assert run.get("state") == "succeeded", worker.output()
    answer = run["result"]
    assert answer["chunks"] == 1 and answer["decks"] == 10
    with psycopg.connect(pg_dsn) as conn:
        status = conn.execute(
            "SELECT status FROM classification_runs WHERE id = %s", (answer["run_id"],)
        ).fetchone()
    assert status == ("completed",)


# -- the overlap guard -----------------------------------------------------------------------


def test_ingest_is_busy_while_another_one_holds_the_lock(pg_dsn: str) -> None:
    # Busy is transient for the task (retried with back-off), never a silent skip.
    with psycopg.connect(pg_dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (INGEST_LOCK_KEY,))
        with pytest.raises(IngestBusy):
            run_ingest(pg_dsn, FIXTURE_CACHE)
    with psycopg.connect(pg_dsn) as conn:
        runs = conn.execute("SELECT count(*) FROM ingestion_runs").fetchone()
    assert runs == (0,)


def test_ingest_runs_when_the_lock_is_free(pg_dsn: str, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    shutil.copytree(FIXTURE_CACHE, root)
    first = run_ingest(pg_dsn, root)
    assert first["status"] == "succeeded" and first["files_new"] > 0
    again = run_ingest(pg_dsn, root)  # idempotent: a redelivered task finds nothing new
    assert again["status"] == "succeeded" and again["files_new"] == 0
    assert again["decks"] == 0
