"""Security headers, HTTPS enforcement behind a proxy, CORS, client address behind proxies,
and the new settings' validation."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from pipelines.core.setting_parsers import SettingsError
from pipelines.core.settings_loader import load_settings
from tests.api.conftest import HTTPS, AppFactory

META = "/api/v1/formats/Modern/meta"
STRONG = "k3J9vQ2xLm8pR4tZ7wYb1NcF6hD0sGaE5uVi"
EXPECTED_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


@pytest.mark.parametrize("path", [META, "/api/v1/ping", "/health", "/api/v1/formats/Nope/meta"])
def test_every_security_header_on_https(client: FlaskClient, path: str) -> None:
    response = client.get(path, base_url="https://localhost")
    headers = response.headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    assert headers["Content-Security-Policy"] == EXPECTED_CSP
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Request-ID"]


def test_hsts_only_over_https(client: FlaskClient) -> None:
    plain = client.get(META)
    assert "Strict-Transport-Security" not in plain.headers
    assert plain.headers["X-Frame-Options"] == "DENY"  # the rest is always there
    secure = client.get(META, base_url="https://api.example")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_https_is_enforced_except_for_health_endpoints(make_app: AppFactory) -> None:
    client = make_app(FORCE_HTTPS=True, ALLOWED_HOSTS=("localhost", "api.example")).test_client()
    redirected = client.get(META)
    assert redirected.status_code == 301
    assert redirected.headers["Location"] == f"https://localhost{META}"
    proxied = make_app(FORCE_HTTPS=True, TRUSTED_PROXY_COUNT=1).test_client()
    assert proxied.get(META, headers=HTTPS).status_code == 200
    assert client.get(META, base_url="https://api.example").status_code == 200
    for path in ("/health", "/ready", "/metrics"):
        assert client.get(path).status_code == 200, path  # probes speak plain HTTP


def test_force_https_defaults_on_in_production_only() -> None:
    production = {
        "MANALYTICS_ENV": "production",
        "SECRET_KEY": STRONG,
        "JWT_SECRET_KEY": STRONG[::-1],
        "DATABASE_URL": "postgresql://u@db/x",
        "REDIS_URL": "redis://cache:6379",
    }
    assert load_settings(production).force_https is True
    assert load_settings({}).force_https is False
    assert load_settings({**production, "FORCE_HTTPS": "false"}).force_https is False


def test_cors_allows_only_listed_origins(make_app: AppFactory) -> None:
    client = make_app(CORS_ORIGINS=("https://meta.example",)).test_client()
    allowed = client.get(META, headers={"Origin": "https://meta.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://meta.example"
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    assert "Origin" in allowed.headers["Vary"]
    denied = client.get(META, headers={"Origin": "https://evil.example"})
    assert denied.status_code == 200  # the data is public; the browser blocks the read
    assert "Access-Control-Allow-Origin" not in denied.headers
    assert "Origin" in denied.headers["Vary"]
    preflight = client.options(
        META,
        headers={
            "Origin": "https://meta.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://meta.example"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    bad_preflight = client.options(
        META, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "Access-Control-Allow-Origin" not in bad_preflight.headers
    assert "Access-Control-Allow-Credentials" not in allowed.headers  # no cookies, ever


def test_no_cors_headers_without_configured_origins(client: FlaskClient) -> None:
    response = client.get(META, headers={"Origin": "https://meta.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_production_refuses_a_wildcard_cors_origin() -> None:
    env = {
        "MANALYTICS_ENV": "production",
        "SECRET_KEY": STRONG,
        "JWT_SECRET_KEY": STRONG[::-1],
        "DATABASE_URL": "postgresql://u@db/x",
        "REDIS_URL": "redis://cache:6379",
        "CORS_ORIGINS": "https://a.example,*",
    }
    with pytest.raises(SettingsError, match="CORS_ORIGINS"):
        load_settings(env)
    assert load_settings({"CORS_ORIGINS": "*"}).cors_origins == ("*",)  # development only
    with pytest.raises(SettingsError, match="CORS_ORIGINS"):
        load_settings({"CORS_ORIGINS": "meta.example"})


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"RATELIMIT_DEFAULT": "lots"}, "RATELIMIT_DEFAULT"),
        ({"RATELIMIT_AUTH": "10/fortnight"}, "RATELIMIT_AUTH"),
        ({"RATELIMIT_FAIL_OPEN": "maybe"}, "RATELIMIT_FAIL_OPEN"),
        ({"TRUSTED_PROXY_COUNT": "-1"}, "TRUSTED_PROXY_COUNT"),
        ({"JWT_ACCESS_TOKEN_MINUTES": "0"}, "JWT_ACCESS_TOKEN_MINUTES"),
        ({"JWT_REFRESH_TOKEN_DAYS": "365"}, "JWT_REFRESH_TOKEN_DAYS"),
        ({"API_CACHE_SECONDS": "-5"}, "API_CACHE_SECONDS"),
    ],
)
def test_api_settings_are_validated(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(env)


def test_rate_limit_strings_accept_the_limits_syntax() -> None:
    settings = load_settings({"RATELIMIT_DEFAULT": "100 per minute; 5/10 seconds"})
    assert settings.ratelimit_default == "100 per minute; 5/10 seconds"


# --------------------------------------------------------------------------- proxies


def test_forwarded_headers_are_ignored_without_trusted_proxies(
    make_app: AppFactory, redis_url: str
) -> None:
    import redis

    client = make_app(API_RATELIMIT_DEFAULT="100/minute").test_client()
    client.get(
        "/api/v1/ping",
        headers={"X-Forwarded-For": "1.2.3.4"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    keys = b" ".join(redis.Redis.from_url(redis_url).keys("LIMITS*"))
    assert b"ip:10.0.0.9" in keys and b"1.2.3.4" not in keys


def test_client_address_behind_one_trusted_proxy_is_not_spoofable(
    make_app: AppFactory, redis_url: str
) -> None:
    import redis

    client = make_app(TRUSTED_PROXY_COUNT=1, API_RATELIMIT_DEFAULT="100/minute").test_client()
    # The client forged "6.6.6.6"; our proxy appended the real peer address last.
    client.get(
        "/api/v1/ping",
        headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    keys = b" ".join(redis.Redis.from_url(redis_url).keys("LIMITS*"))
    assert b"ip:203.0.113.7" in keys
    assert b"6.6.6.6" not in keys and b"10.0.0.9" not in keys
