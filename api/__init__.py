"""Flask adapter: the one application factory.

Minimal for now (liveness and readiness only); the read API, limiter, Talisman, JWT and
metrics are added by a later issue in the fixed ``init_app`` order of ENGINEERING.md §3.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Flask

from pipelines.core.services import resolve_services
from pipelines.core.settings import Settings, get_settings

SETTINGS_KEY = "MANALYTICS_SETTINGS"


def create_app(config_override: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app.

    ``config_override`` updates ``app.config`` last. Three keys are understood specially:
    ``MANALYTICS_SETTINGS`` (a :class:`~pipelines.core.settings.Settings` replacing the
    process settings), ``DATABASE_URL`` and ``REDIS_URL`` (replace those two settings).
    A service URL still unset afterwards is resolved to the embedded service (development
    only: production settings refuse to load without both URLs).
    """
    override = dict(config_override or {})
    settings: Settings = override.pop(SETTINGS_KEY, None) or get_settings()
    urls = {
        field: override.pop(key)
        for key, field in (("DATABASE_URL", "database_url"), ("REDIS_URL", "redis_url"))
        if key in override
    }
    if urls:
        settings = replace(settings, **urls)
    if not settings.database_url or not settings.redis_url:
        settings = resolve_services(settings)

    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, **{SETTINGS_KEY: settings})
    app.config.update(override)

    from api import health

    app.register_blueprint(health.blueprint)
    return app


def app_settings(app: Flask) -> Settings:
    """The resolved settings an app was built with."""
    settings: Settings = app.config[SETTINGS_KEY]
    return settings


__all__ = ["app_settings", "create_app"]
