"""The real nginx (production template) in front of gunicorn (production settings).

TLS with a self-signed certificate, HTTP→HTTPS, the only trusted hop for X-Forwarded-For,
the shared cache honouring the API's Cache-Control/ETag, limits and JSON error pages.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
from pathlib import Path

import pytest

from ops.proxy import DEFAULTS, placeholders, render
from ops.stack import free_port, get, insecure_context, proxy_values, start_proxy, stop
from tests.ops.conftest import Stack, tool

META = "/api/v1/formats/Modern/meta"


def api_requests(stack: Stack, path: str) -> list[dict[str, object]]:
    return [line for line in stack.api_log() if line.get("path") == path]


def problem(body: bytes, status: int) -> dict[str, object]:
    data = json.loads(body)
    assert data["status"] == status and data["code"] and data["request_id"]
    return data


def test_every_placeholder_has_a_production_default() -> None:
    assert placeholders() == set(DEFAULTS)
    config = render()
    assert "${" not in config and "listen 8443 ssl" in config
    # A placeholder without a value is refused (envsubst would leave it in the file).
    with pytest.raises(KeyError, match="PROXY_TLS_KEY"):
        render({}, defaults={k: v for k, v in DEFAULTS.items() if k != "PROXY_TLS_KEY"})


def test_production_config_passes_nginx_test(tmp_path: Path) -> None:
    """The defaults render a config nginx accepts (paths swapped for writable ones)."""
    nginx = tool("nginx", "nginx")
    values = proxy_values(tmp_path, ["127.0.0.1:1"])
    for name in ("PROXY_HTTP_LISTEN", "PROXY_HTTPS_LISTEN", "PROXY_STATUS_LISTEN"):
        values.pop(name)
    values["PROXY_HTTPS_PORT_SUFFIX"] = ""
    config = tmp_path / "prod.conf"
    config.write_text(render(values).replace("listen 8", "listen 127.0.0.1:1"))
    result = subprocess.run([nginx, "-t", "-c", str(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_plain_http_redirects_to_https_keeping_the_method(live_stack: Stack) -> None:
    proxy = live_stack.proxy
    status, headers, _ = get(proxy.http + META + "?window=last30")
    assert status == 301
    assert headers["Location"] == f"https://127.0.0.1:{proxy.https_port}{META}?window=last30"
    connection = http.client.HTTPConnection("127.0.0.1", proxy.http_port, timeout=10)
    connection.request("POST", "/api/v1/auth/token", body=b"{}")
    response = connection.getresponse()
    connection.close()
    assert response.status == 308 and response.getheader("Location", "").startswith("https://")
    # Load balancers probe liveness on plain HTTP.
    assert get(proxy.http + "/health")[0] == 200


def test_tls_terminates_at_the_proxy_with_the_api_security_headers(live_stack: Stack) -> None:
    port = live_stack.proxy.https_port
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        insecure_context().wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.version() in {"TLSv1.2", "TLSv1.3"}
        assert tls.getpeercert(binary_form=True)
    status, headers, _ = get(live_stack.proxy.https + "/api/v1/ping")
    assert status == 200
    # The API saw https (X-Forwarded-Proto from its one trusted hop): HSTS, no redirect.
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_forwarded_for_from_clients_is_discarded(live_stack: Stack) -> None:
    status, headers, _ = get(
        live_stack.proxy.https + "/api/v1/ping?xff",
        {"X-Forwarded-For": "203.0.113.9", "X-Request-ID": "client-chosen"},
    )
    assert status == 200
    request_id = headers["X-Request-ID"]
    assert request_id != "client-chosen"  # nginx's id, also in the API's log line
    (line,) = [entry for entry in api_requests(live_stack, "/api/v1/ping")
               if entry.get("request_id") == request_id]  # fmt: skip
    assert line["remote_addr"] == "127.0.0.1"


def test_public_reads_are_cached_and_revalidated_at_the_proxy(live_stack: Stack) -> None:
    url = live_stack.proxy.https + META + "?window=last30"
    path = META
    before = len(api_requests(live_stack, path))
    first = get(url)
    assert first[0] == 200 and first[1]["X-Proxy-Cache"] in {"MISS", "EXPIRED"}
    assert first[1]["Cache-Control"].startswith("public, max-age=")
    etag = first[1]["ETag"]
    ids = {first[1]["X-Request-ID"]}
    for _ in range(5):
        again = get(url)
        assert again[0] == 200 and again[1]["X-Proxy-Cache"] == "HIT"
        assert again[2] == first[2] and again[1]["ETag"] == etag
        ids.add(again[1]["X-Request-ID"])
    assert len(ids) == 6  # each answer its own request id, not the cached one
    # A conditional request is answered 304 by the proxy from its copy.
    status, headers, body = get(url, {"If-None-Match": etag})
    assert status == 304 and body == b"" and headers["X-Proxy-Cache"] == "HIT"
    assert len(api_requests(live_stack, path)) == before + 1  # Python saw one request
    # Authenticated requests are never answered from (nor stored in) the shared cache.
    status, headers, _ = get(url, {"Authorization": "Bearer x"})
    assert headers["X-Proxy-Cache"] == "BYPASS"
    # Errors and no-store answers are not stored.
    for _ in range(2):
        status, headers, _ = get(live_stack.proxy.https + "/api/v1/formats/Nope/meta")
        assert status == 404 and headers["X-Proxy-Cache"] == "MISS"
        assert headers["Content-Type"] == "application/problem+json"


def test_metrics_are_not_served_to_the_outside(live_stack: Stack) -> None:
    status, headers, body = get(live_stack.proxy.https + "/metrics")
    assert status == 404 and headers["Content-Type"] == "application/problem+json"
    problem(body, 404)
    assert get(live_stack.api.url + "/metrics")[0] == 200  # internal port


def test_oversized_body_gets_a_json_413(live_stack: Stack) -> None:
    connection = http.client.HTTPSConnection(
        "127.0.0.1", live_stack.proxy.https_port, timeout=10, context=insecure_context()
    )
    connection.request("POST", "/api/v1/auth/token", body=b"x" * (1024 * 1024 + 1))
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status == 413
    problem(body, 413)


def test_limits_and_unreachable_api_answer_json(tmp_path: Path) -> None:
    tool("nginx", "nginx")
    closed = free_port()  # nothing listens there
    values = proxy_values(tmp_path, [f"127.0.0.1:{closed}"], PROXY_REQ_PER_CLIENT="1r/m",
                          PROXY_REQ_BURST="1")  # fmt: skip
    proxy = start_proxy(tmp_path, values)
    try:
        status, headers, body = get(proxy.https + "/api/v1/ping")
        assert status == 503 and headers["Retry-After"] == "5"
        problem(body, 503)
        statuses = [get(proxy.https + "/api/v1/ping")[0] for _ in range(3)]
        assert 429 in statuses
        status, headers, body = get(proxy.https + "/api/v1/ping")
        assert status == 429 and headers["Content-Type"] == "application/problem+json"
        problem(body, 429)
    finally:
        stop(proxy.process)
