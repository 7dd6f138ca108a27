"""Authentication: password rule and hashing, tokens, expiry, refresh rotation, revocation,
forged tokens, roles, API keys, key rotation, and the fail-closed revocation check."""

from __future__ import annotations

import base64
import json
import socket
import time
import warnings
from datetime import timedelta
from typing import Any

import jwt as pyjwt
import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token, create_refresh_token

from api.auth import AUDIENCE, ISSUER, key_id
from pipelines.auth import passwords
from pipelines.auth.apikeys import generate_api_key, parse_api_key
from pipelines.auth.users import (
    InvalidInput,
    UserExists,
    authenticate,
    create_user,
    effective_roles,
    normalise_roles,
    normalise_username,
)
from tests.api.conftest import PASSWORD, AppFactory, assert_problem, bearer, login

OPERATOR_ONLY = "/api/v1/admin/tasks"
ADMIN_ONLY = "/api/v1/admin/users"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- passwords


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Short-1a", "at least 12"),
        ("alllowercaseletters", "three of"),
        ("ALLUPPER1234567", "three of"),
        ("Aa1!Aa1!Aa1!Aa1!", "different characters"),
        ("My-Password-2024", "common word"),
        ("Qwerty-Lovers-88", "common word"),
        ("alice-Secret-99x", "user name"),
        ("Tab\there-Is-Bad-1", "control characters"),
        ("Ünïcödé-Łong-Pass-ф" * 3, "72 bytes"),
    ],
)
def test_password_rule_names_every_problem(password: str, problem: str) -> None:
    problems = passwords.check_password(password, "alice")
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("password", [PASSWORD, "tr0ub4dor&3-Horse", "Ünïcödé-Łong-Pass-9"])
def test_password_rule_accepts_good_passwords(password: str) -> None:
    assert passwords.check_password(password, "alice") == []


def test_bcrypt_default_cost_is_at_least_12_and_verification() -> None:
    hashed = passwords.hash_password(PASSWORD)
    assert hashed.startswith("$2b$") and passwords.hash_cost(hashed) == 12
    assert passwords.BCRYPT_ROUNDS >= 12
    assert passwords.verify_password(PASSWORD, hashed)
    assert not passwords.verify_password(PASSWORD + "x", hashed)
    assert not passwords.verify_password(PASSWORD, "not-a-hash")


def test_production_refuses_a_lower_bcrypt_cost(api_dsn: str, redis_url: str) -> None:
    from dataclasses import replace

    from api import create_app
    from pipelines.core.setting_parsers import SettingsError
    from pipelines.core.settings import Settings

    settings = replace(Settings(), env="production", database_url=api_dsn, redis_url=redis_url)
    with pytest.raises(SettingsError, match="BCRYPT_ROUNDS"):
        create_app({"MANALYTICS_SETTINGS": settings, "BCRYPT_ROUNDS": 4})


def test_user_repository_rules(api_dsn: str) -> None:
    assert normalise_username("  Alice.B ") == "alice.b"
    with pytest.raises(InvalidInput):
        normalise_username("a")
    with pytest.raises(InvalidInput):
        normalise_roles(["operator", "root"])
    assert effective_roles(["admin"]) == {"admin", "operator"}
    with psycopg.connect(api_dsn) as conn:
        user = create_user(conn, "Carol", PASSWORD, ["operator"], rounds=4)
        assert user.username == "carol" and user.roles == ("operator",)
        with pytest.raises(UserExists):
            create_user(conn, "carol", PASSWORD, rounds=4)
        with pytest.raises(passwords.PasswordRuleError):
            create_user(conn, "dave", "weak", rounds=4)
        row = conn.execute("SELECT password_hash FROM users WHERE id = %s", (user.id,)).fetchone()
        assert row and row[0].startswith("$2b$04$") and PASSWORD not in row[0]
        # A successful login upgrades a hash weaker than the configured cost.
        assert authenticate(conn, "carol", PASSWORD, rounds=5) is not None
        row = conn.execute("SELECT password_hash FROM users WHERE id = %s", (user.id,)).fetchone()
        assert row and row[0].startswith("$2b$05$")
        assert authenticate(conn, "carol", "Wrong-Password-99", rounds=5) is None
        assert authenticate(conn, "nobody", PASSWORD, rounds=5) is None


