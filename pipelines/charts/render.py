"""Render every chart of a refresh generation to SVG and PNG and store them (``chart_renders``).

Runs in a worker after each statistics refresh (task ``charts.render``), never on the request
path: for every format × standard window × event group of the generation, the format charts
(:data:`pipelines.charts.specs.CHARTS`) and, for the :data:`ARCHETYPES_PER_WINDOW` most
present archetypes, the per-archetype charts. ``vl-convert`` (Vega-Lite compiled and drawn
in-process by Deno/resvg, no browser) turns each spec into SVG, then the SVG into PNG.

Idempotent (upserts by key and generation) and guarded against overlap by an advisory lock:
a second run while one is rendering returns ``status="skipped"``. A run asked for a
generation older than the latest succeeded one returns ``status="superseded"`` (the newer
refresh queues its own run). One chart failing to render is logged and counted; the others
are stored. After storing, generations older than the previous rendered one are deleted, so
readers that looked the generation up a moment ago still find their rows.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any, Final

import psycopg
import vl_convert as vlc
from psycopg.types.json import Jsonb

from pipelines.charts import data
from pipelines.charts.build import Chart, archetype_charts, format_charts
from pipelines.charts.featured import featured_meta
from pipelines.core.db import connect
from pipelines.core.vocabulary import DEFAULT_EVENT_GROUP, EVENT_GROUPS, STANDARD_WINDOW_KEYS
from pipelines.stats.refresh import latest_generation
from pipelines.stats.store import NotFound, meta_rows

__all__ = [
    "ARCHETYPES_PER_WINDOW",
    "RENDER_LOCK_KEY",
    "RenderResult",
    "RenderedChart",
    "render_chart",
    "render_generation",
]

log = logging.getLogger(__name__)

#: Per-archetype charts are drawn for this many archetypes (by presence) of each window.
ARCHETYPES_PER_WINDOW: Final = 10
RENDER_LOCK_KEY: Final = 0x43485254  # "CHRT"
#: The window the pages and the chart endpoint default to.
DEFAULT_WINDOW: Final = "last30"
PNG_SCALE: Final = 1.5


@dataclass(frozen=True, slots=True)
class RenderedChart:
    """A chart drawn: SVG text, PNG bytes and their common ETag."""

    chart: Chart
    svg: str
    png: bytes
    etag: str


@dataclass(slots=True)
class RenderResult:
    """Summary of one run (JSON-ready through :meth:`as_dict`)."""

    status: str
    generation: int | None
    charts: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "generation": self.generation,
            "charts": self.charts,
            "failures": self.failures,
            "seconds": round(self.seconds, 3),
        }


_ID = re.compile(r'(id="|url\(#)([A-Za-z_][\w.-]*)')


def accessible_svg(svg: str, chart: Chart) -> str:
    """The SVG with its text alternative (``role="img"``, ``<title>``, ``<desc>``) and ids
    prefixed by the chart name (several charts are inlined in one page)."""
    svg = _ID.sub(lambda m: f"{m[1]}{chart.name}-{m[2]}", svg)
    title = escape(str(chart.spec.get("title", chart.name)))
    alt = escape(chart.alt)
    head, sep, rest = svg.partition(">")
    if not sep or not head.startswith("<svg"):
        raise ValueError("renderer output is not an SVG document")
    return f'{head} role="img" aria-label="{alt}"><title>{title}</title><desc>{alt}</desc>{rest}'


def render_chart(chart: Chart, generation: int, *, png: bool = True) -> RenderedChart:
    """Draw one chart (raises ``ValueError`` from vl-convert for an invalid spec); without
    ``png`` the PNG is left empty (a page inlines the SVG only)."""
    svg = accessible_svg(vlc.vegalite_to_svg(chart.spec), chart)
    image = vlc.svg_to_png(svg, scale=PNG_SCALE) if png else b""
    digest = hashlib.blake2b(svg.encode("utf-8"), digest_size=12).hexdigest()
    return RenderedChart(chart, svg, image, f"g{generation}-{digest}")


_UPSERT = """
INSERT INTO chart_renders (format, window_key, event_group, chart, subject, generation, title,
                           alt, spec, svg, png, etag)
VALUES (%(format)s, %(window)s, %(group)s, %(chart)s, %(subject)s, %(generation)s, %(title)s,
        %(alt)s, %(spec)s, %(svg)s, %(png)s, %(etag)s)
ON CONFLICT (format, window_key, event_group, chart, subject, generation) DO UPDATE
   SET title = EXCLUDED.title, alt = EXCLUDED.alt, spec = EXCLUDED.spec, svg = EXCLUDED.svg,
       png = EXCLUDED.png, etag = EXCLUDED.etag, rendered_at = now()
