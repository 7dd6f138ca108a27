"""Classification stored in PostgreSQL: labels, versions, chunked reclassification with an
atomic switch, diff, explain by deck id, and the CLI commands behind them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest

from pipelines.classify import reclassify as reclassify_module
from pipelines.classify.diff import diff_versions, render_diff
from pipelines.classify.explain_stored import explain_stored_deck
from pipelines.classify.labels import classify_new_decks
from pipelines.classify.reclassify import classify_chunk, reclassify_formats, start_reclassification
from pipelines.classify.versions import ClassificationError, load_definitions
from pipelines.cli import main as cli_main
from pipelines.ingest.cache import ingest_cache

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture
def definitions(tmp_path: Path) -> Path:
    root = tmp_path / "Formats"
    shutil.copytree(FIXTURES / "definitions", root)
    return root


@pytest.fixture
def ingested(pg_dsn: str) -> str:
    ingest_cache(pg_dsn, FIXTURES / "cache")
    return pg_dsn


def labels(dsn: str, fmt: str) -> dict[str, list[str]]:
    """Player -> labels readers currently see, for one format."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            """SELECT d.player, a.archetype FROM decks d
                 JOIN tournaments t ON t.id = d.tournament_id
                 JOIN current_deck_archetypes a ON a.deck_id = d.id
                WHERE t.format = %s ORDER BY d.player, a.archetype""",
            (fmt,),
        ).fetchall()
    out: dict[str, list[str]] = {}
    for player, label in rows:
        out.setdefault(player, []).append(label)
    return out


def test_new_decks_are_labelled_with_the_active_version(ingested: str, definitions: Path) -> None:
    done = classify_new_decks(ingested, definitions)
    assert done == {"Modern": 10, "Legacy": 4, "Pioneer": 5}  # Pauper/Unknown: no definitions
    modern = labels(ingested, "Modern")
    assert modern["alice_mtg"] == ["Mono Red Burn"]  # IncludeColorInName, colour R
    assert modern["bob_mtg"] == ["Karn Tron"]  # the variant's display name
    assert modern["carol_mtg"] == ["Elves"]
    pioneer = labels(ingested, "Pioneer")
    assert pioneer["Jo  Smith"] == ["Elves"]
    assert pioneer["Yan"] == ["Unknown"]  # "Fire/Ice" is not "Fire // Ice": exact matching
    # Idempotent: nothing left to label.
    assert classify_new_decks(ingested, definitions) == {
        "Modern": 0,
        "Legacy": 0,
        "Pioneer": 0,
    }
    with psycopg.connect(ingested) as conn:
        method, candidates = conn.execute(
            "SELECT method, candidates FROM current_deck_archetypes a JOIN decks d "
            "ON d.id = a.deck_id WHERE d.player = 'bob_mtg'"
        ).fetchone()  # type: ignore[misc]
    assert (method, candidates) == ("rule", ["Karn Tron"])


def rename_burn(definitions: Path, folder: str = "Modern") -> None:
    path = definitions / folder / "Archetypes" / "Burn.json"
    data = json.loads(path.read_text())
    data["Name"] = "RedDeckWins"
    data["IncludeColorInName"] = False
    path.write_text(json.dumps(data))


def test_a_changed_document_takes_its_old_labels_along(
    pg_dsn: str, definitions: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(FIXTURES / "cache", cache)
    ingest_cache(pg_dsn, cache)
    classify_new_decks(pg_dsn, definitions)
    path = cache / "MTGO/2025/03/09/modern-challenge-32-2025-03-0912345678.json"
    path.write_bytes(path.read_bytes().replace(b"dave_mtg", b"zoe_mtg"))
    ingest_cache(pg_dsn, cache)  # the event's decks are rewritten with new ids
    orphans = "SELECT count(*) FROM deck_archetypes a WHERE NOT EXISTS " + (
        "(SELECT 1 FROM decks d WHERE d.id = a.deck_id)"
    )
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute(orphans).fetchone() == (0,)
    assert classify_new_decks(pg_dsn, definitions)["Modern"] == 4  # the rewritten decks
    assert "zoe_mtg" in labels(pg_dsn, "Modern") and "dave_mtg" not in labels(pg_dsn, "Modern")


def test_reclassification_switches_readers_atomically(
    ingested: str, definitions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    classify_new_decks(ingested, definitions)
    old_version = load_definitions(definitions, "Modern").version
    rename_burn(definitions)
    monkeypatch.setattr(reclassify_module, "CHUNK_DECKS", 4)  # 10 Modern decks -> 3 chunks
    run = start_reclassification(ingested, definitions, "Modern", "test")
    assert (run.chunks_total, run.chunks_done, run.status) == (3, 0, "running")
    assert run.version != old_version
    for chunk in range(2):
        run = classify_chunk(ingested, definitions, run.run_id, chunk)
        # Until the last chunk, readers see the old labels only (no mixture).
        assert labels(ingested, "Modern")["alice_mtg"] == ["Mono Red Burn"]
    # A redelivered chunk changes nothing.
    run = classify_chunk(ingested, definitions, run.run_id, 1)
    assert run.chunks_done == 2 and run.status == "running"
    run = classify_chunk(ingested, definitions, run.run_id, 2)
    assert run.status == "completed"
    modern = labels(ingested, "Modern")
    assert modern["alice_mtg"] == ["Red Deck Wins"] and modern["bob_mtg"] == ["Karn Tron"]
    # The previous version stays queryable: the diff reports what moved.
    moves = diff_versions(ingested, "Modern", old_version[:8], run.version[:8])
    changed = {(m.old, m.new): m.decks for m in moves if m.old != m.new}
    assert changed == {("Mono Red Burn", "Red Deck Wins"): 4}
    assert "4  Mono Red Burn  ->  Red Deck Wins" in render_diff(moves)


def test_definitions_changing_mid_run_stop_the_run(ingested: str, definitions: Path) -> None:
    classify_new_decks(ingested, definitions)
    run = start_reclassification(ingested, definitions, "Modern")
    rename_burn(definitions)
    with pytest.raises(ClassificationError, match="changed during run"):
        classify_chunk(ingested, definitions, run.run_id, 0)


def test_decks_ingested_during_a_run_are_labelled_at_the_switch(
    pg_dsn: str, definitions: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(FIXTURES / "cache", cache)
    late = cache / "MTGO/2025/03/09/modern-challenge-32-2025-03-0912345678.json"
    held = late.read_bytes()
    late.unlink()
    ingest_cache(pg_dsn, cache)
    classify_new_decks(pg_dsn, definitions)
    rename_burn(definitions)
    run = start_reclassification(pg_dsn, definitions, "Modern")
    late.write_bytes(held)
    ingest_cache(pg_dsn, cache)
    classify_new_decks(pg_dsn, definitions)  # labels the new decks with the old version
    for chunk in range(run.chunks_total):
        classify_chunk(pg_dsn, definitions, run.run_id, chunk)
    assert labels(pg_dsn, "Modern")["alice_mtg"] == ["Red Deck Wins"]


def labelled_twice(dsn: str) -> int:
    sql = "SELECT count(*) FROM (SELECT deck_id FROM current_deck_archetypes " + (
        "GROUP BY deck_id HAVING count(*) > 1) x"
    )
    with psycopg.connect(dsn) as conn:
        return int(conn.execute(sql).fetchone()[0])  # type: ignore[index]


def test_a_dated_folder_classifies_the_events_of_its_range(
    ingested: str, definitions: Path
) -> None:
    assert classify_new_decks(ingested, definitions)["Modern"] == 10
    assert labels(ingested, "Modern")["alice_mtg"] == ["Mono Red Burn"]
    # A folder appears with Modern's rules for 1-9 March 2025, like MTGOFormatData's
    # historical Standard rotations.
    dated = definitions / "Modern-20250301-20250309"
    shutil.copytree(definitions / "Modern", dated)
    rename_burn(definitions, dated.name)
    done = classify_new_decks(ingested, definitions)
    # The challenge of 9 March (4 decks) by the dated rules; the league of 12 March not.
    assert (done[dated.name], done["Modern"]) == (4, 0)
    assert labels(ingested, "Modern")["alice_mtg"] == ["Red Deck Wins"]
    assert labelled_twice(ingested) == 0  # the undated labels of its range are gone
    run = start_reclassification(ingested, definitions, "modern")  # any spelling
    assert (run.format, run.decks_total) == ("Modern", 6)
    with psycopg.connect(ingested) as conn:
        deck_id = conn.execute("SELECT id FROM decks WHERE player = 'alice_mtg'").fetchone()[0]  # type: ignore[index]
    with psycopg.connect(ingested) as conn:
        text = explain_stored_deck(conn, definitions, deck_id)
    assert f"Definitions: {dated.name}" in text and "Stored label: Red Deck Wins" in text
    # The folder goes away again: its range returns to the undated rules.
    shutil.rmtree(dated)
    assert classify_new_decks(ingested, definitions)["Modern"] == 4
    assert labels(ingested, "Modern")["alice_mtg"] == ["Mono Red Burn"]
    assert labelled_twice(ingested) == 0


def current_labels(dsn: str) -> dict[int, str]:
    with psycopg.connect(dsn) as conn:
        return dict(conn.execute("SELECT deck_id, archetype FROM current_deck_archetypes"))


def test_labels_do_not_depend_on_the_number_of_processes(
    ingested: str, definitions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    classify_new_decks(ingested, definitions)
    monkeypatch.setattr(reclassify_module, "CHUNK_DECKS", 3)  # several chunks per format
    rename_burn(definitions)
    one = reclassify_formats(ingested, definitions, ["Modern", "Legacy"], processes=1)
    by_one = current_labels(ingested)
    for fmt in ("Modern", "Legacy"):  # a new version again, same rules
        metas = definitions / fmt / "metas.json"
        metas.write_text(metas.read_text() + "\n")
    two = reclassify_formats(ingested, definitions, ["Modern", "Legacy"], processes=2)
    assert [r.status for r in one + two] == ["completed"] * 4
    assert [r.chunks_total for r in two] == [4, 2]  # 10 Modern and 4 Legacy decks
    assert current_labels(ingested) == by_one and "Red Deck Wins" in by_one.values()


def test_explain_a_stored_deck(ingested: str, definitions: Path) -> None:
    classify_new_decks(ingested, definitions)
    with psycopg.connect(ingested) as conn:
        deck_id = conn.execute("SELECT id FROM decks WHERE player = 'bob_mtg'").fetchone()[0]  # type: ignore[index]
    with psycopg.connect(ingested) as conn:
        text = explain_stored_deck(conn, definitions, deck_id, verbose=True)
        assert "Stored label: Karn Tron" in text
        assert "Karn Liberated" in text and "TwoOrMoreInMainboard" in text
        with pytest.raises(ClassificationError, match="no deck"):
            explain_stored_deck(conn, definitions, 10**9)


def test_cli_commands(
    ingested: str,
    definitions: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("pipelines.cli.database_url", lambda: ingested)
    defs = ["--definitions", str(definitions)]
    assert cli_main(["classify", "new", *defs]) == 0
    assert "Modern: 10 decks labelled" in capsys.readouterr().out
    old = load_definitions(definitions, "Modern").version
    rename_burn(definitions)
    assert cli_main(["classify", "format", "Modern", *defs]) == 0
    out = capsys.readouterr().out
    assert "10 decks in 1 chunks, completed" in out
    new = load_definitions(definitions, "Modern").version
    assert cli_main(["classify", "diff", "Modern", "--from", old, "--to", new]) == 0
    assert "Mono Red Burn  ->  Red Deck Wins" in capsys.readouterr().out
    with psycopg.connect(ingested) as conn:
        deck_id = conn.execute("SELECT id FROM decks WHERE player = 'carol_mtg'").fetchone()[0]  # type: ignore[index]
    assert cli_main(["classify", "explain", str(deck_id), *defs]) == 0
    assert "Stored label: Elves" in capsys.readouterr().out
    assert cli_main(["classify", "format", "Premodern", *defs]) == 2
    assert "no definitions for format 'Premodern'" in capsys.readouterr().err
