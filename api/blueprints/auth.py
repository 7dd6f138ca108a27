"""Tokens: ``POST /api/v1/auth/token``, ``/auth/refresh``, ``/auth/logout``.

Rate limited per client IP by ``RATELIMIT_AUTH`` on top of the global budget (see
:mod:`api.limits`), and per account name by a capped back-off that spares the addresses the
account logged in from before (:mod:`pipelines.auth.backoff`). A failed login answers the
same 401 whether the user is unknown, the password wrong or the account disabled, and takes
the same time (one bcrypt verification in every case); the back-off treats unknown names
like known ones.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue
from flask_jwt_extended import decode_token, get_jwt

from api.auth import issue_tokens
from api.errors import ApiError
from api.limits import client_ip
from api.params import Field
from api.resources import resources
from api.schemas import endpoint
from pipelines.auth.stamps import load_state
from pipelines.auth.users import UserNotFound, authenticate, authenticate_api_key, get_user

log = logging.getLogger("manalytics.api.auth")
blueprint = Blueprint("auth", __name__)

_BAD_CREDENTIALS = "invalid credentials"


def _rounds() -> int:
    return int(current_app.config["BCRYPT_ROUNDS"])


@blueprint.post("/auth/token")
@endpoint(
    summary="Get an access and a refresh token (user name + password, or an API key)",
    tags=["auth"],
    body=(
        Field("username", description="user name", max_length=64),
        Field("password", description="password", max_length=200),
        Field("api_key", description="API key (instead of user name and password)", max_length=100),
    ),
    response="Tokens",
    errors=(401, 429),
    body_alternatives=(("username", "password"), ("api_key",)),
)
def token(body: dict[str, Any]) -> ResponseReturnValue:
    """Exchange credentials for tokens."""
    res = resources()
    if "api_key" in body:  # exactly one alternative: checked by @endpoint
        with res.db.write() as conn:
            user = authenticate_api_key(conn, body["api_key"])
            state = load_state(conn, user.id) if user else None
        method = "api_key"
    else:
        address = client_ip()
        verdict = res.logins.check(body["username"], address)
        if not verdict.allowed:
            raise ApiError(
                429,
                "too many failed logins for this account; retry later",
                code="login_backoff",
                headers={"Retry-After": str(verdict.retry_after)},
            )
        with res.db.write() as conn:
            user = authenticate(conn, body["username"], body["password"], rounds=_rounds())
            state = load_state(conn, user.id) if user else None
        if user is None:
            res.logins.failed(body["username"])
        else:
            res.logins.succeeded(body["username"], address)
        method = "password"
    if user is None or state is None:
        log.info("login failed (%s)", method)
        raise ApiError(401, _BAD_CREDENTIALS, code="invalid_credentials")
    log.info("login of user %s (%s)", user.id, method, extra={"user": str(user.id)})
    return issue_tokens(user, state.version)


@blueprint.post("/auth/refresh")
@endpoint(
    summary="New token pair from a refresh token (the refresh token is rotated)",
    tags=["auth"],
    auth="refresh",
    response="Tokens",
)
def refresh() -> ResponseReturnValue:
    """Rotate: the presented refresh token is revoked, a new pair is issued. The account
    was checked by ``@endpoint`` (exists, enabled, unchanged since the token was issued)."""
    claims = get_jwt()
    res = resources()
    try:
        with res.db.read() as conn:
            user = get_user(conn, int(claims["sub"]))
    except (UserNotFound, ValueError):
        raise ApiError(401, "the account is disabled or gone", code="invalid_token") from None
    res.blocklist.revoke(str(claims["jti"]), int(claims["exp"]))
    return issue_tokens(user, int(claims["ver"]))


@blueprint.post("/auth/logout")
@endpoint(
    summary="Revoke the access token (and a refresh token given in the body)",
    tags=["auth"],
    auth="token",
    body=(
        Field(
            "refresh_token",
            description="also revoke this refresh token (one of this user's, else 422)",
            max_length=4096,
        ),
    ),
    response="Logout",
    errors=(422,),
)
def logout(body: dict[str, Any]) -> ResponseReturnValue:
    """Revoke tokens until they would have expired."""
    res = resources()
    claims = get_jwt()
    revoked = ["access"]
    refresh_token = body.get("refresh_token")
    if refresh_token:
        try:
            other = decode_token(refresh_token)
        except Exception:  # invalid, expired or forged: say so, revoke nothing more
            other = None
        if not other or other.get("type") != "refresh" or other.get("sub") != claims["sub"]:
            raise ApiError(
                422,
                "refresh_token is not a valid refresh token of this user",
                code="invalid_refresh_token",
                errors=[{"field": "refresh_token", "reason": "invalid token"}],
            )
        res.blocklist.revoke(str(other["jti"]), int(other["exp"]))
        revoked.append("refresh")
    res.blocklist.revoke(str(claims["jti"]), int(claims["exp"]))
    return {"revoked": revoked}
