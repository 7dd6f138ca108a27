"""``manalytics users …`` (pipelines.auth.cli) and migration 0004 (up, down, up)."""

from __future__ import annotations

import argparse
import io

import psycopg
import pytest

from pipelines.auth import cli
from pipelines.auth.passwords import hash_cost
from pipelines.storage import migrations
from tests.api.conftest import PASSWORD


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch, dsn: str, stdin: str = "") -> int:
    """Run ``manalytics users …`` against ``dsn`` (the command resolves its database through
    ``pipelines.cli.database_url``, patched here)."""
    import pipelines.cli

    monkeypatch.setattr(pipelines.cli, "database_url", lambda: dsn)
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    parser = argparse.ArgumentParser(prog="manalytics")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_users_create_set_role_and_api_key(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["users", "create", "Alice", "--role", "operator", "--password-stdin"]
    assert run(argv, monkeypatch, pg_dsn, PASSWORD + "\n") == 0
    assert "created user alice" in capsys.readouterr().out
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SELECT roles, password_hash FROM users").fetchone()
    assert row is not None and row[0] == ["operator"]
    assert hash_cost(row[1]) == 12  # the command line always hashes at the real cost

    assert run(["users", "set-role", "alice", "--role", "admin"], monkeypatch, pg_dsn) == 0
    assert "roles admin" in capsys.readouterr().out
    assert run(["users", "set-role", "alice"], monkeypatch, pg_dsn) == 0  # no role
    assert "roles -" in capsys.readouterr().out

    assert run(["users", "create-api-key", "alice", "--name", "sync"], monkeypatch, pg_dsn) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("mk_")
    with psycopg.connect(pg_dsn) as conn:
        stored = str(conn.execute("SELECT * FROM api_keys").fetchall())
    assert key.split("_", 2)[2] not in stored

    assert run(["users", "list"], monkeypatch, pg_dsn) == 0
    assert "alice" in capsys.readouterr().out


def test_users_create_refuses_weak_passwords_and_duplicates(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    weak = ["users", "create", "bob", "--password-stdin"]
    assert run(weak, monkeypatch, pg_dsn, "password\n") == 2
    assert "password refused" in capsys.readouterr().err
    assert run(weak, monkeypatch, pg_dsn, PASSWORD + "\n") == 0
    assert run(weak, monkeypatch, pg_dsn, PASSWORD + "\n") == 1
    assert "exists" in capsys.readouterr().err
    assert run(["users", "set-role", "nobody", "--role", "admin"], monkeypatch, pg_dsn) == 1
    assert run(["users", "create-api-key", "nobody", "--name", "x"], monkeypatch, pg_dsn) == 1
    with pytest.raises(SystemExit):
        run(["users", "create", "carol", "--role", "root"], monkeypatch, pg_dsn)


def test_migration_0004_down_and_up_again(pg_dsn: str) -> None:
    # Every migration from 0004 on, newest first.
    later = [m for m in migrations.discover() if m.version >= 4]
    reverted = migrations.downgrade(pg_dsn, steps=len(later))
    assert reverted and "auth" in reverted[-1]
    with psycopg.connect(pg_dsn) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE tablename IN"
                " ('users', 'api_keys', 'operator_tasks')"
            )
        }
    assert tables == set()
    assert migrations.upgrade(pg_dsn)
    with psycopg.connect(pg_dsn) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO users (username, password_hash, roles) VALUES ('xyz', 'h', '{root}')"
        )
