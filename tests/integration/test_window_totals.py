"""Whole-history totals (migrations 0020 and 0022, issue 14): the triggers keep
``mv_player_archetype_total``, ``mv_player_total``, ``mv_matchup_total``,
``mv_format_total`` and ``mv_archetype_week_players`` equal to what the daily tables give
through every kind of write, and a window computed as "all of history minus the days
outside" equals the same window summed from its days."""

from __future__ import annotations

import os
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pipelines.core.vocabulary import EVENT_GROUPS
from pipelines.ingest.cache import ingest_cache
from pipelines.stats import window_stats
from pipelines.stats.aggregates import TOTAL_TABLES
from pipelines.stats.archetype_reads import week_parts
from pipelines.stats.periods import load_periods
from pipelines.stats.refresh import refresh_all
from pipelines.stats.window_stats import WindowSpec, compute_window_stats
from tests.integration.test_incremental_refresh import (
    _delete,
    _edit_matches,
    _label,
    _new_version,
    _reclassify,
)
from tests.integration.test_stats_views import PERIODS, build_world

_SUMS = (
    "decks, wins, losses, draws, mirror_seats, covered, rec_wins, rec_losses, rec_draws, rec_decks"
)
# (stored, recomputed from the daily tables) per totals table.
_EXPECTED = {
    "mv_player_archetype_total": (
        f"SELECT format, event_group, archetype, player_key, {_SUMS}"
        "  FROM mv_player_archetype_total",
        f"""SELECT p.format, g.event_group, p.archetype, p.player_key,
                   {", ".join(f"sum(p.{c})::int" for c in _SUMS.split(", "))}
              FROM mv_player_archetype_daily p
              JOIN stats_event_groups g ON g.event_kind = p.event_kind
             GROUP BY 1, 2, 3, 4""",
    ),
    "mv_player_total": (
        "SELECT format, event_group, player_key, decks FROM mv_player_total",
        """SELECT p.format, g.event_group, p.player_key, sum(p.decks)::int
             FROM mv_player_archetype_daily p
             JOIN stats_event_groups g ON g.event_kind = p.event_kind
            GROUP BY 1, 2, 3""",
    ),
    "mv_matchup_total": (
        "SELECT format, event_group, archetype, opponent, days, wins, losses, draws"
        "  FROM mv_matchup_total",
        """SELECT m.format, g.event_group, m.archetype, m.opponent, count(*)::int,
                  sum(m.wins)::int, sum(m.losses)::int, sum(m.draws)::int
             FROM mv_matchup_daily m
             JOIN stats_event_groups g ON g.event_kind = m.event_kind
            GROUP BY 1, 2, 3, 4""",
    ),
    "mv_archetype_week_players": (
        "SELECT format, week_start, event_group, archetype, players"
        "  FROM mv_archetype_week_players",
        """SELECT p.format, p.event_date - (p.event_date - DATE '0001-01-01') % 7, g.event_group,
                  p.archetype, count(DISTINCT p.player_key)::int
             FROM mv_player_archetype_daily p
             JOIN stats_event_groups g ON g.event_kind = p.event_kind
            GROUP BY 1, 2, 3, 4""",
    ),
    "mv_format_total": (
        "SELECT format, event_kind, decks FROM mv_format_total",
        "SELECT format, event_kind, sum(decks)::int FROM mv_archetype_daily GROUP BY 1, 2",
    ),
}


def assert_totals_follow_the_daily_tables(conn: psycopg.Connection[Any]) -> int:
    """Every totals table equals the sums of its daily table; returns the rows compared."""
    rows = 0
    for table, (stored, expected) in _EXPECTED.items():
        got = sorted(conn.execute(stored).fetchall())
        want = sorted(conn.execute(expected).fetchall())
        assert got == want, table
        rows += len(got)
    return rows


