"""Offline detection over tournament files, TSV output and the argparse commands."""

from __future__ import annotations

import argparse
import io
import shutil
from pathlib import Path

import pytest

from pipelines.classify.cli import parse_text_decklist, register
from pipelines.classify.detect import DetectionRow, detect_paths, write_tsv
from pipelines.classify.tournaments import TournamentReadError, read_tournament
from tests.unit.classify.helpers import BROKEN, FORMATS, TOURNAMENTS

EXPECTED = [
    # Formats "tiny": matched case-insensitively to Tiny; Shadow (2 conditions) beats NoBasics.
    DetectionRow("Other/lowercase-format.json", "erin", "Mono Black Death 's Shadow", "B"),
    # Premodern has no definitions: Unknown, colour still from the shared table.
    DetectionRow("Other/premodern.json", "dave", "Unknown", "R"),
    # Formats null: Unknown.
    DetectionRow("Tiny/2024/03/01/tiny-event-a.json", "carol", "Unknown", "U"),
    DetectionRow("Tiny/2024/03/01/tiny-event-b.json", "alice", "Mono Red Burn", "R"),
    DetectionRow(
        "Tiny/2024/03/01/tiny-event-b.json", "bob\twith tab", "Mono Blue Counterspells", "U"
    ),
]


def test_detect_paths_rows_in_sorted_file_order() -> None:
    stderr = io.StringIO()
    rows = list(detect_paths(FORMATS, [TOURNAMENTS], stderr=stderr))
    assert rows == EXPECTED
    assert "empty.json" in stderr.getvalue()  # the 0-byte file is reported and skipped


def test_mode_none_reports_conflicts() -> None:
    rows = list(detect_paths(FORMATS, [TOURNAMENTS], mode="none", stderr=io.StringIO()))
    assert rows[-1].archetype == "Conflict(Mono Blue Counterspells,UW Control)"
    assert rows[0].archetype == "Conflict(No Basics,Mono Black Death 's Shadow)"


def test_format_argument_overrides_tournament_format() -> None:
    rows = list(detect_paths(FORMATS, [TOURNAMENTS], format_name="Tiny", stderr=io.StringIO()))
    by_player = {r.player: r.archetype for r in rows}
    assert by_player["carol"] == "Mono Blue Counterspells"
    # Bolt + 18 Mountains: GenericAggro weight 4 over 2 lines = 2.0 > 0.1.
    assert by_player["dave"] == "Mono Red Aggro"


def test_single_format_folder_and_file_arguments() -> None:
    event = TOURNAMENTS / "Tiny" / "2024" / "03" / "01" / "tiny-event-b.json"
    rows = list(detect_paths(FORMATS / "Tiny", [event], stderr=io.StringIO()))
    assert [(r.file, r.archetype) for r in rows] == [
        ("tiny-event-b.json", "Mono Red Burn"),
        ("tiny-event-b.json", "Mono Blue Counterspells"),
    ]


def test_a_dated_folder_is_picked_by_the_event_date(tmp_path: Path) -> None:
    formats = tmp_path / "Formats"
    shutil.copytree(FORMATS, formats)
    # Tiny's rules for March 2024 only, where Burn is called something else.
    dated = formats / "Tiny-20240301-20240331"
    shutil.copytree(formats / "Tiny", dated)
    burn = dated / "Archetypes" / "Burn.json"
    burn.write_text(burn.read_text().replace('"Burn"', '"RedDeckWins"'))
    event = TOURNAMENTS / "Tiny" / "2024" / "03" / "01" / "tiny-event-b.json"
    rows = list(detect_paths(formats, [event], stderr=io.StringIO()))
    assert rows[0].archetype == "Mono Red Red Deck Wins"  # held on 2024-03-01
    shutil.move(dated, formats / "Tiny-20240401-20240430")
    rows = list(detect_paths(formats, [event], stderr=io.StringIO()))
    assert rows[0].archetype == "Mono Red Burn"  # outside the range: the undated folder


def test_write_tsv_header_and_escaping() -> None:
    out = io.StringIO()
    assert write_tsv(EXPECTED, out) == 5
    lines = out.getvalue().splitlines()
    assert lines[0] == "File\tPlayer\tArchetype\tColor"
    assert (
        lines[-1] == "Tiny/2024/03/01/tiny-event-b.json\tbob with tab\tMono Blue Counterspells\tU"
    )
    assert all(line.count("\t") == 3 for line in lines)


def test_read_tournament_errors(tmp_path: Path) -> None:
    with pytest.raises(TournamentReadError, match=r"empty\.json"):
        read_tournament(TOURNAMENTS / "Other" / "empty.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"Tournament": {"Formats": "Tiny"}, "Decks": [{"Mainboard": [{"Count": 1}]}]}')
    with pytest.raises(TournamentReadError, match=r"bad\.json"):
        read_tournament(bad)


def test_parse_text_decklist() -> None:
    main, side = parse_text_decklist("4 Lightning Bolt\n2x Bakersbane Duo\n\n1 Pyroblast\n")
    assert main == (("Lightning Bolt", 4), ("Bakersbane Duo", 2))
    assert side == (("Pyroblast", 1),)
    main, side = parse_text_decklist("# comment\n4 Island\nSideboard:\n1 Sb Card\n")
    assert main == (("Island", 4),) and side == (("Sb Card", 1),)
    with pytest.raises(ValueError):
        parse_text_decklist("Lightning Bolt\n")


# --- the argparse commands, run in-process ----------------------------------------------------


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="manalytics")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_formats_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["formats", "check", str(BROKEN / "Messy")]) == 1
    out = capsys.readouterr().out
    assert (
        f"error: {BROKEN / 'Messy' / 'Archetypes' / 'Empty.json'}: archetype has no Conditions"
        in out
    )
    assert run(["formats", "check", str(FORMATS / "Tiny")]) == 0
    assert "error:" not in capsys.readouterr().out


def test_cli_classify_detect(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        ["classify", "detect", "--definitions", str(FORMATS), "--mode", "none", str(TOURNAMENTS)]
    )
    captured = capsys.readouterr()
    assert code == 0
    lines = captured.out.splitlines()
    assert lines[0] == "File\tPlayer\tArchetype\tColor" and len(lines) == 6
    assert lines[-1].endswith("\tConflict(Mono Blue Counterspells,UW Control)\tU")
    assert "empty.json" in captured.err


def test_cli_detect_invalid_definitions(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["classify", "detect", "--definitions", str(BROKEN / "Messy"), str(TOURNAMENTS)])
    assert code == 2 and "invalid definitions" in capsys.readouterr().err


def test_cli_classify_explain(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    event = TOURNAMENTS / "Tiny" / "2024" / "03" / "01" / "tiny-event-b.json"
    argv = ["classify", "explain", "--definitions", str(FORMATS), "--player", "alice", str(event)]
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert "== alice" in out and "Label: Mono Red Burn" in out and "bob" not in out
    decklist = tmp_path / "deck.txt"
    decklist.write_text("4 Counterspell\n4 Supreme Verdict\n10 Island\n")
    argv = ["classify", "explain", "--definitions", str(FORMATS), "--format", "Tiny", str(decklist)]
    assert run([*argv[:2], "--mode", "none", *argv[2:]]) == 0
    assert "Label: Conflict(Mono Blue Counterspells,UW Control)" in capsys.readouterr().out
    assert run([*argv[:4], str(decklist)]) == 2  # a text decklist needs --format
