"""Housekeeping tasks (routed to the ``refresh`` queue)."""

from __future__ import annotations

import os
from typing import Any

from workers.base import ManalyticsTask
from workers.celery_app import app


@app.task(
    name="maintenance.ping",
    base=ManalyticsTask,
    bind=True,
    acks_late=False,
    ignore_result=False,  # callers wait for the answer
    soft_time_limit=20,
    time_limit=30,
)
def ping(self: ManalyticsTask, echo: Any = None) -> dict[str, Any]:
    """End-to-end check: the worker answers and its process pool reaches the database."""
    with self.db_pool.connection() as conn:
        row = conn.execute("SELECT 1").fetchone()
    return {
        "pong": True,
        "echo": echo,
        "database": bool(row and row[0] == 1),
        "pid": os.getpid(),
        "task_id": self.request.id,
    }
