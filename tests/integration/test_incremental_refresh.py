"""Incremental refresh (issue 14): the dirty days recorded by the triggers, and incremental
refreshes giving exactly the tables of a full rebuild on the real sample after a random
(seeded, printed) sequence of ingestions, reclassifications, edits and deletions."""

from __future__ import annotations

import os
import random
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pipelines.ingest.cache import ingest_cache
from pipelines.stats.aggregates import AGGREGATE_TABLES, TOTAL_TABLES
from pipelines.stats.generation import GENERATION_TABLES
from pipelines.stats.periods import load_periods
from pipelines.stats.refresh import RefreshResult, refresh_all
from tests.integration.test_stats_views import PERIODS, World, build_world

# Deterministic labels (as ops.bench.refresh.label_decks) for the decks without one, in the
# active version of their format; a format's first version is activated once, later calls
# leave active_definitions alone (re-activating would mark every day of the format).
_LABEL_SQL = """
INSERT INTO definition_versions (format, version, origin)
SELECT DISTINCT t.format, 'v1', 'test' FROM tournaments t
ON CONFLICT (format, version) DO NOTHING;

INSERT INTO active_definitions (format, version_id)
SELECT v.format, v.id FROM definition_versions v WHERE v.version = 'v1'
ON CONFLICT (format) DO NOTHING;

INSERT INTO deck_archetypes (version_id, deck_id, archetype, color, companion, method)
SELECT a.version_id, d.id,
       'Arch ' || chr(65 + (coalesce(d.main_card_ids[1], 0) % 9)),
       (ARRAY['R', 'U', 'B', 'G', 'W', 'UR', 'WB', 'C'])[1 + d.id % 8], '', 'rule'
  FROM decks d
  JOIN tournaments t ON t.id = d.tournament_id
  JOIN active_definitions a ON a.format = t.format
 WHERE d.id % 23 <> 0
ON CONFLICT (version_id, deck_id) DO NOTHING;
"""


def _label(conn: psycopg.Connection[Any]) -> None:
    conn.execute(_LABEL_SQL)
    conn.commit()


def _columns(conn: psycopg.Connection[Any], table: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
            " AND NOT attisdropped AND attname <> 'generation' ORDER BY attnum",
            (table,),
        )
    ]


def snapshot(dsn: str) -> dict[str, list[str]]:
    """Every statistics table (the totals too: kept by triggers in incremental runs, refilled
    set-based by a full one), and the window tables of the latest generation, as sorted
    exact ``repr`` rows (floats to the last bit), without generation numbers."""
    out: dict[str, list[str]] = {}
    with psycopg.connect(dsn) as conn:
        (generation,) = conn.execute(
            "SELECT max(generation) FROM refresh_log WHERE status = 'succeeded'"
        ).fetchone() or (None,)
        for table in (*AGGREGATE_TABLES, *TOTAL_TABLES, *GENERATION_TABLES):
            cols = sql.SQL(", ").join(map(sql.Identifier, _columns(conn, table)))
            where = sql.SQL("")
            if table in GENERATION_TABLES:
                where = sql.SQL(" WHERE generation = {}").format(sql.Literal(generation))
            rows = conn.execute(
                sql.SQL("SELECT {} FROM {}").format(cols, sql.Identifier(table)) + where
            ).fetchall()
            out[table] = sorted(map(repr, rows))
    return out


def empty_statistics(dsn: str) -> None:
    """Every statistics table emptied (the next full refresh writes every row)."""
    with psycopg.connect(dsn) as conn:
        for table in (*AGGREGATE_TABLES, *TOTAL_TABLES):
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))


def _assert_same(incremental: dict[str, list[str]], full: dict[str, list[str]]) -> None:
    for table in full:
        extra = sorted(set(incremental[table]) - set(full[table]))[:3]
        missing = sorted(set(full[table]) - set(incremental[table]))[:3]
        assert incremental[table] == full[table], (table, "extra", extra, "missing", missing)


# --------------------------------------------------------------------------- dirty days


def _dirty(dsn: str) -> set[tuple[str, date]]:
    with psycopg.connect(dsn) as conn:
        return {(f, d) for f, d in conn.execute("SELECT format, event_date FROM stats_dirty_days")}


