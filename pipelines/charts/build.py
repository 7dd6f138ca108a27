"""The charts of one format × window × event group, built from the statistics readers."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

from pipelines.charts import data, specs
from pipelines.stats.store import WindowArg, archetype_detail, matchup_matrix, meta_rows, trends

__all__ = ["FORMAT_CHART_NAMES", "Chart", "archetype_charts", "format_charts", "window_label"]

FORMAT_CHART_NAMES: tuple[str, ...] = ("share", "winrate", "tiers", "matchups", "trends")


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart: its name, subject (archetype, or ``""``), spec and text alternative."""

    name: str
    subject: str
    spec: dict[str, Any]

    @property
    def alt(self) -> str:
        """The text alternative (the spec's description)."""
        return str(self.spec["description"])


def window_label(window: Mapping[str, Any], event_group: str) -> str:
    """``"2026-11-01 – 2026-11-30, all events"`` for chart titles."""
    period = f" ({window['period_name']})" if window.get("period_name") else ""
    return f"{window['start']} – {window['end']}{period}, {event_group} events"


def format_charts(
    conn: psycopg.Connection[Any],
    fmt: str,
    window: WindowArg,
    event_group: str,
    *,
    generation: int | None = None,
    names: Collection[str] = FORMAT_CHART_NAMES,
) -> list[Chart]:
    """Share, win rate, tiers, matchups and trends of one window and event group (those of
    ``names``: a page drawing charts on request reads only what it shows).

    Raises:
        pipelines.stats.store.NotFound: the window does not exist for the format.
    """
    meta = meta_rows(conn, fmt, window, event_group, generation=generation)
    where = window_label(meta["window"], event_group)
    charts = [
        Chart(
            "share", "", specs.share_spec(data.share_rows(meta), f"{fmt}: share of decks, {where}")
        ),
        Chart(
            "winrate", "", specs.winrate_spec(data.winrate_rows(meta), f"{fmt}: win rate, {where}")
        ),
        Chart(
            "tiers",
            "",
            specs.tiers_spec(
                data.tier_points(meta), data.tier_lines(meta), f"{fmt}: tiers, {where}"
            ),
        ),
    ]
    if "matchups" in names:
        matrix = matchup_matrix(
            conn,
            fmt,
            window,
            event_group,
            min_share=data.DEFAULT_SHARE_CUT,
            max_archetypes=data.MAX_BARS,
            generation=generation,
        )
        cells = data.matchup_cells(matrix)
        title = f"{fmt}: matchups, {where}"
        charts.append(Chart("matchups", "", specs.matchups_spec(cells, matrix.labels, title)))
    if "trends" in names:
        weekly = trends(
            conn, fmt, window, event_group, top_n=data.TREND_SERIES, generation=generation
        )
        title = f"{fmt}: weekly share of decks, {where}"
        charts.append(Chart("trends", "", specs.trends_spec(data.trend_points(weekly), title)))
    return [chart for chart in charts if chart.name in names]


def archetype_charts(
    conn: psycopg.Connection[Any],
    fmt: str,
    archetype: str,
    window: WindowArg,
    event_group: str,
    *,
    generation: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> list[Chart]:
    """The per-archetype charts (card inclusion and average copies).

    Raises:
        pipelines.stats.store.NotFound: no deck of the archetype in the window.
    """
    if detail is None:
        detail = archetype_detail(
            conn, fmt, archetype, window, event_group, best_decks=0, generation=generation
        )
    where = window_label(detail["window"], event_group)
    return [
        Chart(
            "cards",
            archetype,
            specs.cards_spec(
                data.card_rows(detail), f"{archetype} ({fmt}): main-deck cards, {where}"
            ),
        )
    ]