def _spans(conn: psycopg.Connection[Any], fmt: str) -> list[tuple[date, date]]:
    """Whole history, history minus a few days at either end, and a middle range."""
    first, last = conn.execute(
        "SELECT min(event_date), max(event_date) FROM mv_archetype_daily WHERE format = %s",
        (fmt,),
    ).fetchone() or (None, None)
    assert first is not None and last is not None
    middle = first + (last - first) / 3
    return [
        (first, last),
        (first - timedelta(days=30), last + timedelta(days=30)),
        (first + timedelta(days=2), last),
        (first, last - timedelta(days=3)),
        (first + timedelta(days=1), last - timedelta(days=1)),
        (middle, last),
    ]


def assert_complement_equals_direct(conn: psycopg.Connection[Any], monkeypatch: Any) -> int:
    """Every span and event group of every format: the same statistics either way."""
    formats = [r[0] for r in conn.execute("SELECT DISTINCT format FROM mv_archetype_daily")]
    windows = [
        WindowSpec(fmt, f"w{i}", start, end, end, None)
        for fmt in sorted(formats)
        for i, (start, end) in enumerate(_spans(conn, fmt))
    ]
    results = []
    for outside in (-1.0, 1.0):  # never, always
        monkeypatch.setattr(window_stats, "COMPLEMENT_MAX_OUTSIDE", outside)
        results.append(compute_window_stats(conn, windows, EVENT_GROUPS))
    direct, complement = results
    assert complement.archetypes == direct.archetypes
    assert complement.totals == direct.totals
    assert complement.matchups == direct.matchups
    return len(direct.archetypes)


