"""The whole real sample: matcher == reference for every deck, stable labels.

Skipped when the shared sample is absent. Expected labels are never hard-coded here: the
reference evaluator (checked by the hand-computed tests) is the oracle.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from pipelines.classify import reference
from pipelines.classify.check import check_format_dir, has_errors
from pipelines.classify.definitions import FormatDefinitions
from pipelines.classify.definitions_loader import load_all
from pipelines.classify.detect import detect_paths
from pipelines.classify.matcher import compile_format
from pipelines.classify.result import ConflictMode
from pipelines.classify.tournaments import Deck, iter_tournaments

pytestmark = pytest.mark.shared_data

Sample = list[tuple[str, str, list[Deck]]]  # (relative file, format, decks)


@pytest.fixture(scope="module")
def sample(shared_data_dir: Path, real_formats: dict[str, FormatDefinitions]) -> Sample:
    errors: list[str] = []
    files = [
        (relative, t.format, list(t.decks))
        for relative, t in iter_tournaments([shared_data_dir / "tournaments"], errors)
        if t.format in real_formats
    ]
    assert any("zero-length" in e or "empty" in e.lower() for e in errors)  # the 0-byte file
    return files


@pytest.mark.parametrize("mode", list(ConflictMode))
def test_matcher_equals_reference_on_every_deck(
    sample: Sample, real_formats: dict[str, FormatDefinitions], mode: ConflictMode
) -> None:
    matchers = {name: compile_format(fmt, mode) for name, fmt in real_formats.items()}
    checked = 0
    for relative, fmt_name, decks in sample:
        fmt = real_formats[fmt_name]
        for index, deck in enumerate(decks):
            expected = reference.detect(deck.main, deck.side, fmt, mode)
            got = matchers[fmt_name].detect(deck.main, deck.side)
            assert got == expected, f"{relative} deck {index}: {got} != {expected}"
            checked += 1
    assert checked > 10_000


def _labels(sample: Sample, formats: dict[str, FormatDefinitions]) -> dict[tuple[str, int], str]:
    matchers = {name: compile_format(fmt, ConflictMode.NONE) for name, fmt in formats.items()}
    return {
        (relative, i): matchers[fmt_name].detect(d.main, d.side).display_name
        for relative, fmt_name, decks in sample
        for i, d in enumerate(decks)
    }


def test_labels_independent_of_file_order_and_reloads(
    sample: Sample, shared_data_dir: Path, real_formats: dict[str, FormatDefinitions]
) -> None:
    first = _labels(sample, real_formats)
    shuffled = list(sample)
    random.Random(20240611).shuffle(shuffled)
    reloaded = load_all(shared_data_dir / "formats")
    assert {n: f.version for n, f in reloaded.items()} == {
        n: f.version for n, f in real_formats.items()
    }
    again = _labels(list(reversed(shuffled)), reloaded)
    assert again == first
    assert len(set(first.values())) > 100  # a real distribution, not one label


def test_detect_paths_covers_every_deck_in_sorted_order(
    shared_data_dir: Path, real_formats: dict[str, FormatDefinitions]
) -> None:
    stderr = io.StringIO()
    tournaments = shared_data_dir / "tournaments"
    rows = list(detect_paths(shared_data_dir / "formats", [tournaments], stderr=stderr))
    assert "standard-challenge-32-2026-07-1412847168.json" in stderr.getvalue()
    files = [r.file for r in rows]
    assert files == sorted(files)  # files in ordinal order, decks grouped per file
    readable = {relative: t for relative, t in iter_tournaments([tournaments])}
    assert len(rows) == sum(len(t.decks) for t in readable.values())
    # Formats without definitions (Commander, Premodern, null ...) are Unknown (§3.9).
    undefined = [r for r in rows if readable[r.file].format not in real_formats]
    assert undefined and all(r.archetype == "Unknown" for r in undefined)


def test_real_definitions_check_without_errors(shared_data_dir: Path) -> None:
    problems = check_format_dir(shared_data_dir / "formats")
    assert not has_errors(problems)
    text = "\n".join(str(p) for p in problems)
    # Known data issues listed in DOMAIN.md §2.9 / §3.4.
    assert "WhirPrison.json: card ' Bottled Cloister' has leading/trailing whitespace" in text
    assert "'Bonecrusher Giant // Stomp'" in text and "'Murderous Rider // Swift End'" in text
    assert "archetype name 'Affinity' also used by BassimAffinit.json" in text
