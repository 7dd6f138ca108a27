"""Operator and admin routes (``/api/v1/admin/…``, JWT required, ``Cache-Control: no-store``).

Operators (role ``operator``; ``admin`` implies it) queue work and follow it:

* ``POST /admin/ingest`` → ``ingest.cache_tree`` (root inside the configured cache folders);
* ``POST /admin/reclassify`` → ``classify.reclassify_format``;
* ``POST /admin/refresh`` → ``refresh.meta_views``;
* ``POST /admin/sources/{name}/fetch`` → ``sources.fetch`` (fetch, ingest, then the chain);
* ``GET /admin/tasks`` and ``/admin/tasks/{id}`` — run records (state, progress, attempt,
  heartbeat, error) as the workers write them.

Each POST answers 202 with the run and a ``Location`` of its status; an identical request
while a run is queued or running answers with that run (coalesced, never a second run).
Admins manage users and API keys (``/admin/users…``, ``/admin/api-keys/{id}``). A change of
roles, disabled flag or password, and a deletion, cut the account's tokens at once: the
database bumps the account's token version and the new state is published to the cache
every authenticated request reads (:mod:`pipelines.auth.stamps`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, url_for
from flask.typing import ResponseReturnValue
from flask_jwt_extended import get_jwt

from api.errors import ApiError
from api.resources import resources
from api.schemas import PAGE, Field, Param, Query, endpoint, id_param, page
from api.tasks import INGEST_TASK, RECLASSIFY_TASK, REFRESH_TASK, SOURCE_FETCH_TASK, task_uuid
from pipelines.auth import users as accounts
from pipelines.auth.passwords import PasswordRuleError
from pipelines.auth.stamps import publish_from_database
from pipelines.classify.scopes import definitions_scope
from pipelines.core.settings import Settings
from pipelines.core.vocabulary import SOURCE_NAMES
from pipelines.discovery.store import WINDOWS, list_suggestions

log = logging.getLogger("manalytics.api.admin")
blueprint = Blueprint("admin", __name__)

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"
PASSWORD_RULE = (
    "12-72 characters (at most 72 bytes in UTF-8), at least three of: lower-case, upper-case, "
    "digit, other; at least 6 different characters; not built around the user name or a "
    "common word (a password breaking the rule gets 422 weak_password)"
)
TASK_ID = Param("task_id", description="operator task id (UUID)", location="path", max_length=64)
USER_ID = id_param("user_id", "user")
KEY_ID = id_param("key_id", "API key")


def _requester() -> str:
    claims = get_jwt()
    return f"{claims.get('username', '?')} (user {claims['sub']})"


def _accepted(task: dict[str, Any]) -> ResponseReturnValue:
    location = url_for("admin.task", task_id=task["id"])
    return task, 202, {"Location": location}


# --------------------------------------------------------------------------- operator tasks


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
    return _accepted(res.tasks.enqueue(res.db, INGEST_TASK, _requester(), kwargs=kwargs))


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
    requester = _requester()
    kwargs = {"format_name": body["format"], "requested_by": requester}
    return _accepted(res.tasks.enqueue(res.db, RECLASSIFY_TASK, requester, kwargs=kwargs))


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
    return _accepted(res.tasks.enqueue(res.db, SOURCE_FETCH_TASK, _requester(), kwargs=kwargs))


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
    return _accepted(res.tasks.enqueue(res.db, REFRESH_TASK, _requester()))


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


# --------------------------------------------------------------------------- users


def _rounds() -> int:
    return int(current_app.config["BCRYPT_ROUNDS"])


def _account_error(exc: Exception) -> ApiError:
    if isinstance(exc, PasswordRuleError):
        return ApiError(
            422,
            "the password does not follow the rule",
            code="weak_password",
            errors=[{"field": "password", "reason": p} for p in exc.problems],
        )
    if isinstance(exc, accounts.InvalidInput):
        return ApiError(
            422, str(exc), errors=[{"field": exc.field, "reason": p} for p in exc.problems]
        )
    if isinstance(exc, accounts.UserExists):
        return ApiError(409, str(exc), code="conflict")
    if isinstance(exc, accounts.UserNotFound):
        return ApiError(404, str(exc))
    raise exc


_ACCOUNT_ERRORS = (PasswordRuleError, accounts.AuthError)


def _publish(user_id: int) -> None:
    """Publish the committed state of an account (its old tokens stop working now)."""
    res = resources()
    with res.db.read() as conn:
        publish_from_database(res.accounts, conn, user_id)


@blueprint.get("/admin/users")
@endpoint(
    summary="Users",
    tags=["admin"],
    auth="admin",
    params=PAGE,
    response="UserList",
    errors=(401, 403),
)
def list_users(q: Query) -> ResponseReturnValue:
    """A page of users ordered by id."""
    with resources().db.read() as conn:
        users, total = accounts.list_users(conn, limit=q["limit"], offset=q["offset"])
    return page([u.as_dict() for u in users], total, q)


@blueprint.post("/admin/users")
@endpoint(
    summary="Create a user",
    tags=["admin"],
    auth="admin",
    body=(
        Field(
            "username",
            description="3-64 of a-z 0-9 . _ - (stored lower-case)",
            required=True,
            max_length=64,
            pattern=USERNAME_PATTERN,
        ),
        Field(
            "password",
            description=PASSWORD_RULE,
            required=True,
            max_length=72,
            min_length=12,
        ),
        Field("roles", "string_array", "roles to grant", enum=accounts.ROLES, max_items=2),
    ),
    response="User",
    status=201,
    errors=(401, 403, 409, 422),
)
def create_user(body: dict[str, Any]) -> ResponseReturnValue:
    """Create a user (password rule enforced, bcrypt cost >= 12)."""
    try:
        with resources().db.write() as conn:
            user = accounts.create_user(
                conn, body["username"], body["password"], body.get("roles", []), rounds=_rounds()
            )
    except _ACCOUNT_ERRORS as exc:
        raise _account_error(exc) from exc
    log.info("user %s created by %s", user.username, _requester())
    return user.as_dict(), 201


@blueprint.get("/admin/users/<int:user_id>")
@endpoint(
    summary="One user",
    tags=["admin"],
    auth="admin",
    params=(USER_ID,),
    response="User",
    errors=(401, 403, 404),
)
def get_user(user_id: int) -> ResponseReturnValue:
    """A user."""
    try:
        with resources().db.read() as conn:
            return accounts.get_user(conn, user_id).as_dict()
    except _ACCOUNT_ERRORS as exc:
        raise _account_error(exc) from exc


@blueprint.patch("/admin/users/<int:user_id>")
@endpoint(
    summary="Change a user's roles, disabled flag or password",
    tags=["admin"],
    auth="admin",
    params=(USER_ID,),
    body=(
        Field("roles", "string_array", "new roles (replaces)", enum=accounts.ROLES, max_items=2),
        Field("disabled", "boolean", "disable or enable the account"),
        Field("password", description=PASSWORD_RULE, max_length=72, min_length=12),
    ),
    response="User",
    errors=(401, 403, 404, 409, 422),
)
def update_user(user_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    """Update a user. Admins cannot lock themselves out (disable or drop their admin role)."""
    if str(user_id) == str(get_jwt()["sub"]) and (
        body.get("disabled") or ("roles" in body and "admin" not in body["roles"])
    ):
        raise ApiError(409, "an admin cannot disable themselves or drop their own admin role")
    try:
        with resources().db.write() as conn:
            user = accounts.update_user(
                conn,
                user_id,
                roles=body.get("roles"),
                disabled=body.get("disabled"),
                password=body.get("password"),
                rounds=_rounds(),
            )
    except _ACCOUNT_ERRORS as exc:
        raise _account_error(exc) from exc
    _publish(user_id)
    log.info("user %s updated by %s: %s", user.username, _requester(), sorted(body))
    return user.as_dict()


@blueprint.delete("/admin/users/<int:user_id>")
@endpoint(
    summary="Delete a user and its API keys (its tokens stop working at once)",
    tags=["admin"],
    auth="admin",
    params=(USER_ID,),
    response="User",
    errors=(401, 403, 404, 409),
)
def delete_user(user_id: int) -> ResponseReturnValue:
    """Delete a user. Admins cannot delete themselves."""
    if str(user_id) == str(get_jwt()["sub"]):
        raise ApiError(409, "an admin cannot delete themselves")
    try:
        with resources().db.write() as conn:
            user = accounts.delete_user(conn, user_id)
    except _ACCOUNT_ERRORS as exc:
        raise _account_error(exc) from exc
    _publish(user_id)
    log.info("user %s deleted by %s", user.username, _requester())
    return user.as_dict()


@blueprint.get("/admin/users/<int:user_id>/api-keys")
@endpoint(
    summary="A user's API keys (metadata only)",
    tags=["admin"],
    auth="admin",
    params=(USER_ID, *PAGE),
    response="ApiKeyList",
    errors=(401, 403, 404),
)
def list_api_keys(user_id: int, q: Query) -> ResponseReturnValue:
    """A page of a user's keys."""
    try:
        with resources().db.read() as conn:
            keys, total = accounts.list_api_keys(
                conn, user_id, limit=q["limit"], offset=q["offset"]
            )
    except _ACCOUNT_ERRORS as exc:
        raise _account_error(exc) from exc
    return page([k.as_dict() for k in keys], total, q)


