"""``GET /openapi.json`` (also ``/api/v1/openapi.json``) and ``GET /api/v1/ping``.

``/api/v1/ping`` is the trivial JSON endpoint: it goes through the same middleware as every
read (request id, security headers, rate limit, metrics) and answers a constant, so it is
both a client connectivity check and the baseline of the read benchmark (ops/bench/api.py).
"""

from __future__ import annotations

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue

from api.openapi import build_document
from api.resources import resources

blueprint = Blueprint("service", __name__)

_PING = b'{"status":"ok"}'


@blueprint.get("/api/v1/ping")
def ping() -> ResponseReturnValue:
    """A constant JSON answer."""
    return current_app.response_class(_PING, mimetype="application/json")


@blueprint.get("/openapi.json")
@blueprint.get("/api/v1/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI document (built once per process)."""
    res = resources()
    if res.openapi_document is None:
        res.openapi_document = current_app.json.dumps(build_document(current_app)).encode()
    response = current_app.response_class(res.openapi_document, mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
