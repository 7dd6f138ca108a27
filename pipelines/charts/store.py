"""Reading stored chart renders (``chart_renders``), by primary key: one index probe per read.

The newest rendered generation of a key is served: right after a refresh, until the render
task has stored the new generation's charts, readers keep getting the previous ones (a chart
a few minutes old rather than none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

__all__ = ["StoredChart", "load_chart", "load_charts"]

_COLUMNS = "chart, subject, generation, title, alt, etag, rendered_at"
_ONE_SQL = f"""
SELECT {_COLUMNS}, {{payload}}
  FROM chart_renders
 WHERE format = %s AND window_key = %s AND event_group = %s AND chart = %s AND subject = %s
 ORDER BY generation DESC LIMIT 1
"""  # noqa: S608  (fixed column lists)
_MANY_SQL = f"""
SELECT DISTINCT ON (chart) {_COLUMNS}, svg
  FROM chart_renders
 WHERE format = %s AND window_key = %s AND event_group = %s AND chart = ANY(%s) AND subject = %s
 ORDER BY chart, generation DESC
"""  # noqa: S608


@dataclass(frozen=True, slots=True)
class StoredChart:
    """One render: metadata and the requested payload (SVG text, PNG bytes or the spec)."""

    chart: str
    subject: str
    generation: int
    title: str
    alt: str
    etag: str
    rendered_at: datetime
    payload: Any


_PAYLOADS = {"svg": "svg", "png": "png", "spec": "spec"}


def load_chart(
    conn: psycopg.Connection[Any],
    fmt: str,
    window: str,
    group: str,
    chart: str,
    subject: str = "",
    payload: str = "svg",
) -> StoredChart | None:
    """The newest render of one chart with ``payload`` (``svg``, ``png`` or ``spec``)."""
    column = _PAYLOADS[payload]
    row = conn.execute(
        _ONE_SQL.format(payload=column), (fmt, window, group, chart, subject)
    ).fetchone()
    return StoredChart(*row) if row else None


def load_charts(
    conn: psycopg.Connection[Any],
    fmt: str,
    window: str,
    group: str,
    charts: list[str],
    subject: str = "",
) -> dict[str, StoredChart]:
    """The newest SVG renders of several charts of one window, by chart name."""
    rows = conn.execute(_MANY_SQL, (fmt, window, group, charts, subject)).fetchall()
    return {row[0]: StoredChart(*row) for row in rows}