def test_every_writer_marks_the_days_it_touches(pg_dsn: str) -> None:
    build_world(pg_dsn)
    first = refresh_all(pg_dsn, periods=PERIODS)
    assert first.kind == "incremental" and first.days > 0
    assert _dirty(pg_dsn) == set()
    day = date(2024, 6, 5)
    with psycopg.connect(pg_dsn) as conn:
        w = World(conn)
        t = w.tournament("Modern", day, "challenge")
        d1 = w.deck(t, "zoe", "A")
        d2 = w.deck(t, "yan", "C", "G")
        w.match(t, 1, d1, d2, (2, 0, 0))
        conn.commit()
        assert _dirty(pg_dsn) == {("Modern", day)}
        # One row per day and transaction, however many statements touched it.
        assert conn.execute("SELECT count(*) FROM stats_dirty_days").fetchone() == (1,)
    second = refresh_all(pg_dsn, periods=PERIODS)
    assert (second.days, second.formats) == (1, ["Modern"])
    assert _dirty(pg_dsn) == set()

    statements: dict[str, tuple[Any, tuple[Any, ...]]] = {
        "match": ("UPDATE matches SET p1_games = 0 WHERE deck1_id = %s", (d1,)),
        "standing": (
            "INSERT INTO standings (tournament_id, position, player, player_key, wins, losses,"
            " draws, deck_id) VALUES (%s, 0, 'zoe', 'zoe', 1, 0, 0, %s)",
            (t, d1),
        ),
        "deck": ("UPDATE decks SET player_key = 'zed' WHERE id = %s", (d1,)),
        "label": ("UPDATE deck_archetypes SET archetype = 'B' WHERE deck_id = %s", (d2,)),
        "deletion": ("DELETE FROM decks WHERE id = %s", (d2,)),
    }
    for name, (statement, args) in statements.items():
        with psycopg.connect(pg_dsn) as conn:
            conn.execute(statement, args)
            conn.commit()
        assert _dirty(pg_dsn) == {("Modern", day)}, name
        assert refresh_all(pg_dsn, periods=PERIODS).days == 1
    # Moving a tournament marks its old and its new day; a rolled-back change marks nothing.
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(
            "UPDATE tournaments SET event_date = %s WHERE id = %s", (day + timedelta(1), t)
        )
        conn.commit()
        assert _dirty(pg_dsn) == {("Modern", day), ("Modern", day + timedelta(1))}
        refresh_all(pg_dsn, periods=PERIODS)
        conn.execute("DELETE FROM tournaments WHERE id = %s", (t,))
        conn.rollback()
    assert _dirty(pg_dsn) == set()
    # Recording how far classification went (after every run) or touching the row changes
    # no statistic: nothing is marked (it once marked every day of the format, every night).
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("UPDATE active_definitions SET labelled_through = labelled_through + 1")
        conn.execute("UPDATE active_definitions SET activated_at = now()")
        conn.commit()
    assert _dirty(pg_dsn) == set()
    # Switching a format's active version marks every day of the decks of both versions.
    with psycopg.connect(pg_dsn) as conn:
        labelled = {
            (f, d)
            for f, d in conn.execute(
                "SELECT DISTINCT t.format, t.event_date FROM current_deck_archetypes a"
                " JOIN decks d ON d.id = a.deck_id JOIN tournaments t ON t.id = d.tournament_id"
                " WHERE t.format = 'Modern'"
            )
        }
        assert labelled
        conn.execute(
            "INSERT INTO definition_versions (format, version, origin)"
            " VALUES ('Modern', 'switch-test', 'test')"
        )
        conn.execute(
            "UPDATE active_definitions SET version_id = (SELECT id FROM definition_versions"
            " WHERE version = 'switch-test') WHERE format = 'Modern'"
        )
        conn.commit()
    assert _dirty(pg_dsn) == labelled


