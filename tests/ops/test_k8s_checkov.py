"""checkov's Kubernetes policies on the rendered production overlay.

checkov (PyPI) lives in its own virtualenv (``.venv/tools/checkov``, made by
``ops/install-tools.sh``): its ~100 pinned dependencies would fight the project's. It runs
offline (``--skip-download``, ``BC_SKIP_MAPPING``). Its failed checks must be exactly the
accepted findings of ``ops/k8s/checkov-accepted.yaml``, each listed with its reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipelines.core.settings import REPO_ROOT
from tests.ops.conftest import read_yaml
from tests.ops.test_k8s import binary

ACCEPTED = REPO_ROOT / "ops" / "k8s" / "checkov-accepted.yaml"
TOOL = REPO_ROOT / ".venv" / "tools" / "checkov" / "bin" / "checkov"


def checkov() -> str:
    path = os.environ.get("CHECKOV") or (str(TOOL) if TOOL.is_file() else shutil.which("checkov"))
    if path is None:
        pytest.skip("checkov not installed (sh ops/install-tools.sh makes .venv/tools/checkov)")
    return path


def failed_checks(manifests: Path) -> set[tuple[str, str]]:
    """(check id, resource) of every failed check of checkov on ``manifests``."""
    result = subprocess.run(
        [checkov(), "-f", str(manifests), "--framework", "kubernetes", "--quiet", "--compact",
         "--skip-download", "-o", "json"],
        capture_output=True, text=True, timeout=600,
        env=dict(os.environ, BC_SKIP_MAPPING="TRUE"),
    )  # fmt: skip
    report: Any = json.loads(result.stdout)
    if isinstance(report, list):  # one report per framework
        (report,) = report
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    assert report["summary"]["resource_count"] > 10, report["summary"]
    return {(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]}


def accepted() -> set[tuple[str, str]]:
    data = read_yaml(ACCEPTED)
    assert isinstance(data, dict)
    pairs = set()
    for check, entry in data["accepted"].items():
        assert len(entry["reason"]) > 80, f"{check}: give the reason"
        pairs |= {(check, resource) for resource in entry["resources"]}
    return pairs


def render(tmp_path: Path, overlay: str = "overlays/production") -> Path:
    output = subprocess.run(
        [binary("kubectl"), "kustomize", str(REPO_ROOT / "ops" / "k8s" / overlay)],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    path = tmp_path / "rendered.yaml"
    path.write_text(output, encoding="utf-8")
    return path


def test_checkov_finds_exactly_the_accepted_findings(tmp_path: Path) -> None:
    manifests = render(tmp_path)
    failed = failed_checks(manifests)
    assert failed - accepted() == set(), "new checkov findings: fix them or accept them"
    assert accepted() - failed == set(), "accepted findings that no longer occur: remove them"
    # The check has teeth: a root container with a writable root filesystem is caught.
    text = manifests.read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"))
    assert ("CKV_K8S_22", "Deployment.manalytics.api") in failed_checks(broken)
