"""Issue 12, defect 14: per-account back-off on password guessing that cannot lock the real
user out for long, and failed-login timing equal for known and unknown names."""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.resources import resources
from pipelines.auth.backoff import FREE_FAILURES, LoginBackoff, delay_after
from tests.api.conftest import PASSWORD, AppFactory, assert_problem

TOKEN = "/api/v1/auth/token"
WRONG = "Wrong-Password-123"


@pytest.fixture
def auth_app(make_app: AppFactory, accounts: dict[str, int]) -> Flask:
    # The per-IP limit is not what is tested here.
    return make_app(API_RATELIMIT_AUTH="1000/minute")


@pytest.fixture
def auth_client(auth_app: Flask) -> FlaskClient:
    return auth_app.test_client()


def _more_failures(app: Flask, name: str, count: int = 3) -> None:
    """Failures recorded as the API records them (so the delay, 2 ** count s, outlasts a slow
    machine between two requests)."""
    for _ in range(count):
        resources(app).logins.failed(name)


def _login(client: FlaskClient, name: str, password: str, address: str) -> Any:
    return client.post(
        TOKEN,
        json={"username": name, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_guessing_one_account_from_many_addresses_is_slowed(
    auth_app: Flask, auth_client: FlaskClient
) -> None:
    for i in range(FREE_FAILURES):
        assert _login(auth_client, "oper", WRONG, f"203.0.113.{i}").status_code == 401
    _more_failures(auth_app, "oper")
    # Before the fix: every guess from a new address was checked (only per-IP limits).
    held = _login(auth_client, "oper", PASSWORD, "203.0.113.99")
    body = assert_problem(held, 429, "login_backoff")
    assert "account" in body["detail"]
    assert 1 <= int(held.headers["Retry-After"]) <= 8


def test_the_users_own_address_is_not_locked_out(auth_app: Flask, auth_client: FlaskClient) -> None:
    home = "198.51.100.7"
    assert _login(auth_client, "oper", PASSWORD, home).status_code == 200
    _more_failures(auth_app, "oper", FREE_FAILURES + 3)
    assert_problem(_login(auth_client, "oper", PASSWORD, "203.0.113.200"), 429)
    assert _login(auth_client, "oper", PASSWORD, home).status_code == 200


def test_unknown_names_get_the_same_back_off(auth_app: Flask, auth_client: FlaskClient) -> None:
    answers = {}
    for name in ("oper", "nobody-here"):
        for i in range(FREE_FAILURES):
            assert _login(auth_client, name, WRONG, f"192.0.2.{i}").status_code == 401
        _more_failures(auth_app, name)
        answers[name] = _login(auth_client, name, WRONG, "192.0.2.50")
    known, unknown = answers["oper"], answers["nobody-here"]
    assert known.status_code == unknown.status_code == 429
    assert known.get_json()["detail"] == unknown.get_json()["detail"]


def test_the_delay_is_capped() -> None:
    assert [delay_after(n) for n in range(FREE_FAILURES)] == [0] * FREE_FAILURES
    assert delay_after(FREE_FAILURES) == 1 and delay_after(FREE_FAILURES + 3) == 8
    assert delay_after(1000) == 30  # never longer, however many guesses


def test_failed_login_timing_does_not_reveal_names(
    make_app: AppFactory, accounts: dict[str, int]
) -> None:
    # bcrypt cost 8 (~20 ms) so the hash dominates; alternate to share any load drift.
    client = make_app(API_RATELIMIT_AUTH="1000/minute", BCRYPT_ROUNDS=8).test_client()
    _login(client, "reader", PASSWORD, "192.0.2.1")  # re-hash at cost 8 (upgrade on login)
    known, unknown = [], []
    for i in range(8):
        for name, samples in (("reader", known), (f"ghost{i}", unknown)):
            start = time.perf_counter()
            response = _login(client, name, WRONG, f"10.1.{i}.{len(samples)}")
            samples.append(time.perf_counter() - start)
            assert response.status_code == 401
            resources(client.application).logins.succeeded(name, "192.0.2.250")  # no back-off
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.6 < ratio < 1.6, (known, unknown)


def test_backoff_counts_in_redis(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    now = [1000.0]
    backoff = LoginBackoff(lambda: client, "manalytics:test:logins", clock=lambda: now[0])
    for _ in range(FREE_FAILURES + 1):
        backoff.failed("Someone")
    verdict = backoff.check("  someone ", "192.0.2.1")  # names are normalised
    assert not verdict.allowed and verdict.retry_after == 2
    now[0] += 2.01
    assert backoff.check("someone", "192.0.2.1").allowed
    assert all(b"Someone" not in key and b"someone" not in key for key in client.keys("*"))
