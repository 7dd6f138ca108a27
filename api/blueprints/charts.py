"""Static charts: ``GET /api/v1/formats/{format}/charts/{name}.{svg,png}`` and the chart's
description ``GET /api/v1/formats/{format}/charts/{name}`` (title, alt text, links to the
image and to the data, the Vega-Lite spec).

The images were rendered by the workers after the refresh (:mod:`pipelines.charts.render`);
a request reads one row by primary key. ETag = refresh generation + digest of the SVG, so a
refresh changes it and ``If-None-Match`` gets 304. Only the standard windows are rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, request, url_for
from flask.typing import ResponseReturnValue

from api.blueprints.stats_params import EVENT, MAX_RANGE_DAYS, custom_range, window_arg
from api.cache import conditional_response
from api.errors import ApiError
from api.limits import priced
from api.params import Param, ParamGroup
from api.request_parsing import Query
from api.resources import resources
from api.schemas import endpoint
from pipelines.charts.ondemand import draw_custom
from pipelines.charts.specs import ARCHETYPE_CHARTS, CHARTS
from pipelines.charts.store import StoredChart, load_chart
from pipelines.core.vocabulary import STANDARD_WINDOW_KEYS
from pipelines.stats.store import NotFound

blueprint = Blueprint("charts", __name__)

FORMAT = Param("format", description="format name as stored, e.g. Modern", location="path")
NAME = Param(
    "name",
    description="chart: share, winrate, tiers, matchups, trends; per archetype: cards",
    location="path",
    enum=CHARTS + ARCHETYPE_CHARTS,
)
EXT = Param("ext", description="image type", location="path", enum=("svg", "png"))
PERIOD = ParamGroup(
    "period",
    "The window: `window` (a standard one, drawn after each refresh; default last30), or "
    "`from` and `to` together (a custom range, inclusive, drawn on request; `from` after "
    f"`to` or longer than {MAX_RANGE_DAYS} days: 422). Sent as plain query parameters.",
    together=("from", "to"),
    exclusive=(("window", "from"), ("window", "to")),
)
WINDOW = Param(
    "window",
    description="standard window (default last30)",
    enum=STANDARD_WINDOW_KEYS,
    group=PERIOD,
)
FROM, TO = custom_range(PERIOD)
ARCHETYPE = Param(
    "archetype",
    description="archetype of a per-archetype chart (cards): required for those, refused for "
    "the others (422)",
    max_length=200,
)
PARAMS = (FORMAT, NAME, WINDOW, FROM, TO, EVENT, ARCHETYPE)
DEFAULT_WINDOW = "last30"
#: What a custom window's chart takes from the rate-limit budget (drawn on request).
CUSTOM_COST = 10
MEDIA = {"svg": "image/svg+xml", "png": "image/png"}
#: Where each chart's numbers come from (the JSON a reader can check the picture against).
DATA_ENDPOINT = {
    "share": "stats.meta",
    "winrate": "stats.meta",
    "tiers": "stats.meta",
    "matchups": "stats.matchups",
    "trends": "stats.trend",
    "cards": "stats.archetype",
}


def _subject(name: str, q: Query) -> str:
    archetype = (q["archetype"] or "").strip()
    if name in ARCHETYPE_CHARTS and not archetype:
        raise ApiError(
            422,
            f"chart {name} needs an archetype",
            code="invalid_chart",
            errors=[{"field": "archetype", "reason": "required for per-archetype charts"}],
        )
    if name not in ARCHETYPE_CHARTS and archetype:
        raise ApiError(
            422,
            f"chart {name} is not per archetype",
            code="invalid_chart",
            errors=[{"field": "archetype", "reason": "only for per-archetype charts"}],
        )
    return archetype


def window_params(q: Mapping[str, Any]) -> dict[str, str]:
    """The window and group part of a link: ``window`` or ``from``/``to``, and ``event``."""
    if q.get("from") is not None:
        return {"from": str(q["from"]), "to": str(q["to"]), "event": q["event"]}
    return {"window": q.get("window") or DEFAULT_WINDOW, "event": q["event"]}


def data_url(fmt: str, name: str, params: Mapping[str, str], archetype: str = "") -> str:
    """The API URL of the numbers a chart draws."""
    endpoint_name = DATA_ENDPOINT[name]
    values: dict[str, Any] = {"format": fmt}
    if endpoint_name == "stats.archetype":
        values["name"] = archetype
    return f"{url_for(endpoint_name, **values)}?{urlencode(dict(params))}"


def _with_subject(params: Mapping[str, str], archetype: str) -> dict[str, str]:
    return {**params, "archetype": archetype} if archetype else dict(params)


def describe_url(fmt: str, name: str, params: Mapping[str, str], archetype: str = "") -> str:
    """The API URL of a chart's description (title, alt text, links, spec)."""
    query = urlencode(_with_subject(params, archetype))
    return f"{url_for('charts.describe', format=fmt, name=name)}?{query}"


