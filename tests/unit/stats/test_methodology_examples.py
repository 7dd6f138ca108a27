"""METHODOLOGY.md's worked examples, read from the document and recomputed, so the text and
the code cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scipy.stats import t

from pipelines.stats.intervals import clopper_pearson, clustered_interval
from pipelines.stats.names import display_name, slugify
from pipelines.stats.samples import shrink_win_rates
from pipelines.stats.tiers import above_average_share

DOC = (Path(__file__).resolve().parents[3] / "METHODOLOGY.md").read_text(encoding="utf-8")


def section(number: str) -> str:
    """The text of ``## <number>.`` up to the next ``## ``."""
    start = DOC.index(f"\n## {number}. ")
    end = DOC.find("\n## ", start + 1)
    return DOC[start : end if end != -1 else None]


def _pct(text: str) -> float:
    return float(text) / 100.0


def test_display_name_examples() -> None:
    examples = re.findall(r"`([^`]+)` → `([^`]+)`", section("1"))
    assert len(examples) >= 3
    for label, name in examples:
        assert display_name(label) == name, label
    slug = re.search(r"other symbols → `-`: `([a-z0-9-]+)`", section("1"))
    assert slug and slugify("Oops ! All Spells") == slug[1]


def test_clopper_pearson_examples() -> None:
    examples = re.findall(r"(\d+)/(\d+) → \[([\d.]+), ([\d.]+)\]", section("5"))
    assert len(examples) == 2
    for wins, n, lower, upper in examples:
        ci = clopper_pearson(int(wins), int(n))
        assert (ci.lower, ci.upper) == (
            pytest.approx(_pct(lower), abs=5e-5),
            pytest.approx(_pct(upper), abs=5e-5),
        )


def test_clustered_interval_example() -> None:
    match = re.search(
        r"players ((?:\(\d+,\d+\),? ?)+): ([\d.]+) %, √V = ([\d.]+), ν = ([\d.]+), "
        r"95 % CI \[([\d.]+), ([\d.]+)\]",
        " ".join(section("5").split()),
    )
    assert match, "the CR2 example of §5.1"
    players = [(int(w), int(lo)) for w, lo in re.findall(r"\((\d+),(\d+)\)", match[1])]
    ci = clustered_interval(players)
    assert ci.estimate == pytest.approx(_pct(match[2]))
    assert ci.std_error == pytest.approx(float(match[3]), abs=5e-6)
    assert ci.dof == pytest.approx(float(match[4]))
    assert (ci.lower, ci.upper) == (
        pytest.approx(_pct(match[5]), abs=5e-5),
        pytest.approx(_pct(match[6]), abs=5e-5),
    )


def test_fallback_threshold_example() -> None:
    match = re.search(r"t₀\.₉₇₅ is ([\d.]+) at ν = 1", section("6"))
    assert match and float(t.ppf(0.975, 1)) == pytest.approx(float(match[1]), abs=0.05)


def test_average_share_cut_examples() -> None:
    text = section("6")
    match = re.search(r"three equal archetypes are all kept \(([\d.]+)… > ([\d.]+)\)", text)
    assert match and round(100 / 3, 2) / 100 == float(match[2])
    assert len(above_average_share([1.0, 1.0, 1.0], lambda x: x)) == 3
    assert "four equal ones are\n  all dropped (0.25 > 0.25 is false)" in text
    assert above_average_share([1.0] * 4, lambda x: x) == []


def test_shrinkage_examples() -> None:
    text = " ".join(section("6").split())
    first = re.search(r"8–2 and 2–8 → `M = ([\d.]+)`, shrunk ([\d.]+) % and ([\d.]+) %", text)
    assert first
    got = shrink_win_rates([(8, 10), (2, 10)])
    assert got.strength == pytest.approx(float(first[1]), abs=5e-5)
    assert got.estimates == [
        pytest.approx(_pct(first[2]), abs=5e-5),
        pytest.approx(_pct(first[3]), abs=5e-5),
    ]
    second = re.search(
        r"3–0, 110–90 and 90–110 → `M = ([\d.]+)`, shrunk ([\d.]+) %, ([\d.]+) % and ([\d.]+) %",
        text,
    )
    assert second
    got = shrink_win_rates([(3, 3), (110, 200), (90, 200)])
    assert got.strength == pytest.approx(float(second[1]), abs=5e-3)
    assert got.estimates == [pytest.approx(_pct(x), abs=5e-5) for x in second.groups()[1:]]
