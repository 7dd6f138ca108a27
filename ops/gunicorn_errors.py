"""gunicorn's own error answers as the API's JSON problem documents (issue 12, defect 11).

gunicorn answers some requests before the app sees them — a request line longer than
``limit_request_line`` (414), headers beyond ``limit_request_fields`` /
``limit_request_field_size`` (431), a malformed request (400) — with an HTML page. Every
gunicorn worker writes those through ``gunicorn.util.write_error``; :func:`install` (called by
``ops/gunicorn.conf.py`` in the master, before workers fork) replaces it with
:func:`write_problem`, which writes the same ``application/problem+json`` shape, headers and
request id as :mod:`api.errors`. gunicorn's message is logged by gunicorn, not sent (it may
echo what the client sent).
"""

from __future__ import annotations

import json
import socket
import uuid
from http import HTTPStatus

from gunicorn import util

_CODES = {
    400: "bad_request",
    403: "forbidden",
    414: "uri_too_long",
    417: "expectation_failed",
    431: "header_fields_too_large",
    500: "internal_error",
    501: "not_implemented",
}
# The headers every API answer carries (api.security / api.observability).
_HEADERS = (
    ("Content-Type", "application/problem+json"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Connection", "close"),
)


def problem_bytes(status: int) -> bytes:
    """The full HTTP answer for ``status`` (status line, headers, JSON body)."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    request_id = uuid.uuid4().hex
    detail = {
        414: "the request line (URL) is too long",
        431: "the request headers are too large",
    }.get(status, "the server could not read the request")
    body = json.dumps(
        {
            "type": "about:blank",
            "title": title,
            "status": status,
            "code": _CODES.get(status, "error"),
            "detail": detail,
            "request_id": request_id,
        },
        separators=(",", ":"),
    ).encode()
    lines = [f"HTTP/1.1 {status} {title}", *(f"{k}: {v}" for k, v in _HEADERS)]
    lines += [f"X-Request-ID: {request_id}", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def write_problem(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """Drop-in for ``gunicorn.util.write_error`` (same signature)."""
    util.write_nonblock(sock, problem_bytes(int(status_int)))


def install() -> None:
    """Make gunicorn write :func:`write_problem` answers (idempotent)."""
    util.write_error = write_problem


__all__ = ["install", "problem_bytes", "write_problem"]
