"""Declarative Vega-Lite specifications, one per chart (framework-free: plain dicts).

A spec embeds its data (``data.values``, the rows of :mod:`pipelines.charts.data`), so one
document gives the static SVG/PNG (rendered by ``vl-convert``, no browser) and could be
handed unchanged to vega-embed. Plain dicts rather than altair objects: the specs are data we
test field by field, and altair would add pandas-shaped machinery for no gain here; the
specs are validated against the Vega-Lite schema by the renderer (an invalid one raises).

Every spec carries ``description`` — the chart's text alternative (rendered by Vega as the
SVG root's ``aria-label``, and used as the ``alt`` text of the image links).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

__all__ = [
    "ARCHETYPE_CHARTS",
    "CHARTS",
    "cards_spec",
    "matchups_spec",
    "share_spec",
    "tiers_spec",
    "trends_spec",
    "winrate_spec",
]

SCHEMA: Final = "https://vega.github.io/schema/vega-lite/v5.json"
#: Format-level charts, in page order.
CHARTS: Final = ("share", "winrate", "tiers", "matchups", "trends")
#: Charts drawn per archetype.
ARCHETYPE_CHARTS: Final = ("cards",)
WIDTH: Final = 560
ROW_HEIGHT: Final = 22
GREY: Final = "#9e9e9e"
ACCENT: Final = "#1f5fa8"
PCT: Final = ".1%"

Rows = Sequence[Mapping[str, Any]]


def _base(title: str, description: str, rows: Rows) -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "title": title,
        "description": description,
        "data": {"values": [dict(r) for r in rows]},
        "config": {
            "font": "sans-serif",
            "view": {"stroke": None},
            "axis": {"labelLimit": 220, "labelFontSize": 11, "titleFontSize": 12},
        },
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def share_spec(rows: Rows, title: str) -> dict[str, Any]:
    """Horizontal bars of the share of decks, in the rows' order (``Other`` last, grey)."""
    top = ", ".join(f"{r['archetype']} {_pct(r['share'])}" for r in rows[:5])
    spec = _base(
        title,
        f"Bar chart of the share of decks per archetype ({len(rows)} bars). Largest: {top}.",
        rows,
    )
    spec.update(
        width=WIDTH,
        height={"step": ROW_HEIGHT},
        mark={"type": "bar", "tooltip": True},
        encoding={
            "y": {
                "field": "archetype",
                "type": "nominal",
                "sort": None,
                "title": None,
            },
            "x": {
                "field": "share",
                "type": "quantitative",
                "title": "share of decks",
                "axis": {"format": "%"},
            },
            "color": {
                "condition": {"test": "datum.other", "value": GREY},
                "value": ACCENT,
            },
            "tooltip": [
                {"field": "archetype"},
                {"field": "share", "format": PCT},
                {"field": "decks"},
            ],
        },
    )
    return spec


def winrate_spec(rows: Rows, title: str, confidence: float = 0.95) -> dict[str, Any]:
    """Win rate per archetype with the clustered (thick) and Wilson (thin) intervals, sorted by
    the clustered lower bound; small samples are drawn grey."""
    level = f"{confidence * 100:g}%"
    best = ", ".join(f"{r['archetype']} {_pct(r['ci_lower'])}" for r in rows[:3])
    spec = _base(
        title,
        f"Win rate per archetype with {level} intervals (player-clustered and Wilson), "
        f"{len(rows)} archetypes sorted by the clustered lower bound; best lower bounds: "
        f"{best}. Grey rows have fewer than 30 decided matches.",
        rows,
    )
    order = [r["archetype"] for r in rows]
    y = {"field": "archetype", "type": "nominal", "sort": order, "title": None}
    color = {"condition": {"test": "datum.low_sample", "value": GREY}, "value": ACCENT}
    tooltip = [
        {"field": "archetype"},
        {"field": "win_rate", "format": PCT},
        {"field": "ci_lower", "title": "clustered lower", "format": PCT},
        {"field": "ci_upper", "title": "clustered upper", "format": PCT},
        {"field": "wilson_lower", "title": "Wilson lower", "format": PCT},
        {"field": "wilson_upper", "title": "Wilson upper", "format": PCT},
        {"field": "matches", "title": "decided matches"},
    ]
    spec.update(
        width=WIDTH,
        height={"step": ROW_HEIGHT},
        layer=[
            {
                "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#555"},
                "encoding": {"x": {"datum": 0.5}},
            },
            {
                "mark": {"type": "rule", "strokeWidth": 1, "yOffset": 5},
                "encoding": {
                    "y": y,
                    "x": {"field": "wilson_lower", "type": "quantitative"},
                    "x2": {"field": "wilson_upper"},
                    "color": color,
                },
            },
            {
                "mark": {"type": "rule", "strokeWidth": 4, "opacity": 0.6},
                "encoding": {
                    "y": y,
                    "x": {
                        "field": "ci_lower",
                        "type": "quantitative",
                        "title": f"win rate ({level} clustered interval, thin: Wilson)",
                        "axis": {"format": "%"},
                        "scale": {"zero": False},
                    },
                    "x2": {"field": "ci_upper"},
                    "color": color,
                },
            },
            {
                "mark": {"type": "point", "filled": True, "size": 60, "tooltip": True},
                "encoding": {
                    "y": y,
                    "x": {"field": "win_rate", "type": "quantitative"},
                    "color": color,
                    "tooltip": tooltip,
                },
            },
        ],
    )
    return spec


