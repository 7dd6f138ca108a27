"""The API's blueprints, one per resource, registered in exactly one place.

* ``health`` — ``/health``, ``/ready``, ``/metrics`` (root, unversioned, not rate limited,
  reachable over plain HTTP);
* ``service`` — ``/openapi.json`` and ``/api/v1/ping``, ``/api/v1/openapi.json``;
* ``stats`` — formats, meta, matchups, archetypes, trends, cards (``/api/v1/formats…``);
* ``charts`` — static chart images (``/api/v1/formats/{f}/charts…``);
* ``events`` — tournaments; ``decks`` — decks;
* ``pages`` — the HTML pages (``/``, ``/formats/…``, ``/decks/…``, ``/tournaments/…``) and
  ``/docs``;
* ``auth`` — tokens (stricter rate limit); ``admin`` — operator tasks (``admin_tasks``),
  users and API keys (``admin_accounts``).
"""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter

from api.limits import apply_blueprint_limits

API_PREFIX = "/api/v1"


def register_blueprints(app: Flask, limiter: Limiter) -> None:
    """Register every blueprint of the API on ``app``."""
    # The admin routes live in two modules that add them to admin.blueprint: import both.
    from api.blueprints import (  # noqa: F401
        admin,
        admin_accounts,
        admin_tasks,
        auth,
        charts,
        decks,
        events,
        health,
        pages,
        service,
        stats,
    )

    apply_blueprint_limits(limiter, auth.blueprint, health.blueprint)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(service.blueprint)
    app.register_blueprint(pages.blueprint)  # HTML pages and /docs, at the root
    for module in (stats, charts, events, decks, auth, admin):
        app.register_blueprint(module.blueprint, url_prefix=API_PREFIX)


__all__ = ["API_PREFIX", "register_blueprints"]
