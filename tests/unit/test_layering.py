"""Import rules of the layout, checked on the source: the core stays framework-free and no
production module depends on the developer runtime."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.core.settings import REPO_ROOT

# Modules that may use the developer runtime (pipelines/dev): the CLI starts it on demand.
DEV_RUNTIME_USERS = {"pipelines/cli.py"}


def _modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (REPO_ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> Iterator[str]:
    """Every module named by an import statement of ``path`` (lazy imports included)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _rel(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


PRODUCTION = [
    p
    for p in _modules("api", "workers", "pipelines")
    if not _rel(p).startswith("pipelines/dev/") and _rel(p) not in DEV_RUNTIME_USERS
]


@pytest.mark.parametrize("path", PRODUCTION, ids=_rel)
def test_production_modules_never_import_the_developer_runtime(path: Path) -> None:
    bad = [m for m in _imports(path) if m == "pipelines.dev" or m.startswith("pipelines.dev.")]
    assert not bad, f"{_rel(path)} imports {bad}"


@pytest.mark.parametrize("path", _modules("pipelines"), ids=_rel)
def test_the_core_imports_no_web_or_queue_framework(path: Path) -> None:
    frameworks = ("flask", "celery", "kombu", "werkzeug", "api", "workers")
    bad = [m for m in _imports(path) if m.split(".")[0] in frameworks]
    assert not bad, f"{_rel(path)} imports {bad}"


def test_the_rules_see_the_modules() -> None:
    """Guard against a vacuous pass: the scan finds the modules and their imports."""
    assert len(PRODUCTION) > 40
    assert "pipelines.dev.services" in set(_imports(REPO_ROOT / "pipelines/cli.py"))


@pytest.mark.parametrize("path", _modules("api", "workers", "pipelines", "ops"), ids=_rel)
def test_connections_are_opened_through_the_one_seam(path: Path) -> None:
    """pipelines.core.db.connect is the one place a connection is opened (timeouts,
    application name); everything else takes a connection or a pool from its caller."""
    if _rel(path) == "pipelines/core/db.py":
        return
    calls = [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "connect"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "psycopg"
    ]
    assert not calls, f"{_rel(path)} calls psycopg.connect on lines {calls}"
