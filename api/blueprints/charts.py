"""Static charts: ``GET /api/v1/formats/{format}/charts/{name}.{svg,png}`` and the chart's
description ``GET /api/v1/formats/{format}/charts/{name}`` (title, alt text, links to the
image and to the data, the Vega-Lite spec).

The images were rendered by the workers after the refresh (:mod:`pipelines.charts.render`);
a request reads one row by primary key. ETag = refresh generation + digest of the SVG, so a
refresh changes it and ``If-None-Match`` gets 304. Only the standard windows are rendered.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, current_app, request, url_for
from flask.typing import ResponseReturnValue

from api.errors import ApiError
from api.resources import resources
from api.schemas import Param, Query, endpoint
from pipelines.charts.specs import ARCHETYPE_CHARTS, CHARTS
from pipelines.charts.store import StoredChart, load_chart
from pipelines.stats.refresh import DEFAULT_EVENT_GROUP, EVENT_GROUPS, STANDARD_WINDOW_KEYS

blueprint = Blueprint("charts", __name__)

FORMAT = Param("format", description="format name as stored, e.g. Modern", location="path")
NAME = Param(
    "name",
    description="chart: share, winrate, tiers, matchups, trends; per archetype: cards",
    location="path",
    enum=CHARTS + ARCHETYPE_CHARTS,
)
EXT = Param("ext", description="image type", location="path", enum=("svg", "png"))
WINDOW = Param(
    "window",
    description="standard window (charts are rendered for these only)",
    default="last30",
    enum=STANDARD_WINDOW_KEYS,
)
EVENT = Param(
    "event",
    description="event group",
    default=DEFAULT_EVENT_GROUP,
    enum=tuple(sorted(EVENT_GROUPS)),
)
ARCHETYPE = Param(
    "archetype", description="archetype of a per-archetype chart (cards)", max_length=200
)
PARAMS = (FORMAT, NAME, WINDOW, EVENT, ARCHETYPE)
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
            400,
            f"chart {name} needs an archetype",
            code="invalid_parameter",
            errors=[{"field": "archetype", "reason": "required for per-archetype charts"}],
        )
    if name not in ARCHETYPE_CHARTS and archetype:
        raise ApiError(
            400,
            f"chart {name} is not per archetype",
            code="invalid_parameter",
            errors=[{"field": "archetype", "reason": "only for per-archetype charts"}],
        )
    return archetype


def data_url(fmt: str, name: str, window: str, event: str, archetype: str = "") -> str:
    """The API URL of the numbers a chart draws."""
    endpoint_name = DATA_ENDPOINT[name]
    values: dict[str, Any] = {"format": fmt}
    if endpoint_name == "stats.archetype":
        values["name"] = archetype
    return f"{url_for(endpoint_name, **values)}?{urlencode({'window': window, 'event': event})}"


def describe_url(fmt: str, name: str, window: str, event: str, archetype: str = "") -> str:
    """The API URL of a chart's description (title, alt text, links, spec)."""
    query = {"window": window, "event": event}
    if archetype:
        query["archetype"] = archetype
    return f"{url_for('charts.describe', format=fmt, name=name)}?{urlencode(query)}"


def image_url(fmt: str, name: str, ext: str, window: str, event: str, archetype: str = "") -> str:
    """The API URL of a chart image."""
    query = {"window": window, "event": event}
    if archetype:
        query["archetype"] = archetype
    path = url_for("charts.image", format=fmt, name=name, ext=ext)
    return f"{path}?{urlencode(query)}"


def _load(fmt: str, name: str, q: Query, payload: str) -> tuple[StoredChart, str]:
    subject = _subject(name, q)
    with resources().db.read() as conn:
        stored = load_chart(conn, fmt, q["window"], q["event"], name, subject, payload)
    if stored is None:
        raise ApiError(
            404,
            f"no {name} chart for {fmt}, window {q['window']}, event group {q['event']} "
            "(not rendered: no data, or the render after the refresh has not run yet)",
        )
    return stored, subject


def _conditional(etag: str, body: bytes, mimetype: str) -> Response:
    max_age = current_app.config["API_CACHE_SECONDS"]
    if request.if_none_match and request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = Response(body, status=200, mimetype=mimetype)
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


@blueprint.get("/formats/<format>/charts/<name>.<ext>")
@endpoint(
    summary="A chart as an SVG or PNG image (rendered after each refresh)",
    tags=["charts"],
    params=(*PARAMS, EXT),
    errors=(404,),
    cached=True,
    description="The `Link` header points at the chart's description (alt text) and data.",
)
def image(format: str, name: str, ext: str, q: Query) -> ResponseReturnValue:
    """The image bytes, with ETag and links to the description and the data."""
    stored, subject = _load(format, name, q, ext)
    body = stored.payload.encode("utf-8") if ext == "svg" else bytes(stored.payload)
    # One ETag per representation: the SVG's digest, suffixed for the PNG drawn from it.
    etag = stored.etag if ext == "svg" else f"{stored.etag}-png"
    response = _conditional(etag, body, MEDIA[ext])
    describe = describe_url(format, name, q["window"], q["event"], subject)
    response.headers["Link"] = (
        f'<{quote(describe, safe="/?=&%")}>; rel="describedby"; type="application/json", '
        f"<{quote(data_url(format, name, q['window'], q['event'], subject), safe='/?=&%')}>; "
        'rel="alternate"; type="application/json"'
    )
    return response


@blueprint.get("/formats/<format>/charts/<name>")
@endpoint(
    summary="A chart's description: title, alt text, image and data links, Vega-Lite spec",
    tags=["charts"],
    params=PARAMS,
    response="Chart",
    errors=(404,),
    cached=True,
)
def describe(format: str, name: str, q: Query) -> ResponseReturnValue:
    """What a chart shows, in words and numbers."""
    stored, subject = _load(format, name, q, "spec")
    body = {
        "format": format,
        "chart": name,
        "archetype": subject or None,
        "window": q["window"],
        "event_group": q["event"],
        "generation": stored.generation,
        "rendered_at": stored.rendered_at,
        "title": stored.title,
        "alt": stored.alt,
        "svg_url": image_url(format, name, "svg", q["window"], q["event"], subject),
        "png_url": image_url(format, name, "png", q["window"], q["event"], subject),
        "data_url": data_url(format, name, q["window"], q["event"], subject),
        "spec": stored.payload,
    }
    from api.cache import dumps

    return _conditional(f"{stored.etag}-json", dumps(body), "application/json")
