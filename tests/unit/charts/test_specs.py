"""Chart rows and specs: the Other cut, orderings, small samples, tier lines, and real
rendering through vl-convert (the SVG has the marks the data asks for)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from pipelines.charts import data, specs
from pipelines.charts.build import Chart
from pipelines.charts.render import RenderResult, _draw_all, accessible_svg, render_chart
from pipelines.stats.matchups import build_matrix


def _row(name: str, rank: int, share: float, wins: int = 20, losses: int = 20, **extra: Any):
    return {
        "archetype": name,
        "rank": rank,
        "decks": round(share * 100),
        "share_decks": share,
        "wins": wins,
        "losses": losses,
        "win_rate": wins / (wins + losses) if wins + losses else None,
        "ci_lower": extra.get("ci_lower", 0.4),
        "ci_upper": extra.get("ci_upper", 0.6),
        "wilson_lower": 0.38,
        "wilson_upper": 0.62,
        "tier_ci": extra.get("tier", "1.5"),
        "in_tier_table": extra.get("in_tier_table", True),
    }


META = {
    "archetypes": [
        _row("Burn", 1, 0.40, ci_lower=0.45),
        _row("Tron", 2, 0.30, wins=5, losses=4, ci_lower=0.50),
        _row("Elves", 3, 0.25, ci_lower=0.30),
        _row("Rogue A", 4, 0.03, in_tier_table=False),
        _row("Rogue B", 5, 0.02 - 1e-9, in_tier_table=False),
    ],
    "totals": {"ci_mean": 0.42, "ci_sd": 0.05},
}


def _bars(svg: str) -> int:
    return len(re.findall(r'aria-roledescription="bar"', svg))


def test_share_rows_group_everything_under_the_cut_into_a_last_other_row() -> None:
    rows = data.share_rows(META, cut=0.02)
    assert [r["archetype"] for r in rows] == ["Burn", "Tron", "Elves", "Rogue A", "Other"]
    assert rows[-1]["other"] and rows[-1]["archetypes"] == 1
    assert rows[-1]["share"] == pytest.approx(0.02 - 1e-9)
    assert sum(r["share"] for r in rows) == pytest.approx(
        sum(r["share_decks"] for r in META["archetypes"])
    )
    capped = data.share_rows(META, cut=0.0, max_bars=2)
    assert [r["archetype"] for r in capped] == ["Burn", "Tron", "Other"]
    assert capped[-1]["archetypes"] == 3


def test_unranked_rows_unknown_and_conflicts_come_after_the_ranked_ones() -> None:
    # The stats give no rank to Unknown/Conflict rows (real sample): they used to crash
    # every chart of the window (None < int).
    meta = {
        "archetypes": [
            _row("Unknown", None, 0.30),  # type: ignore[arg-type]
            *META["archetypes"],
            _row("Conflict(A, B)", None, 0.05),  # type: ignore[arg-type]
        ],
        "totals": META["totals"],
    }
    order = [r["archetype"] for r in data.by_rank(meta["archetypes"])]
    assert order == ["Burn", "Tron", "Elves", "Rogue A", "Rogue B", "Unknown", "Conflict(A, B)"]
    assert [r["archetype"] for r in data.share_rows(meta, cut=0.04)][-3:] == [
        "Unknown",
        "Conflict(A, B)",
        "Other",
    ]
    share = Chart("share", "", specs.share_spec(data.share_rows(meta), "t"))
    assert _bars(render_chart(share, 1).svg) == 7  # 4 ranked, 2 unranked, Other


def test_winrate_rows_sorted_by_lower_bound_and_small_samples_marked() -> None:
    rows = data.winrate_rows(META, cut=0.2)
    assert [r["archetype"] for r in rows] == ["Tron", "Burn", "Elves"]
    assert [r["low_sample"] for r in rows] == [True, False, False]  # Tron: 9 decided matches
    assert data.low_sample({"wins": 100, "losses": 0, "low_sample": True})  # stats' own flag wins


def test_tier_lines_are_mean_plus_k_sd_and_collapse_without_spread() -> None:
    lines = data.tier_lines(META)
    assert [line["tier"] for line in lines] == ["0", "0.5", "1", "1.5", "2", "2.5", "3"]
    assert lines[0]["value"] == pytest.approx(0.42 + 3 * 0.05)
    assert lines[3]["value"] == pytest.approx(0.42)
    flat = data.tier_lines({"totals": {"ci_mean": 0.5, "ci_sd": None}})
    assert [line["k"] for line in flat] == [0]
    assert data.tier_lines({"totals": {}}) == []


def test_share_chart_draws_one_bar_per_row_with_a_text_alternative() -> None:
    rows = data.share_rows(META, cut=0.02)
    chart = Chart("share", "", specs.share_spec(rows, "Modern: share"))
    drawn = render_chart(chart, 7)
    assert _bars(drawn.svg) == len(rows) == 5
    assert drawn.svg.startswith("<svg") and 'role="img"' in drawn.svg
    assert "<desc>Bar chart of the share of decks per archetype (5 bars)" in drawn.svg
    assert drawn.png.startswith(b"\x89PNG")
    assert drawn.etag.startswith("g7-")


def test_matchup_heat_map_marks_the_diagonal_and_greys_small_cells() -> None:
    matrix = build_matrix(
        {("A", "B"): _cell(30, 20), ("B", "A"): _cell(20, 30), ("A", "A"): _cell(0, 0, mirrors=6)},
        {"A": 10.0, "B": 8.0},
    )
    cells = data.matchup_cells(matrix)
    assert len(cells) == len(matrix.labels) ** 2
    assert [c["mirror"] for c in cells if c["archetype"] == c["opponent"]] == [True] * len(
        matrix.labels
    )
    ab = next(c for c in cells if (c["archetype"], c["opponent"]) == ("A", "B"))
    assert ab["n"] == 50 and ab["win_rate"] == pytest.approx(0.6) and not ab["low_sample"]
    aa = next(c for c in cells if (c["archetype"], c["opponent"]) == ("A", "A"))
    assert aa["low_sample"]
    svg = render_chart(Chart("matchups", "", specs.matchups_spec(cells, matrix.labels, "m")), 1).svg
    rects = re.findall(r'aria-roledescription="rect mark"[^>]*fill="([^"]+)"', svg)
    assert len(rects) == len(cells)
    assert rects.count("#e0e0e0") == 2  # the small-sample cell and the empty one are grey
    assert svg.count('stroke="#222"') == len(matrix.labels)  # the diagonal, outlined
    assert 'id="matchups-gradient' in svg  # ids prefixed: several charts share one page


class _Cell:
    def __init__(self, wins: int, losses: int, mirrors: int = 0) -> None:
        self.wins, self.losses, self.draws, self.mirrors = wins, losses, 0, mirrors


def _cell(wins: int, losses: int, mirrors: int = 0) -> _Cell:
    return _Cell(wins, losses, mirrors)


def test_trends_and_cards_render() -> None:
    trends = {
        "series": [
            {"archetype": name, "points": [
                {"week_start": date(2026, 11, d), "share_decks": s, "decks": 3}
                for d, s in ((2, 0.1), (9, 0.2))
            ]}
            for name in ("A", "B", "C")
        ]
    }  # fmt: skip
    points = data.trend_points(trends, series=2)
    assert {p["archetype"] for p in points} == {"A", "B"} and len(points) == 4
    render_chart(Chart("trends", "", specs.trends_spec(points, "t")), 1)
    detail = {
        "cards": {
            "main": [
                {"card": "Bolt", "share": 0.5, "average_copies": 4.0, "decks": 5},
                {"card": "Island", "share": 1.0, "average_copies": 2.5, "decks": 10},
            ]
        }
    }
    rows = data.card_rows(detail)
    assert [r["card"] for r in rows] == ["Island", "Bolt"]
    svg = render_chart(Chart("cards", "X", specs.cards_spec(rows, "c")), 1).svg
    assert _bars(svg) == 2 and "2.5×" in svg


def test_one_bad_spec_is_counted_and_the_others_drawn() -> None:
    good = Chart("share", "", specs.share_spec(data.share_rows(META), "ok"))
    bad = Chart("winrate", "", {"description": "x", "mark": "no-such-mark", "data": {"values": []}})
    result = RenderResult("succeeded", 1)
    drawn = _draw_all([bad, good], 1, result)
    assert [d.chart.name for d in drawn] == ["share"]
    assert len(result.failures) == 1 and result.failures[0].startswith("winrate:")


def test_accessible_svg_refuses_non_svg_output() -> None:
    chart = Chart("share", "", {"description": "d", "title": "t"})
    with pytest.raises(ValueError):
        accessible_svg("<html></html>", chart)
    assert "<title>t</title><desc>d</desc>" in accessible_svg('<svg a="1"><g/></svg>', chart)