def test_api_keys_are_random_and_parse() -> None:
    key, prefix, digest = generate_api_key()
    other, _, _ = generate_api_key()
    assert key != other and key.startswith(f"mk_{prefix}_") and len(digest) == 32
    assert parse_api_key(key) == (prefix, key.split("_", 2)[2])
    assert parse_api_key("mk_short_x") is None


# --------------------------------------------------------------------------- tokens


def test_login_and_access_with_roles_in_claims(
    client: FlaskClient, accounts: dict[str, int]
) -> None:
    tokens = login(client, "oper")
    assert tokens["token_type"] == "Bearer" and tokens["roles"] == ["operator"]
    assert tokens["expires_in"] == 15 * 60 and tokens["refresh_expires_in"] == 7 * 86400
    header = pyjwt.get_unverified_header(tokens["access_token"])
    claims = pyjwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert header["alg"] == "HS256" and header["kid"]
    assert claims["sub"] == str(accounts["oper"]) and claims["roles"] == ["operator"]
    assert claims["iss"] == ISSUER and claims["aud"] == AUDIENCE and claims["type"] == "access"
    assert client.get(OPERATOR_ONLY, headers=bearer(tokens["access_token"])).status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "reader", "password": "Wrong-Password-99"},
        {"username": "nobody", "password": PASSWORD},
        {"api_key": "mk_aaaaaaaaaaaa_" + "A" * 43},
        {"api_key": "not a key"},
    ],
)
def test_bad_credentials_are_one_401(
    client: FlaskClient, accounts: dict[str, int], credentials: dict[str, str]
) -> None:
    body = assert_problem(client.post("/api/v1/auth/token", json=credentials), 401)
    assert body["code"] == "invalid_credentials" and body["detail"] == "invalid credentials"


def test_login_body_must_be_complete_json(client: FlaskClient) -> None:
    assert_problem(client.post("/api/v1/auth/token", json={"username": "x"}), 400)
    assert_problem(client.post("/api/v1/auth/token", data="username=x"), 400)
    assert_problem(client.post("/api/v1/auth/token", json=["x"]), 400)
    both = {"username": "a", "password": "b", "api_key": "c"}
    assert_problem(client.post("/api/v1/auth/token", json=both), 400)
    extra = assert_problem(client.post("/api/v1/auth/token", json={"user": "a"}), 400)
    assert {"field": "user", "reason": "unknown field"} in extra["errors"]


def test_disabled_users_cannot_log_in_or_refresh(
    client: FlaskClient, accounts: dict[str, int], api_dsn: str
) -> None:
    refresh_token = login(client, "reader")["refresh_token"]
    with psycopg.connect(api_dsn) as conn:
        conn.execute("UPDATE users SET disabled = true WHERE username = 'reader'")
    assert_problem(
        client.post("/api/v1/auth/token", json={"username": "reader", "password": PASSWORD}), 401
    )
    assert_problem(client.post("/api/v1/auth/refresh", headers=bearer(refresh_token)), 401)


def _token(app: Flask, kind: str = "access", **kwargs: Any) -> str:
    with app.app_context():
        maker = create_access_token if kind == "access" else create_refresh_token
        return maker(identity="1", additional_claims={"roles": ["admin"], "ver": 1}, **kwargs)


def test_expired_tokens_are_401(app: Flask, client: FlaskClient) -> None:
    expired = _token(app, expires_delta=timedelta(seconds=-1))
    body = assert_problem(client.get(OPERATOR_ONLY, headers=bearer(expired)), 401)
    assert "expired" in body["detail"]
    expired_refresh = _token(app, "refresh", expires_delta=timedelta(seconds=-1))
    assert_problem(client.post("/api/v1/auth/refresh", headers=bearer(expired_refresh)), 401)


def test_short_lived_access_token_expires(make_app: AppFactory, accounts: dict[str, int]) -> None:
    client = make_app(JWT_ACCESS_TOKEN_EXPIRES=timedelta(seconds=1)).test_client()
    token = login(client, "oper")["access_token"]
    assert client.get(OPERATOR_ONLY, headers=bearer(token)).status_code == 200
    time.sleep(2.1)
    assert_problem(client.get(OPERATOR_ONLY, headers=bearer(token)), 401)


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _quiet_encode(claims: dict[str, Any], key: str, algorithm: str) -> str:
    # The right key with another algorithm (PyJWT warns that the key is short for HS512).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pyjwt.encode(claims, key, algorithm=algorithm)


