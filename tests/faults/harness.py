"""Real processes for the fault tests: private Redis and PostgreSQL servers that a test may
restart, ``celery worker`` and ``celery beat`` subprocesses, slow-downs injected in the
database, and a fingerprint of the database content to compare with a clean run.

Nothing is mocked: the faults are real signals to real processes and real server restarts.
The slow-downs are row triggers that ``pg_sleep`` in the test's own database (a slow disk,
seen from the task), so a test can act while a run is half done; content is unchanged.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis

from pipelines.core.settings import REPO_ROOT

FIXTURE_CACHE = REPO_ROOT / "tests" / "fixtures" / "cache"
FIXTURE_DEFINITIONS = REPO_ROOT / "tests" / "fixtures" / "definitions"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------- servers


@dataclass
class RedisServer:
    """A private redis-server (AOF on, like compose) that a test may restart."""

    dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.dir), "--appendonly", "yes", "--save", "",
                "--maxmemory-policy", "noeviction"]  # fmt: skip
        with open(self.dir / "redis.log", "ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=log)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        wait_for(lambda: _pings(client), 10, "redis-server")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()  # SIGTERM: flushes the AOF, like a container stop
            self.process.wait(timeout=10)
            self.process = None

    def restart(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return Path(found[-1]).parent


@dataclass
class PostgresServer:
    """A private PostgreSQL cluster (initdb + pg_ctl) that a test may restart."""

    dir: Path
    port: int = field(default_factory=free_port)

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        env = dict(os.environ, LC_ALL="C")
        cmd = [str(pg_bin() / "pg_ctl"), "-D", str(self.dir / "data"), *args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)

    def init(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        cmd = [str(pg_bin() / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres",
               "-A", "trust", "--no-sync", "-E", "UTF8"]  # fmt: skip
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, LC_ALL="C"))
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off -k {self.dir}"
        self._ctl("-l", str(self.dir / "pg.log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    def restart(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()


# --------------------------------------------------------------------------- celery processes


@dataclass
class Proc:
    """A celery worker or beat subprocess (own process group) and its log."""

    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def json_lines(self) -> list[dict[str, Any]]:
        """The log's JSON lines (LOG_FORMAT=json); Celery's banner is plain text."""
        found = []
        for line in self.output().splitlines():
            with contextlib.suppress(ValueError):
                if line.startswith("{"):
                    found.append(json.loads(line))
        return found

    def children(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]

    def kill_group(self) -> None:
        """kill -9 of the whole worker: main process and pool processes at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 30) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def celery_env(dsn: str, redis_url: str, var: Path, **extra: str) -> dict[str, str]:
    """Environment of worker/beat subprocesses: short timings, small batches and chunks."""
    env = dict(
        os.environ,
        DATABASE_URL=dsn,
        REDIS_URL=redis_url,
        MANALYTICS_ENV="test",
        MANALYTICS_VAR_DIR=str(var),
        MANALYTICS_FORMATS_DIR=str(FIXTURE_DEFINITIONS),
        RUN_HEARTBEAT_SECONDS="0.5",
        RUN_STALE_SECONDS="2",
        RUN_REPUBLISH_SECONDS="5",
        REAPER_INTERVAL_SECONDS="1",
        INGEST_BATCH_DECKS="2",
        CLASSIFY_CHUNK_DECKS="3",
        WORKER_SOFT_SHUTDOWN_SECONDS="3",
        WORKER_METRICS_PORT="0",
        # Never the hour of the nightly entry while a test's beat runs.
        INGEST_HOUR_UTC=str((time.gmtime().tm_hour + 12) % 24),
        PYTHONUNBUFFERED="1",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(extra)
    return env


def start_worker(env: dict[str, str], log: Path, *, concurrency: int = 1) -> Proc:
    node = f"fault-{uuid.uuid4().hex[:8]}@%h"
    argv = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
            "-Q", "ingest,classify,refresh", "-c", str(concurrency), "-n", node,
            "--without-mingle", "--without-gossip", "--loglevel", "INFO"]  # fmt: skip
    return _spawn(argv, env, log)


def start_beat(env: dict[str, str], log: Path) -> Proc:
    argv = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "beat",
            "--loglevel", "INFO"]  # fmt: skip
    return _spawn(argv, env, log)


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> Proc:
    with open(log, "ab") as handle:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            argv, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT,
            start_new_session=True,
        )  # fmt: skip
    return Proc(process, log)


# --------------------------------------------------------------------------- database