def test_rows_moved_between_events_mark_both_days(pg_dsn: str) -> None:
    """A deck, standing or match moved to another event marks the old and the new event's
    day; one statement over rows of several events marks all their days (migration 0019
    reads a statement's distinct events first)."""
    build_world(pg_dsn)
    refresh_all(pg_dsn, periods=PERIODS)
    days = [date(2024, 6, 5), date(2024, 6, 6), date(2024, 6, 7)]
    with psycopg.connect(pg_dsn) as conn:
        w = World(conn)
        events = [w.tournament("Modern", day, "challenge") for day in days]
        decks = [w.deck(t, f"p{i}", "A") for i, t in enumerate(events)]
        w.match(events[0], 1, decks[0], None, (2, 0, 0))
        conn.execute(
            "INSERT INTO standings (tournament_id, position, player, player_key, wins, losses,"
            " draws, deck_id) VALUES (%s, 0, 'p0', 'p0', 1, 0, 0, %s)",
            (events[0], decks[0]),
        )
        conn.commit()
    refresh_all(pg_dsn, periods=PERIODS)
    assert _dirty(pg_dsn) == set()
    for table in ("decks", "standings", "matches"):
        with psycopg.connect(pg_dsn) as conn:
            conn.execute(
                sql.SQL(
                    "UPDATE {} SET tournament_id = %s, position = position + 100"
                    " WHERE tournament_id = %s"
                ).format(sql.Identifier(table)),
                (events[1], events[0]),
            )
            conn.commit()
        assert _dirty(pg_dsn) == {("Modern", days[0]), ("Modern", days[1])}, table
        refresh_all(pg_dsn, periods=PERIODS)
        with psycopg.connect(pg_dsn) as conn:  # back, for the next table
            conn.execute(
                sql.SQL(
                    "UPDATE {} SET tournament_id = %s, position = position - 100"
                    " WHERE tournament_id = %s AND position >= 100"
                ).format(sql.Identifier(table)),
                (events[0], events[1]),
            )
            conn.commit()
        refresh_all(pg_dsn, periods=PERIODS)
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("UPDATE decks SET position = position + 10 WHERE id = ANY(%s)", (decks,))
        conn.commit()
    assert _dirty(pg_dsn) == {("Modern", day) for day in days}


def test_a_change_committed_during_a_refresh_stays_dirty(pg_dsn: str) -> None:
    """The refresh consumes the days of its snapshot only: a day marked by a transaction
    that commits while it runs is refreshed by the next run."""
    build_world(pg_dsn)
    refresh_all(pg_dsn, periods=PERIODS)
    day = date(2024, 6, 5)
    with (
        psycopg.connect(pg_dsn) as writer,
        psycopg.connect(pg_dsn) as blocker,
        psycopg.connect(pg_dsn, autocommit=True) as monitor,
    ):
        w = World(writer)
        t = w.tournament("Modern", day, "challenge")
        w.deck(t, "zoe", "A")
        # Hold the refresh after its snapshot: a lock on a table it writes late.
        blocker.execute("LOCK TABLE matchup_window_stats IN SHARE MODE")
        results: list[RefreshResult | BaseException] = []

        def run() -> None:
            try:
                results.append(refresh_all(pg_dsn, periods=PERIODS, lock_timeout_ms=60_000))
            except BaseException as exc:  # reported below
                results.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        # Wait until the refresh waits on the lock (its snapshot is taken), then commit.
        for _ in range(200):
            waiting = monitor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name ="
                " 'manalytics-refresh' AND wait_event_type = 'Lock'"
            ).fetchone()
            if waiting and waiting[0]:
                break
            time.sleep(0.05)
        writer.commit()
        blocker.rollback()
        thread.join(timeout=60)
    assert results and isinstance(results[0], RefreshResult), results
    assert results[0].status == "succeeded"
    assert _dirty(pg_dsn) == {("Modern", day)}  # not consumed: committed after the snapshot
    assert refresh_all(pg_dsn, periods=PERIODS).days == 1
    assert _dirty(pg_dsn) == set()


# --------------------------------------------------------------------------- equivalence


