"""Ingestion of cache trees into a real PostgreSQL: idempotency, incremental runs,
replacement on change, quarantine, concurrency."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import psycopg
import pytest

from pipelines.cli import main as cli_main
from pipelines.ingest.cache import IngestBusy, IngestSummary, ingest_cache

FIXTURE_CACHE = Path(__file__).parents[1] / "fixtures" / "cache"


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """A private copy of the hand-written cache tree (tests modify it)."""
    root = tmp_path / "Tournaments"
    shutil.copytree(FIXTURE_CACHE, root)
    return root


def scalar(dsn: str, sql: str, *params: object) -> object:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


def orphan_rows(dsn: str) -> int:
    """Decks, standings and matches whose event is gone (no foreign key prevents them)."""
    total = 0
    for table in ("decks", "standings", "matches"):
        sql = f"SELECT count(*) FROM {table} x WHERE NOT EXISTS (SELECT 1 FROM tournaments t "
        total += int(scalar(dsn, sql + "WHERE t.id = x.tournament_id)"))  # type: ignore[call-overload]
    return total


def counts(dsn: str) -> dict[str, int]:
    tables = ("tournaments", "decks", "matches", "standings", "raw_documents", "source_files")
    return {t: int(scalar(dsn, f"SELECT count(*) FROM {t}")) for t in tables}  # type: ignore[call-overload]


def test_fixture_tree_lands_once_with_its_variants(pg_dsn: str, cache: Path) -> None:
    summary = ingest_cache(pg_dsn, cache)
    assert (summary.files_seen, summary.files_new, summary.files_quarantined) == (18, 18, 5)
    # 13 valid files; the two seat files are one event, the two league snapshots are one.
    assert counts(pg_dsn)["tournaments"] == 11
    assert summary.files_duplicate == 1  # seat-1: byte-identical copy of seat-2
    # Decks: 4+2+3+2+2+2+2+2+2 = 21 in single-copy events, league union 4 (erin's
    # identical deck once), seat event 2.
    assert counts(pg_dsn)["decks"] == 4 + 4 + 1 + 1 + 3 + 2 + 2 + 2 + 2 + 2 + 2
    league = scalar(
        pg_dsn,
        "SELECT array_agg(player ORDER BY player) FROM decks d JOIN tournaments t "
        "ON t.id = d.tournament_id WHERE t.event_kind = 'league' AND t.format = 'Modern'",
    )
    assert league == ["erin", "erin", "frank", "gina"]
    # Same name, same day, different events.
    assert (
        scalar(pg_dsn, "SELECT count(*) FROM tournaments WHERE name = 'Legacy Challenge 32'") == 2
    )
    assert scalar(pg_dsn, "SELECT count(*) FROM tournaments WHERE name = 'Pauper Royale 300'") == 2


def test_links_between_decks_standings_and_matches(pg_dsn: str, cache: Path) -> None:
    ingest_cache(pg_dsn, cache)
    melee = "WHERE t.name = 'Spring Open Pioneer'"
    with psycopg.connect(pg_dsn) as conn:
        rows = dict(
            conn.execute(
                "SELECT s.player, d.player FROM standings s JOIN tournaments t ON t.id = "
                f"s.tournament_id LEFT JOIN decks d ON d.id = s.deck_id {melee}"
            ).fetchall()
        )
    assert rows == {"Jo Smith": "Jo  Smith", "Kim": "Kim", "Lee": "Lee", "Mo No Deck": None}
    with psycopg.connect(pg_dsn) as conn:
        matches = conn.execute(
            "SELECT round_name, player1, player2, p1_games, p2_games, draw_games, is_bye, "
            "deck1_id IS NOT NULL, deck2_id IS NOT NULL FROM matches m JOIN tournaments t "
            f"ON t.id = m.tournament_id {melee} ORDER BY round_index, position"
        ).fetchall()
        assert matches == [
            ("Round 1", "Jo Smith", "Kim", 2, 1, 0, False, True, True),
            ("Round 1", "Lee", "-", 2, 0, 0, True, True, False),
            ("Round 1", "Nobody", "-", 0, 2, 0, True, False, False),
            ("Round 2", "Jo Smith", "Lee", 1, 1, 1, False, True, True),
            ("Round 2", "Kim", None, 2, 0, 0, True, True, False),
            ("Round 3", "Kim", "Lee", 0, 2, 0, False, True, True),
        ]
        # Every stored deck link points at a deck of the same event.
        orphans = conn.execute(
            "SELECT count(*) FROM matches m LEFT JOIN decks d1 ON d1.id = m.deck1_id "
            "LEFT JOIN decks d2 ON d2.id = m.deck2_id WHERE (m.deck1_id IS NOT NULL AND "
            "d1.tournament_id IS DISTINCT FROM m.tournament_id) OR (m.deck2_id IS NOT NULL "
            "AND d2.tournament_id IS DISTINCT FROM m.tournament_id)"
        ).fetchone()
        assert orphans == (0,)
        cards = conn.execute(
            "SELECT c.name, c.canonical_name FROM cards c WHERE c.name LIKE 'Fire%'"
        ).fetchall()
        assert cards == [("Fire/Ice", "Fire // Ice")]


def test_second_run_adds_nothing(pg_dsn: str, cache: Path) -> None:
    ingest_cache(pg_dsn, cache)
    before = counts(pg_dsn)
    again = ingest_cache(pg_dsn, cache)
    assert (again.files_new, again.files_changed, again.files_unchanged) == (0, 0, 18)
    assert (again.decks, again.files_quarantined) == (0, 0)
    assert counts(pg_dsn) == before
    assert scalar(pg_dsn, "SELECT count(*) FROM quarantine WHERE severity = 'error'") == 5


def test_unchanged_files_are_not_even_read(pg_dsn: str, cache: Path) -> None:
    ingest_cache(pg_dsn, cache)
    path = cache / "MTGO/2025/03/09/modern-challenge-32-2025-03-0912345678.json"
    stat = path.stat()
    # Same size and modification time, different bytes: the nightly fast path trusts the
    # stat and does not open the file.
    raw = path.read_bytes()
    path.write_bytes(raw.replace(b"alice_mtg", b"alicE_mtg"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert ingest_cache(pg_dsn, cache).files_unchanged == 18
    # A touched file with identical bytes is hashed, found unchanged and not parsed.
    path.write_bytes(raw)
    assert ingest_cache(pg_dsn, cache).files_unchanged == 18


def test_changed_document_replaces_its_event(pg_dsn: str, cache: Path) -> None:
    ingest_cache(pg_dsn, cache)
    path = cache / "MTGO/2025/03/09/modern-challenge-32-2025-03-0912345678.json"
    tid = scalar(pg_dsn, "SELECT id FROM tournaments WHERE name = 'Modern Challenge 32'")
    path.write_bytes(path.read_bytes().replace(b"dave_mtg", b"zoe_mtg"))
    summary = ingest_cache(pg_dsn, cache)
    assert (summary.files_changed, summary.files_new, summary.decks) == (1, 0, 4)
    players = scalar(
        pg_dsn, "SELECT array_agg(player ORDER BY player) FROM decks WHERE tournament_id = %s", tid
    )
    assert players == ["alice_mtg", "bob_mtg", "carol_mtg", "zoe_mtg"]
    assert (
        scalar(pg_dsn, "SELECT count(*) FROM tournaments WHERE name = 'Modern Challenge 32'") == 1
    )
    assert orphan_rows(pg_dsn) == 0


def test_a_file_turning_bad_is_quarantined_and_its_event_removed(pg_dsn: str, cache: Path) -> None:
    ingest_cache(pg_dsn, cache)
    path = cache / "MTGO/2025/03/09/legacy-challenge-32-2025-03-0912345001.json"
    path.write_bytes(b'{"Tournament": ')
    summary = ingest_cache(pg_dsn, cache)
    assert summary.files_quarantined == 1
    assert (
        scalar(pg_dsn, "SELECT count(*) FROM tournaments WHERE name = 'Legacy Challenge 32'") == 1
    )
    raw = scalar(
        pg_dsn,
        "SELECT raw FROM quarantine WHERE source_path LIKE %s ORDER BY id DESC LIMIT 1",
        "%12345001.json",
    )
    assert bytes(raw) == b'{"Tournament": '  # type: ignore[arg-type]
    assert orphan_rows(pg_dsn) == 0  # the removed event's decks, standings, matches too


def test_quarantine_keeps_each_bad_document_with_its_error(pg_dsn: str, cache: Path) -> None:
    ingest_cache(pg_dsn, cache)
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute(
            "SELECT kind, severity, raw IS NOT NULL FROM quarantine ORDER BY kind"
        ).fetchall()
    errors = sorted(k for k, severity, _ in rows if severity == "error")
    assert errors == ["empty", "invalid_json", "missing_tournament", "no_decks", "wrong_type"]
    assert all(has_raw for _, severity, has_raw in rows if severity == "error")
    warnings = sorted(k for k, severity, _ in rows if severity == "warning")
    assert warnings == ["empty_deck", "unknown_format"]
    statuses = scalar(pg_dsn, "SELECT count(*) FROM source_files WHERE status = 'quarantined'")
    assert statuses == 5


def test_league_snapshot_arriving_later_extends_the_league(pg_dsn: str, cache: Path) -> None:
    late = cache / "MTGO/2025/03/12/modern-league-2025-03-104321.json"
    held = late.read_bytes()
    late.unlink()
    ingest_cache(pg_dsn, cache)
    league = (
        "SELECT count(*) FROM decks d JOIN tournaments t ON t.id = d.tournament_id "
        "WHERE t.event_kind = 'league' AND t.format = 'Modern'"
    )
    assert scalar(pg_dsn, league) == 2  # erin (once) and frank
    late.write_bytes(held)
    summary = ingest_cache(pg_dsn, cache)
    assert summary.files_new == 1
    assert scalar(pg_dsn, league) == 4
    assert (
        scalar(
            pg_dsn,
            "SELECT count(*) FROM tournaments WHERE event_kind = 'league' AND format = 'Modern'",
        )
        == 1
    )


def test_same_result_whatever_the_order(pg_dsn: str, cache: Path, tmp_path: Path) -> None:
    """Seat-2 first, then seat-1: the stored event is the same as in one run."""
    seat1 = cache / "MTGmelee/2025/03/16/team-trios-seat-1-555002-2025-03-16.json"
    held = seat1.read_bytes()
    seat1.unlink()
    ingest_cache(pg_dsn, cache)
    seat1.write_bytes(held)
    summary = ingest_cache(pg_dsn, cache)
    assert (summary.files_new, summary.files_duplicate) == (1, 1)
    with psycopg.connect(pg_dsn) as conn:
        statuses = dict(
            conn.execute(
                "SELECT path, status FROM source_files WHERE path LIKE '%team-trios%'"
            ).fetchall()
        )
    assert sorted(statuses.values()) == ["duplicate", "ingested"]
    assert statuses[seat1.relative_to(cache).as_posix()] == "duplicate"


def test_two_ingestions_at_once_leave_no_duplicates(pg_dsn: str, cache: Path) -> None:
    results: list[IngestSummary] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(ingest_cache(pg_dsn, cache))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(r.files_new for r in results) == [0, 18]
    assert counts(pg_dsn)["tournaments"] == 11
    assert (
        scalar(
            pg_dsn,
            "SELECT count(*) FROM (SELECT tournament_id, position FROM decks "
            "GROUP BY 1, 2 HAVING count(*) > 1) x",
        )
        == 0
    )


def test_busy_lock_is_reported_without_waiting(pg_dsn: str, cache: Path) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (0x494E4753,))
        with pytest.raises(IngestBusy):
            ingest_cache(pg_dsn, cache, wait=False)


def test_since_until_and_source_filters(pg_dsn: str, cache: Path) -> None:
    from datetime import date

    summary = ingest_cache(pg_dsn, cache, since=date(2025, 3, 10), until=date(2025, 3, 16))
    assert summary.files_seen == 5  # two league snapshots, the Melee event, two seat files
    summary = ingest_cache(pg_dsn, cache, source="topdeck")
    assert summary.files_seen == 1 and summary.files_new == 1


def test_run_is_recorded(pg_dsn: str, cache: Path) -> None:
    summary = ingest_cache(pg_dsn, cache)
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute(
            "SELECT status, files_seen, files_new, files_quarantined, decks, seconds > 0 "
            "FROM ingestion_runs WHERE id = %s",
            (summary.run_id,),
        ).fetchone()
    assert row == ("succeeded", 18, 18, 5, summary.decks, True)


def test_cli_strict_exit_status(
    pg_dsn: str, cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("pipelines.cli.database_url", lambda: pg_dsn)
    assert cli_main(["ingest", "cache", str(cache), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "quarantined     5" in out and "files seen        18" in out
    assert cli_main(["ingest", "cache", str(cache), "--strict", "--no-progress"]) == 0
    (cache / "MTGO/2025/03/23/another-bad-2025-03-2312349999.json").write_text("[")
    assert cli_main(["ingest", "cache", str(cache), "--strict", "--no-progress"]) == 1


def test_preparing_in_worker_processes_gives_the_same_rows(
    pg_dsn: str, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process pool (used from 4 cores up) stores exactly what in-process parsing does."""
    from pipelines.ingest import cache as cache_module

    serial = ingest_cache(pg_dsn, cache)
    with psycopg.connect(pg_dsn) as conn:
        expected = conn.execute(
            "SELECT t.external_id, d.position, d.player, d.main_counts, d.decklist_hash "
            "FROM decks d JOIN tournaments t ON t.id = d.tournament_id ORDER BY 1, 2"
        ).fetchall()
        conn.execute(
            "TRUNCATE tournaments, decks, standings, matches, source_files, raw_documents, "
            "quarantine CASCADE"
        )
    monkeypatch.setattr(cache_module, "_worker_count", lambda n: 2)
    parallel = ingest_cache(pg_dsn, cache)
    assert (parallel.decks, parallel.files_quarantined) == (serial.decks, serial.files_quarantined)
    with psycopg.connect(pg_dsn) as conn:
        got = conn.execute(
            "SELECT t.external_id, d.position, d.player, d.main_counts, d.decklist_hash "
            "FROM decks d JOIN tournaments t ON t.id = d.tournament_id ORDER BY 1, 2"
        ).fetchall()
    assert got == expected