def tiers_spec(points: Rows, lines: Rows, title: str) -> dict[str, Any]:
    """Presence (log share) against the interval's lower bound, with the μ + kσ tier lines."""
    spec = _base(
        title,
        f"Scatter plot of {len(points)} archetypes: share of decks (log scale) against the "
        "lower bound of the win-rate interval, with the tier lines at the mean plus or minus "
        "1, 2 and 3 standard deviations.",
        points,
    )
    x = {
        "field": "share",
        "type": "quantitative",
        "scale": {"type": "log"},
        "axis": {"format": "%"},
        "title": "share of decks (log)",
    }
    y = {
        "field": "ci_lower",
        "type": "quantitative",
        "scale": {"zero": False},
        "axis": {"format": "%"},
        "title": "win rate, lower bound",
    }
    spec.update(
        width=WIDTH,
        height=380,
        layer=[
            {
                "data": {"values": [dict(r) for r in lines]},
                "mark": {"type": "rule", "strokeDash": [4, 3], "color": GREY},
                "encoding": {"y": {"field": "value", "type": "quantitative"}},
            },
            {
                "data": {"values": [dict(r) for r in lines]},
                "mark": {
                    "type": "text",
                    "align": "right",
                    "dx": WIDTH / 2,
                    "dy": -6,
                    "color": "#555",
                    "fontSize": 10,
                },
                "encoding": {
                    "y": {"field": "value", "type": "quantitative"},
                    "text": {"field": "label"},
                },
            },
            {
                "mark": {"type": "point", "filled": True, "size": 70, "tooltip": True},
                "encoding": {
                    "x": x,
                    "y": y,
                    "color": {
                        "field": "tier",
                        "type": "nominal",
                        "title": "tier",
                        "sort": ["0", "0.5", "1", "1.5", "2", "2.5", "3", "Other"],
                    },
                    "tooltip": [
                        {"field": "archetype"},
                        {"field": "tier"},
                        {"field": "share", "format": PCT},
                        {"field": "ci_lower", "title": "lower bound", "format": PCT},
                        {"field": "win_rate", "format": PCT},
                    ],
                },
            },
            {
                "mark": {"type": "text", "align": "left", "dx": 6, "fontSize": 10},
                "encoding": {"x": x, "y": y, "text": {"field": "archetype"}},
            },
        ],
    )
    return spec


