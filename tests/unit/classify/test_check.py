"""``formats check``: every problem reported with its file, without stopping at the first."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipelines.classify.check import (
    ERROR,
    WARNING,
    Problem,
    check_format_dir,
    has_errors,
    suspicious_reason,
)
from tests.unit.classify.helpers import BROKEN, FORMATS

MESSY = BROKEN / "Messy"


def _find(problems: list[Problem], file: str, fragment: str) -> Problem:
    path = str(MESSY / file)
    hits = [p for p in problems if p.file == path and fragment in p.message]
    assert hits, f"no problem {fragment!r} for {file}; got:\n" + "\n".join(map(str, problems))
    return hits[0]


def test_messy_format_reports_everything() -> None:
    problems = check_format_dir(MESSY)
    expected = [
        ("color_overrides.json", "invalid colour code 'UW'", ERROR),
        ("color_overrides.json", "invalid colour code 'X'", ERROR),
        ("Archetypes/Broken.json", "invalid JSON", ERROR),
        ("Archetypes/Typo.json", "unknown Type 'DoesNotContains'", ERROR),
        ("Archetypes/Typo.json", "only checks 'Lightning Bolt'; 1 more card(s) ignored", WARNING),
        ("Archetypes/Empty.json", "no Conditions", ERROR),
        ("Archetypes/BurnA.json", "archetype name 'Burn' also used by BurnB.json", WARNING),
        ("Archetypes/BurnB.json", "archetype name 'Burn' also used by BurnA.json", WARNING),
        ("Archetypes/BurnA.json", "' Lightning Bolt' has leading/trailing whitespace", WARNING),
        ("Archetypes/BurnA.json", "empty Cards", WARNING),
        ("Archetypes/BurnB.json", "'Bonecrusher Giant // Stomp' is a full double-faced", WARNING),
        ("Fallbacks/Pile.json", "no CommonCards", ERROR),
        ("Fallbacks/Aggro.json", "'Goblin Guide ' has leading/trailing whitespace", WARNING),
    ]
    for file, fragment, severity in expected:
        assert _find(problems, file, fragment).severity == severity
    assert has_errors(problems)
    text = "\n".join(p.message for p in problems)
    assert "Wear // Tear" not in text  # a real split card known to the colour table
    assert "Colourless Thing" not in text  # unknown but not suspicious (colourless cards)


def test_problems_name_existing_files() -> None:
    for problem in check_format_dir(MESSY):
        assert Path(problem.file).exists(), problem
        assert str(problem).startswith(f"{problem.severity}: {problem.file}: ")


def test_clean_fixture_formats_have_no_errors() -> None:
    for name in ("Tiny", "Lenient"):
        problems = check_format_dir(FORMATS / name)
        assert not has_errors(problems), problems
    tiny = check_format_dir(FORMATS / "Tiny")
    assert any("also used by AffinityTwo.json" in p.message for p in tiny)


def test_root_folder_checks_every_format_and_shared_table_once(tmp_path: Path) -> None:
    shutil.copytree(FORMATS, tmp_path / "formats")
    colours = tmp_path / "formats" / "card_colors.json"
    colours.write_text(
        colours.read_text().replace('"Island", "Color": "U"', '"Island", "Color": "UU"')
    )
    problems = check_format_dir(tmp_path / "formats")
    bad = [p for p in problems if p.file == str(colours)]
    assert len(bad) == 1 and "'UU'" in bad[0].message
    assert any("/Lenient/" in p.file for p in problems)
    assert any("/Tiny/" in p.file for p in problems)


def test_broken_root_lists_all_broken_formats() -> None:
    problems = check_format_dir(BROKEN)
    folders = {Path(p.file).relative_to(BROKEN).parts[0] for p in problems if p.severity == ERROR}
    assert folders >= {
        "UnknownType",
        "EmptyConditions",
        "MissingConditions",
        "EmptyCommonCards",
        "NonCanonicalColour",
        "InvalidJson",
        "Messy",
    }


def test_missing_files_and_non_folders(tmp_path: Path) -> None:
    (tmp_path / "Fmt" / "Archetypes").mkdir(parents=True)
    problems = check_format_dir(tmp_path / "Fmt")
    messages = {(Path(p.file).name, p.message) for p in problems}
    assert ("card_colors.json", "missing colour table") in messages
    assert ("metas.json", "missing metas.json") in messages
    assert check_format_dir(tmp_path / "nope")[0].message == "not a folder"


def test_suspicious_reason() -> None:
    known = {"Bonecrusher Giant", "Fire // Ice"}
    assert suspicious_reason(" Bottled Cloister", known)
    assert suspicious_reason("Bonecrusher Giant // Stomp", known)
    assert suspicious_reason("Fire // Ice", known) is None  # caller skips known names anyway
    assert suspicious_reason("Thormod\u2019s Crypt", known)
    assert suspicious_reason("Memnite", known) is None
    assert suspicious_reason("Unknown Front // Back", known) is None
