"""What a request may claim about itself before the API believes it (issue 12).

* **Forwarded headers** count only when they come through the configured number of trusted
  proxies (``TRUSTED_PROXY_COUNT``): werkzeug's ``ProxyFix`` takes the client address and the
  scheme from that hop, then every ``X-Forwarded-*`` / ``Forwarded`` / ``X-Real-IP`` header is
  removed from the request, so nothing further in (flask-talisman reads ``X-Forwarded-Proto``
  raw, so would any future code) can be talked into believing a client. With ``0`` proxies a
  direct client's ``X-Forwarded-Proto: https`` changes nothing. gunicorn is told to trust no
  scheme header either (``ops/gunicorn.conf.py``): this is the one place.
* **Methods**: a method no route knows is renamed ``OTHER`` at the edge (it gets its 405 all
  the same), so a client cannot mint new metric labels or log values by inventing methods.
* **Hosts**: with ``ALLOWED_HOSTS`` set, a request for any other host gets a 400 problem
  (probes — views marked :func:`api.security.allow_plain_http` — answer whatever the Host,
  since load balancers call them by address).
* **HTTPS redirect** (``FORCE_HTTPS``): a plain-HTTP request is redirected only to a host
  listed in ``ALLOWED_HOSTS`` — never to whatever the ``Host`` header says — with 301 for
  GET/HEAD and 308 for other methods (which keeps the method and body). Without a listed
  host it gets a 400 problem saying to use HTTPS.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask, current_app, redirect, request
from flask.typing import ResponseReturnValue
from werkzeug.middleware.proxy_fix import ProxyFix

from api.errors import problem

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "OTHER"
_FORWARDED_PREFIXES = ("HTTP_X_FORWARDED_", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


class EdgeMiddleware:
    """WSGI: forget forwarded headers (after ProxyFix used the trusted ones) and unknown
    method names."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        for key in [k for k in environ if k.startswith(_FORWARDED_PREFIXES)]:
            del environ[key]
        if environ.get("REQUEST_METHOD", "GET").upper() not in KNOWN_METHODS:
            environ["REQUEST_METHOD"] = OTHER_METHOD
        return self.app(environ, start_response)


def install_edge(app: Flask, trusted_proxies: int) -> None:
    """ProxyFix for exactly ``trusted_proxies`` hops (outermost), then :class:`EdgeMiddleware`."""
    inner = EdgeMiddleware(app.wsgi_app)
    if trusted_proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            inner, x_for=trusted_proxies, x_proto=trusted_proxies
        )
    else:
        app.wsgi_app = inner  # type: ignore[method-assign]


def _host_name(host: str) -> str:
    """``host[:port]`` without the port, lower-case (IPv6 literals keep their brackets)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_host(host: str, allowed: Iterable[str]) -> str | None:
    """The ``ALLOWED_HOSTS`` entry ``host`` matches (by name, or name and port), else None."""
    wanted = host.strip().lower()
    for entry in allowed:
        if wanted == entry or _host_name(wanted) == entry:
            return entry
    return None


def _plain_http_allowed() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    options = getattr(view, "talisman_view_options", {})
    return options.get("force_https", True) is False


def _check_host_and_scheme() -> ResponseReturnValue | None:
    config = current_app.config
    allowed: tuple[str, ...] = config["ALLOWED_HOSTS"]
    probe = _plain_http_allowed()
    entry = allowed_host(request.host, allowed) if allowed else None
    if allowed and entry is None and not probe:
        return problem(400, "unknown host name", code="unknown_host")
    if not config["FORCE_HTTPS"] or request.is_secure or probe:
        return None
    if entry is None:
        return problem(400, "plain HTTP is refused: use https://", code="https_required")
    code = 301 if request.method in {"GET", "HEAD"} else 308
    query = request.query_string.decode("latin-1")
    target = f"https://{entry}{request.path}" + (f"?{query}" if query else "")
    return redirect(target, code=code)


def init_edge(app: Flask) -> None:
    """Install the WSGI edge and the host/scheme check (before any other request hook)."""
    install_edge(app, int(app.config["TRUSTED_PROXY_COUNT"]))
    app.before_request(_check_host_and_scheme)


__all__ = [
    "KNOWN_METHODS",
    "OTHER_METHOD",
    "EdgeMiddleware",
    "allowed_host",
    "init_edge",
    "install_edge",
]
