"""Issue 12: published secrets refused in production (9), and the database number of
REDIS_URL honoured so two deployments share one Redis server safely (13)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import redis
from flask.testing import FlaskClient

from api import close_app, create_app
from pipelines.core.setting_parsers import SettingsError
from pipelines.core.settings import Settings
from pipelines.core.settings_loader import load_settings
from tests.api.conftest import bearer, login, settings_for
from tests.api.test_gunicorn import private_redis as private_redis

STRONG = "k3J9vQ2xLm8pR4tZ7wYb1NcF6hD0sGaE5uVi"
PRODUCTION = {
    "MANALYTICS_ENV": "production",
    "SECRET_KEY": STRONG,
    "JWT_SECRET_KEY": STRONG[::-1],
    "DATABASE_URL": "postgresql://u@db/x",
    "REDIS_URL": "redis://cache:6379",
}


# --------------------------------------------------------------------------- secrets (9)


@pytest.mark.parametrize("variable", ["SECRET_KEY", "JWT_SECRET_KEY", "JWT_PREVIOUS_SECRET_KEY"])
@pytest.mark.parametrize("default", [Settings.secret_key, Settings.jwt_secret_key])
def test_production_refuses_the_published_development_secrets(variable: str, default: str) -> None:
    with pytest.raises(SettingsError, match=f"{variable} is the published development default"):
        load_settings({**PRODUCTION, variable: default})


def test_production_refuses_one_value_for_both_secrets() -> None:
    with pytest.raises(SettingsError, match="must differ"):
        load_settings({**PRODUCTION, "JWT_SECRET_KEY": STRONG})
    assert load_settings(PRODUCTION).is_production  # distinct strong secrets are fine


# --------------------------------------------------------------------------- Redis (13)


def test_two_apps_on_one_redis_server_keep_to_their_database(
    private_redis: str,
    api_dsn: str,
    accounts: dict[str, int],
) -> None:
    """Two deployments on one server, databases 3 and 4: each one's cache, rate limits,
    revocations and account states stay in its database; a FLUSHDB of one leaves the other
    alone. Before the fix both wrote databases 0-5 and overwrote each other."""
    apps = []
    for number in (3, 4):
        settings = settings_for(api_dsn, f"{private_redis}/{number}")
        apps.append(create_app({"MANALYTICS_SETTINGS": settings, "BCRYPT_ROUNDS": 4}))
    try:
        clients: list[FlaskClient] = [app.test_client() for app in apps]
        for client in clients:
            assert client.get("/api/v1/formats/Modern/meta").status_code == 200
            tokens = login(client, "oper")
            assert client.get("/api/v1/admin/tasks", headers=bearer(tokens["access_token"]))
            logout = client.post(
                "/api/v1/auth/logout", headers=bearer(tokens["access_token"]), json={}
            )
            assert logout.status_code == 200
        server = redis.Redis.from_url(private_redis)
        per_db = {}
        for number in range(16):
            keys = redis.Redis.from_url(f"{private_redis}/{number}").keys("*")
            if keys:
                per_db[number] = {k.decode() for k in keys}
        server.close()
        assert set(per_db) == {3, 4}, per_db
        for number in (3, 4):
            kinds = " ".join(per_db[number])
            for purpose in ("cache", "revoked", "accounts", "LIMITS"):
                assert purpose in kinds, (number, purpose, per_db[number])
        redis.Redis.from_url(f"{private_redis}/3").flushdb()
        assert redis.Redis.from_url(f"{private_redis}/4").dbsize() == len(per_db[4])
    finally:
        for app in apps:
            close_app(app)


def test_a_url_without_a_number_still_splits_per_purpose() -> None:
    settings = replace(Settings(), redis_url="redis://cache:6379")
    assert settings.redis_db_url("cache") != settings.redis_db_url("limiter")
