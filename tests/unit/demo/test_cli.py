"""``manalytics demo generate`` command-line wiring."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from pipelines.demo.cli import main, register


def test_generate_command_writes_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    options = ["--decks", "120", "--seed", "9", "--start", "2024-06-03", "--days", "3"]
    code = main(["demo", "generate", "--out", str(out), *options])
    assert code == 0
    files = list(out.rglob("*.json"))
    assert files and all("/2024/06/0" in f.as_posix() for f in files)
    text = capsys.readouterr().out
    assert "120 decks" in text and "matches" in text and "files" in text


def test_register_into_a_host_parser(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser(prog="manalytics")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(
        ["demo", "generate", "--out", str(tmp_path), "--scale", "--sources", "MTGO,CardsRealm"]
    )
    assert args.command == "demo" and args.demo_command == "generate"
    assert args.scale and args.decks is None and args.sources == ("MTGO", "CardsRealm")
    assert callable(args.func)


@pytest.mark.parametrize(
    "bad",
    [["--decks", "-3"], ["--days", "0"], ["--start", "2025-13-01"], ["--sources", "Topdeck"]],
)
def test_rejects_bad_options(tmp_path: Path, bad: list[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "generate", "--out", str(tmp_path), *bad])
