"""Operator requests: a row in ``operator_tasks``, then a Celery message sent by task name.

The API never imports ``workers.tasks`` (the worker graph and its dependencies stay out of
web processes): it builds a client Celery app with the worker's configuration
(:func:`workers.celery_app.create_celery_app` — queues, routes, JSON serializer) and calls
``send_task(name, …)``. The row is committed *before* the message is published (a task can
never run without its row); a failed publish is recorded on the row and answered with 503.

Status (``GET /admin/tasks/{id}``) combines the row with Celery's result state (the tasks
store results: ``ignore_result=False``); with the result backend unreachable the state is
``UNKNOWN`` and the row alone is returned.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import kombu.exceptions
import redis
from celery import Celery
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from api.db import Database
from api.errors import ApiError
from pipelines.core.settings import Settings

log = logging.getLogger("manalytics.api.tasks")

#: Task names the API may enqueue (the worker registers them; see workers/tasks/).
INGEST_TASK = "ingest.cache_tree"
RECLASSIFY_TASK = "classify.reclassify_format"
REFRESH_TASK = "refresh.meta_views"
SOURCE_FETCH_TASK = "sources.fetch"
OPERATOR_TASKS = (INGEST_TASK, RECLASSIFY_TASK, REFRESH_TASK, SOURCE_FETCH_TASK)

_INSERT = """
INSERT INTO operator_tasks (id, task_name, arguments, requested_by)
VALUES (%(id)s, %(task)s, %(arguments)s, %(requested_by)s)
"""
_ENQUEUED = "UPDATE operator_tasks SET enqueued_at = now() WHERE id = %s"
_FAILED = "UPDATE operator_tasks SET enqueue_error = %s WHERE id = %s"
_ONE = """
SELECT id, task_name, arguments, requested_by, requested_at, enqueued_at, enqueue_error
  FROM operator_tasks WHERE id = %s
"""
_PAGE = """
SELECT id, task_name, arguments, requested_by, requested_at, enqueued_at, enqueue_error,
       count(*) OVER () AS total
  FROM operator_tasks ORDER BY requested_at DESC, id LIMIT %s OFFSET %s
"""
_COUNT = "SELECT count(*) FROM operator_tasks"


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
        """Record the request, publish the message; the row as JSON-ready dict."""
        if task_name not in OPERATOR_TASKS:
            raise ValueError(f"not an operator task: {task_name}")
        task_id = uuid.uuid4()
        arguments = {"args": list(args), "kwargs": dict(kwargs or {})}
        with db.write() as conn:
            conn.execute(
                _INSERT,
                {
                    "id": task_id,
                    "task": task_name,
                    "arguments": Jsonb(arguments),
                    "requested_by": requested_by,
                },
            )
        try:
            self.celery.send_task(
                task_name, args=args, kwargs=kwargs or {}, task_id=str(task_id), retry=True
            )
        except (kombu.exceptions.KombuError, redis.RedisError, OSError) as exc:
            log.error("could not enqueue %s %s: %s", task_name, task_id, type(exc).__name__)
            with db.write() as conn:
                conn.execute(_FAILED, (f"{type(exc).__name__}: broker unavailable", task_id))
            raise ApiError(
                503,
                "the task queue is unavailable; the request was recorded but not queued",
                code="queue_unavailable",
                headers={"Retry-After": "10"},
            ) from exc
        with db.write() as conn:
            conn.execute(_ENQUEUED, (task_id,))
        log.info("operator %s queued %s as %s", requested_by, task_name, task_id)
        return self.status(db, task_id)

    def status(self, db: Database, task_id: uuid.UUID) -> dict[str, Any]:
        """The row of ``task_id`` with Celery's state and result (404 if no such row)."""
        with db.read() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(_ONE, (task_id,)).fetchone()
        if row is None:
            raise ApiError(404, f"no operator task {task_id}")
        return self._with_state(row)

    def page(self, db: Database, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """Recent requests (newest first) without Celery state, and the total."""
        with db.read() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(_PAGE, (limit, offset)).fetchall()
            if rows:
                total = rows[0]["total"]
            else:
                counted = conn.execute(_COUNT).fetchone()
                total = counted[0] if counted else 0
        return [self._row(r) for r in rows], int(total)

    @staticmethod
    def _row(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(row["id"]),
            "task": row["task_name"],
            "arguments": row["arguments"],
            "requested_by": row["requested_by"],
            "requested_at": row["requested_at"],
            "enqueued_at": row["enqueued_at"],
            "enqueue_error": row["enqueue_error"],
        }

    def _with_state(self, row: dict[str, Any]) -> dict[str, Any]:
        out = self._row(row)
        out.update(state="NOT_QUEUED" if row["enqueued_at"] is None else "UNKNOWN")
        out.update(result=None, error=None, finished_at=None)
        if row["enqueued_at"] is None:
            return out
        try:
            result = self.celery.AsyncResult(str(row["id"]))
            state = result.state
            info = result.info
            finished = result.date_done
        except (redis.RedisError, kombu.exceptions.KombuError, OSError) as exc:
            log.warning("result backend unavailable: %s", type(exc).__name__)
            return out
        out["state"] = state
        out["finished_at"] = finished
        if state == "SUCCESS":
            out["result"] = info if isinstance(info, (dict, list, str, int, float)) else str(info)
        elif state in {"FAILURE", "REVOKED"} and info is not None:
            # Operators only; still keep it short and free of tracebacks.
            out["error"] = f"{type(info).__name__}: {info}"[:500]
        return out

    def close(self) -> None:
        """Release broker/backend connections."""
        if self._celery is not None:
            self._celery.close()
            self._celery = None


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
    "task_uuid",
]
