"""Users and API keys (``/api/v1/admin/users…``, ``/api/v1/admin/api-keys/{id}``, role
``admin``). A change that must cut an account's tokens publishes the account's new state
(:mod:`pipelines.auth.stamps`). See :mod:`api.blueprints.admin` for the contract."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue
from flask_jwt_extended import get_jwt

from api.blueprints.admin import blueprint, log, requester
from api.errors import ApiError
from api.params import PAGE, Field, id_param
from api.request_parsing import Query
from api.resources import resources
from api.schemas import endpoint, page
from pipelines.auth import users as accounts
from pipelines.auth.passwords import PasswordRuleError
from pipelines.auth.stamps import publish_from_database

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"
PASSWORD_RULE = (
    "12-72 characters (at most 72 bytes in UTF-8), at least three of: lower-case, upper-case, "
    "digit, other; at least 6 different characters; not built around the user name or a "
    "common word (a password breaking the rule gets 422 weak_password)"
)
USER_ID = id_param("user_id", "user")
KEY_ID = id_param("key_id", "API key")


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
    log.info("user %s created by %s", user.username, requester())
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
    log.info("user %s updated by %s: %s", user.username, requester(), sorted(body))
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
    log.info("user %s deleted by %s", user.username, requester())
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
    log.info("API key %s created for user %s by %s", key.prefix, user_id, requester())
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
    log.info("API key %s revoked by %s", key.prefix, requester())
    return key.as_dict()
