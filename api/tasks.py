"""Operator requests: a run record (``task_runs``), then a Celery message sent by task name.

The API never imports ``workers.tasks`` (the worker graph and its dependencies stay out of
web processes): it builds a client Celery app with the worker's configuration
(:func:`workers.celery_app.create_celery_app` — queues, routes, JSON serializer) and calls
``send_task(name, …, task_id=<run id>)``.

A request is recorded with :func:`pipelines.runs.store.request_run`: an identical request
(same task, same arguments) joins the run already queued, or becomes the pending follow-up
of the one running — the answer is that run (202, its id), never a second one. Each request
is also kept in ``operator_tasks`` (who asked, when) pointing at its run. The run row is
committed *before* the message is published; when the broker refuses it, the request is
answered 503 and the run stays ``queued`` until the reaper publishes it again.

Status (``GET /admin/tasks/{id}``) is the run row — state, progress, attempt, heartbeat,
error, result — written by the workers, not Celery's result backend.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import kombu.exceptions
import redis
from celery import Celery
from psycopg.types.json import Jsonb

from api.db import Database
from api.errors import ApiError
from pipelines.core.settings import Settings
from pipelines.runs import store

log = logging.getLogger("manalytics.api.tasks")

#: Task names the API may enqueue (the worker registers them; see workers/tasks/).
INGEST_TASK = "ingest.cache_tree"
RECLASSIFY_TASK = "classify.reclassify_format"
REFRESH_TASK = "refresh.meta_views"
SOURCE_FETCH_TASK = "sources.fetch"
OPERATOR_TASKS = (INGEST_TASK, RECLASSIFY_TASK, REFRESH_TASK, SOURCE_FETCH_TASK)
# The same definitions again would relabel every deck for nothing: no follow-up run.
NO_FOLLOW_UP = frozenset({RECLASSIFY_TASK})

_REQUEST = """
INSERT INTO operator_tasks (id, task_name, arguments, requested_by, run_id, enqueued_at)
VALUES (%(id)s, %(task)s, %(arguments)s, %(requested_by)s, %(run)s, %(enqueued)s)
"""
_FAILED = "UPDATE operator_tasks SET enqueue_error = %s WHERE id = %s"
_RUN_OF_REQUEST = "SELECT run_id FROM operator_tasks WHERE id = %s"


class TaskQueue:
    """Enqueue operator tasks and report their state."""

    def __init__(self, settings: Settings, broker_url: str, result_url: str) -> None:
        self.settings = settings
        self.broker_url = broker_url
        self.result_url = result_url
        self._celery: Celery | None = None
        self._lock = threading.Lock()

    @property
    def celery(self) -> Celery:
        """The client Celery app (created on first use; never the current/default app)."""
        if self._celery is None:
            with self._lock:
                if self._celery is None:
                    from workers.celery_app import create_celery_app

                    app = create_celery_app(self.settings, set_as_current=False)
                    app.conf.update(
                        broker_url=self.broker_url,
                        result_backend=self.result_url,
                        # Fail fast when the broker is down: the operator gets a 503 at once.
                        broker_connection_timeout=2,
                        broker_connection_max_retries=1,
                        task_publish_retry_policy={"max_retries": 1, "interval_start": 0.2},
                        redis_socket_timeout=2,
                        redis_socket_connect_timeout=2,
                    )
                    self._celery = app
        return self._celery

    def enqueue(
        self,
        db: Database,
        task_name: str,
        requested_by: str,
        *,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record the request (coalesced with identical ones), publish when it made a new
        run; the run as a JSON-ready dict with ``request`` saying how it was served."""
        if task_name not in OPERATOR_TASKS:
            raise ValueError(f"not an operator task: {task_name}")
        request_id = uuid.uuid4()
        with db.write() as conn:
            requested = store.request_run(
                conn,
                task_name,
                args,
                kwargs or {},
                requested_by=requested_by,
                follow_up=task_name not in NO_FOLLOW_UP,
                max_attempts=self.settings.run_max_attempts,
            )
            conn.execute(
                _REQUEST,
                {
                    "id": request_id,
                    "task": task_name,
                    "arguments": Jsonb({"args": list(args), "kwargs": dict(kwargs or {})}),
                    "requested_by": requested_by,
                    "run": requested.run.id,
                    "enqueued": None if requested.publish else requested.run.enqueued_at,
                },
            )
        run = requested.run
        if requested.publish:
            self._publish(db, run, request_id)
        log.info(
            "operator %s asked for %s: run %s (%s)", requested_by, task_name, run.id,
            requested.outcome,
        )  # fmt: skip
        out = self.status(db, run.id)
        out["request"] = requested.outcome
        return out

    def _publish(self, db: Database, run: store.Run, request_id: uuid.UUID) -> None:
        try:
            self.celery.send_task(
                run.task_name, args=run.args, kwargs=run.kwargs, task_id=str(run.id), retry=True
            )
        except (kombu.exceptions.KombuError, redis.RedisError, OSError) as exc:
            log.error("could not enqueue run %s: %s", run.id, type(exc).__name__)
            with db.write() as conn:
                conn.execute(_FAILED, (f"{type(exc).__name__}: broker unavailable", request_id))
            raise ApiError(
                503,
                "the task queue is unavailable; the run was recorded and will be queued when "
                "the broker is back",
                code="queue_unavailable",
                headers={"Retry-After": "10"},
            ) from exc
        with db.write() as conn:
            store.mark_enqueued(conn, run.id)
            conn.execute(
                "UPDATE operator_tasks SET enqueued_at = now() WHERE id = %s", (request_id,)
            )

    def status(self, db: Database, task_id: uuid.UUID) -> dict[str, Any]:
        """The run ``task_id`` (or the run serving the operator request ``task_id``)."""
        with db.read() as conn:
            run = store.get_run(conn, task_id)
            if run is None:
                row = conn.execute(_RUN_OF_REQUEST, (task_id,)).fetchone()
                run = store.get_run(conn, row[0]) if row and row[0] else None
            error = None
            if run is not None:
                failed = conn.execute(
                    "SELECT enqueue_error FROM operator_tasks WHERE run_id = %s"
                    " AND enqueue_error IS NOT NULL ORDER BY requested_at DESC LIMIT 1",
                    (run.id,),
                ).fetchone()
                error = failed[0] if failed and run.enqueued_at is None else None
        if run is None:
            raise ApiError(404, f"no operator task {task_id}")
        return run_json(run, enqueue_error=error)

    def page(self, db: Database, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """Recent runs (newest first) and the total."""
        with db.read() as conn:
            runs, total = store.list_runs(conn, limit=limit, offset=offset)
        return [run_json(r) for r in runs], total

    def close(self) -> None:
        """Release broker/backend connections."""
        if self._celery is not None:
            self._celery.close()
            self._celery = None


def run_json(run: store.Run, enqueue_error: str | None = None) -> dict[str, Any]:
    """The API form of a run (the fields of the earlier request rows kept)."""
    out = run.as_dict()
    out["task"] = out.pop("task_name")
    out["enqueue_error"] = enqueue_error
    return out


def task_uuid(value: str) -> uuid.UUID:
    """A task id from a path value (404 for anything that is not a UUID)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ApiError(404, f"no operator task {value}") from None


__all__ = [
    "INGEST_TASK",
    "OPERATOR_TASKS",
    "RECLASSIFY_TASK",
    "REFRESH_TASK",
    "TaskQueue",
    "run_json",
    "task_uuid",
]
