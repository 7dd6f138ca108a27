"""``manalytics run``: the whole system on one machine with no configuration.

Steps (each printed as it happens):

1. resolve services — ``DATABASE_URL`` / ``REDIS_URL`` when set, else the embedded PostgreSQL
   and Redis under ``var/`` (started, or reused when already running);
2. apply pending migrations;
3. prepare data — ``MANALYTICS_CACHE_DIR`` when set, else a generated demo set
   (``MANALYTICS_DEMO_DECKS`` decks, seed 42) in ``var/demo-cache``, regenerated only when
   its parameters change;
4. start a Celery worker (queues ingest, classify, refresh; concurrency 2) and beat, as
   subprocesses with the resolved URLs in their environment;
5. enqueue the ingestion of the cache folder;
6. serve the API with gunicorn (``ops/gunicorn.conf.py``) on ``HTTP_HOST:HTTP_PORT``.

Ctrl-C (SIGINT) or SIGTERM stops every process it started (TERM, wait, KILL after a timeout)
and the embedded services it started itself; services it found running are left alone.
A child that dies on its own stops everything and makes :func:`run` return non-zero.

Children run in their own sessions so a terminal Ctrl-C reaches only this process, which
then shuts them down in order. Their output goes to ``var/log/<name>.log``.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from pipelines.core.setting_parsers import SettingsError
from pipelines.core.settings import REPO_ROOT, Settings
from pipelines.dev.demo_cache import prepare_demo_cache
from pipelines.dev.processes import (
    STOP_TIMEOUT,
    Child,
    Printer,
    ServiceError,
    child_environment,
    log_tail,
    port_in_use,
    print_line,
    start_child,
    stop_children,
)
from pipelines.dev.services import EmbeddedServices, ensure_services

WORKER_QUEUES = "ingest,classify,refresh"
WORKER_CONCURRENCY = 2
API_WORKERS = 2
API_START_TIMEOUT = 60.0
GUNICORN_CONF = REPO_ROOT / "ops" / "gunicorn.conf.py"


class RunError(RuntimeError):
    """The run command cannot go on; the message says why and what to do."""


@dataclass
class _Signals:
    """SIGINT/SIGTERM handling: raise to abort start-up, only record once shutting down."""

    requested: int | None = None
    raising: bool = True
    previous: dict[int, Any] = field(default_factory=dict)

    def handler(self, signum: int, frame: FrameType | None) -> None:
        first = self.requested is None
        self.requested = signum
        if self.raising and first:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def installed(self) -> Iterator[_Signals]:
        if threading.current_thread() is not threading.main_thread():
            yield self  # signal handlers can only be set from the main thread
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.previous[sig] = signal.signal(sig, self.handler)
        try:
            yield self
        finally:
            for signum, old in self.previous.items():
                signal.signal(signum, old)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Record signals without raising (while a child is being spawned)."""
        was, self.raising = self.raising, False
        try:
            yield
        finally:
            self.raising = was
        if self.requested is not None and self.raising:
            raise KeyboardInterrupt


