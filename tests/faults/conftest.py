"""Fixtures of the fault tests: a clean run's fingerprint, private servers, a cluster of
real worker/beat processes that is always torn down.

Every test gets its own redis-server (so broker, results and RedBeat's lock are private and
tests can run in parallel under xdist), and either a fresh database on the shared PostgreSQL
(``pg_dsn``) or, for the tests that restart it, a private PostgreSQL cluster.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from celery import Celery

from pipelines.classify.labels import classify_new_decks
from pipelines.core.settings_loader import load_settings
from pipelines.ingest.cache import ingest_cache
from pipelines.runs import store
from pipelines.stats.periods import load_periods
from pipelines.stats.refresh import refresh_all
from pipelines.storage import migrations
from tests.faults.harness import (
    FIXTURE_CACHE,
    FIXTURE_DEFINITIONS,
    PostgresServer,
    Proc,
    RedisServer,
    celery_env,
    fingerprint,
    run_row,
    start_beat,
    start_worker,
    wait_for,
)
from tests.integration.conftest import (  # noqa: F401  (fixtures, registered by name)
    create_database,
    drop_database,
    pg_admin_dsn,
    pg_dsn,
    pg_template,
    scratch_settings,
)

# Every fault test starts real processes: keep them on one xdist worker each, in parallel.
pytestmark = pytest.mark.faults


def seed_clean(dsn: str, root: Path = FIXTURE_CACHE) -> None:
    """What a run without faults leaves: ingest, classify, refresh."""
    ingest_cache(dsn, root)
    classify_new_decks(dsn, FIXTURE_DEFINITIONS)
    refresh_all(dsn, periods=load_periods(FIXTURE_DEFINITIONS))


@pytest.fixture(scope="session")
def clean_fingerprint(pg_admin_dsn: str, pg_template: str) -> dict[str, list[str]]:  # noqa: F811
    """The content of a clean ingest -> classify -> refresh of the fixture tree."""
    name = f"manalytics_clean_{uuid.uuid4().hex[:10]}"
    dsn = create_database(pg_admin_dsn, name, template=pg_template)
    try:
        seed_clean(dsn)
        return fingerprint(dsn)
    finally:
        drop_database(pg_admin_dsn, name)


@pytest.fixture
def cache_root(tmp_path: Path) -> Path:
    root = tmp_path / "cache"
    shutil.copytree(FIXTURE_CACHE, root)
    return root


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pg_server() -> Iterator[PostgresServer]:
    """A private, migrated PostgreSQL (database ``manalytics``) a test may restart."""
    # Not under tmp_path: pytest's folder is private to root, and PostgreSQL refuses to run
    # as root (the server runs as the postgres user, who must reach its folder).
    folder = Path(tempfile.mkdtemp(prefix="manalytics-pg-"))
    server = PostgresServer(folder)
    server.init()
    with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
        conn.execute("CREATE DATABASE manalytics")
    migrations.upgrade(server.dsn("manalytics"))
    yield server
    with contextlib.suppress(Exception):  # already stopped by the test
        server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Cluster:
    """Worker and beat processes of one test, on its database and private Redis."""

    dsn: str
    redis: RedisServer
    dir: Path
    procs: list[Proc] = field(default_factory=list)
    _client: Celery | None = None

    def env(self, **extra: str) -> dict[str, str]:
        return celery_env(self.dsn, self.redis.url, self.dir / "var", **extra)

    def worker(self, concurrency: int = 1, *, wait: bool = True, **extra: str) -> Proc:
        proc = start_worker(
            self.env(**extra), self.dir / f"worker{len(self.procs)}.log", concurrency=concurrency
        )
        self.procs.append(proc)
        if wait:  # imports take long on a loaded machine: start the clock once it consumes
            wait_for(lambda: "ready." in proc.output(), 180, f"worker ready\n{self.logs()}")
        return proc

    def beat(self, **extra: str) -> Proc:
        proc = start_beat(self.env(**extra), self.dir / f"beat{len(self.procs)}.log")
        self.procs.append(proc)
        return proc

    @property
    def client(self) -> Celery:
        if self._client is None:
            from workers.celery_app import create_celery_app

            settings = replace(load_settings({}), redis_url=self.redis.url, database_url=self.dsn)
            self._client = create_celery_app(settings, set_as_current=False)
            # The tests only publish: no result backend, whose AsyncResult.__del__ would
            # reconnect to this test's (stopped) Redis while a later test runs.
            self._client.conf.result_backend = "disabled://"
        return self._client

    def request(self, task: str, **kwargs: Any) -> str:
        """What the API does: record the run (coalesced), publish it when new; its id."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            requested = store.request_run(conn, task, (), kwargs, requested_by="test")
            if requested.publish:
                run = requested.run
                self.client.send_task(task, kwargs=run.kwargs, task_id=str(run.id))
                store.mark_enqueued(conn, run.id)
        return str(requested.run.id)

    def wait_state(self, run_id: str, states: set[str], timeout: float) -> dict[str, Any]:
        row = wait_for(
            lambda: (r := run_row(self.dsn, run_id)) and r["state"] in states and r,
            timeout,
            f"run {run_id} in {states}\n{self.logs()}",
        )
        return dict(row)

    def wait_progress(self, run_id: str, key: str, minimum: int, timeout: float = 120) -> None:
        wait_for(
            lambda: (r := run_row(self.dsn, run_id)) and r["progress"].get(key, 0) >= minimum,
            timeout,
            f"progress {key} >= {minimum} of run {run_id}\n{self.logs()}",
            interval=0.05,
        )

    def settle(self, timeout: float = 90) -> None:
        """Until nothing is queued, running or retrying and a refresh succeeded."""

        def settled() -> bool:
            try:
                with psycopg.connect(self.dsn) as conn:
                    active = conn.execute(
                        "SELECT count(*) FROM task_runs"
                        " WHERE state IN ('queued', 'running', 'retrying')"
                    ).fetchone()
                    refreshed = conn.execute(
                        "SELECT count(*) FROM task_runs"
                        " WHERE kind = 'refresh' AND state = 'succeeded'"
                    ).fetchone()
            except psycopg.OperationalError:
                return False
            return bool(active and active[0] == 0 and refreshed and refreshed[0] > 0)

        wait_for(settled, timeout, f"the chain to settle\n{self.logs()}", interval=0.2)

    def logs(self) -> str:
        return "\n".join(f"--- {p.log.name}\n{p.output()[-6000:]}" for p in self.procs)

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop(timeout=15)
        if self._client is not None:
            self._client.close()


@pytest.fixture
def cluster_factory(tmp_path: Path, redis_server: RedisServer) -> Iterator[Any]:
    made: list[Cluster] = []

    def make(dsn: str) -> Cluster:
        cluster = Cluster(dsn, redis_server, tmp_path)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.close()


@pytest.fixture
def cluster(cluster_factory: Any, pg_dsn: str) -> Cluster:  # noqa: F811
    return cluster_factory(pg_dsn)


def elapsed(since: float) -> float:
    return round(time.monotonic() - since, 1)
