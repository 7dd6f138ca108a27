"""Operator and admin routes (``/api/v1/admin/…``, JWT required, ``Cache-Control: no-store``).

Operators (role ``operator``; ``admin`` implies it) queue work and follow it
(:mod:`api.blueprints.admin_tasks`):

* ``POST /admin/ingest`` → ``ingest.cache_tree`` (root inside the configured cache folders);
* ``POST /admin/reclassify`` → ``classify.reclassify_format``;
* ``POST /admin/refresh`` → ``refresh.meta_views``;
* ``POST /admin/sources/{name}/fetch`` → ``sources.fetch`` (fetch, ingest, then the chain);
* ``GET /admin/tasks`` and ``/admin/tasks/{id}`` — run records (state, progress, attempt,
  heartbeat, error) as the workers write them.

Each POST answers 202 with the run and a ``Location`` of its status; an identical request
while a run is queued or running answers with that run (coalesced, never a second run).
Admins manage users and API keys (``/admin/users…``, ``/admin/api-keys/{id}``;
:mod:`api.blueprints.admin_accounts`). A change of roles, disabled flag or password, and a
deletion, cut the account's tokens at once: the database bumps the account's token version
and the new state is published to the cache every authenticated request reads
(:mod:`pipelines.auth.stamps`).

Both route modules add their routes to the one :data:`blueprint` here (endpoints
``admin.<view>``); :func:`api.blueprints.register_blueprints` imports them before
registering it.
"""

from __future__ import annotations

import logging

from flask import Blueprint
from flask_jwt_extended import get_jwt

log = logging.getLogger("manalytics.api.admin")
blueprint = Blueprint("admin", __name__)


def requester() -> str:
    """Who asks, for the run records and the log: ``name (user id)`` from the token."""
    claims = get_jwt()
    return f"{claims.get('username', '?')} (user {claims['sub']})"


__all__ = ["blueprint", "log", "requester"]
