"""JWT for operators and machine clients (flask-jwt-extended), roles, revocation.

* Tokens travel in the ``Authorization: Bearer`` header only (no cookies, so no CSRF).
  HS256 only — a token with ``alg: none`` or any other algorithm is refused — with issuer
  ``manalytics`` and audience ``manalytics-api`` checked; ``sub`` is the user id as a string
  (PyJWT ≥ 2.10 rejects non-string subjects); claims carry ``roles`` and ``username``.
* Access tokens live ``JWT_ACCESS_TOKEN_MINUTES`` (15), refresh tokens
  ``JWT_REFRESH_TOKEN_DAYS`` (7). ``/auth/refresh`` re-reads the user (a disabled user or
  changed roles take effect) and rotates the refresh token (the old one is revoked).
* Revocation list in Redis (logical database ``blocklist``): one key per ``jti`` that expires
  with the token. The check fails **closed**: with Redis unreachable a protected endpoint
  answers 503, never lets a possibly revoked token through. Public reads never check it.
* Key rotation: tokens carry a ``kid`` header (digest of the signing key). The key named by
  ``kid`` verifies the token: ``JWT_SECRET_KEY`` or, while rotating, ``JWT_PREVIOUS_SECRET_KEY``
  (ops/runbooks/api.md).
* Account state: every token carries the account's ``token_version`` (claim ``ver``, see
  :mod:`pipelines.auth.stamps`). Each authenticated request checks that the account still
  exists, is enabled and has that version, and takes the roles from the account as it is
  now — deleting, disabling, demoting an account or changing its password cuts its tokens at
  once. Like the revocation list, the check fails closed (503) when Redis cannot answer.
* Claims: ``exp``, ``iat``, ``nbf``, ``jti``, ``type``, ``sub``, ``ver``, ``iss`` and ``aud``
  are required; a token signed with the right key but missing one is refused.
* Every failure is a 401 problem response; a valid token without the role is a 403.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from typing import Any

import redis
from flask import Flask, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    decode_token,
    get_jwt,
    verify_jwt_in_request,
)
from jwt.exceptions import InvalidTokenError, MissingRequiredClaimError

from api.errors import ApiError, problem
from pipelines.auth.stamps import AccountState, load_state
from pipelines.auth.users import User, has_role
from pipelines.core.settings import Settings

ISSUER = "manalytics"
AUDIENCE = "manalytics-api"
ALGORITHM = "HS256"
# Claims a token must carry (PyJWT checks presence; the values are checked as usual).
REQUIRED_CLAIMS = ("exp", "iat", "nbf", "jti", "type", "sub", "ver", "iss", "aud")


def key_id(key: str) -> str:
    """Public identifier of a signing key (the ``kid`` header): never the key itself."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def jwt_config(settings: Settings) -> dict[str, Any]:
    """flask-jwt-extended configuration from settings (ENGINEERING.md §5, JWT rows)."""
    return {
        "JWT_SECRET_KEY": settings.jwt_secret_key,
        "JWT_PREVIOUS_SECRET_KEY": settings.jwt_previous_secret_key,
        "JWT_ALGORITHM": ALGORITHM,
        "JWT_DECODE_ALGORITHMS": [ALGORITHM],
        "JWT_TOKEN_LOCATION": ["headers"],
        "JWT_HEADER_NAME": "Authorization",
        "JWT_HEADER_TYPE": "Bearer",
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=settings.jwt_access_token_minutes),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=settings.jwt_refresh_token_days),
        "JWT_ENCODE_ISSUER": ISSUER,
        "JWT_DECODE_ISSUER": ISSUER,
        "JWT_ENCODE_AUDIENCE": AUDIENCE,
        "JWT_DECODE_AUDIENCE": AUDIENCE,
        "JWT_ERROR_MESSAGE_KEY": "detail",
        "JWT_DECODE_LEEWAY": 0,
    }


