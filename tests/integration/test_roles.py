"""Issue 12: the API's database role reads everything but cannot write the base tables; the
worker's role writes them (pipelines/storage/roles.py)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql


def _as(pg_dsn: str, role: str, statement: str) -> str:
    """Run ``statement`` as ``role``: 'ok' or the SQLSTATE of the refusal."""
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        try:
            conn.execute(statement)  # type: ignore[arg-type]  # test literals
        except psycopg.errors.InsufficientPrivilege:
            return "denied"
        finally:
            conn.rollback()
    return "ok"


BASE_WRITES = [
    "INSERT INTO sources (name) VALUES ('Evil')",
    "UPDATE tournaments SET name = 'x'",
    "DELETE FROM decks",
    "UPDATE deck_archetypes SET archetype = 'x'",
    "DELETE FROM matches",
    "TRUNCATE standings",
    "DELETE FROM schema_migrations",
]


@pytest.mark.parametrize("statement", BASE_WRITES)
def test_the_api_role_cannot_write_base_tables(
    pg_dsn: str, roles: tuple[str, str], statement: str
) -> None:
    api, worker = roles
    assert _as(pg_dsn, api, statement) == "denied"
    assert _as(pg_dsn, worker, statement) == "ok"


def test_the_api_role_reads_and_writes_its_own_tables(pg_dsn: str, roles: tuple[str, str]) -> None:
    api, _ = roles
    assert _as(pg_dsn, api, "SELECT count(*) FROM decks") == "ok"
    assert _as(pg_dsn, api, "SELECT count(*) FROM mv_deck_facts") == "ok"
    assert (
        _as(pg_dsn, api, "INSERT INTO users (username, password_hash) VALUES ('abc', 'x')") == "ok"
    )
    assert (
        _as(
            pg_dsn,
            api,
            "INSERT INTO operator_tasks (id, task_name, requested_by)"
            " VALUES (gen_random_uuid(), 't', 'me')",
        )
        == "ok"
    )
    assert _as(pg_dsn, api, "CREATE TABLE evil (x int)") == "denied"
