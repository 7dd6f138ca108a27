"""Issue 12: compose.yaml runs Redis with a password and no app process as a superuser."""

from __future__ import annotations

import re

from tests.unit.test_dockerfiles import compose_services, read


def test_redis_requires_a_password_and_every_client_gives_it() -> None:
    services = compose_services()
    assert '--requirepass "$$REDIS_PASSWORD"' in services["redis"]
    for name in ("migrate", "api", "worker", "beat"):
        assert "REDIS_URL: redis://:${REDIS_PASSWORD}@redis:6379" in services[name], name


def test_apps_connect_with_their_own_non_superuser_roles() -> None:
    services = compose_services()
    roles = {
        "migrate": "manalytics_owner",
        "api": "manalytics_api",
        "worker": "manalytics_worker",
        "beat": "manalytics_worker",
    }
    for name, role in roles.items():
        url = re.search(r"DATABASE_URL: postgresql://([a-z_]+):", services[name])
        assert url and url[1] == role, name
    init = read("ops/postgres/init-roles.sh")
    for role in set(roles.values()):
        assert f"CREATE ROLE {role} LOGIN PASSWORD" in init
    assert "SUPERUSER" not in init and "CREATEROLE" not in init
    # The migrate job, as the owner role, grants the api and worker roles after migrating.
    assert 'DB_GRANT_ROLES: "1"' in services["migrate"]
    assert "exec python -m pipelines.cli db grant" in read("ops/entrypoint-api.sh")