"""


def _store(
    conn: psycopg.Connection[Any],
    fmt: str,
    window: str,
    group: str,
    generation: int,
    drawn: Iterable[RenderedChart],
) -> int:
    rows = [
        {
            "format": fmt,
            "window": window,
            "group": group,
            "chart": d.chart.name,
            "subject": d.chart.subject,
            "generation": generation,
            "title": str(d.chart.spec.get("title", "")),
            "alt": d.chart.alt,
            "spec": Jsonb(d.chart.spec),
            "svg": d.svg,
            "png": d.png,
            "etag": d.etag,
        }
        for d in drawn
    ]
    if rows:
        with conn.cursor() as cur:
            cur.executemany(_UPSERT, rows)
    return len(rows)


def _windows(conn: psycopg.Connection[Any], generation: int) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT format, window_key FROM stats_windows WHERE generation = %s ORDER BY 1, 2",
        (generation,),
    ).fetchall()
    order = {key: i for i, key in enumerate(STANDARD_WINDOW_KEYS)}
    return sorted(((r[0], r[1]) for r in rows if r[1] in order), key=lambda r: (r[0], order[r[1]]))


def _draw_all(
    charts: Sequence[Chart], generation: int, result: RenderResult
) -> list[RenderedChart]:
    drawn = []
    for chart in charts:
        try:
            drawn.append(render_chart(chart, generation))
        except Exception as exc:  # one bad chart must not cost the others (logged, counted)
            where = f"{chart.name}/{chart.subject}" if chart.subject else chart.name
            log.warning("chart %s failed to render: %s", where, exc)
            result.failures.append(f"{where}: {type(exc).__name__}: {exc}"[:300])
    return drawn


def _render_window(
    conn: psycopg.Connection[Any],
    fmt: str,
    window: str,
    group: str,
    generation: int,
    archetypes: int,
    result: RenderResult,
) -> None:
    meta = meta_rows(conn, fmt, window, group, generation=generation)
    if not meta["archetypes"]:
        return  # nothing was played in this group and window: no chart to draw
    charts = format_charts(conn, fmt, window, group, generation=generation)
    for row in data.by_rank(meta["archetypes"])[:archetypes]:
        try:
            charts += archetype_charts(
                conn, fmt, row["archetype"], window, group, generation=generation
            )
        except NotFound:  # an archetype without card data in the window's weeks
            continue
    result.charts += _store(
        conn, fmt, window, group, generation, _draw_all(charts, generation, result)
    )


def _prune(conn: psycopg.Connection[Any], generation: int) -> None:
    previous = conn.execute(
        "SELECT max(generation) FROM chart_renders WHERE generation < %s", (generation,)
    ).fetchone()
    if previous and previous[0] is not None:
        conn.execute("DELETE FROM chart_renders WHERE generation < %s", (previous[0],))


def render_generation(
    dsn: str,
    generation: int | None = None,
    *,
    formats: Sequence[str] | None = None,
    windows: Sequence[str] = STANDARD_WINDOW_KEYS,
    groups: Sequence[str] = tuple(EVENT_GROUPS),
    archetypes: int = ARCHETYPES_PER_WINDOW,
) -> RenderResult:
    """Render and store every chart of ``generation`` (default: the latest succeeded one).

    ``formats``/``windows``/``groups`` narrow the run (tests, an operator re-rendering one
    format); ``archetypes`` is how many archetypes per window get their own charts.
    """
    started = time.perf_counter()
    with connect(dsn, application_name="manalytics-charts") as conn:
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", (RENDER_LOCK_KEY,)).fetchone()
        conn.commit()
        if not got or not got[0]:
            return RenderResult("skipped", generation)
        try:
            latest = latest_generation(conn)
            if latest is None:
                return RenderResult("empty", None)
            if generation is not None and generation < latest.generation:
                return RenderResult("superseded", generation)
            generation = latest.generation
            result = RenderResult("succeeded", generation)
            jobs = [
                (fmt, window, group)
                for fmt, window in _windows(conn, generation)
                if (formats is None or fmt in formats) and window in windows
                for group in groups
            ]
            # The landing page's meta, then the pages' defaults first, so they have their
            # charts within seconds.
            chosen = featured_meta(conn, DEFAULT_EVENT_GROUP)
            first = (chosen.format, chosen.window, DEFAULT_EVENT_GROUP) if chosen else None
            jobs.sort(key=lambda j: (j != first, j[1:] != (DEFAULT_WINDOW, DEFAULT_EVENT_GROUP)))
            for fmt, window, group in jobs:
                try:
                    _render_window(conn, fmt, window, group, generation, archetypes, result)
                except Exception as exc:  # one window's bad data must not cost the others
                    conn.rollback()
                    log.warning("charts of %s %s %s failed: %s", fmt, window, group, exc)
                    where = f"{fmt}/{window}/{group}: {type(exc).__name__}: {exc}"
                    result.failures.append(where[:300])
                    continue
                conn.commit()  # one window at a time: readers see charts as they arrive
            _prune(conn, generation)
            conn.commit()
        finally:
            conn.rollback()
            conn.execute("SELECT pg_advisory_unlock(%s)", (RENDER_LOCK_KEY,))
            conn.commit()
    if result.failures:
        result.status = "partial"
    result.seconds = time.perf_counter() - started
    log.info("charts of generation %s: %s", generation, result.as_dict())
    return result