class Blocklist:
    """Revoked token ids in Redis, each expiring when its token would have."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self._client: redis.Redis | None = None

    @property
    def client(self) -> redis.Redis:
        """Client with short timeouts (a protected call waits at most ~1 s on a dead Redis)."""
        if self._client is None:
            self._client = redis.Redis.from_url(
                self.url, socket_connect_timeout=0.5, socket_timeout=0.5, retry_on_timeout=False
            )
        return self._client

    def revoke(self, jti: str, expires_at: int) -> None:
        """Revoke ``jti`` until ``expires_at`` (epoch seconds)."""
        ttl = max(1, int(expires_at - time.time()) + 1)
        self.client.set(f"{self.prefix}:{jti}", b"1", ex=ttl)

    def is_revoked(self, jti: str) -> bool:
        """True when revoked; raises ``redis.RedisError`` when unknown (fail closed)."""
        return bool(self.client.exists(f"{self.prefix}:{jti}"))

    def close(self) -> None:
        """Drop connections."""
        if self._client is not None:
            self._client.close()
            self._client = None


def require_claims(payload: dict[str, Any]) -> None:
    """Raise ``MissingRequiredClaimError`` (a 401) unless every required claim is there with
    a sensible type."""
    for claim in REQUIRED_CLAIMS:
        if claim not in payload:
            raise MissingRequiredClaimError(claim)
    for claim in ("exp", "iat", "nbf", "ver"):
        value = payload[claim]
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidTokenError(f"claim {claim!r} must be an integer")
    if payload["type"] not in {"access", "refresh"}:
        raise InvalidTokenError("claim 'type' must be access or refresh")
    if not isinstance(payload["jti"], str) or not payload["jti"]:
        raise InvalidTokenError("claim 'jti' must be a non-empty string")


def _unauthorized(detail: str) -> ResponseReturnValue:
    return problem(401, detail, code="invalid_token")


def init_jwt(app: Flask) -> JWTManager:
    """Create the app's JWT manager and its callbacks (one per app: callbacks are per
    instance, configuration is read from ``app.config`` at use)."""
    manager = JWTManager(app)

    @manager.additional_headers_loader
    def _headers(identity: Any) -> dict[str, str]:
        return {"kid": key_id(current_app.config["JWT_SECRET_KEY"])}

    @manager.decode_key_loader
    def _decode_key(header: dict[str, Any], payload: dict[str, Any]) -> str:
        # flask-jwt-extended fills a missing "type" with "access" and a missing "jti" with
        # None, and PyJWT accepts a token without "exp" (it never expires): refuse them here,
        # on the raw claims, before the signature is even checked.
        require_claims(payload)
        # kid is unverified input: it only chooses among our own keys; the signature check
        # that follows decides. An unknown kid gets the current key (and fails to verify).
        current = current_app.config["JWT_SECRET_KEY"]
        previous = current_app.config.get("JWT_PREVIOUS_SECRET_KEY")
        if previous and header.get("kid") == key_id(previous):
            return str(previous)
        return str(current)

    @manager.token_in_blocklist_loader
    def _revoked(header: dict[str, Any], payload: dict[str, Any]) -> bool:
        from api.resources import resources

        return resources().blocklist.is_revoked(str(payload["jti"]))

    manager.unauthorized_loader(lambda reason: _unauthorized(f"authentication required: {reason}"))
    manager.invalid_token_loader(lambda reason: _unauthorized(f"invalid token: {reason}"))
    manager.expired_token_loader(lambda h, p: _unauthorized("token has expired"))
    manager.revoked_token_loader(lambda h, p: _unauthorized("token has been revoked"))
    manager.token_verification_failed_loader(lambda h, p: _unauthorized("token refused"))
    manager.user_lookup_error_loader(lambda h, p: _unauthorized("unknown user"))
    manager.needs_fresh_token_loader(lambda h, p: _unauthorized("fresh token required"))
    return manager


def authorize(kind: str) -> AccountState:
    """Enforce an endpoint's ``auth``: ``token`` (any access token), ``refresh`` (a refresh
    token), or a role (``operator``/``admin``). Raises the 401/403; returns the account's
    current state."""
    verify_jwt_in_request(refresh=kind == "refresh")
    state = current_account()
    if kind not in {"token", "refresh"} and not has_role(state.roles, kind):
        raise ApiError(403, f"this operation needs the {kind!r} role", code="forbidden")
    return state


def current_account() -> AccountState:
    """The state of the verified token's account, checked against the token (401 when the
    account is gone, disabled, or changed since the token was issued)."""
    from api.resources import resources

    claims = get_jwt()
    try:
        user_id = int(claims["sub"])
        version = int(claims["ver"])
    except (KeyError, TypeError, ValueError):
        raise ApiError(401, "invalid token: bad subject or version", code="invalid_token") from None
    res = resources()

    def load() -> AccountState | None:
        with res.db.read() as conn:
            return load_state(conn, user_id)

    state = res.accounts.get(user_id, load)
    if state is None or state.disabled:
        raise ApiError(401, "the account is disabled or gone", code="invalid_token")
    if state.version != version:
        raise ApiError(
            401, "the account changed since this token was issued; log in again",
            code="invalid_token",
        )  # fmt: skip
    return state


def request_identity() -> str | None:
    """``sub`` of a valid access token in the request, else ``None`` (cached per request).

    Used to key rate limits per client; it checks the signature and expiry but not the
    revocation list (no Redis round trip on public reads). Bad tokens count as anonymous.
    """
    if "identity" in g:
        return g.identity
    identity = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and len(header) < 4096:
        try:
            payload = decode_token(header[7:].strip())
        except Exception:  # any invalid token: treat the request as anonymous
            payload = None
        if payload and payload.get("type") == "access":
            identity = str(payload.get("sub"))
    g.identity = identity
    return identity


def issue_tokens(user: User, version: int) -> dict[str, Any]:
    """A fresh access/refresh token pair for ``user`` at account version ``version``."""
    claims = {"roles": list(user.roles), "username": user.username, "ver": version}
    access = create_access_token(identity=str(user.id), additional_claims=claims)
    refresh = create_refresh_token(identity=str(user.id), additional_claims=claims)
    config = current_app.config
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": int(config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()),
        "refresh_expires_in": int(config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds()),
        "roles": list(user.roles),
    }


__all__ = [
    "ALGORITHM",
    "AUDIENCE",
    "ISSUER",
    "REQUIRED_CLAIMS",
    "Blocklist",
    "authorize",
    "current_account",
    "init_jwt",
    "issue_tokens",
    "jwt_config",
    "key_id",
    "request_identity",
    "require_claims",
]