@blueprint.post("/admin/users/<int:user_id>/api-keys")
@endpoint(
    summary="Create an API key (the key is in this answer only)",
    tags=["admin"],
    auth="admin",
    params=(USER_ID,),
    body=(
        Field(
            "name", description="what the key is for", required=True, max_length=100, min_length=1
        ),
    ),
    response="NewApiKey",
    status=201,
    errors=(401, 403, 404, 422),
)
def create_api_key(user_id: int, body: dict[str, Any]) -> ResponseReturnValue:
    """Create a key; only its hash is stored."""
    try:
        with resources().db.write() as conn:
            key, secret = accounts.create_api_key(conn, user_id, body["name"])
    except _ACCOUNT_ERRORS as exc:
        raise _account_error(exc) from exc
    log.info("API key %s created for user %s by %s", key.prefix, user_id, _requester())
    return {**key.as_dict(), "key": secret}, 201


@blueprint.delete("/admin/api-keys/<int:key_id>")
@endpoint(
    summary="Revoke an API key",
    tags=["admin"],
    auth="admin",
    params=(KEY_ID,),
    response="ApiKey",
    errors=(401, 403, 404),
)
def revoke_api_key(key_id: int) -> ResponseReturnValue:
    """Revoke a key (idempotent)."""
    try:
        with resources().db.write() as conn:
            key = accounts.revoke_api_key(conn, key_id)
    except _ACCOUNT_ERRORS as exc:
        raise _account_error(exc) from exc
    log.info("API key %s revoked by %s", key.prefix, _requester())
    return key.as_dict()
