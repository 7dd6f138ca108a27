"""One JSON error shape for every failure (RFC 9457 problem details).

Every 4xx/5xx answer of the API — raised by a view, by routing (404/405), by the rate
limiter (429), by flask-jwt-extended (401) or by an unexpected exception (500) — is::

    Content-Type: application/problem+json
    {"type": "about:blank", "title": "Bad Request", "status": 400, "code": "invalid_parameter",
     "detail": "…", "request_id": "…", "errors": [{"field": "limit", "reason": "…"}]}

``errors`` is present only for validation failures (400/422). ``request_id`` is the
``X-Request-ID`` of the response, so a client report can be matched with the server log.
Error responses are never cached (``Cache-Control: no-store``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, cast

import psycopg
import redis
from flask import Flask, Response, current_app, g
from flask_limiter import RateLimitExceeded
from limits.errors import StorageError
from psycopg_pool import PoolTimeout
from werkzeug.exceptions import HTTPException

from pipelines.stats.store import NotFound as StatsNotFound

log = logging.getLogger("manalytics.api.errors")

PROBLEM_MIMETYPE = "application/problem+json"
# Default machine-readable code per status (a view may pass a more specific one).
_CODES: Mapping[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}
# Response headers of a werkzeug HTTPException worth keeping (405 must say what is allowed).
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ApiError(Exception):
    """An error a view raises to answer with a problem response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})


def problem(
    status: int,
    detail: str | None = None,
    *,
    code: str | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The problem response for ``status``."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "code": code or _CODES.get(status, "error"),
        "detail": detail or title,
        "request_id": g.get("request_id"),
    }
    if errors:
        body["errors"] = [dict(e) for e in errors]
    response = cast(Response, current_app.json.response(body))
    response.status_code = status
    response.mimetype = PROBLEM_MIMETYPE
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if "Retry-After" in response.headers:
        # flask-limiter's after_request rewrites Retry-After to its own window; the
        # observability hook (which runs after it) puts this value back.
        g.retry_after = response.headers["Retry-After"]
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="manalytics"')
    return response


def _http_exception(exc: HTTPException) -> Response | HTTPException:
    if exc.code is None or exc.code < 400:
        return exc  # routing redirects (308 for a missing trailing slash) stay as they are
    headers = {k: v for k, v in exc.get_headers() if k in _KEPT_HEADERS}
    detail = exc.description if isinstance(exc.description, str) else None
    return problem(exc.code, detail, headers=headers)


def _rate_limited(exc: RateLimitExceeded) -> Response:
    # X-RateLimit-* and Retry-After are added by the limiter's after_request hook.
    return problem(
        429, f"rate limit exceeded ({exc.description}); retry later", code="rate_limited"
    )


def _unavailable(exc: Exception) -> Response:
    # A dependency is down: 503 so clients and load balancers retry elsewhere/later. The
    # exception text may hold host names or URLs: log it, do not return it.
    log.warning("dependency unavailable: %s: %s", type(exc).__name__, exc)
    return problem(
        503,
        "a backing service is temporarily unavailable; retry later",
        code="dependency_unavailable",
        headers={"Retry-After": "5"},
    )


def _internal(exc: Exception) -> Response:
    log.exception("unhandled error", extra={"request_id": g.get("request_id")})
    return problem(500, "internal error; quote the request id when reporting it")


def register_error_handlers(app: Flask) -> None:
    """Install the handlers (Flask picks the most specific class for each exception)."""
    app.register_error_handler(ApiError, lambda e: problem(
        e.status, e.detail, code=e.code, errors=e.errors, headers=e.headers
    ))  # fmt: skip
    app.register_error_handler(StatsNotFound, lambda e: problem(404, str(e)))
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    app.register_error_handler(HTTPException, _http_exception)
    for unavailable in (
        psycopg.OperationalError,
        PoolTimeout,
        redis.RedisError,
        StorageError,
        ConnectionError,
        TimeoutError,
    ):
        app.register_error_handler(unavailable, _unavailable)
    app.register_error_handler(Exception, _internal)


__all__ = ["PROBLEM_MIMETYPE", "ApiError", "problem", "register_error_handlers"]
