"""Rate limits: 429 body and headers, keys per IP / per user, the stricter /auth budget,
exemptions, and both behaviours when the limiter storage (Redis) is down."""

from __future__ import annotations

import socket
import time
from typing import Any

from flask.testing import FlaskClient

from tests.api.conftest import PASSWORD, AppFactory, assert_problem, bearer, login

PING = "/api/v1/ping"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def from_ip(client: FlaskClient, ip: str, path: str = PING, **kwargs: Any) -> Any:
    return client.get(path, environ_base={"REMOTE_ADDR": ip}, **kwargs)


def test_429_has_the_problem_body_retry_after_and_rate_limit_headers(
    make_app: AppFactory,
) -> None:
    client = make_app(API_RATELIMIT_DEFAULT="3/minute").test_client()
    answers = [from_ip(client, "10.1.1.1") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert all(a.headers["X-RateLimit-Limit"] == "3" for a in answers)
    assert all("Retry-After" not in a.headers for a in answers)
    limited = from_ip(client, "10.1.1.1")
    body = assert_problem(limited, 429, "rate_limited")
    assert "3 per 1 minute" in body["detail"]
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-RateLimit-Limit"] == "3"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert int(limited.headers["X-RateLimit-Reset"]) > time.time()
    # One budget for the whole API, per client address.
    assert from_ip(client, "10.1.1.1", "/api/v1/formats").status_code == 429
    assert from_ip(client, "10.2.2.2").status_code == 200
    # Health endpoints are never limited.
    assert from_ip(client, "10.1.1.1", "/health").status_code == 200
    assert from_ip(client, "10.1.1.1", "/ready").status_code == 200
    assert from_ip(client, "10.1.1.1", "/metrics").status_code == 200


def test_authenticated_clients_get_their_own_budget(
    make_app: AppFactory, accounts: dict[str, int]
) -> None:
    client = make_app(
        API_RATELIMIT_DEFAULT="2/minute",
        API_RATELIMIT_AUTHENTICATED="5/minute",
        API_RATELIMIT_AUTH="50/minute",
    ).test_client()
    token = login(client, "reader")["access_token"]
    for _ in range(2):
        from_ip(client, "10.3.3.3")
    assert from_ip(client, "10.3.3.3").status_code == 429  # the shared address is spent
    same_address = [
        from_ip(client, "10.3.3.3", headers=bearer(token)).status_code for _ in range(6)
    ]
    assert same_address == [200] * 5 + [429]  # the user's budget, whatever the address
    # A forged token buys nothing: it is keyed as the (spent) address.
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert from_ip(client, "10.3.3.3", headers=bearer(forged)).status_code == 429


def test_auth_endpoints_have_a_stricter_budget(
    make_app: AppFactory, accounts: dict[str, int]
) -> None:
    client = make_app(API_RATELIMIT_AUTH="2/minute").test_client()

    def attempt() -> Any:
        return client.post(
            "/api/v1/auth/token",
            json={"username": "reader", "password": "wrong-Password-1"},
            environ_base={"REMOTE_ADDR": "10.4.4.4"},
        )

    assert [attempt().status_code for _ in range(2)] == [401, 401]
    limited = attempt()
    assert_problem(limited, 429)
    assert limited.headers["X-RateLimit-Limit"] == "2"
    # Even the right password waits: the budget is per address, not per outcome.
    right = client.post(
        "/api/v1/auth/token",
        json={"username": "reader", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.4.4.4"},
    )
    assert right.status_code == 429
    assert from_ip(client, "10.4.4.4").status_code == 200  # reads are a separate budget


def test_storage_down_fails_open_with_per_process_limits(make_app: AppFactory) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"
    client = make_app(settings={"redis_url": down}, API_RATELIMIT_DEFAULT="3/minute").test_client()
    statuses = [from_ip(client, "10.5.5.5").status_code for _ in range(4)]
    # Served from the in-memory fallback: still limited, never a 5xx.
    assert statuses == [200, 200, 200, 429]
    assert from_ip(client, "10.6.6.6").status_code == 200


def test_storage_down_fails_closed_when_configured(make_app: AppFactory) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"
    client = make_app(settings={"redis_url": down}, API_RATELIMIT_FAIL_OPEN=False).test_client()
    response = from_ip(client, "10.7.7.7")
    body = assert_problem(response, 503, "dependency_unavailable")
    assert "redis" not in body["detail"].lower()  # no infrastructure detail leaks
    assert response.headers["Retry-After"] == "5"
    assert client.get("/health").status_code == 200  # exempt routes still answer
