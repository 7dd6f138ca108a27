"""Operator tasks (``/api/v1/admin/…``): queue ingestion, reclassification, refresh and
source fetches, follow their run records, list discovery suggestions. See
:mod:`api.blueprints.admin` for the contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import url_for
from flask.typing import ResponseReturnValue

from api.blueprints.admin import blueprint, requester
from api.errors import ApiError
from api.params import PAGE, Field, Param
from api.request_parsing import Query
from api.resources import resources
from api.schemas import endpoint, page
from api.tasks import INGEST_TASK, RECLASSIFY_TASK, REFRESH_TASK, SOURCE_FETCH_TASK, task_uuid
from pipelines.classify.scopes import definitions_scope
from pipelines.core.settings import Settings
from pipelines.core.vocabulary import SOURCE_NAMES
from pipelines.discovery.store import WINDOWS, list_suggestions

TASK_ID = Param("task_id", description="operator task id (UUID)", location="path", max_length=64)


def _accepted(task: dict[str, Any]) -> ResponseReturnValue:
    location = url_for("admin.task", task_id=task["id"])
    return task, 202, {"Location": location}


def ingest_roots(settings: Settings) -> list[Path]:
    """Folders an operator may ask to ingest (and their subfolders)."""
    candidates = [settings.cache_dir, settings.tournaments_dir, settings.demo_cache_dir]
    return [Path(c).resolve() for c in candidates if c is not None]


def _ingest_root(settings: Settings, requested: str | None) -> Path:
    if requested is None:
        default = settings.cache_dir
        if default is None:
            raise ApiError(
                422,
                "no cache folder is configured (MANALYTICS_CACHE_DIR); give root",
                errors=[{"field": "root", "reason": "is required here"}],
            )
        return Path(default)
    # Containment, not existence: the worker reads the path, the API container may not
    # mount it. Resolving first defeats ../ and symlink escapes in what the API can see.
    path = Path(requested).expanduser().resolve()
    if not any(path == base or base in path.parents for base in ingest_roots(settings)):
        raise ApiError(
            422,
            "root must be inside a configured cache folder",
            errors=[{"field": "root", "reason": "outside the allowed folders"}],
        )
    return path


@blueprint.post("/admin/ingest")
@endpoint(
    summary="Queue an ingestion of a decklist-cache folder",
    tags=["operators"],
    auth="operator",
    body=(
        Field(
            "root", description="folder to ingest (default: the configured cache)", max_length=1000
        ),
        Field("since", "date", "first folder date (inclusive)"),
        Field("until", "date", "last folder date (inclusive)"),
        Field(
            "source",
            description="only this source folder (MTGO, MTGmelee…)",
            max_length=50,
            min_length=1,
        ),
    ),
    response="OperatorTask",
    status=202,
    errors=(401, 403, 422, 503),
)
def ingest(body: dict[str, Any]) -> ResponseReturnValue:
    """Queue ``ingest.cache_tree``."""
    res = resources()
    root = _ingest_root(res.settings, body.get("root"))
    kwargs: dict[str, Any] = {"root": str(root)}
    for name in ("since", "until"):
        if name in body:
            kwargs[name] = body[name].isoformat()
    if "source" in body:
        kwargs["source"] = body["source"]
    return _accepted(res.tasks.enqueue(res.db, INGEST_TASK, requester(), kwargs=kwargs))


@blueprint.post("/admin/reclassify")
@endpoint(
    summary="Queue a reclassification of one format with the current definitions",
    tags=["operators"],
    auth="operator",
    body=(
        Field(
            "format",
            description="format name, or a dated definitions folder (Standard-20230701-20240802)",
            required=True,
            max_length=100,
            min_length=1,
        ),
    ),
    response="OperatorTask",
    status=202,
    errors=(401, 403, 422, 503),
)
def reclassify(body: dict[str, Any]) -> ResponseReturnValue:
    """Queue ``classify.reclassify_format``."""
    res = resources()
    scope = definitions_scope(body["format"])  # a dated folder classifies its format's events
    with res.db.read() as conn:
        known = conn.execute(
            "SELECT 1 FROM tournaments WHERE lower(format) = lower(%s) LIMIT 1", (scope.format,)
        ).fetchone()
    if known is None:
        raise ApiError(
            422,
            f"no tournament of format {body['format']!r}",
            errors=[{"field": "format", "reason": "unknown format"}],
        )
    who = requester()
    kwargs = {"format_name": body["format"], "requested_by": who}
    return _accepted(res.tasks.enqueue(res.db, RECLASSIFY_TASK, who, kwargs=kwargs))


SOURCE = Param("name", description="source name", location="path", enum=SOURCE_NAMES, max_length=20)


@blueprint.post("/admin/sources/<name>/fetch")
@endpoint(
    summary="Queue a fetch of one source (new events only), then ingest, classify, refresh",
    tags=["operators"],
    auth="operator",
    params=(SOURCE,),
    body=(
        Field("since", "date", "first event date (default: SOURCES_LOOKBACK_DAYS ago)"),
        Field("until", "date", "last event date (default: today)"),
        Field(
            "refetch",
            "string",
            "new (default: new, failed and recent events), quarantined (also the events "
            "quarantined earlier), all (every listed event) or replay (every listed event "
            "from the stored pages, fetching nothing)",
            enum=("new", "quarantined", "all", "replay"),
        ),
    ),
    response="OperatorTask",
    status=202,
    errors=(400, 401, 403, 422, 503),
)
def fetch_source(name: str, body: dict[str, Any]) -> ResponseReturnValue:
    """Queue ``sources.fetch``."""
    res = resources()
    since, until = body.get("since"), body.get("until")
    if since and until and since > until:
        raise ApiError(
            422, "since is after until", errors=[{"field": "since", "reason": "after until"}]
        )
    kwargs: dict[str, Any] = {"name": name, "trigger": "operator"}
    for key, value in (("since", since), ("until", until)):
        if value is not None:
            kwargs[key] = value.isoformat()
    if body.get("refetch"):
        kwargs["refetch"] = body["refetch"]
    return _accepted(res.tasks.enqueue(res.db, SOURCE_FETCH_TASK, requester(), kwargs=kwargs))


@blueprint.post("/admin/refresh")
@endpoint(
    summary="Queue a refresh of the statistics views",
    tags=["operators"],
    auth="operator",
    response="OperatorTask",
    status=202,
    errors=(401, 403, 503),
)
def refresh() -> ResponseReturnValue:
    """Queue ``refresh.meta_views``."""
    res = resources()
    return _accepted(res.tasks.enqueue(res.db, REFRESH_TASK, requester()))


@blueprint.get("/admin/tasks")
@endpoint(
    summary="Runs (ingest, classify, reclassify, refresh, fetch), newest first",
    tags=["operators"],
    auth="operator",
    params=PAGE,
    response="OperatorTaskList",
    errors=(401, 403),
)
def tasks(q: Query) -> ResponseReturnValue:
    """A page of run records."""
    res = resources()
    rows, total = res.tasks.page(res.db, q["limit"], q["offset"])
    return page(rows, total, q)


@blueprint.get("/admin/tasks/<task_id>")
@endpoint(
    summary="A run record: state, progress, attempts, heartbeat, error and result",
    tags=["operators"],
    auth="operator",
    params=(TASK_ID,),
    response="OperatorTask",
    errors=(401, 403, 404),
)
def task(task_id: str) -> ResponseReturnValue:
    """One run (by run id, or by the id of an operator request it serves)."""
    res = resources()
    return res.tasks.status(res.db, task_uuid(task_id))


# --------------------------------------------------------------------------- discovery


@blueprint.get("/admin/discoveries")
@endpoint(
    summary="Suggested archetype definitions of the latest discovery runs (never applied)",
    tags=["operators"],
    auth="operator",
    params=(
        Param("format", description="only this format", max_length=100),
        Param("window", description="only this window", enum=WINDOWS),
        *PAGE,
    ),
    response="DiscoveryList",
    errors=(401, 403),
)
def discoveries(q: Query) -> ResponseReturnValue:
    """Each cluster of Unknown / fallback decks with its drafted MTGOFormatData definition
    (``definition``: download it as ``Archetypes/<name>.json``), precision, recall and the
    label moves it would cause."""
    with resources().db.read() as conn:
        rows, total = list_suggestions(conn, q["format"], q["window"], q["limit"], q["offset"])
    return page(rows, total, q)
