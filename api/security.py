"""Client address behind proxies, security headers (flask-talisman), CORS.

**Client address.** With ``TRUSTED_PROXY_COUNT = n > 0``, werkzeug's ``ProxyFix`` takes the
client address from the n-th ``X-Forwarded-For`` entry counted from the right — the one our
own outermost proxy appended — and the scheme from ``X-Forwarded-Proto`` the same way.
Entries a client adds itself are further left and ignored, so the rate-limit key cannot be
spoofed. With ``n = 0`` (default) forwarded headers are ignored entirely: the socket peer is
the client. Set ``n`` to exactly the number of proxies: too high lets clients spoof, too low
puts every client behind one proxy address. The headers themselves are then removed, and the
HTTPS redirect is done to allowed host names only (:mod:`api.edge`).

**Headers** (every response): ``Strict-Transport-Security: max-age=31536000`` on HTTPS
requests, ``Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; base-uri
'none'; form-action 'none'`` (a JSON API loads nothing; the HTML pages get
:data:`PAGE_CSP`, same-origin only), ``X-Frame-Options: DENY``,
``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``. With ``FORCE_HTTPS``
(default in production) plain-HTTP requests are redirected to HTTPS (:mod:`api.edge`), except
``/health``, ``/ready`` and ``/metrics`` (probes and scrapers inside the network speak plain
HTTP): views marked :func:`allow_plain_http`.

**CORS**: only for origins listed in ``CORS_ORIGINS`` (``'*'`` is refused in production by
the settings module). Allowed origins get ``Access-Control-Allow-Origin: <origin>`` and the
headers a client needs to read (ETag, rate-limit headers, request id); other origins get no
CORS header, so browsers block the read. No credentials mode: tokens travel in the
``Authorization`` header, never in cookies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from flask_talisman import DENY, Talisman

from api.edge import init_edge
from pipelines.core.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

CSP = {
    "default-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'none'",
}
# The HTML pages and /docs: scripts, styles, images and fetches from this origin only (no
# inline script or style, no eval, no CDN); forms (the window pickers) submit to self.
PAGE_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",  # data: for the icons swagger-ui's stylesheet embeds
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
}
HSTS_MAX_AGE = 365 * 24 * 3600
CORS_ALLOW_METHODS = "GET, HEAD, POST, PATCH, DELETE, OPTIONS"
CORS_ALLOW_HEADERS = "Authorization, Content-Type, If-None-Match, X-Request-ID"
CORS_EXPOSE_HEADERS = (
    "ETag, X-Request-ID, X-Cache, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, "
    "X-RateLimit-Reset, Server-Timing"
)
CORS_MAX_AGE = "600"

# Only sets an attribute on the view; any Talisman instance can build this decorator.
_view_options = Talisman()


def allow_plain_http(view: F) -> F:
    """Exempt a view from the HTTPS redirect (health probes and metrics scrapers)."""
    return _view_options(force_https=False)(view)


def page_view(view: F) -> F:
    """Serve a view under :data:`PAGE_CSP` (HTML pages) instead of the API's ``'none'``."""
    return _view_options(content_security_policy=PAGE_CSP)(view)


def init_talisman(app: Flask) -> Talisman:
    """Security headers for every response (one Talisman per app: it keeps the app).

    Its own HTTPS redirect stays off: it trusts a raw ``X-Forwarded-Proto`` and redirects to
    whatever ``Host`` says (:mod:`api.edge` does it right).
    """
    return Talisman(
        app,
        force_https=False,
        force_https_permanent=True,
        strict_transport_security=True,
        strict_transport_security_max_age=HSTS_MAX_AGE,
        # Only if every subdomain serves HTTPS; not ours to promise by default.
        strict_transport_security_include_subdomains=False,
        strict_transport_security_preload=False,
        content_security_policy=CSP,
        frame_options=DENY,
        referrer_policy="no-referrer",
        x_content_type_options=True,
        session_cookie_secure=True,
    )


def _cors(response: Response) -> Response:
    allowed: tuple[str, ...] = current_app.config["CORS_ORIGINS"]
    if not allowed:
        return response
    response.vary.add("Origin")  # shared caches must not hand one origin's answer to another
    origin = request.headers.get("Origin")
    if not origin:
        return response
    if "*" in allowed:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin.rstrip("/") in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
    else:
        return response
    response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
    if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
        response.headers["Access-Control-Allow-Methods"] = CORS_ALLOW_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
    return response


def init_security(app: Flask, settings: Settings) -> Talisman:
    """Proxy trust, Talisman and CORS, from settings (config overrides win)."""
    init_edge(app)
    talisman = init_talisman(app)
    app.after_request(_cors)
    return talisman


__all__ = ["CSP", "PAGE_CSP", "allow_plain_http", "init_security", "page_view"]