def forged_tokens(app: Flask) -> dict[str, str]:
    good = _token(app)
    header, payload, signature = good.split(".")
    claims = pyjwt.decode(good, options={"verify_signature": False})
    now = int(time.time())
    base = {**claims, "exp": now + 600}
    secret = app.config["JWT_SECRET_KEY"]
    return {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(base)}.",
        "alg none no dot": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(base)}",
        "other key": pyjwt.encode(base, "another-secret-key-of-enough-length!", algorithm="HS256"),
        "tampered roles": f"{header}.{_b64({**claims, 'roles': ['admin', 'x']})}.{signature}",
        "HS512": _quiet_encode(base, secret, "HS512"),
        "wrong audience": pyjwt.encode({**base, "aud": "someone-else"}, secret, algorithm="HS256"),
        "wrong issuer": pyjwt.encode({**base, "iss": "evil"}, secret, algorithm="HS256"),
        "no signature": f"{header}.{payload}.",
        "garbage": "not.a.token",
        "empty": "",
        "unknown kid": pyjwt.encode(
            base, "another-secret-key-of-enough-length!", algorithm="HS256", headers={"kid": "x"}
        ),
    }


def test_forged_tokens_are_401(app: Flask, client: FlaskClient) -> None:
    for name, token in forged_tokens(app).items():
        response = client.get(OPERATOR_ONLY, headers=bearer(token))
        assert response.status_code == 401, name
        assert_problem(response, 401)
    assert_problem(client.get(OPERATOR_ONLY), 401)  # no token
    assert_problem(client.get(OPERATOR_ONLY, headers={"Authorization": "Basic eDp5"}), 401)
    refresh_as_access = _token(app, "refresh")
    assert_problem(client.get(OPERATOR_ONLY, headers=bearer(refresh_as_access)), 401)
    access_as_refresh = _token(app)
    assert_problem(client.post("/api/v1/auth/refresh", headers=bearer(access_as_refresh)), 401)


def test_roles_missing_role_is_403(client: FlaskClient, accounts: dict[str, int]) -> None:
    reader = login(client, "reader")["access_token"]
    oper = login(client, "oper")["access_token"]
    admin = login(client, "admin")["access_token"]
    assert_problem(client.get(OPERATOR_ONLY, headers=bearer(reader)), 403, "forbidden")
    assert_problem(client.post("/api/v1/admin/refresh", headers=bearer(reader)), 403)
    assert client.get(OPERATOR_ONLY, headers=bearer(oper)).status_code == 200
    assert_problem(client.get(ADMIN_ONLY, headers=bearer(oper)), 403)
    assert client.get(ADMIN_ONLY, headers=bearer(admin)).status_code == 200
    assert client.get(OPERATOR_ONLY, headers=bearer(admin)).status_code == 200  # implied


def test_refresh_rotates_and_revokes_the_old_refresh_token(
    client: FlaskClient, accounts: dict[str, int]
) -> None:
    first = login(client, "oper")
    second = client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"]))
    assert second.status_code == 200
    renewed = second.get_json()
    assert renewed["refresh_token"] != first["refresh_token"] and renewed["roles"] == ["operator"]
    assert client.get(OPERATOR_ONLY, headers=bearer(renewed["access_token"])).status_code == 200
    reused = client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"]))
    body = assert_problem(reused, 401)
    assert "revoked" in body["detail"]
    assert (
        client.post("/api/v1/auth/refresh", headers=bearer(renewed["refresh_token"])).status_code
        == 200
    )


def test_a_role_change_in_the_database_cuts_refresh_tokens_too(
    client: FlaskClient, accounts: dict[str, int], api_dsn: str
) -> None:
    first = login(client, "oper")
    with psycopg.connect(api_dsn) as conn:  # plain SQL: the trigger bumps the version
        conn.execute("UPDATE users SET roles = '{admin}' WHERE username = 'oper'")
    stale = client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"]))
    assert "changed" in assert_problem(stale, 401)["detail"]
    again = login(client, "oper")  # a new login carries the new roles
    assert again["roles"] == ["admin"]
    assert client.get(ADMIN_ONLY, headers=bearer(again["access_token"])).status_code == 200


