"""gunicorn configuration for the API (production and ``manalytics run``).

    gunicorn -c ops/gunicorn.conf.py "api:create_app()"

Values and reasons: ENGINEERING.md §5 (gunicorn rows). Deliberately *not* set here, so that
gunicorn reads its own environment variables: ``workers`` (``WEB_CONCURRENCY``, the image
sets 2) and ``forwarded_allow_ips`` (``FORWARDED_ALLOW_IPS``, the proxy addresses); the
command line (``--bind``, ``--workers``) overrides anything here.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from ops.gunicorn_errors import install as install_problem_errors
from pipelines.core.settings_loader import get_settings

# Loading settings here makes a misconfigured production container fail at start-up with
# the message naming the variable, before any worker forks.
_settings = get_settings()

bind = "0.0.0.0:8000"
worker_class = "sync"
# Request timeout; the DB pool timeout (DB_POOL_TIMEOUT) stays below it so a starved request
# gets a clean 503 instead of a killed worker.
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (memory growth); jitter so they don't all restart at once.
# Workers take ~1.3 s to boot (scipy): recycling every 1,000 requests halved throughput.
max_requests = 100_000
max_requests_jitter = 10_000
# No preload: the app (and anything it opens) is built in each worker after fork, and HUP
# reloads code. Pools must never be created before fork (psycopg/psycopg#395).
preload_app = False
# The heartbeat file on a disk-backed /tmp can block workers in containers.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None
accesslog = None  # the app writes one JSON access line per request, with its request id
errorlog = "-"
loglevel = _settings.log_level.lower()
proc_name = "manalytics-api"
# Requests gunicorn refuses itself (request line > 4094 bytes: 414; more than 100 headers or
# one > 8190 bytes: 431; malformed: 400) are answered as JSON problem documents, like the
# app's own errors (ops/gunicorn_errors.py; documented in the OpenAPI document).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
install_problem_errors()
# The scheme is decided by the app alone, from exactly TRUSTED_PROXY_COUNT proxies
# (api/edge.py): gunicorn must not turn a client's X-Forwarded-Proto into https itself (it
# trusts it from FORWARDED_ALLOW_IPS, 127.0.0.1 by default, i.e. any local client).
secure_scheme_headers: dict[str, str] = {}
# gunicorn >= 25 opens a control socket under $HOME by default: not wanted in containers
# (read-only home, deploys replace containers) nor by ``manalytics run`` (one per machine).
control_socket_disable = True


# Graceful reload (HUP) without a gap. gunicorn spawns the new workers and stops the old
# ones at once, so while the new ones import the app (~1.3 s idle, scipy; tens of seconds on
# a loaded host) nobody accepts: requests wait in the backlog and time out (measured: 8 of
# 158 requests timed out at 30 s behind nginx). Instead the old workers serve until each
# new one has loaded the app: on_reload raises the target count by the number of old
# workers, and every new worker, once loaded, sends the master SIGTTOU ("one fewer"), on
# which the master stops its oldest worker (gracefully, SIGTERM). The master's pid in the
# environment marks the workers forked by this reload; it is removed when the count is
# back to normal, so later forks (crashes, max_requests) do not shrink the pool.
_HANDOFF = "MANALYTICS_GUNICORN_RELOAD_HANDOFF"


def on_reload(server: Any) -> None:
    old_workers = len(server.WORKERS)
    if old_workers:
        os.environ[_HANDOFF] = str(server.pid)
        server.num_workers = server.cfg.workers + old_workers


def post_worker_init(worker: Any) -> None:
    if os.environ.get(_HANDOFF) == str(worker.ppid):
        os.kill(worker.ppid, signal.SIGTTOU)


def nworkers_changed(server: Any, new_value: int, old_value: int | None) -> None:
    if new_value <= server.cfg.workers:
        os.environ.pop(_HANDOFF, None)


def post_fork(server: Any, worker: Any) -> None:
    """Per-process resources are created here (after fork), never in the master.

    Placeholder: the read API's psycopg pool will be opened in the app factory or here.
    """
    server.log.debug("worker %s forked", worker.pid)


def child_exit(server: Any, worker: Any) -> None:
    """Drop the live-gauge files of a dead worker (prometheus multiprocess mode)."""
    if _settings.prometheus_multiproc_dir is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, str(_settings.prometheus_multiproc_dir))
