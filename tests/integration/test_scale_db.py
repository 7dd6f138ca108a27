"""The cached scale database (``ops.bench.scale_db``): built once by the real pipeline, reused
while its key holds, rebuilt when the key changes, copied per user, never half-built."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ops.bench import scale_db
from ops.bench.scale_replicate import ID_STEP

DECKS = 300


@pytest.fixture(scope="module")
def cache_prefix(tmp_path_factory: pytest.TempPathFactory, pg_admin_dsn: str) -> Iterator[str]:
    """Caches, files and copies of this module only (other runs keep theirs); all dropped.
    Module-scoped so the tests share the first build (each costs seconds)."""
    prefix = f"scale_cache_t{uuid.uuid4().hex[:8]}_"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scale_db, "CACHE_PREFIX", prefix)
        patch.setenv("MANALYTICS_SCALE_FILES", str(tmp_path_factory.mktemp("files")))
        yield prefix
    with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
        names = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s OR datname LIKE %s",
            (prefix + "%", f"scale_t_{prefix[-9:-1]}%"),
        ).fetchall()
        for (name,) in names:
            conn.execute(f'ALTER DATABASE "{name}" IS_TEMPLATE false')
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _caches(admin: str, prefix: str) -> list[str]:
    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY oid", (prefix + "%",)
        ).fetchall()
    return [r[0] for r in rows]


def _counts(dsn: str) -> tuple[int, int, int, int]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            """SELECT (SELECT count(*) FROM decks), (SELECT count(*) FROM matches),
                      (SELECT count(*) FROM deck_archetypes),
                      (SELECT count(*) FROM refresh_log WHERE status = 'succeeded')"""
        ).fetchone()
    assert row is not None
    return row


def test_built_once_then_reused_and_copied(cache_prefix: str, pg_admin_dsn: str) -> None:
    leftover = f"scale_build_{DECKS}_{scale_db.cache_key(DECKS)}"
    with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:  # a build that died
        conn.execute(f'DROP DATABASE IF EXISTS "{leftover}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{leftover}"')

    name, built = scale_db.ensure_cache(DECKS)
    assert built and name.startswith(cache_prefix)
    assert scale_db.ensure_cache(DECKS) == (name, False)
    assert _caches(pg_admin_dsn, cache_prefix) == [name]
    assert leftover not in _caches(pg_admin_dsn, "scale_build_")
    with pytest.raises(psycopg.OperationalError, match="not currently accepting connections"):
        psycopg.connect(scale_db.with_database(pg_admin_dsn, name)).close()

    copy = f"scale_t_{cache_prefix[-9:-1]}"
    dsn = scale_db.scale_database(copy, DECKS)
    decks, matches, labels, generations = _counts(dsn)
    # The real pipeline ran: decks ingested (a few duplicate league entries merge), matches,
    # one label per deck, one refresh generation.
    assert DECKS * 0.95 <= decks <= DECKS and matches > 0
    assert labels == decks and generations == 1
    with psycopg.connect(dsn) as conn:  # the copy is the user's: the cache is untouched
        conn.execute("DELETE FROM deck_archetypes")
    again = scale_db.scale_database(copy, DECKS)
    assert _counts(again)[2] == labels
    scale_db.drop_database(copy)
    with psycopg.connect(pg_admin_dsn) as conn:
        gone = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (copy,)).fetchone()
    assert gone is None


def test_key_change_rebuilds_and_prunes(
    cache_prefix: str, pg_admin_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = scale_db.ensure_cache(DECKS)
    monkeypatch.setattr(scale_db, "BUILD_VERSION", scale_db.BUILD_VERSION + 1)
    monkeypatch.setattr(scale_db, "KEEP_CACHES", 1)
    second, built = scale_db.ensure_cache(DECKS)
    assert built and second != first
    assert _caches(pg_admin_dsn, cache_prefix) == [second]  # the stale one is pruned


def test_cache_names_are_not_for_users(cache_prefix: str) -> None:
    for name in (cache_prefix + "x", "scale_build_x"):
        with pytest.raises(ValueError, match="cache"):
            scale_db.scale_database(name, DECKS)
        with pytest.raises(ValueError, match="cache"):
            scale_db.drop_database(name)


def test_replicated_copies_span_the_period(cache_prefix: str) -> None:
    copy = f"scale_t_{cache_prefix[-9:-1]}_rep"
    dsn = scale_db.scale_database(copy, DECKS, copies=3)
    with psycopg.connect(dsn) as conn:
        per_copy = conn.execute(
            f"""SELECT t.id / {ID_STEP}, count(DISTINCT t.id), count(d.id),
                       count(a.deck_id), min(t.event_date), max(t.event_date)
                  FROM tournaments t JOIN decks d ON d.tournament_id = t.id
                  LEFT JOIN deck_archetypes a ON a.deck_id = d.id
                 GROUP BY 1 ORDER BY 1"""
        ).fetchall()
        # A new row (the next ingestion) gets an id above every copy.
        conn.execute(
            "INSERT INTO matches (tournament_id, round_index, round_name, position, p1_games,"
            " p2_games, draw_games, is_bye) SELECT min(id), 99, 'x', 1, 0, 0, 0, true"
            " FROM tournaments"
        )
        new_id = conn.execute("SELECT max(id) FROM matches").fetchone()
    scale_db.drop_database(copy)
    assert [row[0] for row in per_copy] == [0, 1, 2]
    base = per_copy[0]
    assert base[2] >= DECKS // 3 * 0.95
    for k, row in enumerate(per_copy):  # same events, decks and labels, shifted by k spans
        assert row[1:4] == base[1:4]
        assert (row[4] - base[4]).days == k * (scale_db.archive_days() // 3)
    assert per_copy[-1][5] <= scale_db.ARCHIVE_END
    assert new_id is not None and new_id[0] > 2 * ID_STEP


def test_new_migration_derives_from_the_older_cache(
    cache_prefix: str, pg_admin_dsn: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    base, _ = scale_db.ensure_cache(DECKS)
    migrations = tmp_path / "migrations"
    shutil.copytree(scale_db.MIGRATIONS_DIR, migrations)
    (migrations / "9990_scale_probe.up.sql").write_text(
        "CREATE TABLE scale_probe AS SELECT count(*) AS decks FROM decks;\n"
    )
    (migrations / "9990_scale_probe.down.sql").write_text("DROP TABLE scale_probe;\n")
    monkeypatch.setattr(scale_db, "MIGRATIONS_DIR", migrations)
    derived, built = scale_db.ensure_cache(DECKS)
    assert built and derived != base
    copy = f"scale_t_{cache_prefix[-9:-1]}_mig"
    dsn = scale_db.scale_database(copy, DECKS)
    decks, _, labels, generations = _counts(dsn)
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT decks FROM scale_probe").fetchone()
    scale_db.drop_database(copy)
    # The migration ran on the older cache's data (no new generation of files), and the
    # statistics were rebuilt after it: a second refresh generation.
    assert row == (decks,) and labels == decks and generations == 2

    # A changed migration cannot be applied on top: the next key builds from scratch.
    (migrations / "9990_scale_probe.up.sql").write_text("CREATE TABLE scale_probe (x int);\n")
    (migrations / "9991_more.up.sql").write_text("SELECT 1;\n")
    (migrations / "9991_more.down.sql").write_text("SELECT 1;\n")
    with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
        assert scale_db._older_cache(conn, DECKS, scale_db.data_key(DECKS)) == base
