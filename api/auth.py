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

from api.errors import ApiError, problem
from pipelines.auth.users import User, has_role
from pipelines.core.settings import Settings

ISSUER = "manalytics"
AUDIENCE = "manalytics-api"
ALGORITHM = "HS256"


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


def authorize(kind: str) -> None:
    """Enforce an endpoint's ``auth``: ``token`` (any access token), ``refresh`` (a refresh
    token), or a role (``operator``/``admin``). Raises the 401/403."""
    verify_jwt_in_request(refresh=kind == "refresh")
    if kind in {"token", "refresh"}:
        return
    roles = get_jwt().get("roles") or []
    if not isinstance(roles, list) or not has_role([str(r) for r in roles], kind):
        raise ApiError(403, f"this operation needs the {kind!r} role", code="forbidden")


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


def issue_tokens(user: User) -> dict[str, Any]:
    """A fresh access/refresh token pair for ``user``."""
    claims = {"roles": list(user.roles), "username": user.username}
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
    "Blocklist",
    "authorize",
    "init_jwt",
    "issue_tokens",
    "jwt_config",
    "key_id",
    "request_identity",
]