def _reclassify(conn: psycopg.Connection[Any], rng: random.Random) -> str:
    """Relabel a random tenth of the labelled decks of the active versions."""
    ids = [r[0] for r in conn.execute("SELECT deck_id FROM current_deck_archetypes")]
    chosen = rng.sample(ids, max(1, len(ids) // 10))
    conn.execute(
        "UPDATE deck_archetypes a SET archetype = 'Arch ' || chr(75 + (a.deck_id %% 4)::int),"
        " color = 'WU' FROM active_definitions v"
        " WHERE v.version_id = a.version_id AND a.deck_id = ANY(%s)",
        (chosen,),
    )
    conn.commit()
    return f"reclassify {len(chosen)} decks"


def _new_version(conn: psycopg.Connection[Any], rng: random.Random) -> str:
    """A new definitions version of one format with other labels, then the switch."""
    formats = [r[0] for r in conn.execute("SELECT format FROM active_definitions ORDER BY 1")]
    fmt = rng.choice(formats)
    version = f"v{rng.randrange(10**6)}"
    conn.execute(
        "INSERT INTO definition_versions (format, version, origin) VALUES (%s, %s, 'test')",
        (fmt, version),
    )
    conn.execute(
        """INSERT INTO deck_archetypes (version_id, deck_id, archetype, color, companion, method)
           SELECT v.id, d.id, 'Arch ' || chr(65 + ((d.id / 7) %% 5)::int), 'B', '', 'rule'
             FROM decks d JOIN tournaments t ON t.id = d.tournament_id
             JOIN definition_versions v ON v.format = t.format AND v.version = %s
            WHERE d.id %% 5 <> 0""",
        (version,),
    )
    conn.commit()
    conn.execute(
        "UPDATE active_definitions SET version_id = v.id FROM definition_versions v"
        " WHERE v.format = active_definitions.format AND v.version = %s",
        (version,),
    )
    conn.commit()
    return f"new version of {fmt}"


def _delete(conn: psycopg.Connection[Any], rng: random.Random) -> str:
    ids = [r[0] for r in conn.execute("SELECT id FROM tournaments ORDER BY id")]
    chosen = rng.sample(ids, min(len(ids), 3))
    conn.execute("DELETE FROM tournaments WHERE id = ANY(%s)", (chosen,))
    conn.commit()
    return f"delete tournaments {chosen}"


def _edit_matches(conn: psycopg.Connection[Any], rng: random.Random) -> str:
    ids = [r[0] for r in conn.execute("SELECT id FROM matches WHERE NOT is_bye ORDER BY id")]
    chosen = rng.sample(ids, min(len(ids), 40))
    conn.execute(
        "UPDATE matches SET p1_games = p2_games, p2_games = p1_games WHERE id = ANY(%s)",
        (chosen[:30],),
    )
    conn.execute("DELETE FROM matches WHERE id = ANY(%s)", (chosen[30:],))
    conn.commit()
    return "edit and delete matches"


@pytest.mark.timeout(900)
def test_incremental_refreshes_equal_a_full_rebuild(pg_dsn: str, shared_data_dir: Path) -> None:
    seed = int(os.environ.get("MANALYTICS_TEST_SEED", random.randrange(2**31)))
    print(f"incremental refresh sequence seed={seed} (MANALYTICS_TEST_SEED to replay)")
    rng = random.Random(seed)
    periods = load_periods(shared_data_dir / "formats")
    root = shared_data_dir / "tournaments"
    # Ingestion in random date slices, in random order (late files for old days included).
    days = sorted({date(*map(int, p.parent.parts[-3:])) for p in root.glob("*/*/*/*/*.json")})
    cuts = sorted(rng.sample(days[1:], min(len(days) - 1, 4)))
    slices = list(zip([None, *cuts], [*(c - timedelta(1) for c in cuts), None], strict=True))
    rng.shuffle(slices)
    steps = [("ingest", s) for s in slices]
    for action in ("reclassify", "version", "delete", "matches"):
        steps.insert(rng.randrange(1, len(steps) + 1), (action, None))
    log: list[str] = []
    with psycopg.connect(pg_dsn) as conn:
        for position, (action, window) in enumerate(steps):
            if action == "ingest":
                assert window is not None
                ingest_cache(pg_dsn, root, since=window[0], until=window[1])
                _label(conn)
                log.append(f"ingest {window}")
            elif action == "reclassify":
                log.append(_reclassify(conn, rng))
            elif action == "version":
                log.append(_new_version(conn, rng))
            elif action == "delete":
                log.append(_delete(conn, rng))
            else:
                log.append(_edit_matches(conn, rng))
            # Sometimes two changes before one refresh.
            if position < len(steps) - 1 and rng.random() < 0.3:
                continue
            result = refresh_all(pg_dsn, periods=periods)
            assert result.status == "succeeded" and result.kind == "incremental", log
    incremental = snapshot(pg_dsn)
    assert len(incremental["mv_deck_facts"]) > 1000 and incremental["meta_window_stats"]
    full = refresh_all(pg_dsn, periods=periods, full=True)
    assert full.kind == "full" and full.days > 0
    _assert_same(incremental, snapshot(pg_dsn))
    # And a refresh with nothing dirty changes nothing either.
    again = refresh_all(pg_dsn, periods=periods)
    assert (again.days, again.formats) == (0, [])
    _assert_same(incremental, snapshot(pg_dsn))
    # A full rebuild into emptied tables (a bulk load: indexes dropped, rows written, the
    # same indexes built again): the same rows, the same indexes.
    indexes = _index_definitions(pg_dsn)
    empty_statistics(pg_dsn)
    assert refresh_all(pg_dsn, periods=periods, full=True).kind == "full"
    _assert_same(incremental, snapshot(pg_dsn))
    assert _index_definitions(pg_dsn) == indexes


def _index_definitions(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT indexname::text, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1",
            ([*AGGREGATE_TABLES, *TOTAL_TABLES],),
        ).fetchall()
