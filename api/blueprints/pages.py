"""Server-rendered HTML pages (Flask + Jinja, no single-page app) and the ``/docs`` viewer.

* ``/`` — the most active format's meta with its charts, then every format with its
  freshness; ``/formats/<f>`` — share, win rate, tiers, trends and
  the meta table; ``/formats/<f>/matchups``; ``/formats/<f>/archetypes/<slug>``;
  ``/decks/<id>``; ``/tournaments/<id>``; ``/docs`` — Swagger UI over ``/openapi.json``.

Every table is plain HTML (works without JavaScript); the window and event group are query
parameters (deep links), chosen with a GET form. Charts are the SVGs the workers rendered
after the refresh (:mod:`pipelines.charts.render`), inlined: nothing is drawn on the request
path and the page needs no script to show them. Data comes from the same readers as the API
(:mod:`pipelines.stats.store`) through :mod:`pipelines.charts.data`. Pages go through the
response cache like the API (generation ETag, 304). Served under
:data:`api.security.PAGE_CSP` (same origin only).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from flask import Blueprint, Response, g, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from api.blueprints.charts import data_url, describe_url, image_url
from api.blueprints.decks import deck_document
from api.blueprints.events import tournament_document
from api.blueprints.stats_params import MAX_RANGE_DAYS
from api.cache import serve_cached
from api.errors import ApiError
from api.security import page_view
from pipelines.charts import data
from pipelines.charts.featured import featured_meta
from pipelines.charts.ondemand import draw_custom
from pipelines.charts.store import load_charts
from pipelines.core.vocabulary import DEFAULT_EVENT_GROUP, EVENT_GROUPS, STANDARD_WINDOW_KEYS
from pipelines.stats.store import (
    NotFound,
    WindowArg,
    archetype_detail,
    formats_overview,
    matchup_matrix,
    meta_rows,
    trends,
)

blueprint = Blueprint("pages", __name__)

DEFAULT_WINDOW = "last30"
WINDOW_LABELS = {
    "current": "Current meta period",
    "last7": "Last 7 days",
    "last14": "Last 14 days",
    "last30": "Last 30 days",
    "last90": "Last 90 days",
    "custom": "Custom dates",
}
CUSTOM = "custom"
GROUP_LABELS = {
    "all": "All events (no leagues)",
    "challenges": "Challenges",
    "leagues": "Leagues",
    "qualifiers": "Qualifiers",
    "paper": "Paper",
}
FORMAT_CHARTS = ["share", "winrate", "tiers", "trends"]
FEATURED_CHARTS = ["share", "winrate", "tiers"]
FEATURED_ROWS = 10


@dataclass(frozen=True, slots=True)
class PageQuery:
    """The validated window and event group of a page (the cache key's query part): a
    standard window, or ``custom`` with its dates."""

    window: str
    event: str
    start: date | None = None
    end: date | None = None

    @property
    def custom(self) -> bool:
        return self.start is not None

    def window_arg(self) -> WindowArg:
        """The readers' window argument."""
        return (self.start, self.end) if self.start and self.end else self.window

    def params(self) -> dict[str, str]:
        """The query parameters of a link to the same window and group."""
        if self.start and self.end:
            return {"from": self.start.isoformat(), "to": self.end.isoformat(), "event": self.event}
        return {"window": self.window, "event": self.event}

    def canonical(self) -> str:
        return "&".join(f"{key}={value}" for key, value in sorted(self.params().items()))


class PageError(Exception):
    """A page that cannot be shown (rendered as an HTML error page, not problem+json)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _date(name: str) -> date | None:
    raw = request.args.get(name) or None  # an empty date input is no date
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else date.fromisoformat("bad")
    except ValueError:
        raise PageError(400, f"The {name} date {raw!r} is not a date YYYY-MM-DD.") from None


def _custom(event: str) -> PageQuery:
    start, end = _date("from"), _date("to")
    if start is None or end is None:
        raise PageError(400, "Custom dates need both a first and a last day.")
    if start > end:
        raise PageError(400, "The first day comes after the last day.")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise PageError(400, f"A custom window spans at most {MAX_RANGE_DAYS} days.")
    return PageQuery(CUSTOM, event, start, end)


def _query() -> PageQuery:
    """The page's window: a standard one (``window=``), or custom dates (``from``/``to``,
    with ``window=custom`` or no window)."""
    window = request.args.get("window") or None
    event = request.args.get("event", DEFAULT_EVENT_GROUP)
    if event not in EVENT_GROUPS:
        raise PageError(400, f"Unknown event group {event!r}: choose one of the list.")
    if window == CUSTOM or (
        window is None and (request.args.get("from") or request.args.get("to"))
    ):
        q = _custom(event)
    elif (window or DEFAULT_WINDOW) not in STANDARD_WINDOW_KEYS:
        raise PageError(400, f"Unknown window {window!r}: choose one of the list.")
    else:
        q = PageQuery(window or DEFAULT_WINDOW, event)
    g.query = q
    return q


def _html(template: str) -> Callable[[Mapping[str, Any]], bytes]:
    def encode(context: Mapping[str, Any]) -> bytes:
        return render_template(template, **context).encode("utf-8")

    return encode


def _serve(template: str, build: Callable[[psycopg.Connection[Any]], dict[str, Any]]) -> Response:
    def guarded(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        try:
            return build(conn)
        except NotFound as exc:
            raise PageError(404, str(exc)) from exc
        except ApiError as exc:
            raise PageError(exc.status, exc.detail) from exc

    return serve_cached(guarded, encode=_html(template), mimetype="text/html")


@blueprint.errorhandler(PageError)
def page_error(exc: PageError) -> ResponseReturnValue:
    body = render_template("error.html", status=exc.status, message=exc.message)
    response = Response(body, status=exc.status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _charts(
    conn: psycopg.Connection[Any], fmt: str, q: PageQuery, names: list[str], subject: str = ""
) -> dict[str, dict[str, Any]]:
    """The page's charts: stored ones for a standard window, drawn now for custom dates (the
    page is then cached like any other, so a range is drawn once per refresh)."""
    if q.start and q.end:
        drawn = draw_custom(conn, fmt, (q.start, q.end), q.event, names, subject)
        found = {
            name: (Markup(d.svg), str(d.chart.spec.get("title", name)), d.chart.alt)
            for name, d in drawn.items()
        }
    else:
        stored = load_charts(conn, fmt, q.window, q.event, names, subject)
        # Markup: our own renderer's SVG.
        found = {name: (Markup(c.payload), c.title, c.alt) for name, c in stored.items()}
    params = q.params()
    out = {}
    for name in names:
        svg, title, alt = found.get(name, (None, None, None))
        out[name] = {
            "name": name,
            "svg": svg,
            "title": title,
            "alt": alt,
            "svg_url": image_url(fmt, name, "svg", params, subject),
            "png_url": image_url(fmt, name, "png", params, subject),
            "data_url": data_url(fmt, name, params, subject),
            "spec_url": describe_url(fmt, name, params, subject),
        }
    return out


def _common(fmt: str, q: PageQuery, stats: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "format": fmt,
        "q": q,
        "windows": WINDOW_LABELS,
        "groups": GROUP_LABELS,
        "info": data.window_info(stats),
        "generation": stats.get("generation"),
    }


@blueprint.get("/")
@page_view
def index() -> ResponseReturnValue:
    """The most active format's meta with its charts (what a newcomer opens first), then
    every format with its freshness."""

    def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        overview = formats_overview(conn)
        context = {
            "generation": overview["generation"],
            "as_of": overview["as_of"],
            "formats": overview["formats"],
            "now": datetime.now(UTC),
            "featured": None,
        }
        chosen = featured_meta(conn, DEFAULT_EVENT_GROUP)
        if chosen is not None:
            q = PageQuery(chosen.window, DEFAULT_EVENT_GROUP)
            meta = meta_rows(conn, chosen.format, q.window, q.event)
            context["featured"] = {
                **_common(chosen.format, q, meta),
                "summary": data.summary(meta),
                "table": data.meta_table(meta)[:FEATURED_ROWS],
                "charts": _charts(conn, chosen.format, q, FEATURED_CHARTS),
            }
        return context

    g.query = PageQuery("-", "-")
    return _serve("index.html", build)


@blueprint.get("/formats/<format>")
@page_view
def format_page(format: str) -> ResponseReturnValue:
    q = _query()

    def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        meta = meta_rows(conn, format, q.window_arg(), q.event)
        weekly = trends(conn, format, q.window_arg(), q.event, top_n=data.TREND_SERIES)
        return {
            **_common(format, q, meta),
            "summary": data.summary(meta),
            "table": data.meta_table(meta),
            "trend_weeks": weekly["weeks"],
            "trend_series": weekly["series"],
            "charts": _charts(conn, format, q, FORMAT_CHARTS),
        }

    return _serve("format.html", build)


@blueprint.get("/formats/<format>/matchups")
@page_view
def matchups_page(format: str) -> ResponseReturnValue:
    q = _query()

    def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        meta = meta_rows(conn, format, q.window_arg(), q.event)
        matrix = matchup_matrix(
            conn,
            format,
            q.window_arg(),
            q.event,
            min_share=data.DEFAULT_SHARE_CUT,
            max_archetypes=data.MAX_BARS,
        )
        cells = data.matchup_cells(matrix)
        grid = {(c["archetype"], c["opponent"]): c for c in cells}
        return {
            **_common(format, q, meta),
            "labels": matrix.labels,
            "grid": grid,
            "charts": _charts(conn, format, q, ["matchups"]),
        }

    return _serve("matchups.html", build)


@blueprint.get("/formats/<format>/archetypes/<slug>")
@page_view
def archetype_page(format: str, slug: str) -> ResponseReturnValue:
    q = _query()

    def build(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        meta = meta_rows(conn, format, q.window_arg(), q.event)
        row = next(
            (r for r in meta["archetypes"] if slug in {data.archetype_slug(r), r["archetype"]}),
            None,
        )
        if row is None:
            raise PageError(404, f"No archetype {slug!r} in {format} for this window and group.")
        name = row["archetype"]
        detail = archetype_detail(conn, format, name, q.window_arg(), q.event, best_decks=10)
        return {
            **_common(format, q, detail),
            "archetype": name,
            "slug": slug,
            "row": data.meta_table({"archetypes": [row]})[0],
            "cards": {
                board: data.card_rows(detail, board, limit=200) for board in ("main", "side")
            },
            "stock": detail["stock_decklist"],
            "best": detail["best_decks"],
            "weekly": detail["weekly"],
            "charts": _charts(conn, format, q, ["cards"], subject=name),
        }

    return _serve("archetype.html", build)


@blueprint.get("/decks/<int:deck_id>")
@page_view
def deck_page(deck_id: int) -> ResponseReturnValue:
    g.query = PageQuery("-", "-")
    return _serve("deck.html", lambda conn: {"deck": deck_document(conn, deck_id)})


@blueprint.get("/tournaments/<int:tournament_id>")
@page_view
def tournament_page(tournament_id: int) -> ResponseReturnValue:
    g.query = PageQuery("-", "-")
    return _serve(
        "tournament.html", lambda conn: {"event": tournament_document(conn, tournament_id)}
    )


@blueprint.get("/docs")
@page_view
def docs() -> ResponseReturnValue:
    response = Response(render_template("docs.html"), mimetype="text/html")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@blueprint.app_template_filter("pct")
def pct(value: float | None, digits: int = 1) -> str:
    """``0.4567`` -> ``"45.7%"``; missing values as an en dash."""
    return "–" if value is None else f"{value * 100:.{digits}f}%"


__all__ = ["blueprint"]