def test_logout_revokes_access_and_refresh_tokens(
    client: FlaskClient, accounts: dict[str, int]
) -> None:
    tokens = login(client, "oper")
    other = login(client, "oper")
    response = client.post(
        "/api/v1/auth/logout",
        headers=bearer(tokens["access_token"]),
        json={"refresh_token": tokens["refresh_token"]},
    )
    assert response.status_code == 200 and response.get_json() == {"revoked": ["access", "refresh"]}
    assert_problem(client.get(OPERATOR_ONLY, headers=bearer(tokens["access_token"])), 401)
    assert_problem(
        client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])), 401
    )
    # Other sessions of the same user are untouched.
    assert client.get(OPERATOR_ONLY, headers=bearer(other["access_token"])).status_code == 200
    # Someone else's refresh token cannot be revoked with your access token.
    stranger = login(client, "reader")
    bad = client.post(
        "/api/v1/auth/logout",
        headers=bearer(other["access_token"]),
        json={"refresh_token": stranger["refresh_token"]},
    )
    # A well-formed string that is not a refresh token of this user: 422 (the document
    # cannot tell tokens apart; it states the rule in words).
    assert_problem(bad, 422, "invalid_refresh_token")
    assert (
        client.post("/api/v1/auth/logout", headers=bearer(other["access_token"])).status_code == 200
    )


def test_api_key_login_and_revocation(client: FlaskClient, accounts: dict[str, int]) -> None:
    admin = bearer(login(client, "admin")["access_token"])
    created = client.post(
        f"/api/v1/admin/users/{accounts['oper']}/api-keys", headers=admin, json={"name": "bot"}
    )
    assert created.status_code == 201
    key = created.get_json()["key"]
    tokens = client.post("/api/v1/auth/token", json={"api_key": key})
    assert tokens.status_code == 200 and tokens.get_json()["roles"] == ["operator"]
    listed = client.get(f"/api/v1/admin/users/{accounts['oper']}/api-keys", headers=admin)
    entry = listed.get_json()["items"][0]
    assert entry["last_used_at"] is not None and "key" not in entry
    revoked = client.delete(f"/api/v1/admin/api-keys/{entry['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    assert_problem(client.post("/api/v1/auth/token", json={"api_key": key}), 401)


def test_api_keys_are_stored_only_as_hashes(
    client: FlaskClient, accounts: dict[str, int], api_dsn: str
) -> None:
    admin = bearer(login(client, "admin")["access_token"])
    key = client.post(
        f"/api/v1/admin/users/{accounts['reader']}/api-keys", headers=admin, json={"name": "k"}
    ).get_json()["key"]
    secret = key.split("_", 2)[2]
    with psycopg.connect(api_dsn) as conn:
        row = conn.execute("SELECT prefix, secret_hash FROM api_keys").fetchone()
        dump = str(conn.execute("SELECT * FROM api_keys").fetchall())
    assert row is not None and secret not in dump and bytes(row[1]) != secret.encode()


def test_key_rotation_accepts_the_previous_key_while_rotating(
    make_app: AppFactory, accounts: dict[str, int]
) -> None:
    old_key = "old-signing-key-0123456789-abcdefghijklmnop"
    new_key = "new-signing-key-9876543210-zyxwvutsrqponmlk"
    old_app = make_app(JWT_SECRET_KEY=old_key)
    token = login(old_app.test_client(), "oper")["access_token"]
    assert pyjwt.get_unverified_header(token)["kid"] == key_id(old_key)
    rotating = make_app(JWT_SECRET_KEY=new_key, JWT_PREVIOUS_SECRET_KEY=old_key).test_client()
    assert rotating.get(OPERATOR_ONLY, headers=bearer(token)).status_code == 200
    fresh = login(rotating, "oper")["access_token"]
    assert pyjwt.get_unverified_header(fresh)["kid"] == key_id(new_key)
    rotated = make_app(JWT_SECRET_KEY=new_key).test_client()
    assert_problem(rotated.get(OPERATOR_ONLY, headers=bearer(token)), 401)
    assert rotated.get(OPERATOR_ONLY, headers=bearer(fresh)).status_code == 200


def test_revocation_check_fails_closed_when_redis_is_down(
    make_app: AppFactory, accounts: dict[str, int]
) -> None:
    token = login(make_app().test_client(), "oper")["access_token"]
    down = f"redis://127.0.0.1:{free_port()}/0"
    client = make_app(settings={"redis_url": down}).test_client()
    assert_problem(client.get(OPERATOR_ONLY, headers=bearer(token)), 503)
    # Public reads with (or without) a token keep working.
    assert client.get("/api/v1/formats", headers=bearer(token)).status_code == 200
