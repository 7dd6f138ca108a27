"""Settings read from the environment: the one place ``os.environ`` is read.

Every process (CLI, Celery worker and beat, gunicorn) calls :func:`get_settings`. In
production (``MANALYTICS_ENV=production``) a missing or weak secret stops the process with a
message naming the variable. The settings themselves are declared in
:mod:`pipelines.core.settings`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pipelines.core.setting_parsers import SettingsError
from pipelines.core.settings import SETTING_FIELDS, Settings

# Secrets shorter than this are refused in production (32 random bytes ≈ 43 base64 chars).
MIN_SECRET_LENGTH = 32
_WEAK_SECRETS = {"changeme", "secret", "dev", "development", "test", "password"}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate settings from ``environ`` (default: the process environment)."""
    env = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for f, spec in SETTING_FIELDS:
        raw = env.get(spec.env)
        if raw is not None and (raw != "" or not spec.empty_is_unset):
            values[f.name] = spec.parse(spec.env, raw)
        elif spec.derive is not None:
            values[f.name] = spec.derive(values)
        else:
            values[f.name] = f.default
    if values["db_pool_max"] < values["db_pool_min"]:
        raise SettingsError("DB_POOL_MAX must be >= DB_POOL_MIN")
    if not 0 < values["run_heartbeat_seconds"] * 2 <= values["run_stale_seconds"]:
        raise SettingsError(
            "RUN_STALE_SECONDS must be at least twice RUN_HEARTBEAT_SECONDS (and both > 0): a "
            "live run must never look stale"
        )
    settings = Settings(**values)
    if settings.is_production:
        _check_production(settings, env)
    return settings


def _check_production(settings: Settings, env: Mapping[str, str]) -> None:
    """Refuse to run in production with a missing or weak secret or an embedded service."""
    problems = []
    for var in ("SECRET_KEY", "JWT_SECRET_KEY"):
        value = env.get(var, "")
        if not value:
            problems.append(f"{var} is missing")
        elif len(value) < MIN_SECRET_LENGTH or value.lower() in _WEAK_SECRETS:
            problems.append(f"{var} is weak (use at least {MIN_SECRET_LENGTH} random characters)")
        elif len(set(value)) < 10:
            problems.append(f"{var} is weak (too few distinct characters)")
    # The development defaults are in this public repository: as good as no secret.
    published = {Settings.secret_key, Settings.jwt_secret_key}
    for var in ("SECRET_KEY", "JWT_SECRET_KEY", "JWT_PREVIOUS_SECRET_KEY"):
        if env.get(var) in published:
            problems.append(f"{var} is the published development default")
    if env.get("SECRET_KEY") and env.get("SECRET_KEY") == env.get("JWT_SECRET_KEY"):
        # One leaked key must not give away the other (session signing vs token signing).
        problems.append("SECRET_KEY and JWT_SECRET_KEY must differ")
    previous = env.get("JWT_PREVIOUS_SECRET_KEY", "")
    if previous and (len(previous) < MIN_SECRET_LENGTH or len(set(previous)) < 10):
        problems.append("JWT_PREVIOUS_SECRET_KEY is weak")
    for var in ("DATABASE_URL", "REDIS_URL"):
        if not env.get(var):
            problems.append(f"{var} is missing (embedded services are for development only)")
    if "*" in settings.cors_origins:
        # A wildcard would let any web page read the API with a visitor's browser.
        problems.append("CORS_ORIGINS must list origins explicitly ('*' is refused)")
    if problems:
        raise SettingsError("refusing to start in production: " + "; ".join(problems))


def require_services(settings: Settings) -> Settings:
    """``settings`` when both service URLs are set, else a clear error.

    Production processes (gunicorn, Celery worker and beat) connect to configured services
    only; ``manalytics run`` starts embedded ones for development and hands their URLs to
    the processes it starts.
    """
    missing = [
        var
        for var, value in (
            ("DATABASE_URL", settings.database_url),
            ("REDIS_URL", settings.redis_url),
        )
        if not value
    ]
    if missing:
        raise SettingsError(
            f"{' and '.join(missing)} must be set (for development, `manalytics run` starts "
            "embedded services and passes their URLs to the processes it starts)"
        )
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, read once."""
    return load_settings()


__all__ = ["MIN_SECRET_LENGTH", "get_settings", "load_settings", "require_services"]
