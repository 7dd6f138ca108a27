"""Flask adapter: the one application factory, :func:`create_app`.

Extensions are initialised in this fixed order (ENGINEERING.md §3.3), because Flask runs
``before_request`` hooks in registration order:

1. observability — request id first, so every later hook, log line and error has it;
   JSON logs; Prometheus metrics;
2. security — the edge (:mod:`api.edge`: ``ProxyFix`` for exactly the trusted proxies, then
   no forwarded header survives; host check and HTTPS redirect before any work is done),
   Talisman (security headers), CORS;
3. error handlers — one problem+json shape for every failure;
4. JWT — token parsing, key rotation, revocation list;
5. limiter — per-client budgets keyed by the address/identity from steps 2 and 4;
6. resources — database pool, response cache, task queue (all connect lazily, after fork);
7. blueprints — registered in :func:`api.blueprints.register_blueprints`.

Configuration comes from :mod:`pipelines.core.settings` only; ``config_override`` may replace
any Flask config key (tests), plus ``MANALYTICS_SETTINGS``, ``DATABASE_URL`` and ``REDIS_URL``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
from flask import Flask
from flask.json.provider import JSONProvider

from pipelines.auth.passwords import BCRYPT_ROUNDS
from pipelines.core.setting_parsers import SettingsError
from pipelines.core.settings import Settings
from pipelines.core.settings_loader import get_settings, require_services

SETTINGS_KEY = "MANALYTICS_SETTINGS"
# Request bodies are small JSON objects (credentials, a format name).
MAX_BODY_BYTES = 64 * 1024


class OrjsonProvider(JSONProvider):
    """Flask JSON through orjson (fast; dates as ISO 8601; Decimal and numpy handled)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        from api.cache import dumps

        return dumps(obj).decode("utf-8")

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)


def flask_config(settings: Settings) -> dict[str, Any]:
    """Flask configuration derived from settings."""
    from api.auth import jwt_config

    return {
        SETTINGS_KEY: settings,
        "SECRET_KEY": settings.secret_key,
        "MAX_CONTENT_LENGTH": MAX_BODY_BYTES,
        "CORS_ORIGINS": settings.cors_origins,
        "TRUSTED_PROXY_COUNT": settings.trusted_proxy_count,
        "FORCE_HTTPS": settings.force_https,
        "ALLOWED_HOSTS": settings.allowed_hosts,
        # API_ prefix: flask-limiter reads RATELIMIT_* keys itself (RATELIMIT_DEFAULT would
        # add a per-route limit next to our application-wide one).
        "API_RATELIMIT_DEFAULT": settings.ratelimit_default,
        "API_RATELIMIT_AUTHENTICATED": settings.ratelimit_authenticated,
        "API_RATELIMIT_AUTH": settings.ratelimit_auth,
        "API_RATELIMIT_FAIL_OPEN": settings.ratelimit_fail_open,
        "API_CACHE_SECONDS": settings.api_cache_seconds,
        # How stale the refresh generation may be in one process (see api.cache).
        "API_GENERATION_CHECK_SECONDS": 1.0,
        # Per-worker LRU in front of Redis (0 disables it; see api.cache).
        "API_LOCAL_CACHE_BYTES": 32 * 1024 * 1024,
        # Tests lower it to keep the suite fast; production refuses anything below 12.
        "BCRYPT_ROUNDS": BCRYPT_ROUNDS,
        **jwt_config(settings),
    }


def _resolve(override: dict[str, Any]) -> Settings:
    settings: Settings = override.pop(SETTINGS_KEY, None) or get_settings()
    urls = {
        field: override.pop(key)
        for key, field in (("DATABASE_URL", "database_url"), ("REDIS_URL", "redis_url"))
        if key in override
    }
    if urls:
        settings = replace(settings, **urls)
    return require_services(settings)


def create_app(config_override: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app (see the module docstring for the initialisation order).

    ``config_override`` updates ``app.config`` last. Three keys are understood specially:
    ``MANALYTICS_SETTINGS`` (a :class:`~pipelines.core.settings.Settings` replacing the
    process settings), ``DATABASE_URL`` and ``REDIS_URL`` (replace those two settings). A
    service URL still unset afterwards is an error (production processes start no services).
    """
    from api.auth import init_jwt
    from api.blueprints import register_blueprints
    from api.errors import register_error_handlers
    from api.limits import init_limiter
    from api.observability import init_observability
    from api.resources import init_resources, key_prefix, redis_url
    from api.security import init_security

    override = dict(config_override or {})
    settings = _resolve(override)

    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.config.update(flask_config(settings))
    app.config.update(override)
    if settings.is_production and int(app.config["BCRYPT_ROUNDS"]) < BCRYPT_ROUNDS:
        raise SettingsError(f"BCRYPT_ROUNDS must be >= {BCRYPT_ROUNDS} in production")

    metrics = init_observability(app, settings.log_level)  # 1
    init_security(app, settings)  # 2
    register_error_handlers(app)  # 3
    init_jwt(app)  # 4
    limiter = init_limiter(  # 5
        app, redis_url(app, settings, "limiter"), key_prefix(settings, "ratelimit")
    )
    init_resources(app, settings, metrics)  # 6
    register_blueprints(app, limiter)  # 7
    return app


def app_settings(app: Flask) -> Settings:
    """The resolved settings an app was built with."""
    settings: Settings = app.config[SETTINGS_KEY]
    return settings


def close_app(app: Flask) -> None:
    """Release the app's pools and connections (tests build many apps per process)."""
    from api.resources import resources

    resources(app).close()


__all__ = ["app_settings", "close_app", "create_app"]
