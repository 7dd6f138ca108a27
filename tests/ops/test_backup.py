"""Backups that restore: a seeded database (the repository's fixtures) is dumped, verified,
restored into a fresh database, and compared — row counts and the API's answers byte for
byte. Broken files, a non-empty target and retention are provoked too.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask

from api import close_app, create_app
from pipelines.backup import BackupError, list_backups, prune, restore_backup, table_counts
from pipelines.cli import main as cli_main
from tests.api.conftest import settings_for
from tests.integration.conftest import create_database, drop_database
from tests.ops.conftest import tool

# GET routes compared between the original and the restored database.
PATHS = [
    "/api/v1/formats",
    "/api/v1/formats/Modern/meta",
    "/api/v1/formats/Modern/meta?window=last90",
    "/api/v1/formats/Modern/matchups",
    "/api/v1/formats/Modern/archetypes",
    "/api/v1/formats/Modern/trends",
    "/api/v1/tournaments",
    "/api/v1/decks?format=Modern",
]


@pytest.fixture
def empty_database(pg_admin_dsn: str) -> Iterator[str]:
    name = f"manalytics_restore_{uuid.uuid4().hex[:12]}"
    dsn = create_database(pg_admin_dsn, name)
    yield dsn
    drop_database(pg_admin_dsn, name)


@pytest.fixture
def backup_dir(tmp_path: Path, api_dsn: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    tool("pg_dump", "postgresql-client")
    monkeypatch.setattr("pipelines.cli.database_url", lambda: api_dsn)
    return tmp_path / "backups"


def answers(dsn: str, redis_url: str) -> dict[str, tuple[int, bytes]]:
    """(status, body) of each path from an app on ``dsn`` (its Redis cache emptied first)."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    app: Flask = create_app(
        {"MANALYTICS_SETTINGS": settings_for(dsn, redis_url), "REDIS_SINGLE_DB": True,
         "BCRYPT_ROUNDS": 4}
    )  # fmt: skip
    try:
        client = app.test_client()
        with psycopg.connect(dsn) as conn:
            deck, tournament = conn.execute(
                "SELECT (SELECT min(id) FROM decks), (SELECT max(id) FROM tournaments)"
            ).fetchone()  # type: ignore[misc]
        result = {}
        for path in [*PATHS, f"/api/v1/decks/{deck}", f"/api/v1/tournaments/{tournament}"]:
            response = client.get(path, headers={"X-Forwarded-Proto": "https"})
            result[path] = (response.status_code, response.get_data())
        return result
    finally:
        close_app(app)


def test_backup_restores_identically(
    api_dsn: str, empty_database: str, backup_dir: Path, redis_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    assert cli_main(["backup", "create", "--dir", str(backup_dir), "--metrics-file",
                     str(backup_dir / "metrics" / "backup.prom")]) == 0  # fmt: skip
    (backup,) = list_backups(backup_dir)
    assert backup.manifest["schema_version"] and backup.manifest["tables"]["decks"] > 0
    assert f"{backup.manifest['sha256']}  {backup.path.name}" in backup.checksum_path.read_text()
    assert cli_main(["backup", "verify", "--dir", str(backup_dir)]) == 0
    assert cli_main(["backup", "restore", str(backup.path), "--target-url", empty_database]) == 0
    assert "row counts match the manifest" in capsys.readouterr().out

    original, restored = table_counts(api_dsn), table_counts(empty_database)
    assert restored == original == backup.manifest["tables"]
    before, after = answers(api_dsn, redis_url), answers(empty_database, redis_url)
    assert all(status == 200 for status, _ in before.values()), {
        path: status for path, (status, _) in before.items()
    }
    assert after == before
    metrics = (backup_dir / "metrics" / "backup.prom").read_text()
    assert "manalytics_backup_last_success_timestamp_seconds " in metrics


def test_a_corrupted_or_incomplete_backup_is_refused(
    backup_dir: Path, empty_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["backup", "create", "--dir", str(backup_dir)]) == 0
    (backup,) = list_backups(backup_dir)
    data = bytearray(backup.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    backup.path.write_bytes(bytes(data))
    capsys.readouterr()
    assert cli_main(["backup", "verify", str(backup.path)]) == 1
    assert "checksum mismatch" in capsys.readouterr().out
    with pytest.raises(BackupError, match="checksum mismatch"):
        restore_backup(backup.path, empty_database)
    assert table_counts(empty_database) == {}  # nothing half-restored
    backup.manifest_path.unlink()
    with pytest.raises(BackupError, match="missing"):
        restore_backup(backup.path, empty_database)


def test_restore_refuses_a_database_that_is_not_empty(backup_dir: Path, api_dsn: str) -> None:
    assert cli_main(["backup", "create", "--dir", str(backup_dir)]) == 0
    before = table_counts(api_dsn)
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(backup_dir, api_dsn)
    assert table_counts(api_dsn) == before


def test_a_restore_that_loses_rows_is_detected(backup_dir: Path, empty_database: str) -> None:
    assert cli_main(["backup", "create", "--dir", str(backup_dir)]) == 0
    (backup,) = list_backups(backup_dir)
    manifest = json.loads(backup.manifest_path.read_text())
    manifest["tables"]["decks"] += 1  # the dump holds one deck fewer than recorded
    backup.manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match=r"decks: .* rows, manifest"):
        restore_backup(backup.path, empty_database)


def test_retention_keeps_the_newest(backup_dir: Path) -> None:
    assert cli_main(["backup", "create", "--dir", str(backup_dir)]) == 0
    (newest,) = list_backups(backup_dir)
    for stamp in ("20240101T000000Z", "20250101T000000Z"):  # two older copies
        for suffix in ("", ".sha256", ".json"):
            shutil.copy(
                newest.path.with_name(newest.path.name + suffix),
                backup_dir / f"manalytics-{stamp}.dump{suffix}",
            )
    leftover = backup_dir / "manalytics-20230101T000000Z.dump.partial"
    leftover.write_bytes(b"crashed")
    os.utime(leftover, (time.time() - 2 * 86400,) * 2)
    assert [b.path.name[11:19] for b in list_backups(backup_dir)][1:] == ["20250101", "20240101"]
    removed = prune(backup_dir, keep=2)
    assert [path.name for path in removed] == ["manalytics-20240101T000000Z.dump"]
    assert len(list_backups(backup_dir)) == 2 and not leftover.exists()
    assert not (backup_dir / "manalytics-20240101T000000Z.dump.json").exists()
