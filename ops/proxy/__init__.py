"""The reverse proxy (nginx): configuration rendering and a self-signed certificate.

``nginx.conf.template`` holds ``${UPPER_CASE}`` placeholders. In containers the official
nginx image renders it with envsubst (``NGINX_ENVSUBST_OUTPUT_DIR=/etc/nginx``) from the
service's environment; :func:`render` does the same here (tests, benchmarks, ``manalytics
proxy config``) and refuses a placeholder without a value, which envsubst would leave in.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
_PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")

#: Production values (compose.yaml and the Kubernetes ConfigMap set the same).
DEFAULTS: Mapping[str, str] = {
    "PROXY_USER_DIRECTIVE": "",
    "PROXY_WORKER_PROCESSES": "auto",
    "PROXY_WORKER_CONNECTIONS": "4096",
    "PROXY_RUN_DIR": "/tmp/nginx",
    "PROXY_ACCESS_LOG": "off",
    "PROXY_CACHE_DIR": "/var/cache/nginx/api",
    "PROXY_RESOLVER": "resolver 127.0.0.11 valid=10s ipv6=off;",
    "PROXY_UPSTREAM_SERVERS": "server api:8000 resolve max_fails=0;",
    "PROXY_HTTP_LISTEN": "8080",
    "PROXY_HTTPS_LISTEN": "8443",
    "PROXY_STATUS_LISTEN": "8081",
    # Clients reach HTTPS on 443 (published port): no port in the redirect.
    "PROXY_HTTPS_PORT_SUFFIX": "",
    "PROXY_TLS_CERT": "/etc/nginx/tls/tls.crt",
    "PROXY_TLS_KEY": "/etc/nginx/tls/tls.key",
    "PROXY_CONN_PER_CLIENT": "64",
    "PROXY_CONN_TOTAL": "8192",
    "PROXY_REQ_PER_CLIENT": "50r/s",
    "PROXY_REQ_BURST": "100",
    "PROXY_EXTRA_LOCATIONS": "",
}


def placeholders(text: str | None = None) -> set[str]:
    """The placeholder names of the template."""
    return set(_PLACEHOLDER.findall(TEMPLATE.read_text() if text is None else text))


def render(values: Mapping[str, str] | None = None, defaults: Mapping[str, str] = DEFAULTS) -> str:
    """The template with ``defaults`` overridden by ``values``; every placeholder filled."""
    merged = {**defaults, **(values or {})}
    text = TEMPLATE.read_text(encoding="utf-8")
    missing = placeholders(text) - set(merged)
    if missing:
        raise KeyError(f"no value for proxy placeholders: {sorted(missing)}")
    return _PLACEHOLDER.sub(lambda match: merged[match.group(1)], text)


def self_signed_certificate(directory: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A self-signed certificate for local use (``tls.crt``, ``tls.key``), made by openssl.

    ECDSA P-256: its handshake signature costs a tenth of RSA-2048's (``openssl speed``),
    which matters when 1,000 clients connect at once. Real certificates replace the two
    files (compose: the ``tls`` volume; Kubernetes: the Ingress secret). An existing pair
    is kept.
    """
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "tls.crt", directory / "tls.key"
    if cert.is_file() and key.is_file():
        return cert, key
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "365",
         "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host},IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    key.chmod(0o600)
    return cert, key
