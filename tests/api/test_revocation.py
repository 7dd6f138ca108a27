"""Issue 12, defects 1 and 8: a token is only as good as its account is now, and only a
token with every required claim is a token.

Each test fails on the code before the fix: access tokens were never checked against the
user row (a deleted, disabled or demoted admin kept full authority until expiry), and a
token signed with the real key but without ``exp`` or ``jti`` was accepted.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt as pyjwt
import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.auth import ALGORITHM, AUDIENCE, ISSUER, REQUIRED_CLAIMS, key_id
from api.resources import resources
from pipelines.auth.stamps import publish_from_database
from tests.api.conftest import PASSWORD, assert_problem, bearer, login

ADMIN = "/api/v1/admin"
NEW_PASSWORD = "Another-Strong-Pass-42"


def _abuse(client: FlaskClient, token: str, own_id: int) -> list[int]:
    """What a cut-off admin tried in the report: list users, create an admin, re-enable
    themselves, mint an API key, queue work."""
    headers = bearer(token)
    name = f"x{uuid.uuid4().hex[:8]}"
    return [
        client.get(f"{ADMIN}/users", headers=headers).status_code,
        client.post(
            f"{ADMIN}/users",
            headers=headers,
            json={"username": name, "password": PASSWORD, "roles": ["admin"]},
        ).status_code,
        client.patch(
            f"{ADMIN}/users/{own_id}", headers=headers, json={"disabled": False}
        ).status_code,
        client.post(
            f"{ADMIN}/users/{own_id}/api-keys", headers=headers, json={"name": "k"}
        ).status_code,
        client.post(f"{ADMIN}/refresh", headers=headers).status_code,
    ]


def _second_admin(client: FlaskClient, admin_token: str) -> tuple[int, dict[str, Any]]:
    created = client.post(
        f"{ADMIN}/users",
        headers=bearer(admin_token),
        json={"username": "victim", "password": PASSWORD, "roles": ["admin"]},
    )
    assert created.status_code == 201
    return created.get_json()["id"], login(client, "victim")


@pytest.mark.parametrize(
    ("change", "body"),
    [
        ("delete", None),
        ("disable", {"disabled": True}),
        ("demote", {"roles": ["operator"]}),
        ("password", {"password": NEW_PASSWORD}),
    ],
)
def test_a_changed_account_loses_its_tokens_at_once(
    client: FlaskClient, accounts: dict[str, int], change: str, body: dict[str, Any] | None
) -> None:
    boss = login(client, "admin")["access_token"]
    victim_id, victim = _second_admin(client, boss)
    # The victim's token works (and its account state is now cached in Redis).
    assert client.get(f"{ADMIN}/users", headers=bearer(victim["access_token"])).status_code == 200
    if change == "delete":
        response = client.delete(f"{ADMIN}/users/{victim_id}", headers=bearer(boss))
    else:
        response = client.patch(f"{ADMIN}/users/{victim_id}", headers=bearer(boss), json=body)
    assert response.status_code == 200, response.get_json()
    assert _abuse(client, victim["access_token"], victim_id) == [401] * 5
    refreshed = client.post("/api/v1/auth/refresh", headers=bearer(victim["refresh_token"]))
    assert_problem(refreshed, 401, "invalid_token")
    # Nobody else lost anything.
    assert client.get(f"{ADMIN}/users", headers=bearer(boss)).status_code == 200
    if change == "password":  # the new password gives a working token again
        fresh = login(client, "victim", NEW_PASSWORD)["access_token"]
        assert client.get(f"{ADMIN}/users", headers=bearer(fresh)).status_code == 200
    if change == "demote":
        fresh = login(client, "victim")["access_token"]
        assert_problem(client.get(f"{ADMIN}/users", headers=bearer(fresh)), 403)
        assert client.get(f"{ADMIN}/tasks", headers=bearer(fresh)).status_code == 200


def test_unchanged_updates_and_a_rehash_keep_tokens(
    client: FlaskClient, accounts: dict[str, int], api_dsn: str
) -> None:
    boss = login(client, "admin")["access_token"]
    oper = login(client, "oper")["access_token"]
    same = client.patch(
        f"{ADMIN}/users/{accounts['oper']}", headers=bearer(boss), json={"roles": ["operator"]}
    )
    assert same.status_code == 200
    assert client.get(f"{ADMIN}/tasks", headers=bearer(oper)).status_code == 200
    with psycopg.connect(api_dsn) as conn:  # a login's re-hash at a higher cost
        conn.execute("UPDATE users SET password_hash = password_hash || '' WHERE username='oper'")
    assert client.get(f"{ADMIN}/tasks", headers=bearer(oper)).status_code == 200


def test_a_change_made_outside_the_api_bites_once_published(
    app: Flask, client: FlaskClient, accounts: dict[str, int], api_dsn: str
) -> None:
    token = login(client, "oper")["access_token"]
    assert client.get(f"{ADMIN}/tasks", headers=bearer(token)).status_code == 200  # cached
    with psycopg.connect(api_dsn) as conn:
        conn.execute("UPDATE users SET disabled = true WHERE username = 'oper'")
        conn.commit()
        # What `manalytics users set-role` does after its commit.
        publish_from_database(resources(app).accounts, conn, accounts["oper"])
    assert_problem(client.get(f"{ADMIN}/tasks", headers=bearer(token)), 401)


def test_the_account_check_reads_the_database_on_a_cache_miss(
    app: Flask, client: FlaskClient, accounts: dict[str, int], api_dsn: str, redis_url: str
) -> None:
    import redis

    token = login(client, "oper")["access_token"]
    with psycopg.connect(api_dsn) as conn:
        conn.execute("DELETE FROM users WHERE username = 'oper'")
    client_redis = redis.Redis.from_url(redis_url)
    assert client_redis.keys("*:accounts:*") == []  # nothing cached: the DB decides
    assert_problem(client.get(f"{ADMIN}/tasks", headers=bearer(token)), 401)


def test_admin_cannot_delete_themselves(client: FlaskClient, accounts: dict[str, int]) -> None:
    boss = login(client, "admin")["access_token"]
    assert_problem(client.delete(f"{ADMIN}/users/{accounts['admin']}", headers=bearer(boss)), 409)
    assert_problem(client.delete(f"{ADMIN}/users/999999", headers=bearer(boss)), 404)


# --------------------------------------------------------------------------- claims (8)


def _signed(app: Flask, drop: str | None = None, **changes: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "1",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "type": "access",
        "fresh": False,
        "ver": 1,
        "roles": ["admin"],
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    claims.update(changes)
    if drop:
        del claims[drop]
    secret = app.config["JWT_SECRET_KEY"]
    return pyjwt.encode(claims, secret, algorithm=ALGORITHM, headers={"kid": key_id(secret)})


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
def test_a_token_without_a_required_claim_is_refused(
    app: Flask, client: FlaskClient, accounts: dict[str, int], claim: str
) -> None:
    admin_id = str(accounts["admin"])
    good = _signed(app, sub=admin_id)
    assert client.get(f"{ADMIN}/users", headers=bearer(good)).status_code == 200
    missing = _signed(app, drop=claim, sub=admin_id)
    assert_problem(client.get(f"{ADMIN}/users", headers=bearer(missing)), 401)


@pytest.mark.parametrize(
    "changes",
    [{"type": "weird"}, {"jti": ""}, {"exp": "never"}, {"ver": True}, {"iat": 1.5}],
)
def test_a_token_with_a_malformed_claim_is_refused(
    app: Flask, client: FlaskClient, accounts: dict[str, int], changes: dict[str, Any]
) -> None:
    token = _signed(app, sub=str(accounts["admin"]), **changes)
    assert_problem(client.get(f"{ADMIN}/users", headers=bearer(token)), 401)