def _wait_http(url: str, child: Child, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.popen.poll() is not None:
            raise RunError(
                f"the API server exited during start-up (code {child.popen.returncode}); "
                f"{child.log_path}:\n{log_tail(child.log_path, 15, '    ')}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise RunError(f"the API did not answer {url} within {timeout:.0f}s; see {child.log_path}")


def _enqueue_ingest(cache_dir: Path, env: dict[str, str]) -> str:
    """Queue ``ingest.cache_tree`` via the Celery CLI (pipelines stays free of Celery imports)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.celery_app",
            "call",
            "ingest.cache_tree",
            "--kwargs",
            json.dumps({"root": str(cache_dir)}),
            "--queue",
            "ingest",
        ],
        env=env,
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RunError(f"could not enqueue the ingestion:\n{result.stderr.strip()[-1500:]}")
    return result.stdout.strip()


def run(settings: Settings, out: Printer = print_line) -> int:
    """Run the whole system in the foreground until SIGINT/SIGTERM; see the module docstring.

    Returns 0 after a requested stop, 1 when start-up fails or a child dies unexpectedly.
    """
    signals = _Signals()
    with signals.installed():
        try:
            # _start cleans up after itself when it fails or is interrupted.
            services, children = _start(settings, signals, out)
        except KeyboardInterrupt:
            out("interrupted during start-up.")
            return 130
        except (RunError, ServiceError, SettingsError) as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            return 1
        # From here on a signal only sets a flag that the supervision loop polls.
        signals.raising = False
        try:
            code = _supervise(children, signals)
        finally:
            _shutdown(children, services, signals, out)
    return code


def _start(
    settings: Settings, signals: _Signals, out: Printer
) -> tuple[EmbeddedServices, list[Child]]:
    var_dir = Path(settings.var_dir)
    log_dir = var_dir / "log"
    run_dir = var_dir / "run"
    for directory in (var_dir, log_dir, run_dir):
        directory.mkdir(parents=True, exist_ok=True)
    if port_in_use(settings.http_host, settings.http_port):
        raise RunError(
            f"{settings.http_host}:{settings.http_port} is already in use; stop what runs "
            f"there or set HTTP_PORT to a free port"
        )

    out("services: resolving PostgreSQL and Redis ...")
    services: EmbeddedServices | None = None
    children: list[Child] = []
    try:
        with signals.deferred():
            services = ensure_services(settings)
        resolved = services.settings
        assert resolved.database_url and resolved.redis_url
        for note in services.notes:
            out(note)

        from pipelines.storage.migrations import upgrade

        applied = upgrade(resolved.database_url)
        out(f"database: {len(applied)} migration(s) applied" if applied else "database: up to date")

        if resolved.cache_dir is not None:
            cache_dir = Path(resolved.cache_dir)
            if not cache_dir.is_dir():
                raise RunError(f"MANALYTICS_CACHE_DIR is not a folder: {cache_dir}")
            out(f"data: ingesting {cache_dir}")
        else:
            cache_dir = prepare_demo_cache(resolved, out)

        schedule = Path(resolved.beat_schedule_filename)
        schedule.parent.mkdir(parents=True, exist_ok=True)
        metrics_dir = run_dir / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)  # stale files of dead pids
        metrics_dir.mkdir(parents=True)
        env = child_environment(resolved, MANALYTICS_CACHE_DIR=str(cache_dir))
        celery = [sys.executable, "-m", "celery", "-A", "workers.celery_app"]
        level = resolved.log_level
        specs = [
            (
                "worker",
                [
                    *celery,
                    "worker",
                    "-Q",
                    WORKER_QUEUES,
                    "-c",
                    str(WORKER_CONCURRENCY),
                    "-n",
                    "manalytics-run@%h",
                    "--loglevel",
                    level,
                ],
                env,
            ),
            (
                "beat",
                [
                    *celery,
                    "beat",
                    "--loglevel",
                    level,
                    "-s",
                    str(schedule),
                    # A live pidfile makes a second beat refuse to start: exactly one beat.
                    "--pidfile",
                    str(run_dir / "beat.pid"),
                ],
                env,
            ),
        ]
        for name, argv, child_env in specs:
            with signals.deferred():
                children.append(start_child(name, argv, child_env, log_dir / f"{name}.log"))
            out(f"{name}: started (pid {children[-1].pid}), log {log_dir / (name + '.log')}")

        queued = _enqueue_ingest(cache_dir, env)
        out(f"ingest: queued ingest.cache_tree for {cache_dir} ({queued})")

        api_env = dict(env, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
        bind = f"{resolved.http_host}:{resolved.http_port}"
        api_argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(GUNICORN_CONF),
            "--bind",
            bind,
            "--workers",
            str(API_WORKERS),
            "api:create_app()",
        ]
        with signals.deferred():
            children.append(start_child("api", api_argv, api_env, log_dir / "api.log"))
        base = f"http://{_display_host(resolved.http_host)}:{resolved.http_port}"
        _wait_http(f"{base}/health", children[-1], API_START_TIMEOUT)
    except BaseException:
        _shutdown(children, services, signals, out)
        raise

    out("")
    out("Manalytics is running")
    out(f"  Pages       {base}/   (the metagame, with charts; API reference at {base}/docs)")
    out(f"  API         {base}/api/v1/formats   (GET /health, GET /ready)")
    out(f"  PostgreSQL  {_describe(resolved.database_url, services.postgres_embedded)}")
    out(f"  Redis       {_describe(resolved.redis_url, services.redis_embedded)}")
    out(f"  Data        {cache_dir}")
    out(f"  Logs        {log_dir}/api.log, worker.log, beat.log")
    out("Press Ctrl-C to stop.")
    return services, children


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in {"0.0.0.0", ""} else host


def _describe(url: str | None, embedded: bool) -> str:
    shown = url or "?"
    if "@" in shown and "://" in shown:  # hide a password if one is configured
        scheme, rest = shown.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        if ":" in creds and creds.split(":", 1)[1]:
            shown = f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return f"{shown} ({'embedded' if embedded else 'configured'})"


def _supervise(children: list[Child], signals: _Signals) -> int:
    while True:
        if signals.requested is not None:
            return 0
        for child in children:
            if child.popen.poll() is not None:
                print(
                    f"error: {child.name} exited unexpectedly (code {child.popen.returncode}); "
                    f"last lines of {child.log_path}:\n{log_tail(child.log_path, 15, '    ')}",
                    file=sys.stderr,
                    flush=True,
                )
                return 1
        time.sleep(0.25)


def _shutdown(
    children: list[Child],
    services: EmbeddedServices | None,
    signals: _Signals,
    out: Printer,
) -> None:
    signals.raising = False  # a second Ctrl-C no longer interrupts the clean-up
    running = [c for c in children if c.popen.poll() is None]
    if running:
        out("stopping " + ", ".join(c.name for c in reversed(running)) + " ...")
    # API first (stop taking requests), then beat (no new schedules), then the worker.
    stop_children(list(reversed(children)), timeout=STOP_TIMEOUT)
    children.clear()
    if services is not None:
        stopped = services.stop()
        if stopped:
            out("stopped embedded " + " and ".join(stopped) + " (started by this run)")
    out("stopped.")


__all__ = ["RunError", "run"]
