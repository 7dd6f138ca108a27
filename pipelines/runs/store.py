"""Run records (``task_runs``, migration 0008): what was asked, what runs, what happened.

One import for callers (API, workers, CLI); each job lives in its own module:

* :mod:`pipelines.runs.records` — the row, its dedup key, reads (``get_run``, ``list_runs``);
* :mod:`pipelines.runs.requests` — coalesced requests and follow-ups (``request_run``);
* :mod:`pipelines.runs.claims` — a worker's side: ``claim``, ``heartbeat``,
  ``mark_retrying``, ``finish``;
* :mod:`pipelines.runs.reaper` — runs whose worker is gone or whose message is lost.
"""

from __future__ import annotations

from pipelines.runs.claims import (
    RUN_LOCK_CLASS,
    Claim,
    claim,
    finish,
    heartbeat,
    mark_retrying,
    take_lock,
    unlock,
)
from pipelines.runs.reaper import Reaped, reap
from pipelines.runs.records import (
    ACTIVE_STATES,
    FINAL_STATES,
    KINDS,
    Run,
    dedup_key,
    get_run,
    kind_of,
    list_runs,
)
from pipelines.runs.requests import Request, mark_enqueued, request_run

__all__ = [
    "ACTIVE_STATES",
    "FINAL_STATES",
    "KINDS",
    "RUN_LOCK_CLASS",
    "Claim",
    "Reaped",
    "Request",
    "Run",
    "claim",
    "dedup_key",
    "finish",
    "get_run",
    "heartbeat",
    "kind_of",
    "list_runs",
    "mark_enqueued",
    "mark_retrying",
    "reap",
    "request_run",
    "take_lock",
    "unlock",
]
