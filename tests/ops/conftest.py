"""Helpers of the ops tests: Debian tools located (or the test skipped with the reason), and
the database fixtures of the API tests (a seeded database per test)."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ops.stack import (
    Api,
    Proxy,
    api_environment,
    proxy_values,
    start_api,
    start_proxy,
    start_redis,
    stop,
)
from pipelines.core.settings import REPO_ROOT
from tests.api.conftest import (  # noqa: F401  (fixtures, registered by name)
    FIXTURE_DEFINITIONS,
    api_dsn,
    pg_admin_dsn,
    pg_dsn,
    pg_template,
    redis_base_url,
    redis_url,
    scratch_settings,
    seeded_template,
)
from tests.integration.conftest import create_database, drop_database

OPS = REPO_ROOT / "ops"


def tool(name: str, package: str) -> str:
    """Path of a Debian tool; skips the test when it is absent (ops/install-tools.sh)."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        pytest.skip(f"{name} not installed (Debian package {package}; ops/install-tools.sh)")
    return path


def read_yaml(path: Path) -> object:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


@dataclass
class Stack:
    """gunicorn (production settings) behind the real nginx, on loopback."""

    api: Api
    proxy: Proxy
    database_url: str
    redis_url: str
    directory: Path

    def api_log(self) -> list[dict[str, Any]]:
        """The API's JSON log lines so far."""
        lines = []
        for line in self.api.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines


@contextmanager
def launch_stack(
    admin_dsn: str,
    template: str,
    directory: Path,
    api_env: dict[str, str] | None = None,
    proxy: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """A copy of the seeded database, a private Redis, gunicorn and nginx; all torn down."""
    tool("nginx", "nginx")
    name = f"manalytics_ops_{uuid.uuid4().hex[:12]}"
    dsn = create_database(admin_dsn, name, template=template)
    redis_process, redis = start_redis(directory)
    api = front = None
    try:
        env = api_environment(dsn, redis, directory / "var", LOG_LEVEL="INFO",
                              MANALYTICS_FORMATS_DIR=str(FIXTURE_DEFINITIONS),
                              **(api_env or {}))  # fmt: skip
        api = start_api(env, directory)
        values = proxy_values(directory, [f"127.0.0.1:{api.port}"], **(proxy or {}))
        front = start_proxy(directory, values)
        yield Stack(api, front, dsn, redis, directory)
    finally:
        for started in (front, api):
            if started is not None:
                stop(started.process)
        stop(redis_process)
        drop_database(admin_dsn, name)


@pytest.fixture(scope="module")
def live_stack(
    pg_admin_dsn: str,  # noqa: F811
    seeded_template: str,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """The production stack on loopback for one test module."""
    with launch_stack(pg_admin_dsn, seeded_template, tmp_path_factory.mktemp("stack")) as stack:
        yield stack
