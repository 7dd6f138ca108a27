"""Rate limits (flask-limiter, Redis storage in the ``limiter`` logical database).

* One application-wide budget per client, shared by every route: ``RATELIMIT_DEFAULT`` per
  client IP for anonymous requests, ``RATELIMIT_AUTHENTICATED`` per user (``sub`` of a valid
  access token) for authenticated ones — so clients behind one NAT can authenticate to get
  their own budget. The IP is the one :mod:`api.security` derived behind the trusted proxies.
* ``/auth/*`` additionally allows ``RATELIMIT_AUTH`` per client IP (password guessing).
* ``/health``, ``/ready``, ``/metrics`` are exempt. Everything else counts, answers of no
  route (404, 405) included: they are limited as one ``unmatched`` endpoint.
* Reads are priced by what they cost: an endpoint's ``cost`` (``@endpoint(cost=…)``, default
  1) is taken from the budget per request — the filtered base-table lists (decks,
  tournaments) cost more than a cached statistics read.
* A limited request gets 429 with the JSON problem body, ``Retry-After`` and
  ``X-RateLimit-Limit/-Remaining/-Reset``; every limited route sends the X-RateLimit headers.

**Storage down** (``RATELIMIT_FAIL_OPEN``, default true): the limiter switches to per-process
in-memory counters (the same limits, counted per gunicorn worker, so a client gets at most
workers × limit) and checks Redis again with exponential backoff; reads keep being served.
With ``RATELIMIT_FAIL_OPEN=false`` every rate-limited request answers 503 while the storage
is down (choose it when abuse is worse than downtime). Fail-open is the default because
the data is public and read-only: refusing all reads because a counter store is down would
turn a Redis incident into a full outage.

Why a :class:`Limiter` per app instead of a module singleton: flask-limiter keeps settings
such as ``swallow_errors`` and the fallback on the instance after the first ``init_app``, so
a second app (tests) would silently inherit the first one's configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, request
from flask_limiter import Limiter

from api.auth import request_identity

# Sliding window counter: smoother than a fixed window (no double burst at the boundary) and
# cheaper with headers on: one Redis round trip to count, one for the headers' window stats
# (a fixed window needs GET + TTL for the latter).
STRATEGY = "sliding-window-counter"
# Redis timeouts of the limiter's storage: a dead Redis costs a request this much at most,
# then the in-memory fallback takes over until a background re-check succeeds.
STORAGE_OPTIONS: dict[str, Any] = {"socket_connect_timeout": 0.25, "socket_timeout": 0.5}


def client_ip() -> str:
    """The client address (after ProxyFix when proxies are trusted)."""
    return request.remote_addr or "unknown"


def rate_limit_key() -> str:
    """Per user when a valid access token is presented, else per client IP."""
    identity = request_identity()
    return f"user:{identity}" if identity else f"ip:{client_ip()}"


def ip_key() -> str:
    """Per client IP (the /auth budget: tokens do not buy more password guesses)."""
    return f"ip:{client_ip()}"


def _application_limit() -> str:
    config = current_app.config
    return str(
        config["API_RATELIMIT_AUTHENTICATED"]
        if request_identity()
        else config["API_RATELIMIT_DEFAULT"]
    )


def _auth_limit() -> str:
    return str(current_app.config["API_RATELIMIT_AUTH"])


UNMATCHED = "unmatched"


def _request_identifier() -> str:
    # flask-limiter exempts requests without an endpoint (404/405): name them instead.
    return request.endpoint or UNMATCHED


def _cost() -> int:
    view = current_app.view_functions.get(request.endpoint or "")
    priced = getattr(view, "request_cost", None)
    if priced is not None:
        return int(priced())
    spec = getattr(view, "endpoint_spec", None)
    return int(getattr(spec, "cost", 1))


V = TypeVar("V", bound=Callable[..., Any])


def priced(cost: Callable[[], int]) -> Callable[[V], V]:
    """Price a view by its request (e.g. a custom window drawn on request costs more than a
    stored chart): ``cost()`` is called with the request context, before the view."""

    def decorate(view: V) -> V:
        view.request_cost = cost  # type: ignore[attr-defined]
        return view

    return decorate


def init_limiter(app: Flask, storage_uri: str, key_prefix: str) -> Limiter:
    """The app's limiter (configuration from ``app.config``, see the module docstring)."""
    fail_open = bool(app.config["API_RATELIMIT_FAIL_OPEN"])
    limiter = Limiter(
        key_func=rate_limit_key,
        application_limits=[_application_limit],
        application_limits_cost=_cost,
        request_identifier=_request_identifier,
        storage_uri=storage_uri,
        storage_options=dict(STORAGE_OPTIONS),
        strategy=STRATEGY,
        headers_enabled=True,
        swallow_errors=fail_open,
        in_memory_fallback_enabled=fail_open,
        key_prefix=key_prefix,
        enabled=bool(app.config.get("RATELIMIT_ENABLED", True)),
    )
    limiter.init_app(app)
    return limiter


def apply_blueprint_limits(limiter: Limiter, auth: Blueprint, exempt: Blueprint) -> None:
    """The stricter /auth budget and the exemption of the health blueprint."""
    limiter.limit(_auth_limit, key_func=ip_key, scope="auth")(auth)
    limiter.exempt(exempt)


__all__ = [
    "apply_blueprint_limits",
    "client_ip",
    "init_limiter",
    "ip_key",
    "priced",
    "rate_limit_key",
]
