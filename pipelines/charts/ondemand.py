"""Charts of custom windows (``from``/``to``), drawn when asked for.

The workers draw every standard window after each refresh (:mod:`pipelines.charts.render`);
a custom date range cannot be drawn in advance. Its charts come from the same builders and
renderer, reading only what the asked charts show; the callers cache the result by refresh
generation (the pages' response cache, the image endpoint's ETag) and price the request.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

import psycopg

from pipelines.charts.build import archetype_charts, format_charts
from pipelines.charts.render import RenderedChart, render_chart
from pipelines.stats.refresh import latest_generation

__all__ = ["draw_custom"]


def draw_custom(
    conn: psycopg.Connection[Any],
    fmt: str,
    window: tuple[date, date],
    event_group: str,
    names: Collection[str],
    subject: str = "",
    *,
    png: bool = False,
) -> dict[str, RenderedChart]:
    """The charts ``names`` of ``fmt`` over ``window`` (per archetype when ``subject``), by
    name, tagged with the latest refresh generation.

    Raises:
        pipelines.stats.store.NotFound: the format, or the archetype in the window, has no
            data.
    """
    latest = latest_generation(conn)
    generation = latest.generation if latest else 0
    if subject:
        charts = archetype_charts(conn, fmt, subject, window, event_group)
    else:
        charts = format_charts(conn, fmt, window, event_group, names=names)
    return {
        chart.name: render_chart(chart, generation, png=png)
        for chart in charts
        if chart.name in names
    }
