"""compose.yaml and the worker image carry what the sources need (checked statically: no
Docker engine here)."""

from __future__ import annotations

import re

from tests.unit.test_dockerfiles import compose_services, read


def test_worker_keeps_source_data_on_a_volume_with_the_cache_repository_on() -> None:
    worker = compose_services()["worker"]
    assert re.search(r"-\s*sourcedata:/var/lib/manalytics/sources", worker)
    assert "SOURCES_DATA_DIR: /var/lib/manalytics/sources" in worker
    match = re.search(r"SOURCES_ENABLED: \$\{SOURCES_ENABLED:-([a-z,]+)\}", worker)
    assert match and "gitcache" in match.group(1).split(",")
    assert "API_BASE_URL: http://api:8000" in worker
    assert re.search(r"^  sourcedata:\s*$", read("compose.yaml"), re.MULTILINE)


def test_worker_image_has_git_and_an_owned_sources_folder() -> None:
    dockerfile = read("Dockerfile.worker")
    assert re.search(r"apt-get install -y --no-install-recommends git", dockerfile)
    assert "/var/lib/manalytics/sources" in dockerfile
    assert "chown -R manalytics:manalytics /var/lib/manalytics" in dockerfile


def test_credentials_are_never_written_in_compose() -> None:
    text = read("compose.yaml")
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        assert not re.search(r"(MELEE_PASSWORD|TOPDECK_API_KEY|MELEE_EMAIL)\s*[:=]", line)
