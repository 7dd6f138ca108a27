"""Discovery through PostgreSQL: stored runs, stable cluster ids, rule usage, neighbours,
nearest archetypes, the CLI and the worker task."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import psycopg
import pytest

from pipelines.classify.definitions_loader import load_format
from pipelines.classify.labels import classify_new_decks
from pipelines.classify.matcher import compile_format
from pipelines.cli import main
from pipelines.core.db import connect
from pipelines.core.settings import REPO_ROOT
from pipelines.discovery.store import (
    DiscoveryError,
    discover_all,
    latest_rates,
    list_suggestions,
    rule_usage,
    run_discovery,
)
from pipelines.ingest.cache import ingest_cache
from tests.integration.discovery_data import FORMAT, write_cache, write_definitions
from tests.integration.test_celery import FIXTURE_CACHE, Worker, run_ingest, worker  # noqa: F401


@pytest.fixture
def seeded(pg_dsn: str, tmp_path: Path) -> tuple[str, Path, set[str]]:
    formats = write_definitions(tmp_path)
    cache, gamma = write_cache(tmp_path)
    ingest_cache(pg_dsn, cache)
    classify_new_decks(pg_dsn, formats)
    return pg_dsn, formats, gamma


def _players(conn: psycopg.Connection, ids: tuple[int, ...]) -> set[str]:
    rows = conn.execute("SELECT player FROM decks WHERE id = ANY(%s)", (list(ids),)).fetchall()
    return {r[0] for r in rows}


def test_run_stores_the_cluster_its_rule_and_the_rates(seeded: tuple[str, Path, set[str]]) -> None:
    dsn, formats, gamma = seeded
    with connect(dsn) as conn:
        run = run_discovery(conn, formats, FORMAT, "all")
        conn.commit()
        rows, total = list_suggestions(conn, FORMAT, "all")
        assert total == 1
        row = rows[0]
        assert _players(conn, run.result.suggestions[0].members) == gamma
        assert row["decks"] == len(gamma) and row["exclusive"]
        assert row["precision"] == 1.0 and row["recall"] == 1.0
        assert row["relabel"] == [{"from": "Unknown", "to": row["name"], "decks": len(gamma)}]
        assert rule_usage(conn, FORMAT, "all") == {"Beta.json": 10, "Alpha.json": 15}
        (rate,) = latest_rates(conn)
        assert rate[:2] == (FORMAT, "all")
        assert rate[2] == pytest.approx(16 / 41) and rate[3] == 0.0


def test_cluster_id_survives_a_second_run(seeded: tuple[str, Path, set[str]]) -> None:
    dsn, formats, _gamma = seeded
    with connect(dsn) as conn:
        first = run_discovery(conn, formats, FORMAT, "all").result.suggestions[0].cluster_id
        conn.commit()
        second = run_discovery(conn, formats, FORMAT, "all").result.suggestions[0].cluster_id
        conn.commit()
        other_window = run_discovery(conn, formats, FORMAT, "last7").result.suggestions
    assert second == first
    assert all(s.cluster_id != first for s in other_window)  # ids are per format and window


def test_windows_count_back_from_the_latest_event(seeded: tuple[str, Path, set[str]]) -> None:
    dsn, formats, _gamma = seeded
    with connect(dsn) as conn:
        week = run_discovery(conn, formats, FORMAT, "last7", neighbours=False)
        whole = run_discovery(conn, formats, FORMAT, "all", neighbours=False)
    assert whole.result.decks == 41
    assert week.end == whole.end and week.start is not None
    assert (week.end - week.start).days == 6  # type: ignore[operator]


def test_bad_requests_raise_a_clear_error(seeded: tuple[str, Path, set[str]]) -> None:
    dsn, formats, _gamma = seeded
    with connect(dsn) as conn:
        with pytest.raises(DiscoveryError, match="unknown window"):
            run_discovery(conn, formats, FORMAT, "last3")
        with pytest.raises(DiscoveryError, match="no definitions"):
            run_discovery(conn, formats, "Premodern", "all")


def test_neighbours_and_nearest_archetypes_are_stored(seeded: tuple[str, Path, set[str]]) -> None:
    dsn, formats, gamma = seeded
    with connect(dsn) as conn:
        run_discovery(conn, formats, FORMAT, "all")
        conn.commit()
        (alpha_deck,) = conn.execute(
            "SELECT d.id FROM decks d JOIN deck_archetypes a ON a.deck_id = d.id "
            "WHERE a.archetype = 'Alpha' ORDER BY d.id LIMIT 1"
        ).fetchone()
        neighbours = conn.execute(
            "SELECT n.rank, a.archetype FROM deck_neighbours n "
            "JOIN deck_archetypes a ON a.deck_id = n.neighbour_id "
            "WHERE n.deck_id = %s ORDER BY n.rank",
            (alpha_deck,),
        ).fetchall()
        assert [r[0] for r in neighbours] == list(range(1, 11))
        assert {r[1] for r in neighbours} == {"Alpha"}  # its own kind first
        nearest = conn.execute(
            "SELECT d.player, n.archetype FROM deck_nearest_archetype n "
            "JOIN decks d ON d.id = n.deck_id"
        ).fetchall()
    assert {p for p, _a in nearest} >= gamma  # every Unknown deck has one
    assert {a for _p, a in nearest} <= {"Alpha", "Beta"}


def test_suggested_file_from_the_cli_loads_and_classifies(
    seeded: tuple[str, Path, set[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dsn, formats, gamma = seeded
    monkeypatch.setattr("pipelines.cli.database_url", lambda: dsn)
    out = tmp_path / "suggested"
    code = main(
        [
            "discover",
            FORMAT,
            "--window",
            "all",
            "--definitions",
            str(formats),
            "--out",
            str(out),
            "--usage",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "Unknown 16 (39.0%)" in printed and "would relabel" in printed
    assert "    15  Alpha.json" in printed
    (written,) = out.iterdir()
    target = formats / FORMAT / "Archetypes" / "Gamma.json"
    target.write_bytes(written.read_bytes())
    matcher = compile_format(load_format(formats / FORMAT))
    with connect(dsn) as conn:
        decks = conn.execute(
            "SELECT d.player, array_agg(c.name ORDER BY x.ord) FROM decks d "
            "CROSS JOIN LATERAL unnest(d.main_card_ids) WITH ORDINALITY x(card, ord) "
            "JOIN cards c ON c.id = x.card GROUP BY d.player"
        ).fetchall()
    named = {
        p
        for p, cards in decks
        if matcher.detect([(c, 1) for c in cards], []).archetype
        == json.loads(written.read_text())["Name"]
    }
    assert named == gamma
    # --stored lists without running again
    assert (
        main(["discover", FORMAT, "--window", "all", "--stored", "--definitions", str(formats)])
        == 0
    )
    assert "cluster" in capsys.readouterr().out


def test_cli_rejects_an_unknown_format(
    seeded: tuple[str, Path, set[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dsn, formats, _gamma = seeded
    monkeypatch.setattr("pipelines.cli.database_url", lambda: dsn)
    assert main(["discover", "Premodern", "--definitions", str(formats)]) == 2
    assert "discover:" in capsys.readouterr().err


def test_discover_all_runs_every_format_with_definitions(
    seeded: tuple[str, Path, set[str]],
) -> None:
    dsn, formats, _gamma = seeded
    done = discover_all(dsn, formats, ("all", "last7"))
    assert set(done) == {f"{FORMAT}/all", f"{FORMAT}/last7"}
    assert done[f"{FORMAT}/all"]["clusters"] == 1


def test_a_worker_runs_discovery_after_each_refresh(worker: Worker, pg_dsn: str) -> None:  # noqa: F811
    run_ingest(pg_dsn, FIXTURE_CACHE)
    classify_new_decks(pg_dsn, REPO_ROOT / "tests" / "fixtures" / "definitions")
    worker.client.send_task("refresh.meta_views", queue="refresh")
    deadline = time.monotonic() + 120
    runs: list[tuple[str, str, int]] = []
    while time.monotonic() < deadline and len(runs) < 6:
        with psycopg.connect(pg_dsn) as conn:
            runs = conn.execute(
                "SELECT format, window_key, decks FROM discovery_runs "
                "WHERE requested_by = 'worker' ORDER BY 1, 2"
            ).fetchall()
        time.sleep(0.25)
    assert [(f, w) for f, w, _n in runs] == [
        (f, w) for f in ("Legacy", "Modern", "Pioneer") for w in ("current", "last30")
    ], worker.output()
    assert all(n > 0 for _f, _w, n in runs)


def test_neighbour_lists_are_only_recomputed_for_what_is_new(
    seeded: tuple[str, Path, set[str]], tmp_path: Path
) -> None:
    dsn, formats, _gamma = seeded
    from pipelines.classify.versions import load_definitions
    from pipelines.discovery.store import load_decks, store_similarity

    fmt = load_definitions(formats, FORMAT)
    with connect(dsn) as conn:
        decks, _days, canonical = load_decks(conn, FORMAT)
        assert store_similarity(conn, fmt, decks, canonical) == 41  # all new
        conn.commit()
        assert store_similarity(conn, fmt, decks, canonical) == 0  # nothing new
        assert store_similarity(conn, fmt, decks, canonical, full=True) == 41
        conn.commit()
    later, _ = write_cache(tmp_path / "later", seed=2, new_size=6, first=date(2025, 4, 1))
    ingest_cache(dsn, later)
    with connect(dsn) as conn:
        decks, _days, canonical = load_decks(conn, FORMAT)
        written = store_similarity(conn, fmt, decks, canonical)
        conn.commit()
        counts = conn.execute(
            "SELECT count(DISTINCT deck_id), count(*) FROM deck_neighbours"
        ).fetchone()
    assert 35 <= written <= len(decks)  # 35 new decks and the old lists they entered
    assert counts == (len(decks), len(decks) * 10)