def slow_down(dsn: str, table: str, seconds: float) -> None:
    """Every row written to ``table`` takes ``seconds`` longer (a row trigger)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f"CREATE OR REPLACE FUNCTION fault_slow() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN PERFORM pg_sleep({float(seconds)}); RETURN NEW; END $$"
        )
        conn.execute(
            f"CREATE TRIGGER fault_slow_{table} BEFORE INSERT ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION fault_slow()"
        )


def remove_slow_downs(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP FUNCTION IF EXISTS fault_slow() CASCADE")


def run_row(dsn: str, run_id: str | None = None, task: str | None = None) -> dict[str, Any]:
    """The run ``run_id`` (or the newest run of ``task``) as a dict, {} if none."""
    from psycopg.rows import dict_row

    query = "SELECT * FROM task_runs WHERE " + ("id = %s" if run_id else "task_name = %s")
    query += " ORDER BY requested_at DESC LIMIT 1"
    try:
        with (
            psycopg.connect(dsn, connect_timeout=2) as conn,
            conn.cursor(row_factory=dict_row) as cur,
        ):
            row = cur.execute(query, (run_id or task,)).fetchone()
    except psycopg.OperationalError:
        return {}  # the server is restarting
    return dict(row) if row else {}


def runs_of(dsn: str, task: str) -> list[dict[str, Any]]:
    from psycopg.rows import dict_row

    with psycopg.connect(dsn) as conn, conn.cursor(row_factory=dict_row) as cur:
        return list(
            cur.execute(
                "SELECT * FROM task_runs WHERE task_name = %s ORDER BY requested_at", (task,)
            )
        )


_FINGERPRINT = {
    "tournaments": """SELECT s.name, t.external_id, t.name, t.event_date, t.format,
                             t.event_kind, t.player_count, t.deck_count, t.match_count
                        FROM tournaments t JOIN sources s ON s.id = t.source_id""",
    "decks": """SELECT t.external_id, d.position, d.player, d.result, d.rank, d.main_total,
                       d.side_total, encode(d.decklist_hash, 'hex'),
                       (SELECT array_agg(c.name || 'x' || n ORDER BY o)
                          FROM unnest(d.main_card_ids, d.main_counts) WITH ORDINALITY
                               AS m(card, n, o) JOIN cards c ON c.id = m.card)
                  FROM decks d JOIN tournaments t ON t.id = d.tournament_id""",
    "labels": """SELECT t.external_id, d.position, a.archetype, a.variant, a.color
                   FROM current_deck_archetypes a JOIN decks d ON d.id = a.deck_id
                   JOIN tournaments t ON t.id = d.tournament_id""",
    "standings": """SELECT t.external_id, s.position, s.rank, s.player, s.points, s.wins,
                           s.losses, s.draws, d.position
                      FROM standings s JOIN tournaments t ON t.id = s.tournament_id
                      LEFT JOIN decks d ON d.id = s.deck_id""",
    "matches": """SELECT t.external_id, m.round_index, m.position, m.player1, m.player2,
                         m.p1_games, m.p2_games, m.draw_games, m.is_bye, d1.position,
                         d2.position
                    FROM matches m JOIN tournaments t ON t.id = m.tournament_id
                    LEFT JOIN decks d1 ON d1.id = m.deck1_id
                    LEFT JOIN decks d2 ON d2.id = m.deck2_id""",
    "quarantine": "SELECT source_path, severity, kind, error FROM quarantine",
    "source_files": "SELECT path, status, encode(sha256, 'hex') FROM source_files",
    "mv_archetype_daily": "SELECT * FROM mv_archetype_daily",
    "mv_matchup_daily": "SELECT * FROM mv_matchup_daily",
    "meta_window_stats": """SELECT to_jsonb(m) - 'generation' FROM meta_window_stats m
                             WHERE generation = (SELECT max(generation) FROM refresh_log
                                                  WHERE status = 'succeeded')""",
    "matchup_window_stats": """SELECT to_jsonb(m) - 'generation' FROM matchup_window_stats m
                                WHERE generation = (SELECT max(generation) FROM refresh_log
                                                     WHERE status = 'succeeded')""",
}


def fingerprint(dsn: str) -> dict[str, list[str]]:
    """The database's content by natural keys (no surrogate ids, no run bookkeeping)."""
    out: dict[str, list[str]] = {}
    with psycopg.connect(dsn) as conn:
        for name, query in _FINGERPRINT.items():
            out[name] = sorted(str(row) for row in conn.execute(query))
    return out
