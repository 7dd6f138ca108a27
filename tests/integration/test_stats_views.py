"""Statistics views and window tables against hand-computed expectations, and against the
plain-Python reference (``compute_reference_stats``) on the real sample.

The small world built by :func:`build_world` (format Modern unless said otherwise; latest
Modern date 2024-06-05, so last7 = 2024-05-30 … 2024-06-05, both ends included):

=====  ===========  ==========  ===================================================
event  date         kind        decks (player: archetype/colour)
=====  ===========  ==========  ===================================================
T1     2024-06-03   challenge   d1 alice A/R, d2 bob A/R, d3 carol B/U, d4 dave C/G,
                                d5 erin (no label -> Unknown)
T2     2024-06-05   paper       d6 alice A/R, d7 frank B/U, d8 gina A/W
T3     2024-06-04   league      d9 alice A/R, d10 henry B/U (no rounds)
T4     2024-05-30   challenge   d11 ivan C/G, d12 judy B/U
T5     2024-05-29   qualifier   d13 ivan C/G, d14 karl A/R
P1     2024-07-01   paper       Pioneer: d15 leo X, d16 mia Y
=====  ===========  ==========  ===================================================

Rounds (p1 games - p2 games - drawn games):

* T1: m1 d1-d3 2-1 (A beats B); m2 d2-d4 0-2 (C beats A); m3 d5 bye; m4 d1-d2 2-0 (mirror
  A); m5 d3-d4 1-1-1 (draw B-C); m6 d5 vs a player without a decklist 2-0 (excluded);
  m7 d1-d4 0-0-0 (unplayed, excluded); m8 d3-d5 0-2 (Unknown beats B); m9 d2-d4 2-1 (A
  beats C);
* T2: m10 d6-d7 2-0 (A beats B); m11 d8-d7 1-2 (B beats A); m12 d6-d8 1-1 (drawn mirror A);
* T4: m13 d11-d12 2-0 (C beats B); T5: m14 d14-d13 2-1 (A beats C); P1: m15 d15-d16 2-0.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pipelines.core.vocabulary import EVENT_GROUPS, EVENT_KINDS
from pipelines.stats import store
from pipelines.stats.aggregates import AGGREGATE_TABLES, TOTAL_TABLES
from pipelines.stats.decklists import DeckList, card_usage, stock_decklist
from pipelines.stats.intervals import clopper_pearson, clustered_interval, wilson_interval
from pipelines.stats.names import display_name
from pipelines.stats.reference_stats import (
    DeckRow,
    MatchRow,
    compute_reference_stats,
    records_basis,
)
from pipelines.stats.refresh import refresh_all
from pipelines.stats.samples import SampleRules, choose_interval, is_low_sample, shrink_win_rates
from pipelines.stats.tiers import TierInput, above_average_share, compute_tiers
from pipelines.stats.window_stats import compute_window_stats
from pipelines.stats.windows import DateWindow, week_start
from pipelines.storage.migrations import MIGRATIONS_DIR

REPO = Path(__file__).resolve().parents[2]
PERIODS = {"Modern": [(date(2024, 1, 1), "Old"), (date(2024, 6, 1), "New")]}
LAST7 = (date(2024, 5, 30), date(2024, 6, 5))
# The sample comparison uses a small minimum so that many archetypes reach the tier table.
RULES = SampleRules(min_players=3, min_decided=5)

Lines = Sequence[tuple[str, int]]


# --------------------------------------------------------------------------- fixture builder


@dataclass
class World:
    """Inserts tournaments, decks, matches and labels; ids are returned for assertions."""

    conn: psycopg.Connection[Any]
    versions: dict[str, int] = field(default_factory=dict)
    cards: dict[str, int] = field(default_factory=dict)
    positions: dict[int, itertools.count[int]] = field(default_factory=dict)

    def card(self, name: str, canonical: str | None = None) -> int:
        if name not in self.cards:
            row = self.conn.execute(
                "INSERT INTO cards (name, canonical_name) VALUES (%s, %s)"
                " ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
                (name, canonical or name),
            ).fetchone()
            assert row
            self.cards[name] = row[0]
        return self.cards[name]

    def tournament(self, fmt: str, day: date, kind: str, name: str = "Event") -> int:
        n = uuid.uuid4().hex  # unique even across several World objects on one database
        doc = self.conn.execute(
            "INSERT INTO raw_documents (sha256, size_bytes, body) VALUES (%s, 2, '{}')"
            " RETURNING id",
            (hashlib.sha256(n.encode()).digest(),),
        ).fetchone()
        assert doc
        row = self.conn.execute(
            "INSERT INTO tournaments (source_id, external_id, name, event_date, format,"
            " event_kind, uri, player_count, deck_count, match_count, document_id,"
            " document_key) VALUES (1, %s, %s, %s, %s, %s, %s, 0, 0, 0, %s, '')"
            " RETURNING id",
            (f"ext-{n}", f"{name} {n}", day, fmt, kind, f"https://example.test/{n}", doc[0]),
        ).fetchone()
        assert row
        self.positions[row[0]] = itertools.count()
        return int(row[0])

    def deck(
        self,
        tournament: int,
        player: str,
        archetype: str | None,
        color: str = "R",
        main: Lines = (("Mountain", 20),),
        side: Lines = (),
        rank: int | None = None,
    ) -> int:
        main_ids = [self.card(name) for name, _ in main]
        side_ids = [self.card(name) for name, _ in side]
        row = self.conn.execute(
            "INSERT INTO decks (tournament_id, position, player, player_key, result, rank,"
            " main_card_ids, main_counts, side_card_ids, side_counts, main_total,"
            " side_total, decklist_hash)"
            " VALUES (%s, %s, %s, %s, '', %s, %s, %s, %s, %s, %s, %s, '\\x00') RETURNING id",
            (
                tournament,
                next(self.positions[tournament]),
                player,
                player,
                rank,
                main_ids,
                [n for _, n in main],
                side_ids,
                [n for _, n in side],
                sum(n for _, n in main),
                sum(n for _, n in side),
            ),
        ).fetchone()
        assert row
        deck_id = int(row[0])
        if archetype is not None:
            fmt = self.conn.execute(
                "SELECT format FROM tournaments WHERE id = %s", (tournament,)
            ).fetchone()
            assert fmt
            self.conn.execute(
                "INSERT INTO deck_archetypes (version_id, deck_id, archetype, color, method)"
                " VALUES (%s, %s, %s, %s, 'rule')",
                (self.version(fmt[0]), deck_id, archetype, color),
            )
        return deck_id

    def version(self, fmt: str) -> int:
        if fmt not in self.versions:
            active = self.conn.execute(
                "SELECT version_id FROM active_definitions WHERE format = %s", (fmt,)
            ).fetchone()
            if active:
                self.versions[fmt] = int(active[0])
                return self.versions[fmt]
            row = self.conn.execute(
                "INSERT INTO definition_versions (format, version) VALUES (%s, 'v1') RETURNING id",
                (fmt,),
            ).fetchone()
            assert row
            self.conn.execute(
                "INSERT INTO active_definitions (format, version_id) VALUES (%s, %s)",
                (fmt, row[0]),
            )
            self.versions[fmt] = int(row[0])
        return self.versions[fmt]

    def match(
        self,
        tournament: int,
        round_index: int,
        deck1: int | None,
        deck2: int | None,
        score: tuple[int, int, int],
        *,
        bye: bool = False,
    ) -> None:
        self.conn.execute(
            "INSERT INTO matches (tournament_id, round_index, round_name, position, player1,"
            " player2, p1_games, p2_games, draw_games, is_bye, deck1_id, deck2_id)"
            " VALUES (%s, %s, %s, %s, 'p1', %s, %s, %s, %s, %s, %s, %s)",
            (
                tournament,
                round_index,
                f"Round {round_index}",
                next(self.positions[tournament]) + 1000,
                None if bye else "p2",
                *score,
                bye,
                deck1,
                deck2,
            ),
        )

    def standing(self, tournament: int, deck: int, wins: int, losses: int) -> None:
        self.conn.execute(
            "INSERT INTO standings (tournament_id, position, player, player_key, wins, losses,"
            " draws, deck_id) VALUES (%s, %s, 'x', 'x', %s, %s, 0, %s)",
            (tournament, next(self.positions[tournament]) + 2000, wins, losses, deck),
        )


def build_world(dsn: str) -> dict[str, int]:
    """The world of the module docstring; returns deck ids by name (d1…d16)."""
    with psycopg.connect(dsn) as conn:
        w = World(conn)
        w.card("Fire // Ice")
        w.card("Fire/Ice", "Fire // Ice")
        t1 = w.tournament("Modern", date(2024, 6, 3), "challenge")
        t2 = w.tournament("Modern", date(2024, 6, 5), "paper")
        t3 = w.tournament("Modern", date(2024, 6, 4), "league")
        t4 = w.tournament("Modern", date(2024, 5, 30), "challenge")
        t5 = w.tournament("Modern", date(2024, 5, 29), "qualifier")
        p1 = w.tournament("Pioneer", date(2024, 7, 1), "paper")
        d: dict[str, int] = {}
        d["d1"] = w.deck(
            t1,
            "alice",
            "A",
            main=[("Lightning Bolt", 4), ("Goblin Guide", 4), ("Mountain", 16)],
            side=[("Smash", 2)],
            rank=1,
        )
        d["d2"] = w.deck(
            t1,
            "bob",
            "A",
            main=[("Lightning Bolt", 2), ("Mountain", 20), ("Lightning Bolt", 2)],
            side=[("Smash", 1), ("Smash", 1)],
            rank=2,
        )
        d["d3"] = w.deck(t1, "carol", "B", "U", main=[("Island", 24)])
        d["d4"] = w.deck(t1, "dave", "C", "G", main=[("Forest", 24)])
        d["d5"] = w.deck(t1, "erin", None, main=[("Swamp", 24)])
        d["d6"] = w.deck(
            t2,
            "alice",
            "A",
            main=[("Lightning Bolt", 3), ("Fire/Ice", 1), ("Mountain", 19), ("Fire // Ice", 1)],
        )
        d["d7"] = w.deck(t2, "frank", "B", "U", main=[("Island", 24)], side=[("Lightning Bolt", 2)])
        d["d8"] = w.deck(
            t2,
            "gina",
            "A",
            "W",
            main=[("Goblin Guide", 4), ("Mountain", 20)],
            side=[("Smash", 3), ("Relic", 2)],
        )
        d["d9"] = w.deck(t3, "alice", "A")
        d["d10"] = w.deck(t3, "henry", "B", "U")
        d["d11"] = w.deck(t4, "ivan", "C", "G")
        d["d12"] = w.deck(t4, "judy", "B", "U")
        d["d13"] = w.deck(t5, "ivan", "C", "G")
        d["d14"] = w.deck(t5, "karl", "A")
        d["d15"] = w.deck(p1, "leo", "X")
        d["d16"] = w.deck(p1, "mia", "Y")
        w.match(t1, 1, d["d1"], d["d3"], (2, 1, 0))
        w.match(t1, 1, d["d2"], d["d4"], (0, 2, 0))
        w.match(t1, 1, d["d5"], None, (2, 0, 0), bye=True)
        w.match(t1, 2, d["d1"], d["d2"], (2, 0, 0))
        w.match(t1, 2, d["d3"], d["d4"], (1, 1, 1))
        w.match(t1, 2, d["d5"], None, (2, 0, 0))
        w.match(t1, 3, d["d1"], d["d4"], (0, 0, 0))
        w.match(t1, 3, d["d3"], d["d5"], (0, 2, 0))
        w.match(t1, 3, d["d2"], d["d4"], (2, 1, 0))
        w.match(t2, 1, d["d6"], d["d7"], (2, 0, 0))
        w.match(t2, 1, d["d8"], d["d7"], (1, 2, 0))
        w.match(t2, 2, d["d6"], d["d8"], (1, 1, 0))
        w.match(t4, 1, d["d11"], d["d12"], (2, 0, 0))
        w.match(t5, 1, d["d14"], d["d13"], (2, 1, 0))
        w.match(p1, 1, d["d15"], d["d16"], (2, 0, 0))
        w.standing(t1, d["d1"], 5, 1)
        conn.commit()
    return d


@pytest.fixture
def world(pg_dsn: str) -> Iterator[tuple[str, dict[str, int]]]:
    decks = build_world(pg_dsn)
    result = refresh_all(pg_dsn, periods=PERIODS)
    assert result.status == "succeeded"
    yield pg_dsn, decks


def meta(conn: psycopg.Connection[Any], *args: Any, **kwargs: Any) -> dict[str, dict[str, Any]]:
    return {r["archetype"]: r for r in store.meta_rows(conn, *args, **kwargs)["archetypes"]}


def cells(conn: psycopg.Connection[Any], *args: Any, **kwargs: Any) -> dict[tuple[str, str], Any]:
    out = store.matchup_cells(conn, *args, **kwargs)["cells"]
    return {(c["archetype"], c["opponent"]): (c["wins"], c["losses"], c["draws"]) for c in out}


def counts(row: dict[str, Any]) -> tuple[int, ...]:
    keys = ("decks", "players", "wins", "losses", "draws", "mirrors", "seats")
    return tuple(row[k] for k in keys)


# --------------------------------------------------------------------------- schema


def test_tables_have_unique_indexes_and_match_the_refresh_order(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        # Plain tables filled per day by the refresh (migration 0013), no materialized view.
        assert conn.execute("SELECT count(*) FROM pg_matviews").fetchone() == (0,)
        for table in AGGREGATE_TABLES:
            rows = conn.execute(
                "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
                " WHERE x.indrelid = %s::regclass AND x.indisunique"
                "   AND x.indpred IS NULL AND x.indexprs IS NULL",
                (table,),
            ).fetchall()
            assert [r[0] for r in rows] == [f"ux_{table}"], table
    # Dependency order: a table's statement only reads tables filled before it.
    for position, table in enumerate(AGGREGATE_TABLES):
        text = (REPO / "sql" / "views" / f"{position + 2:02d}_{table}.sql").read_text()
        body = text.split(f"INSERT INTO {table}", 1)[1]
        read = {t for t in AGGREGATE_TABLES if f"FROM {t}" in body or f"JOIN {t}" in body}
        assert read <= set(AGGREGATE_TABLES[:position]), (table, read)


def test_event_groups_table_matches_the_python_mapping(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute("SELECT event_group, event_kind FROM stats_event_groups").fetchall()
    table: dict[str, set[str]] = defaultdict(set)
    for group, kind in rows:
        table[group].add(kind)
    assert table == {k: set(v) for k, v in EVENT_GROUPS.items()}
    assert "league" not in EVENT_GROUPS["all"]
    # The kinds a tournament may have (the check constraint of migration 0001) are the
    # vocabulary's, and every kind but leagues is in the default group.
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'tournaments'::regclass AND contype = 'c'"
            "   AND pg_get_constraintdef(oid) LIKE '%event_kind%'"
        ).fetchone()
    assert row is not None
    assert set(re.findall(r"'([a-z_]+)'::text", row[0])) == set(EVENT_KINDS)
    assert set(EVENT_GROUPS["all"]) == set(EVENT_KINDS) - {"league"}


def test_view_files_are_embedded_verbatim_in_the_migration() -> None:
    """The plain view v_match_sides equals its copy in the **latest** migration that embeds
    it; the other files are the statements that fill the tables (read at run time)."""
    ups = sorted(MIGRATIONS_DIR.glob("*.up.sql"))
    files = sorted((REPO / "sql" / "views").glob("*.sql"))
    # + the plain view v_match_sides
    assert len(files) == len(AGGREGATE_TABLES) + len(TOTAL_TABLES) + 1
    for path in files[:1]:
        rel = f"sql/views/{path.name}"
        latest = [m for m in ups if f"-- >>> {rel}\n" in m.read_text(encoding="utf-8")][-1]
        block = f"-- >>> {rel}\n{path.read_text(encoding='utf-8')}-- <<< {rel}\n"
        assert block in latest.read_text(encoding="utf-8"), f"{rel} differs from {latest.name}"


def test_migration_down_and_up_again(pg_dsn: str) -> None:
    from pipelines.storage import migrations

    later = [m for m in migrations.status(pg_dsn) if m.applied and m.version >= 3]
    reverted = migrations.downgrade(pg_dsn, steps=len(later))
    assert reverted[-1] == "0003_stats_views"
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM pg_matviews").fetchone() == (0,)
        assert conn.execute("SELECT to_regclass('refresh_log')").fetchone() == (None,)
    assert migrations.upgrade(pg_dsn) == reverted[::-1]
    assert refresh_all(pg_dsn).status == "succeeded"


# --------------------------------------------------------------------------- daily views


def test_deck_and_daily_views(world: tuple[str, dict[str, int]]) -> None:
    dsn, d = world
    with psycopg.connect(dsn) as conn:
        facts = {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT deck_id, archetype, color, wins, losses, draws, mirror_seats,"
                " record_wins, record_losses, record_draws, record_source FROM mv_deck_facts"
            )
        }
        # d1: m1 W, m4 mirror (won), m7 0-0-0 excluded; its standing is 5-1.
        assert facts[d["d1"]] == ("A", "R", 1, 0, 0, 1, 5, 1, 0, "standings")
        # d2: m2 L, m4 mirror (lost), m9 W; record from its counted matches (mirror included).
        assert facts[d["d2"]] == ("A", "R", 1, 1, 0, 1, 1, 2, 0, "matches")
        # d5: no label; bye and the match against a player without decklist excluded.
        assert facts[d["d5"]] == ("Unknown", "Unknown", 1, 0, 0, 0, 1, 0, 0, "matches")
        # d6: m10 W, m12 drawn mirror.
        assert facts[d["d6"]] == ("A", "R", 1, 0, 0, 1, 1, 0, 1, "matches")

        daily = {
            (r[0], r[1], r[2]): r[3:]
            for r in conn.execute(
                "SELECT event_date, event_kind, archetype, decks, players, wins, losses, draws,"
                " mirrors, seats FROM mv_archetype_daily WHERE format = 'Modern'"
            )
        }
        t1 = date(2024, 6, 3)
        # A on T1: d1, d2; W m1, m9; L m2; mirror m4 (two seats); seats 3 + 2.
        assert daily[(t1, "challenge", "A")] == (2, 2, 2, 1, 0, 1, 5)
        # B on T1: d3; L m1, m8; D m5.
        assert daily[(t1, "challenge", "B")] == (1, 1, 0, 2, 1, 0, 3)
        assert daily[(t1, "challenge", "Unknown")] == (1, 1, 1, 0, 0, 0, 1)
        # League decks are there (with no results); the group filter drops them later.
        assert daily[(date(2024, 6, 4), "league", "A")] == (1, 1, 0, 0, 0, 0, 0)

        players = {
            (r[0], r[1]): r[2:]
            for r in conn.execute(
                "SELECT event_date, player_key, decks, wins, losses, draws, mirror_seats"
                " FROM mv_player_archetype_daily WHERE archetype = 'A'"
            )
        }
        assert players[(t1, "alice")] == (1, 1, 0, 0, 1)
        assert players[(t1, "bob")] == (1, 1, 1, 0, 1)

        matchup = {
            (r[0], r[1], r[2]): r[3:]
            for r in conn.execute(
                "SELECT event_date, archetype, opponent, wins, losses, draws"
                " FROM mv_matchup_daily WHERE format = 'Modern'"
            )
        }
        assert matchup[(t1, "A", "A")] == (1, 1, 0)  # decisive mirror, both sides
        assert matchup[(date(2024, 6, 5), "A", "A")] == (0, 0, 2)  # drawn mirror
        assert matchup[(t1, "B", "C")] == (0, 0, 1)
        assert matchup[(t1, "C", "B")] == (0, 0, 1)
        assert matchup[(t1, "A", "C")] == (1, 1, 0)
        assert (t1, "Unknown", "B") in matchup and (t1, "Unknown", "C") not in matchup


# --------------------------------------------------------------------------- window tables


def test_last7_all_meta_rows(world: tuple[str, dict[str, int]]) -> None:
    dsn, _ = world
    with psycopg.connect(dsn) as conn:
        table = store.meta_rows(conn, "Modern", "last7", "all")
    assert (table["window"]["start"], table["window"]["end"]) == LAST7
    rows = {r["archetype"]: r for r in table["archetypes"]}
    # T1, T2 and T4 (on the window's first day); not T5 (a day earlier) nor the league T3.
    assert counts(rows["A"]) == (4, 3, 3, 2, 0, 2, 9)  # alice twice = one player
    assert counts(rows["B"]) == (3, 3, 1, 4, 1, 0, 6)
    assert counts(rows["C"]) == (2, 2, 2, 1, 1, 0, 4)
    assert counts(rows["Unknown"]) == (1, 1, 1, 0, 0, 0, 1)
    assert [r["archetype"] for r in table["archetypes"]] == ["A", "B", "C", "Unknown"]
    assert [r["rank"] for r in table["archetypes"]] == [1, 2, 3, None]  # Unknown never ranks
    assert table["totals"]["decks"] == 10
    assert table["totals"]["players"] == 9
    assert table["totals"]["matches"] == 10  # m1 m2 m4 m5 m8 m9 m10 m11 m12 m13
    assert table["totals"]["archetypes"] == 4

    a = rows["A"]
    assert a["share_decks"] == pytest.approx(4 / 10)
    assert a["share_players"] == pytest.approx(3 / 9)
    assert a["share_seats"] == pytest.approx(9 / 20)
    assert a["win_rate"] == pytest.approx(3 / 5)
    # Clustered over alice (2, 0), bob (1, 1), gina (0, 1).
    ci = clustered_interval([(2, 0), (1, 1), (0, 1)])
    assert (a["ci_std_error"], a["ci_dof"]) == pytest.approx((ci.std_error, ci.dof), rel=1e-9)
    wilson = wilson_interval(3, 5)
    assert (a["wilson_lower"], a["wilson_upper"]) == pytest.approx(
        (wilson.lower, wilson.upper), abs=1e-12
    )
    # ν = 1.49 < 2: the published interval falls back to Wilson, flagged, and A is low-sample.
    assert ci.dof is not None and ci.dof < 2
    assert (a["ci_lower"], a["ci_upper"], a["ci_method"]) == (
        pytest.approx(wilson.lower, abs=1e-12),
        pytest.approx(wilson.upper, abs=1e-12),
        "wilson-fallback",
    )
    # Unknown has a single player: no clustered interval (std error, dof), Wilson fallback.
    assert rows["Unknown"]["ci_dof"] is None and rows["Unknown"]["ci_method"] == "wilson-fallback"
    assert rows["Unknown"]["win_rate"] == 1.0
    assert rows["Unknown"]["rank"] is None and not rows["Unknown"]["rankable"]

    # Every interval here degenerates (ν < 2): nothing may tier, whatever the minimum sample.
    assert all(r["low_sample"] for r in rows.values())
    assert not any(r["in_tier_table"] for r in rows.values())
    assert table["totals"]["tier_cut"] is None


def test_last14_aggregates_players_across_days(world: tuple[str, dict[str, int]]) -> None:
    dsn, _ = world
    with psycopg.connect(dsn) as conn:
        rows = meta(conn, "Modern", "last14", "all")
    # T5 joins: karl (A) beats ivan (C), who already played T4 as C.
    assert counts(rows["A"]) == (5, 4, 4, 2, 0, 2, 10)
    assert counts(rows["C"]) == (3, 2, 2, 2, 1, 0, 5)
    ci = clustered_interval([(1, 1), (1, 1)])  # dave (1, 1), ivan (1, 0) + (0, 1)
    assert rows["C"]["ci_std_error"] == pytest.approx(ci.std_error, abs=1e-12)
    assert rows["C"]["ci_dof"] == pytest.approx(ci.dof) and ci.dof == pytest.approx(1.0)
    fallback = wilson_interval(2, 4)
    assert rows["C"]["ci_lower"] == pytest.approx(fallback.lower, abs=1e-12)


def test_event_groups(world: tuple[str, dict[str, int]]) -> None:
    dsn, _ = world
    with psycopg.connect(dsn) as conn:
        challenges = meta(conn, "Modern", "last7", "challenges")
        paper = meta(conn, "Modern", "last7", "paper")
        leagues = meta(conn, "Modern", "last7", "leagues")
        qualifiers = meta(conn, "Modern", "last14", "qualifiers")
        empty = store.meta_rows(conn, "Modern", "last7", "qualifiers")
    assert counts(challenges["A"]) == (2, 2, 2, 1, 0, 1, 5)
    assert counts(challenges["B"]) == (2, 2, 0, 3, 1, 0, 4)  # carol (T1), judy (T4)
    assert counts(paper["A"]) == (2, 2, 1, 1, 0, 1, 4)
    assert counts(paper["B"]) == (1, 1, 1, 1, 0, 0, 2)
    # Leagues: decks only, no results, no rates or intervals.
    assert counts(leagues["A"]) == (1, 1, 0, 0, 0, 0, 0)
    assert leagues["A"]["win_rate"] is None and leagues["A"]["wilson_lower"] is None
    assert leagues["A"]["share_decks"] == 0.5 and leagues["B"]["share_decks"] == 0.5
    assert counts(qualifiers["A"]) == (1, 1, 1, 0, 0, 0, 1)
    assert counts(qualifiers["C"]) == (1, 1, 0, 1, 0, 0, 1)
    assert empty["archetypes"] == [] and empty["totals"]["decks"] == 0


def test_windows_and_current_meta(world: tuple[str, dict[str, int]]) -> None:
    dsn, _ = world
    with psycopg.connect(dsn) as conn:
        overview = store.formats_overview(conn)
        current = store.meta_rows(conn, "Modern", "current", "all")
        last30 = meta(conn, "Modern", "last30", "all")
        pioneer = store.meta_rows(conn, "Pioneer", "last7", "all")
        with pytest.raises(store.NotFound):
            store.meta_rows(conn, "Pioneer", "current")  # no meta periods for Pioneer
        with pytest.raises(ValueError):
            store.meta_rows(conn, "Modern", "last8")
        with pytest.raises(ValueError):
            store.meta_rows(conn, "Modern", "last7", "everything")
    formats = {f["format"]: f for f in overview["formats"]}
    modern = {w["key"]: (w["start"], w["end"]) for w in formats["Modern"]["windows"]}
    # Counted back from the latest Modern date (not today), end date included.
    assert modern == {
        "current": (date(2024, 6, 1), date(2024, 6, 5)),
        "last7": LAST7,
        "last14": (date(2024, 5, 23), date(2024, 6, 5)),
        "last30": (date(2024, 5, 7), date(2024, 6, 5)),
        "last90": (date(2024, 3, 8), date(2024, 6, 5)),
    }
    assert formats["Modern"]["decks"] == 14 and formats["Modern"]["decks_default"] == 12
    assert formats["Pioneer"]["last_date"] == date(2024, 7, 1)
    assert pioneer["window"]["start"] == date(2024, 6, 25)
    assert current["window"]["period_name"] == "New"
    assert {r["archetype"]: r["decks"] for r in current["archetypes"]} == {
        "A": 4,
        "B": 2,
        "C": 1,
        "Unknown": 1,
    }
    assert last30["A"]["decks"] == 5 and last30["C"]["decks"] == 3


def test_min_sample_filters_hide_rows_without_changing_shares(
    world: tuple[str, dict[str, int]],
) -> None:
    dsn, _ = world
    with psycopg.connect(dsn) as conn:
        full = meta(conn, "Modern", "last7")
        filtered = meta(conn, "Modern", "last7", min_decks=2, min_seats=5)
        cells_5 = cells(conn, "Modern", "last7", min_matches=3)
    assert set(filtered) == {"A", "B"}
    assert filtered["A"]["share_decks"] == full["A"]["share_decks"] == 0.4
    assert set(cells_5) == {("A", "B"), ("B", "A")}  # the mirror cell: 2 mirror matches


def test_matchup_cells(world: tuple[str, dict[str, int]]) -> None:
    dsn, _ = world
    with psycopg.connect(dsn) as conn:
        got = cells(conn, "Modern", "last7", "all")
        full = store.matchup_cells(conn, "Modern", "last7", "all")["cells"]
    assert got == {
        ("A", "B"): (2, 1, 0),
        ("B", "A"): (1, 2, 0),
        ("A", "C"): (1, 1, 0),
        ("C", "A"): (1, 1, 0),
        ("A", "A"): (0, 0, 0),  # its two mirror matches are in "mirrors", once each
        ("B", "C"): (0, 1, 1),
        ("C", "B"): (1, 0, 1),
        ("B", "Unknown"): (0, 1, 0),
        ("Unknown", "B"): (1, 0, 0),
    }
    ab = next(c for c in full if (c["archetype"], c["opponent"]) == ("A", "B"))
    cp = clopper_pearson(2, 3)
    assert (ab["win_rate"], ab["cp_lower"], ab["cp_upper"]) == pytest.approx(
        (cp.estimate, cp.lower, cp.upper), abs=1e-12
    )
    bc = next(c for c in full if (c["archetype"], c["opponent"]) == ("B", "C"))
    assert bc["win_rate"] == 0.0 and bc["cp_lower"] == 0.0
    aa = next(c for c in full if (c["archetype"], c["opponent"]) == ("A", "A"))
    assert (aa["mirrors"], aa["win_rate"], aa["cp_lower"], aa["cp_upper"]) == (2, None, None, None)
    assert all(c["mirrors"] == 0 for c in full if c["archetype"] != c["opponent"])


def test_matchup_matrix_with_other_bucket(world: tuple[str, dict[str, int]]) -> None:
    dsn, _ = world
    with psycopg.connect(dsn) as conn:
        matrix = store.matchup_matrix(conn, "Modern", "last7", min_share=0.25)
    assert matrix.labels == ["A", "B", "Other"]
    assert matrix.merged == ["C", "Unknown"]
    other_b = matrix.cell("Other", "B")  # C vs B (W, D) + Unknown vs B (W)
    assert (other_b.wins, other_b.losses, other_b.draws) == (2, 0, 1)
    a_other = matrix.cell("A", "Other")
    assert (a_other.wins, a_other.losses) == (1, 1)
    assert matrix.row_totals["A"].win_rate == pytest.approx(3 / 5)
    # The diagonal: A's two mirror matches once each, no rate, no interval.
    aa = matrix.cell("A", "A")
    assert (aa.mirrors, aa.n, aa.win_rate, aa.lower, aa.upper, aa.mirror) == (
        2, 0, None, None, None, True
    )  # fmt: skip
    # [Other, Other]: C and Unknown never met; the Other row total = their pooled record:
    # C 2-1-1 (m2 W, m13 W, m9 L, m5 D) + Unknown 1-0 (m8).
    oo = matrix.cell("Other", "Other")
    assert (oo.wins, oo.losses, oo.draws, oo.mirrors, oo.win_rate) == (0, 0, 0, 0, None)
    other = matrix.row_totals["Other"]
    assert (other.wins, other.losses, other.draws) == (3, 1, 1)


def test_custom_window_equals_the_stored_standard_window(
    world: tuple[str, dict[str, int]],
) -> None:
    dsn, _ = world
    with psycopg.connect(dsn) as conn:
        for group in EVENT_GROUPS:
            stored = store.meta_rows(conn, "Modern", "last14", group)
            span = DateWindow(stored["window"]["start"], stored["window"]["end"])
            custom = store.meta_rows(conn, "Modern", span, group)
            assert custom["window"]["key"] == "custom"
            assert custom["archetypes"] == stored["archetypes"]
            assert custom["totals"] == stored["totals"]
            assert (
                store.matchup_cells(conn, "Modern", (date(2024, 5, 23), "2024-06-05"), group)[
                    "cells"
                ]
                == store.matchup_cells(conn, "Modern", "last14", group)["cells"]
            )
        with pytest.raises(ValueError):
            store.meta_rows(conn, "Modern", (date(2024, 6, 5), date(2024, 6, 1)))


# --------------------------------------------------------------------------- archetype detail


def test_archetype_detail_cards_colours_stock_list_and_best_decks(
    world: tuple[str, dict[str, int]],
) -> None:
    dsn, d = world
    with psycopg.connect(dsn) as conn:
        # Week of Monday 2024-06-03 only (T1, T2; the league T3 is not in "all").
        detail = store.archetype_detail(conn, "Modern", "A", (date(2024, 6, 3), date(2024, 6, 9)))
        last7 = store.archetype_detail(conn, "Modern", "A", "last7")
        with pytest.raises(store.NotFound):
            store.archetype_detail(conn, "Modern", "Nope", "last7")
    assert detail["card_decks"] == 4
    main = {u["card"]: u for u in detail["cards"]["main"]}
    assert main["Mountain"] == {
        "card": "Mountain",
        "decks": 4,
        "share": 1.0,
        "total_copies": 75,
        "average_copies": 18.75,
        "most_common_count": 20,
    }
    # d2's two "2 Lightning Bolt" lines are one deck running 4.
    assert (main["Lightning Bolt"]["decks"], main["Lightning Bolt"]["total_copies"]) == (3, 11)
    assert main["Lightning Bolt"]["most_common_count"] == 4
    # "Fire/Ice" and "Fire // Ice" share a canonical name: one card, 2 copies in d6.
    assert main["Fire // Ice"]["decks"] == 1 and main["Fire // Ice"]["most_common_count"] == 2
    assert "Fire/Ice" not in main
    side = {u["card"]: u for u in detail["cards"]["side"]}
    assert (side["Smash"]["decks"], side["Smash"]["total_copies"]) == (3, 7)
    assert side["Smash"]["most_common_count"] == 2
    assert [u["card"] for u in detail["cards"]["main"]] == [
        "Mountain",
        "Lightning Bolt",
        "Goblin Guide",
        "Fire // Ice",
    ]
    stock = detail["stock_decklist"]
    assert stock["main"] == [["Mountain", 20], ["Lightning Bolt", 4]]
    assert (stock["main_size"], stock["side_size"]) == (24, 2)
    assert stock["side"] == [["Smash", 2]]
    # The same as the reference stock list over the same decks.
    decks = [
        DeckList.from_lines(
            [("Lightning Bolt", 4), ("Goblin Guide", 4), ("Mountain", 16)], [("Smash", 2)]
        ),
        DeckList.from_lines(
            [("Lightning Bolt", 2), ("Mountain", 20), ("Lightning Bolt", 2)],
            [("Smash", 1), ("Smash", 1)],
        ),
        DeckList.from_lines([("Lightning Bolt", 3), ("Fire // Ice", 2), ("Mountain", 19)]),
        DeckList.from_lines([("Goblin Guide", 4), ("Mountain", 20)], [("Smash", 3), ("Relic", 2)]),
    ]
    reference = stock_decklist(decks)
    assert [tuple(x) for x in stock["main"]] == reference.main
    assert [tuple(x) for x in stock["side"]] == reference.side
    for usage in card_usage(decks, "main"):
        got = main[usage.name]
        assert (got["decks"], got["total_copies"], got["most_common_count"]) == (
            usage.decks,
            usage.total_copies,
            usage.most_common_count,
        )
        assert got["average_copies"] == pytest.approx(usage.average_copies)

    # Colour split over last7: R = d1, d2, d6 (W 3, L 1), W = d8 (L 1).
    colours = {c["color"]: c for c in last7["colors"]}
    assert (colours["R"]["decks"], colours["R"]["wins"], colours["R"]["losses"]) == (3, 3, 1)
    assert (colours["W"]["decks"], colours["W"]["wins"], colours["W"]["losses"]) == (1, 0, 1)
    assert colours["R"]["cp_lower"] == pytest.approx(clopper_pearson(3, 4).lower)
    assert [c["color"] for c in last7["colors"]] == ["R", "W"]

    # Best decks: d1 (standing 5-1), d6 (1-0-1), d2 (1-2), d8 (0-1-1).
    assert [b["deck_id"] for b in last7["best_decks"]] == [d["d1"], d["d6"], d["d2"], d["d8"]]
    assert (last7["best_decks"][0]["wins"], last7["best_decks"][0]["losses"]) == (5, 1)

    # Weekly trend, clipped to the window: the week of 05-27 has T4 only (no A deck).
    weeks = [(w["week_start"], w["start"], w["end"], w["decks"]) for w in last7["weekly"]]
    assert weeks == [
        (date(2024, 5, 27), date(2024, 5, 30), date(2024, 6, 2), 0),
        (date(2024, 6, 3), date(2024, 6, 3), date(2024, 6, 5), 4),
    ]
    week = last7["weekly"][1]
    assert (week["share_decks"], week["players"], week["wins"], week["losses"]) == (
        0.5,
        3,
        3,
        2,
    )
    assert week["mirrors"] == 2 and week["label"] == "2024-W23"
    assert last7["summary"]["decks"] == 4


def test_trends_and_card_lookup(world: tuple[str, dict[str, int]]) -> None:
    dsn, _ = world
    with psycopg.connect(dsn) as conn:
        trend = store.trends(conn, "Modern", "last7", top_n=2)
        bolt = store.card_lookup(
            conn, "Modern", "Lightning Bolt", (date(2024, 6, 3), date(2024, 6, 9))
        )
        fire = store.card_lookup(conn, "Modern", "Fire/Ice", (date(2024, 6, 3), date(2024, 6, 9)))
        with pytest.raises(store.NotFound):
            store.card_lookup(conn, "Modern", "No Such Card", "last7")
    assert [w["decks"] for w in trend["weeks"]] == [2, 8]
    series = {s["archetype"]: s for s in trend["series"]}
    assert list(series) == ["A", "B"]
    assert [p["decks"] for p in series["A"]["points"]] == [0, 4]
    assert [p["share_decks"] for p in series["B"]["points"]] == [0.5, 0.25]
    assert [(p["wins"], p["losses"], p["draws"]) for p in series["B"]["points"]] == [
        (0, 1, 0),
        (1, 3, 1),
    ]
    assert series["A"]["points"][0]["win_rate"] is None
    rows = {(r["archetype"], r["board"]): r for r in bolt["archetypes"]}
    assert set(rows) == {("A", "main"), ("B", "side")}
    assert (rows[("A", "main")]["decks"], rows[("A", "main")]["archetype_decks"]) == (3, 4)
    assert rows[("A", "main")]["share"] == 0.75
    assert (rows[("B", "side")]["decks"], rows[("B", "side")]["share"]) == (1, 0.5)
    assert fire["card"] == "Fire // Ice"
    assert fire["archetypes"][0]["most_common_count"] == 2


# --------------------------------------------------------------------------- vectorised intervals


@pytest.mark.parametrize(
    "players",
    [
        [(5, 1), (3, 3), (2, 4)],
        [(7, 1), (6, 2), (5, 3), (4, 4), (3, 5), (2, 6)],
        [(10, 2), (3, 5), (8, 8), (1, 1), (6, 9)],
        [(3, 0), (0, 3)],
        [(2, 2), (4, 4), (1, 1)],  # zero variance
        [(40, 1), (1, 0), (0, 1), (2, 2), (9, 30), (0, 0)],
    ],
)
def test_clustered_interval_in_sql_matches_the_reference(
    pg_dsn: str, players: list[tuple[int, int]]
) -> None:
    # One player per (W, L): W wins against and L losses to a player of another archetype.
    with psycopg.connect(pg_dsn) as conn:
        w = World(conn)
        t = w.tournament("Modern", date(2024, 6, 3), "challenge")
        opponent = w.deck(t, "opponent", "Z")
        for i, (wins, losses) in enumerate(players):
            deck = w.deck(t, f"p{i}", "A")
            for r in range(wins):
                w.match(t, 100 * i + r, deck, opponent, (2, 0, 0))
            for r in range(losses):
                w.match(t, 100 * i + 50 + r, deck, opponent, (0, 2, 0))
        conn.commit()
    refresh_all(pg_dsn)
    with psycopg.connect(pg_dsn) as conn:
        for level in (0.9, 0.95):
            got = meta(conn, "Modern", (date(2024, 6, 3), date(2024, 6, 3)), confidence=level)["A"]
            ref = clustered_interval(players, level)
            assert got["win_rate"] == pytest.approx(ref.estimate)
            if ref.dof is not None and ref.dof >= 2:
                expected, method = ref, "cluster-cr2"
            else:  # degenerate: the Wilson interval, flagged
                n_w = sum(w for w, _ in players)
                expected = wilson_interval(n_w, n_w + sum(lo for _, lo in players), level)
                method = "wilson-fallback"
            assert got["ci_method"] == method
            assert got["ci_lower"] == pytest.approx(expected.lower, abs=1e-12)
            assert got["ci_upper"] == pytest.approx(expected.upper, abs=1e-12)
            assert got["ci_dof"] == pytest.approx(ref.dof, rel=1e-9)
            assert got["ci_std_error"] == pytest.approx(ref.std_error, rel=1e-9, abs=1e-15)


# --------------------------------------------------------------------------- the real sample


def _records(conn: psycopg.Connection[Any]) -> dict[int, tuple[int, int, int]]:
    """Records basis per deck, straight from the base tables: the first standing (by
    position) with wins and losses, else the deck's "W-L" result; minus its bye rounds (a win
    or a 0-0-1 bye: one win less; a lost bye: one loss less; floored at 0)."""
    byes: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for d1, d2, g1, g2, gd in conn.execute(
        "SELECT deck1_id, deck2_id, p1_games, p2_games, draw_games FROM matches WHERE is_bye"
    ):
        for deck, own, opp in ((d1, g1, g2), (d2, g2, g1)):
            if deck is None:
                continue
            if own > opp or (own == opp and gd > 0):
                byes[deck][0] += 1
            elif own < opp:
                byes[deck][1] += 1
    records: dict[int, tuple[int, int, int]] = {}
    for deck, w, lo, dr in conn.execute(
        "SELECT deck_id, wins, losses, draws FROM standings"
        " WHERE deck_id IS NOT NULL AND wins IS NOT NULL AND losses IS NOT NULL"
        " ORDER BY tournament_id DESC, position DESC"
    ):
        records[deck] = (w, lo, dr or 0)  # the first by position wins (written last)
    for deck, w, lo, dr in conn.execute(
        "SELECT id, record_wins, record_losses, record_draws FROM decks"
        " WHERE record_wins IS NOT NULL"
    ):
        records.setdefault(deck, (w, lo or 0, dr or 0))
    return {
        deck: (max(w - byes[deck][0], 0), max(lo - byes[deck][1], 0), dr)
        for deck, (w, lo, dr) in records.items()
    }


def _confirmed_draws(conn: psycopg.Connection[Any]) -> set[int]:
    """0-0-0 rounds between two published decks that both standings confirm as draws: for
    each deck, standing draws minus its played draws (any opponent) >= its 0-0-0 rounds."""
    standing: dict[int, int | None] = {}
    for deck, dr in conn.execute(
        "SELECT deck_id, draws FROM standings WHERE deck_id IS NOT NULL"
        " ORDER BY tournament_id DESC, position DESC"
    ):
        standing[deck] = dr
    played: dict[int, int] = defaultdict(int)
    zero: dict[int, int] = defaultdict(int)
    zero_ids: list[tuple[int, int, int]] = []
    for mid, d1, d2, g1, g2, gd in conn.execute(
        "SELECT id, deck1_id, deck2_id, p1_games, p2_games, draw_games FROM matches"
        " WHERE NOT is_bye"
    ):
        if g1 + g2 + gd == 0:
            if d1 is not None and d2 is not None:
                zero[d1] += 1
                zero[d2] += 1
                zero_ids.append((mid, d1, d2))
        elif g1 == g2:
            for deck in (d1, d2):
                if deck is not None:
                    played[deck] += 1

    def free(deck: int) -> bool:
        draws = standing.get(deck)
        return draws is not None and draws - played[deck] >= zero[deck]

    return {mid for mid, d1, d2 in zero_ids if free(d1) and free(d2)}


def _sample_rows(
    conn: psycopg.Connection[Any],
) -> tuple[dict[str, list[tuple[str, DeckRow]]], dict[str, list[tuple[str, MatchRow]]]]:
    """Plain deck and match rows per format, each with its event kind, from the base tables;
    archetypes by display name (pipelines.stats.names, not the SQL table)."""
    records = _records(conn)
    confirmed = _confirmed_draws(conn)
    decks: dict[str, list[tuple[str, DeckRow]]] = defaultdict(list)
    for deck_id, arch, player, tid, day, fmt, kind in conn.execute(
        "SELECT d.id, coalesce(a.archetype, 'Unknown'), d.player_key, d.tournament_id,"
        "       t.event_date, t.format, t.event_kind"
        "  FROM decks d JOIN tournaments t ON t.id = d.tournament_id"
        "  LEFT JOIN current_deck_archetypes a ON a.deck_id = d.id"
    ):
        row = DeckRow(deck_id, display_name(arch), player, str(tid), day, records.get(deck_id))
        decks[fmt].append((kind, row))
    matches: dict[str, list[tuple[str, MatchRow]]] = defaultdict(list)
    for row in conn.execute(
        "SELECT m.id, t.format, t.event_kind, t.id, t.event_date, m.round_name, m.is_bye,"
        "       d1.player_key, d2.player_key,"
        "       CASE WHEN d1.id IS NOT NULL THEN coalesce(a1.archetype, 'Unknown') END,"
        "       CASE WHEN d2.id IS NOT NULL THEN coalesce(a2.archetype, 'Unknown') END,"
        "       m.p1_games, m.p2_games, m.draw_games"
        "  FROM matches m JOIN tournaments t ON t.id = m.tournament_id"
        "  LEFT JOIN decks d1 ON d1.id = m.deck1_id"
        "  LEFT JOIN decks d2 ON d2.id = m.deck2_id"
        "  LEFT JOIN current_deck_archetypes a1 ON a1.deck_id = d1.id"
        "  LEFT JOIN current_deck_archetypes a2 ON a2.deck_id = d2.id"
    ):
        mid, fmt, kind, tid, day, rnd, bye, p1, p2, a1, a2, g1, g2, gd = row
        if bye or ((g1, g2, gd) == (0, 0, 0) and mid not in confirmed):
            continue  # byes and unplayed rounds: never counted (see METHODOLOGY §2)
        a1, a2 = (display_name(a) if a is not None else None for a in (a1, a2))
        matches[fmt].append((kind, MatchRow(str(tid), day, p1 or "", p2, a1, a2, g1, g2, rnd)))
    return decks, matches


@functools.cache
def _clustered(per_player: tuple[tuple[int, int], ...]) -> Any:
    """The reference clustered interval (O(n²) in players), once per distinct input: the
    standard windows often cover the same dates."""
    return clustered_interval(per_player)


def _close(a: float | None, b: float | None, tol: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


@pytest.mark.shared_data
def test_sample_matches_the_plain_python_reference(pg_dsn: str, shared_data_dir: Path) -> None:
    from ops.bench.refresh import label_decks
    from pipelines.ingest.cache import ingest_cache
    from pipelines.stats.periods import load_periods

    ingest_cache(pg_dsn, shared_data_dir / "tournaments")
    with psycopg.connect(pg_dsn) as conn:
        assert label_decks(conn) > 15_000
        conn.commit()
    result = refresh_all(pg_dsn, periods=load_periods(shared_data_dir / "formats"), rules=RULES)
    assert result.status == "succeeded" and result.meta_rows > 500

    with psycopg.connect(pg_dsn) as conn:
        decks, matches = _sample_rows(conn)
        windows = {
            (fmt, key): DateWindow(start, end)
            for fmt, key, start, end in conn.execute(
                "SELECT format, window_key, start_date, end_date FROM stats_windows"
                " WHERE generation = %s",
                (result.generation,),
            )
        }
        stored: dict[tuple[str, str, str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
        with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            for r in cur.execute(
                "SELECT * FROM meta_window_stats WHERE generation = %s", (result.generation,)
            ):
                key4 = (r["format"], r["window_key"], r["event_group"], r["basis"])
                stored[key4][r["archetype"]] = r
            stored_cells: dict[tuple[str, str, str], dict[tuple[str, str], Any]] = defaultdict(dict)
            for c in cur.execute(
                "SELECT * FROM matchup_window_stats WHERE generation = %s", (result.generation,)
            ):
                key = (c["format"], c["window_key"], c["event_group"])
                stored_cells[key][(c["archetype"], c["opponent"])] = c
            slugs = {
                (r["format"], r["name"]): r["slug"]
                for r in cur.execute("SELECT format, name, slug FROM archetype_names")
            }
            totals = {
                (t["format"], t["window_key"], t["event_group"], t["basis"]): t
                for t in cur.execute(
                    "SELECT * FROM meta_window_totals WHERE generation = %s", (result.generation,)
                )
            }
    assert {fmt for fmt, _ in windows} == set(decks)
    assert ("Modern", "current") in windows and ("Commander", "current") not in windows

    compared = cells_compared = tiered = 0
    for (fmt, key), window in sorted(windows.items()):
        for group, kinds in EVENT_GROUPS.items():
            ref = compute_reference_stats(
                [row for kind, row in decks[fmt] if kind in kinds],
                [row for kind, row in matches[fmt] if kind in kinds],
                window,
            )
            got = stored[(fmt, key, group, "matches")]
            got_rec = stored[(fmt, key, group, "records")]
            assert set(got) == set(ref.archetypes) == set(got_rec), (fmt, key, group)
            rec = records_basis([row for kind, row in decks[fmt] if kind in kinds], window)
            if ref.archetypes:
                total = totals[(fmt, key, group, "matches")]
                assert (total["decks"], total["players"], total["matches"]) == (
                    ref.total_decks,
                    ref.total_players,
                    ref.total_matches,
                )
                assert totals[(fmt, key, group, "records")]["matches"] == ref.total_matches
            for basis, rows in (("matches", got), ("records", got_rec)):
                counted = {
                    name: (
                        (exp.wins, exp.losses, exp.covered, exp.player_records)
                        if basis == "matches"
                        else (
                            rec[name].wins,
                            rec[name].losses,
                            rec[name].covered,
                            rec[name].player_records,
                        )
                    )
                    for name, exp in ref.archetypes.items()
                }
                shrink = shrink_win_rates([(w, w + lo) for w, lo, _, _ in counted.values()])
                for (name, (w, lo, cov, per_player)), shrunk in zip(
                    counted.items(), shrink.estimates, strict=True
                ):
                    row = rows[name]
                    assert (row["wins"], row["losses"], row["covered"]) == (w, lo, cov), (
                        fmt, key, group, basis, name,
                    )  # fmt: skip
                    exp = ref.archetypes[name]
                    assert row["coverage"] == pytest.approx(cov / exp.decks)
                    assert _close(row["shrunk_win_rate"], shrunk), (fmt, key, group, name)
                    clustered = _clustered(tuple((a, b) for _, a, b in per_player))
                    wilson = wilson_interval(w, w + lo)
                    lower, upper, method = choose_interval(
                        (clustered.lower, clustered.upper),
                        clustered.dof,
                        (wilson.lower, wilson.upper),
                    )
                    assert row["ci_method"] == method
                    assert _close(row["ci_lower"], lower), (fmt, key, group, basis, name)
                    assert _close(row["ci_upper"], upper), (fmt, key, group, basis, name)
                    low = is_low_sample(len(per_player), w + lo, method, lower, upper, RULES)
                    assert row["low_sample"] == low
                    assert row["rankable"] == (name != "Unknown" and not name.startswith("Conf"))
                    assert row["slug"] == slugs[(fmt, name)]
                    if not row["rankable"]:
                        assert row["rank"] is None and row["tier_ci"] is None
                    # No published tier from a degenerate interval.
                    if row["tier_ci"] is not None:
                        assert not (row["ci_lower"] == 0.0 and row["ci_upper"] == 1.0)
                        assert row["ci_method"] == "cluster-cr2"
            for name, exp in ref.archetypes.items():
                row = got[name]
                assert counts(row) == (
                    exp.decks,
                    exp.players,
                    exp.wins,
                    exp.losses,
                    exp.draws,
                    exp.mirrors,
                    exp.seats,
                ), (fmt, key, group, name)
                for share in ("share_decks", "share_players", "share_seats"):
                    assert _close(row[share], getattr(exp, share)), (fmt, key, group, name)
                assert _close(row["win_rate"], exp.win_rate)
                wilson = wilson_interval(exp.wins, exp.decided)
                clustered = _clustered(tuple((a, b) for _, a, b in exp.player_records))
                assert _close(row["wilson_lower"], wilson.lower)
                assert _close(row["wilson_upper"], wilson.upper)
                assert _close(row["ci_dof"], clustered.dof)
                rec_row = got_rec[name]
                assert (rec_row["draws"], rec_row["mirrors"], rec_row["decks"]) == (
                    rec[name].draws,
                    0,
                    exp.decks,
                )
                compared += 1
            # Tiers from the reference counts: rankable, not low-sample archetypes with a
            # decided match; presence = their seat share.
            eligible = [
                a
                for a in ref.archetypes.values()
                if a.decided and got[a.archetype]["rankable"] and not got[a.archetype]["low_sample"]
            ]
            seats = sum(a.seats for a in eligible)
            candidates = [
                TierInput(a.archetype, a.seats / seats, a.win_rate or 0.0,
                          got[a.archetype]["ci_lower"])
                for a in eligible
            ]  # fmt: skip
            table = compute_tiers(above_average_share(candidates, lambda c: c.share))
            for tier in table.rows:
                row = got[tier.archetype]
                assert row["in_tier_table"], (fmt, key, group, tier.archetype)
                assert (row["tier_ci"], row["tier_score"], row["rank_ci"]) == (
                    tier.tier_ci,
                    tier.tier_score,
                    tier.rank_ci,
                )
            tiered += len(table.rows)
            assert sum(r["in_tier_table"] for r in got.values()) == len(table.rows)
            if ref.archetypes:
                cut = totals[(fmt, key, group, "matches")]["tier_cut"]
                assert cut == (round(100 / len(candidates), 2) / 100 if candidates else None)
            # Matchup cells.
            got_cells = stored_cells[(fmt, key, group)]
            assert set(got_cells) == set(ref.cells), (fmt, key, group)
            for cell_key, exp_cell in ref.cells.items():
                cell = got_cells[cell_key]
                assert (cell["wins"], cell["losses"], cell["draws"], cell["mirrors"]) == (
                    exp_cell.wins,
                    exp_cell.losses,
                    exp_cell.draws,
                    exp_cell.mirrors,
                )
                cp = clopper_pearson(exp_cell.wins, exp_cell.decided)
                assert _close(cell["cp_lower"], cp.lower) and _close(cell["cp_upper"], cp.upper)
                cells_compared += 1
    assert compared > 1000 and cells_compared > 5000 and tiered > 100

    # Card usage and stock list of the biggest archetypes against the reference functions,
    # over the whole weeks of last30.
    with psycopg.connect(pg_dsn) as conn:
        for fmt in ("Modern", "Pauper", "Legacy"):
            window = windows[(fmt, "last30")]
            first, last = week_start(window.start), week_start(window.end)
            top = conn.execute(
                "SELECT archetype FROM meta_window_stats WHERE generation = %s AND format = %s"
                " AND window_key = 'last30' AND event_group = 'all' AND basis = 'matches'"
                " ORDER BY rank LIMIT 2",
                (result.generation, fmt),
            ).fetchall()
            for (arch,) in top:
                lists = _raw_decklists(conn, fmt, arch, first, last)
                detail = store.archetype_detail(conn, fmt, arch, "last30")
                assert detail["card_decks"] == len(lists)
                for board in ("main", "side"):
                    expected = card_usage(lists, board)  # type: ignore[arg-type]
                    got_usage = detail["cards"][board]
                    assert [u["card"] for u in got_usage] == [u.name for u in expected]
                    for u, e in zip(got_usage, expected, strict=True):
                        assert (u["decks"], u["total_copies"], u["most_common_count"]) == (
                            e.decks,
                            e.total_copies,
                            e.most_common_count,
                        )
                reference = stock_decklist(lists)
                stock = detail["stock_decklist"]
                assert [tuple(x) for x in stock["main"]] == reference.main
                assert [tuple(x) for x in stock["side"]] == reference.side


def _raw_decklists(
    conn: psycopg.Connection[Any], fmt: str, archetype: str, first: date, last: date
) -> list[DeckList]:
    """Decks of ``archetype`` in the weeks ``first``…``last`` (Mondays), group 'all', with
    canonical card names, straight from the base tables."""
    names = dict(conn.execute("SELECT id, canonical_name FROM cards").fetchall())
    lists = []
    for main_ids, main_counts, side_ids, side_counts in conn.execute(
        "SELECT d.main_card_ids, d.main_counts, d.side_card_ids, d.side_counts"
        "  FROM decks d JOIN tournaments t ON t.id = d.tournament_id"
        "  LEFT JOIN current_deck_archetypes a ON a.deck_id = d.id"
        " WHERE t.format = %s AND coalesce(a.archetype, 'Unknown') = %s"
        "   AND t.event_kind <> 'league'"
        "   AND date_trunc('week', t.event_date)::date BETWEEN %s AND %s",
        (fmt, archetype, first, last),
    ):
        lists.append(
            DeckList.from_lines(
                [(names[c], n) for c, n in zip(main_ids, main_counts, strict=True)],
                [(names[c], n) for c, n in zip(side_ids, side_counts, strict=True)],
            )
        )
    return lists


def test_compute_window_stats_rejects_bad_arguments(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        with pytest.raises(ValueError):
            compute_window_stats(conn, [], ["nope"])
        with pytest.raises(ValueError):
            compute_window_stats(conn, [], ["all"], confidence=1.0)
        assert compute_window_stats(conn, [], ["all"]).archetypes == []
