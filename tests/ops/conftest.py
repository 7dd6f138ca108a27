"""Helpers of the ops tests: Debian tools located (or the test skipped with the reason), and
the database fixtures of the API tests (a seeded database per test)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.core.settings import REPO_ROOT
from tests.api.conftest import (  # noqa: F401  (fixtures, registered by name)
    api_dsn,
    pg_admin_dsn,
    pg_dsn,
    pg_template,
    redis_base_url,
    redis_url,
    seeded_template,
)

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
