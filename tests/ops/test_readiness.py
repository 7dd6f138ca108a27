"""``manalytics readiness`` against a live stack: nginx + gunicorn (production settings),
a real Prometheus (Debian) loading the rules and scraping the API, a fresh backup, the
migrated database. Every check must PASS; then a broken deployment must FAIL with exit 1.
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.stack import free_port, stop
from pipelines.backup import create_backup
from pipelines.cli import main as cli_main
from pipelines.core.settings_loader import get_settings
from tests.ops.conftest import OPS, Stack, tool


@pytest.fixture
def prometheus(live_stack: Stack, tmp_path: Path) -> Iterator[str]:
    binary = tool("prometheus", "prometheus")
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{OPS / 'alerts' / 'manalytics.rules.yml'}']\n"
        "scrape_configs:\n"
        "  - job_name: manalytics-api\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{live_stack.api.port}']}}]\n"
    )
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the API has been scraped once
        try:
            query = url + "/api/v1/query?query=up%7Bjob%3D%22manalytics-api%22%7D%3D%3D1"
            with urllib.request.urlopen(query, timeout=2) as response:
                if b'"value"' in response.read():
                    break
        except OSError:
            pass
        time.sleep(0.3)
    yield url
    stop(process)


def readiness(stack: Stack, prometheus: str, backups: Path, *extra: str) -> list[str]:
    return ["readiness", "--url", stack.proxy.https, "--http-url", stack.proxy.http,
            "--prometheus-url", prometheus, "--database-url", stack.database_url,
            "--backup-dir", str(backups), "--insecure", *extra]  # fmt: skip


def test_readiness_passes_on_the_live_stack_and_fails_on_a_broken_one(
    live_stack: Stack, prometheus: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    tool("pg_dump", "postgresql-client")
    monkeypatch.setenv("CORS_ORIGINS", "https://manalytics.example")
    get_settings.cache_clear()
    backups = tmp_path / "backups"
    create_backup(live_stack.database_url, backups, keep=3)
    try:
        status = cli_main(readiness(live_stack, prometheus, backups, "--markdown"))
        out = capsys.readouterr().out
        assert status == 0, out
        assert "11/11 checks pass" in out and "**FAIL**" not in out
        for check in ("rate limiting active", "CORS restricted", "HTTPS enforced",
                      "security headers", "JWT expiry", "API keys hashed", "alerts loaded",
                      "backups recent and restorable", "migrations current"):  # fmt: skip
            assert f"| {check}" in out

        # No backup, no Prometheus: those checks FAIL with their evidence, exit 1.
        status = cli_main(readiness(live_stack, "http://127.0.0.1:9", tmp_path / "none"))
        out = capsys.readouterr().out
        assert status == 1
        assert "FAIL  backups recent and restorable" in out and "no backup in" in out
        assert "FAIL  alerts loaded" in out and "Prometheus unreachable" in out
    finally:
        get_settings.cache_clear()