def image_url(fmt: str, name: str, ext: str, params: Mapping[str, str], archetype: str = "") -> str:
    """The API URL of a chart image."""
    path = url_for("charts.image", format=fmt, name=name, ext=ext)
    return f"{path}?{urlencode(_with_subject(params, archetype))}"


def _load(fmt: str, name: str, q: Query, payload: str) -> tuple[StoredChart, str]:
    subject = _subject(name, q)
    window = window_arg(fmt, q, default=DEFAULT_WINDOW)
    if isinstance(window, tuple):
        start, end = q["from"], q["to"]  # the dates window_arg checked
        return _draw(fmt, name, (start, end), q["event"], subject, payload), subject
    with resources().db.read() as conn:
        stored = load_chart(conn, fmt, window, q["event"], name, subject, payload)
    if stored is None:
        raise ApiError(
            404,
            f"no {name} chart for {fmt}, window {window}, event group {q['event']} "
            "(not rendered: no data, or the render after the refresh has not run yet)",
        )
    return stored, subject


def _draw(
    fmt: str, name: str, window: tuple[date, date], event: str, subject: str, payload: str
) -> StoredChart:
    """A custom window's chart, drawn now (priced by :data:`CUSTOM_COST`)."""
    try:
        with resources().db.read() as conn:
            drawn = draw_custom(conn, fmt, window, event, [name], subject, png=payload == "png")
    except NotFound as exc:
        raise ApiError(404, str(exc)) from exc
    if name not in drawn:
        raise ApiError(404, f"no {name} chart for {fmt} in this window")
    chart = drawn[name]
    body = {"svg": chart.svg, "png": chart.png, "spec": chart.chart.spec}[payload]
    title = str(chart.chart.spec.get("title", name))
    generation = int(chart.etag[1:].split("-")[0])
    return StoredChart(
        name, subject, generation, title, chart.chart.alt, chart.etag, datetime.now(UTC), body
    )


def _custom_cost() -> int:
    return CUSTOM_COST if request.args.get("from") or request.args.get("to") else 1


@blueprint.get("/formats/<format>/charts/<name>.<ext>")
@priced(_custom_cost)
@endpoint(
    summary="A chart as an SVG or PNG image (rendered after each refresh)",
    tags=["charts"],
    params=(*PARAMS, EXT),
    errors=(404, 422),
    cached=True,
    description="The `Link` header points at the chart's description (alt text) and data.",
)
def image(format: str, name: str, ext: str, q: Query) -> ResponseReturnValue:
    """The image bytes, with ETag and links to the description and the data."""
    stored, subject = _load(format, name, q, ext)
    body = stored.payload.encode("utf-8") if ext == "svg" else bytes(stored.payload)
    # One ETag per representation: the SVG's digest, suffixed for the PNG drawn from it.
    etag = stored.etag if ext == "svg" else f"{stored.etag}-png"
    response = conditional_response(etag, body, MEDIA[ext])
    params = window_params(q)
    describe = describe_url(format, name, params, subject)
    response.headers["Link"] = (
        f'<{quote(describe, safe="/?=&%")}>; rel="describedby"; type="application/json", '
        f"<{quote(data_url(format, name, params, subject), safe='/?=&%')}>; "
        'rel="alternate"; type="application/json"'
    )
    return response


@blueprint.get("/formats/<format>/charts/<name>")
@priced(_custom_cost)
@endpoint(
    summary="A chart's description: title, alt text, image and data links, Vega-Lite spec",
    tags=["charts"],
    params=PARAMS,
    response="Chart",
    errors=(404, 422),
    cached=True,
)
def describe(format: str, name: str, q: Query) -> ResponseReturnValue:
    """What a chart shows, in words and numbers."""
    stored, subject = _load(format, name, q, "spec")
    params = window_params(q)
    body = {
        "format": format,
        "chart": name,
        "archetype": subject or None,
        "window": params.get("window", "custom"),
        "event_group": q["event"],
        "generation": stored.generation,
        "rendered_at": stored.rendered_at,
        "title": stored.title,
        "alt": stored.alt,
        "svg_url": image_url(format, name, "svg", params, subject),
        "png_url": image_url(format, name, "png", params, subject),
        "data_url": data_url(format, name, params, subject),
        "spec": stored.payload,
    }
    from api.cache import dumps

    return conditional_response(f"{stored.etag}-json", dumps(body), "application/json")