def matchups_spec(cells: Rows, labels: Sequence[str], title: str) -> dict[str, Any]:
    """Heat map of the row archetype's win rate against each column; n in each cell; small
    samples grey; the diagonal (mirrors) outlined."""
    spec = _base(
        title,
        f"Matchup heat map of {len(labels)} archetypes: each cell is the row archetype's win "
        "rate against the column archetype, with the number of matches; grey cells have "
        "fewer than 30 decided matches; the diagonal holds the mirror matches.",
        cells,
    )
    size = max(26, min(46, 620 // max(1, len(labels))))
    axis_sort = list(labels)
    spec.update(
        width={"step": size},
        height={"step": size},
        encoding={
            "x": {
                "field": "opponent",
                "type": "nominal",
                "sort": axis_sort,
                "title": "opponent",
                "axis": {"orient": "top", "labelAngle": -45},
            },
            "y": {"field": "archetype", "type": "nominal", "sort": axis_sort, "title": None},
        },
        layer=[
            {
                # invalid: null keeps the cells without decided games (grey, not dropped).
                "mark": {"type": "rect", "tooltip": True, "invalid": None},
                "encoding": {
                    "color": {
                        "condition": {
                            "test": "datum.low_sample || datum.win_rate == null",
                            "value": "#e0e0e0",
                        },
                        "field": "win_rate",
                        "type": "quantitative",
                        "scale": {"scheme": "redblue", "domain": [0.3, 0.7], "clamp": True},
                        "legend": {"format": "%", "title": "win rate"},
                    },
                    "tooltip": [
                        {"field": "archetype"},
                        {"field": "opponent"},
                        {"field": "win_rate", "format": PCT},
                        {"field": "ci_lower", "format": PCT},
                        {"field": "ci_upper", "format": PCT},
                        {"field": "n", "title": "matches"},
                    ],
                },
            },
            {
                "transform": [{"filter": "datum.mirror"}],
                "mark": {
                    "type": "rect",
                    "fill": None,
                    "stroke": "#222",
                    "strokeWidth": 2,
                    "aria": False,
                },
            },
            {
                "mark": {"type": "text", "fontSize": 9, "lineBreak": "\n"},
                "transform": [
                    {
                        "calculate": "(datum.win_rate == null ? '–' : "
                        "format(datum.win_rate, '.0%')) + '\\n' + datum.n",
                        "as": "label",
                    }
                ],
                "encoding": {"text": {"field": "label"}},
            },
        ],
    )
    return spec


def trends_spec(points: Rows, title: str) -> dict[str, Any]:
    """Weekly share of decks of the top archetypes, one line each."""
    names = list(dict.fromkeys(p["archetype"] for p in points))
    weeks = len({p["week"] for p in points})
    spec = _base(
        title,
        f"Line chart of the weekly share of decks of the top {len(names)} archetypes over "
        f"{weeks} weeks: {', '.join(names)}.",
        points,
    )
    spec.update(
        width=WIDTH,
        height=300,
        mark={"type": "line", "point": True, "tooltip": True},
        encoding={
            "x": {
                "field": "week",
                "type": "temporal",
                "title": "week",
                "timeUnit": "yearmonthdate",
                "axis": {"format": "%d %b"},
            },
            "y": {
                "field": "share",
                "type": "quantitative",
                "axis": {"format": "%"},
                "title": "share of decks",
            },
            "color": {"field": "archetype", "type": "nominal", "sort": names, "title": None},
            "tooltip": [
                {"field": "archetype"},
                {"field": "week", "type": "temporal"},
                {"field": "share", "format": PCT},
                {"field": "decks"},
            ],
        },
    )
    return spec


def cards_spec(rows: Rows, title: str) -> dict[str, Any]:
    """Per archetype: inclusion bars with the average number of copies written at the end."""
    top = ", ".join(f"{r['card']} {_pct(r['inclusion'])}" for r in rows[:5])
    spec = _base(
        title,
        f"Bar chart of the {len(rows)} most played main-deck cards: share of the archetype's "
        f"decks including each card, labelled with the average copies. Most included: {top}.",
        rows,
    )
    y = {"field": "card", "type": "nominal", "sort": None, "title": None}
    spec.update(
        width=WIDTH - 60,
        height={"step": ROW_HEIGHT - 4},
        layer=[
            {
                "mark": {"type": "bar", "color": ACCENT, "tooltip": True},
                "encoding": {
                    "y": y,
                    "x": {
                        "field": "inclusion",
                        "type": "quantitative",
                        "axis": {"format": "%"},
                        "title": "decks including the card",
                        "scale": {"domain": [0, 1]},
                    },
                    "tooltip": [
                        {"field": "card"},
                        {"field": "inclusion", "format": PCT},
                        {"field": "average_copies", "format": ".2f"},
                        {"field": "decks"},
                    ],
                },
            },
            {
                "mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 10},
                "transform": [
                    {"calculate": "format(datum.average_copies, '.1f') + '×'", "as": "copies"}
                ],
                "encoding": {
                    "y": y,
                    "x": {"field": "inclusion", "type": "quantitative"},
                    "text": {"field": "copies"},
                },
            },
        ],
    )
    return spec
