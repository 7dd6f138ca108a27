"""Issue 12 under the real server (gunicorn with ops/gunicorn.conf.py): chunked request bodies
are read (7), and gunicorn's own errors (414, 431, 400) are JSON problem documents (11)."""

from __future__ import annotations

import contextlib
import json
import socket
from pathlib import Path

from tests.api.conftest import PASSWORD
from tests.api.test_gunicorn import gunicorn as gunicorn
from tests.api.test_gunicorn import private_redis as private_redis


def raw_request(base: str, data: bytes, timeout: float = 20) -> tuple[int, dict[str, str], bytes]:
    """Send ``data`` as is; the status, headers and body of the answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        # The server may answer (and close) before reading everything.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def chunked(body: bytes, size: int = 1000) -> bytes:
    parts = [
        f"{len(body[i : i + size]):x}\r\n".encode() + body[i : i + size] + b"\r\n"
        for i in range(0, len(body), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


def post_chunked(path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + chunked(body)


def test_a_chunked_login_is_read(
    gunicorn: tuple[str, Path],
    accounts: dict[str, int],
) -> None:
    base, _ = gunicorn
    credentials = json.dumps({"username": "oper", "password": PASSWORD}).encode()
    status, _, body = raw_request(base, post_chunked("/api/v1/auth/token", credentials))
    assert status == 200, body  # before the fix: 400 "must be a JSON object"
    assert json.loads(body)["token_type"] == "Bearer"


def test_a_large_chunked_body_is_413(gunicorn: tuple[str, Path]) -> None:
    base, _ = gunicorn
    payload = b'{"username": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    status, headers, body = raw_request(base, post_chunked("/api/v1/auth/token", payload))
    assert status == 413, body[:200]  # before the fix: 400
    assert headers["content-type"] == "application/problem+json"


def _problem(status: int, headers: dict[str, str], body: bytes, expected: int) -> dict[str, str]:
    assert status == expected, body[:300]
    assert headers["content-type"] == "application/problem+json"
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    document = json.loads(body)
    assert document["status"] == expected and document["type"] == "about:blank"
    assert document["request_id"] == headers["x-request-id"]
    return document  # type: ignore[no-any-return]


def test_gunicorn_errors_are_json_problems(gunicorn: tuple[str, Path]) -> None:
    base, _ = gunicorn
    long_uri = "/api/v1/decks?player=" + "x" * 9000
    answer = raw_request(base, f"GET {long_uri} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
    assert _problem(*answer, 414)["code"] == "uri_too_long"  # before: text/html
    big_header = "X-Big: " + "y" * 9000
    answer = raw_request(base, f"GET /health HTTP/1.1\r\nHost: a\r\n{big_header}\r\n\r\n".encode())
    assert _problem(*answer, 431)["code"] == "header_fields_too_large"
    answer = raw_request(base, b"GARBAGE\r\n\r\n")
    assert _problem(*answer, 400)["code"] == "bad_request"