@pytest.mark.shared_data
@pytest.mark.timeout(900)
def test_totals_follow_every_write_and_windows_agree(
    pg_dsn: str, shared_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = int(os.environ.get("MANALYTICS_TEST_SEED", random.randrange(2**31)))
    print(f"window totals sequence seed={seed} (MANALYTICS_TEST_SEED to replay)")
    rng = random.Random(seed)
    periods = load_periods(shared_data_dir / "formats")
    root = shared_data_dir / "tournaments"
    days = sorted({date(*map(int, p.parent.parts[-3:])) for p in root.glob("*/*/*/*/*.json")})
    cut = rng.choice(days[len(days) // 3 : 2 * len(days) // 3])
    with psycopg.connect(pg_dsn) as conn:
        ingest_cache(pg_dsn, root, until=cut)
        _label(conn)
        assert refresh_all(pg_dsn, periods=periods, full=True).status == "succeeded"
        assert assert_totals_follow_the_daily_tables(conn) > 1000
        steps = [lambda: ingest_cache(pg_dsn, root, since=cut + timedelta(days=1))]
        steps += [lambda f=f: f(conn, rng) for f in (_reclassify, _new_version, _delete)]
        steps.append(lambda: _edit_matches(conn, rng))
        rng.shuffle(steps)
        for step in steps:
            step()
            _label(conn)
            result = refresh_all(pg_dsn, periods=periods)
            assert result.status == "succeeded" and result.kind == "incremental"
            assert_totals_follow_the_daily_tables(conn)
        assert assert_complement_equals_direct(conn, monkeypatch) > 100
        # The full rebuild empties the daily tables (totals cleared), then refills them.
        assert refresh_all(pg_dsn, periods=periods, full=True).kind == "full"
        assert_totals_follow_the_daily_tables(conn)


def test_a_full_rebuild_recomputes_the_totals_set_based(pg_dsn: str) -> None:
    """A full refresh skips the totals triggers (migration 0026) and refills the totals from
    the daily tables: totals that drifted from their daily rows are repaired even when no
    daily row changes, while an incremental refresh leaves them to the triggers."""
    build_world(pg_dsn)
    assert refresh_all(pg_dsn, periods=PERIODS, full=True).status == "succeeded"
    drift = (
        "UPDATE mv_player_archetype_total SET wins = wins + 7"
        " WHERE player_key = (SELECT min(player_key) FROM mv_player_archetype_total)",
        "DELETE FROM mv_player_total"
        " WHERE player_key = (SELECT max(player_key) FROM mv_player_total)",
        "UPDATE mv_archetype_week_players SET players = players + 1",
        "INSERT INTO mv_matchup_total VALUES ('Modern', 'all', 'Ghost', 'Phantom', 1, 1, 0, 0)",
        "UPDATE mv_format_total SET decks = decks * 2",
    )
    with psycopg.connect(pg_dsn) as conn:
        for statement in drift:
            assert conn.execute(statement).rowcount > 0, statement
        conn.commit()
        with pytest.raises(AssertionError):
            assert_totals_follow_the_daily_tables(conn)
        conn.rollback()
    assert refresh_all(pg_dsn, periods=PERIODS).days == 0  # nothing dirty: left alone
    with psycopg.connect(pg_dsn) as conn, pytest.raises(AssertionError):
        assert_totals_follow_the_daily_tables(conn)
    full = refresh_all(pg_dsn, periods=PERIODS, full=True)
    with psycopg.connect(pg_dsn) as conn:
        assert assert_totals_follow_the_daily_tables(conn) > 0
    assert set(TOTAL_TABLES) <= set(full.durations)


def test_updates_and_truncation_keep_the_totals(pg_dsn: str) -> None:
    """Writers other than the refresh's DELETE/INSERT: UPDATE, partial DELETE, TRUNCATE."""
    row = "('F', DATE '2024-01-0{}', '{}', 'A', 'p{}', 1, 2, 1, 0, 0, 1, 2, 1, 0, 1)"
    values = ", ".join(
        row.format(day, kind, player)
        for day in (1, 2, 3)
        for kind in ("challenge", "league")
        for player in (1, 2)
    )
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(f"INSERT INTO mv_player_archetype_daily VALUES {values}")
        conn.execute(
            "INSERT INTO mv_matchup_daily VALUES ('F', DATE '2024-01-01', 'challenge', 'A', 'B',"
            " 1, 0, 0), ('F', DATE '2024-01-02', 'challenge', 'A', 'B', 0, 1, 1)"
        )
        assert assert_totals_follow_the_daily_tables(conn) > 0
        conn.execute("UPDATE mv_player_archetype_daily SET wins = wins + 3, archetype = 'B'"
                     " WHERE event_date = DATE '2024-01-02' AND player_key = 'p1'")  # fmt: skip
        conn.execute("UPDATE mv_matchup_daily SET wins = 5 WHERE event_date = DATE '2024-01-01'")
        assert_totals_follow_the_daily_tables(conn)
        conn.execute("DELETE FROM mv_player_archetype_daily WHERE player_key = 'p2'")
        conn.execute("DELETE FROM mv_matchup_daily WHERE event_date = DATE '2024-01-02'")
        assert_totals_follow_the_daily_tables(conn)
        assert conn.execute("SELECT count(*) FROM mv_player_total WHERE player_key = 'p2'"
                            ).fetchone() == (0,)  # fmt: skip
        conn.execute("TRUNCATE mv_player_archetype_daily, mv_matchup_daily")
        assert assert_totals_follow_the_daily_tables(conn) == 0


def test_week_parts_split_a_window_into_whole_weeks_and_edge_days() -> None:
    """Every day of the window once: in a whole Monday–Sunday week inside it, or in an edge."""
    rng = random.Random(7)
    for _ in range(3000):
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(60))
        end = start + timedelta(days=rng.randrange(45))
        parts = week_parts(start, end)
        days: list[date] = []
        monday = parts["full_from"]
        while monday <= parts["full_to"]:
            assert monday.weekday() == 0 and start <= monday
            assert monday + timedelta(days=6) <= end
            days += [monday + timedelta(days=i) for i in range(7)]
            monday += timedelta(days=7)
        for edge in ("edge1", "edge2"):
            day = parts[f"{edge}_start"]
            while day <= parts[f"{edge}_end"]:
                days.append(day)
                day += timedelta(days=1)
        assert sorted(days) == [start + timedelta(days=i) for i in range((end - start).days + 1)]
