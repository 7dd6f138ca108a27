"""Every migration's down step on a database holding data (the repository's fixtures,
ingested, classified and refreshed): down to just before the migration, then up again,
must give back the identical schema (``pg_dump --schema-only``) and leave every table
that existed before the migration with exactly its rows. New migrations are covered by
being in sql/migrations.
"""

from __future__ import annotations

import subprocess

import pytest

from pipelines.backup import table_counts
from pipelines.storage import migrations
from tests.ops.conftest import tool

VERSIONS = [migration.version for migration in migrations.discover()]
# Statistics tables that hold derived data only: a migration may recreate them empty (0010
# does) and the next refresh recomputes them (ops/ROLLBACK.md: refresh after a rollback).
DERIVED = {"stats_windows", "meta_window_totals", "meta_window_stats", "matchup_window_stats"}
# Work queues of the incremental refresh: a migration that rewrites rows (0015's backfill of
# deck_archetypes.event_date) marks their days dirty through the statistics triggers. More
# entries only mean days recomputed to the same values; an entry lost would be a stale day.
QUEUES = {"stats_dirty_days"}


def schema(dsn: str) -> str:
    result = subprocess.run(
        [tool("pg_dump", "postgresql-client"), "--schema-only", "--no-owner", "--no-privileges",
         f"--dbname={dsn}"],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    # Comments (pg_dump's version) and the random \restrict key vary between runs.
    return "\n".join(
        line
        for line in result.stdout.splitlines()
        if not line.startswith(("--", "\\restrict", "\\unrestrict"))
    )


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"{v:04d}")
def test_down_then_up_restores_schema_and_keeps_older_data(api_dsn: str, version: int) -> None:
    head_schema, head_counts = schema(api_dsn), table_counts(api_dsn)
    assert head_counts["decks"] > 0
    later = [v for v in VERSIONS if v >= version]
    reverted = migrations.downgrade(api_dsn, steps=len(later))
    assert [name[:4] for name in reverted] == [f"{v:04d}" for v in reversed(later)]
    below = table_counts(api_dsn)
    assert "schema_migrations" in below
    # Tables older than the migration keep every row through the down steps...
    kept = {table: count for table, count in below.items() if table != "schema_migrations"}
    for table, count in kept.items():
        assert count == head_counts[table] or (table in DERIVED and count == 0), table
    migrations.upgrade(api_dsn)
    # ...and through the up steps; the schema is exactly the one we started from.
    assert schema(api_dsn) == head_schema
    after = table_counts(api_dsn)
    source = {table: count for table, count in kept.items() if table not in DERIVED | QUEUES}
    assert {table: after[table] for table in source} == source
    assert all(after[table] >= kept[table] for table in kept.keys() & QUEUES)
    assert all(after[table] in (0, kept[table]) for table in kept.keys() & DERIVED)
    assert set(after) == set(head_counts)
