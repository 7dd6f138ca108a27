"""Repository functions over ``users`` and ``api_keys`` (migration 0004).

Every function takes an open psycopg connection and runs parameterised SQL; writes happen in
the caller's transaction (wrap calls in ``conn.transaction()`` or commit afterwards), so the
HTTP layer can combine them with its own statements.

Roles: ``operator`` (may trigger ingestion, reclassification, refresh and read task status)
and ``admin`` (manages users and API keys, and implies ``operator``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pipelines.auth.apikeys import generate_api_key, parse_api_key, secret_matches
from pipelines.auth.passwords import (
    BCRYPT_ROUNDS,
    dummy_hash,
    hash_cost,
    hash_password,
    require_valid_password,
    verify_password,
)

ROLES: tuple[str, ...] = ("operator", "admin")
# A role grants the roles listed here too.
IMPLIED_ROLES: dict[str, frozenset[str]] = {"admin": frozenset({"operator"})}
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
# Every statement is a literal (no SQL is built from strings); RETURNING lists repeat the
# columns of User / ApiKey.
_INSERT_USER = """
INSERT INTO users (username, password_hash, roles) VALUES (%s, %s, %s)
ON CONFLICT (username) DO NOTHING
RETURNING id, username, roles, disabled, created_at, updated_at, password_changed_at,
          last_login_at
"""
_USER_BY_ID = """
SELECT id, username, roles, disabled, created_at, updated_at, password_changed_at,
       last_login_at
  FROM users WHERE id = %s
"""
_USER_BY_NAME = """
SELECT id, username, roles, disabled, created_at, updated_at, password_changed_at,
       last_login_at, password_hash
  FROM users WHERE username = %s
"""
_LIST_USERS = """
SELECT id, username, roles, disabled, created_at, updated_at, password_changed_at,
       last_login_at, count(*) OVER () AS total
  FROM users ORDER BY id LIMIT %s OFFSET %s
"""
_UPDATE_USER = """
UPDATE users
   SET roles = coalesce(%(roles)s, roles),
       disabled = coalesce(%(disabled)s, disabled),
       password_hash = coalesce(%(hash)s, password_hash),
       password_changed_at = CASE WHEN %(hash)s::text IS NULL THEN password_changed_at
                                  ELSE now() END,
       updated_at = now()
 WHERE id = %(id)s
RETURNING id, username, roles, disabled, created_at, updated_at, password_changed_at,
          last_login_at
"""
_RECORD_LOGIN = """
UPDATE users SET last_login_at = now(), password_hash = coalesce(%s, password_hash)
 WHERE id = %s
RETURNING id, username, roles, disabled, created_at, updated_at, password_changed_at,
          last_login_at
"""
_INSERT_KEY = """
INSERT INTO api_keys (user_id, name, prefix, secret_hash) VALUES (%s, %s, %s, %s)
RETURNING id, user_id, name, prefix, created_at, last_used_at, revoked_at
"""
_LIST_KEYS = """
SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at,
       count(*) OVER () AS total
  FROM api_keys WHERE user_id = %s ORDER BY id LIMIT %s OFFSET %s
"""
_REVOKE_KEY = """
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = %s
RETURNING id, user_id, name, prefix, created_at, last_used_at, revoked_at
"""
_KEY_OWNER = """
SELECT k.id AS key_id, k.secret_hash, k.revoked_at, u.disabled, u.id AS user_id
  FROM api_keys k JOIN users u ON u.id = k.user_id
 WHERE k.prefix = %s
"""


class AuthError(Exception):
    """Base class of account errors."""


class InvalidInput(AuthError, ValueError):
    """A user name, role or key name breaks a rule (HTTP 422); ``problems`` says which."""

    def __init__(self, field: str, problems: Sequence[str]) -> None:
        super().__init__(f"{field}: " + "; ".join(problems))
        self.field = field
        self.problems = list(problems)


class UserExists(AuthError):
    """The user name is taken (HTTP 409)."""


class UserNotFound(AuthError, LookupError):
    """No such user or key (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class User:
    """A user without its password hash."""

    id: int
    username: str
    roles: tuple[str, ...]
    disabled: bool
    created_at: datetime
    updated_at: datetime
    password_changed_at: datetime
    last_login_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (no secret in it)."""
        return {
            "id": self.id,
            "username": self.username,
            "roles": list(self.roles),
            "disabled": self.disabled,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "password_changed_at": self.password_changed_at,
            "last_login_at": self.last_login_at,
        }


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key's metadata (the secret is never stored)."""

    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "name": self.name,
            "prefix": self.prefix,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
            "revoked_at": self.revoked_at,
        }


# --------------------------------------------------------------------------- validation


def normalise_username(username: str) -> str:
    """The stored form of a user name (trimmed, lower-case), checked against the rule."""
    name = username.strip().lower()
    if not _USERNAME_RE.match(name):
        raise InvalidInput(
            "username",
            ["3-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"],
        )
    return name


def normalise_roles(roles: Iterable[str]) -> tuple[str, ...]:
    """Known roles, de-duplicated, in :data:`ROLES` order."""
    wanted = {role.strip().lower() for role in roles}
    unknown = sorted(wanted - set(ROLES))
    if unknown:
        raise InvalidInput(
            "roles", [f"unknown role {role!r}; one of {list(ROLES)}" for role in unknown]
        )
    return tuple(role for role in ROLES if role in wanted)


def effective_roles(roles: Iterable[str]) -> frozenset[str]:
    """``roles`` plus the roles they imply (admin ⇒ operator)."""
    result = set(roles)
    for role in list(result):
        result |= IMPLIED_ROLES.get(role, frozenset())
    return frozenset(result)


def has_role(roles: Iterable[str], wanted: str) -> bool:
    """True when ``roles`` grant ``wanted`` directly or by implication."""
    return wanted in effective_roles(roles)


def _user(row: dict[str, Any]) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        roles=tuple(row["roles"]),
        disabled=row["disabled"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        password_changed_at=row["password_changed_at"],
        last_login_at=row["last_login_at"],
    )


def _key(row: dict[str, Any]) -> ApiKey:
    return ApiKey(**{name: row[name] for name in ApiKey.__slots__})


# --------------------------------------------------------------------------- users


def create_user(
    conn: psycopg.Connection[Any],
    username: str,
    password: str,
    roles: Iterable[str] = (),
    *,
    rounds: int = BCRYPT_ROUNDS,
) -> User:
    """Create a user; the password must follow the rule.

    Raises:
        InvalidInput: bad user name or role.
        PasswordRuleError: the password breaks the rule.
        UserExists: the name is taken.
    """
    name = normalise_username(username)
    role_list = normalise_roles(roles)
    require_valid_password(password, name)
    hashed = hash_password(password, rounds)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_INSERT_USER, (name, hashed, list(role_list))).fetchone()
    if row is None:
        raise UserExists(f"user {name!r} exists")
    return _user(row)


def get_user(conn: psycopg.Connection[Any], user_id: int) -> User:
    """The user with id ``user_id`` (:class:`UserNotFound` otherwise)."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_USER_BY_ID, (user_id,)).fetchone()
    if row is None:
        raise UserNotFound(f"no user {user_id}")
    return _user(row)


def find_user(conn: psycopg.Connection[Any], username: str) -> User:
    """The user called ``username`` (case-insensitive; :class:`UserNotFound` otherwise)."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_USER_BY_NAME, (username.strip().lower(),)).fetchone()
    if row is None:
        raise UserNotFound(f"no user {username!r}")
    return _user(row)


def list_users(
    conn: psycopg.Connection[Any], *, limit: int = 50, offset: int = 0
) -> tuple[list[User], int]:
    """One page of users ordered by id, and the total count."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_LIST_USERS, (limit, offset)).fetchall()
        total = rows[0]["total"] if rows else _count(cur, "SELECT count(*) AS n FROM users", ())
    return [_user(r) for r in rows], total


def _count(cur: psycopg.Cursor[Any], statement: str, params: Sequence[Any]) -> int:
    row = cur.execute(statement, params).fetchone()
    return int(row["n"]) if row else 0


def update_user(
    conn: psycopg.Connection[Any],
    user_id: int,
    *,
    roles: Iterable[str] | None = None,
    disabled: bool | None = None,
    password: str | None = None,
    rounds: int = BCRYPT_ROUNDS,
) -> User:
    """Change a user's roles, disabled flag and/or password (each optional)."""
    user = get_user(conn, user_id)
    role_list = list(normalise_roles(roles)) if roles is not None else None
    hashed = None
    if password is not None:
        require_valid_password(password, user.username)
        hashed = hash_password(password, rounds)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            _UPDATE_USER,
            {"roles": role_list, "disabled": disabled, "hash": hashed, "id": user_id},
        ).fetchone()
    if row is None:  # deleted meanwhile
        raise UserNotFound(f"no user {user_id}")
    return _user(row)


def delete_user(conn: psycopg.Connection[Any], user_id: int) -> User:
    """Delete a user and its API keys (:class:`UserNotFound` if there is none)."""
    user = get_user(conn, user_id)
    conn.execute("DELETE FROM users WHERE id = %s", (user_id,))
    return user


def set_roles(conn: psycopg.Connection[Any], username: str, roles: Iterable[str]) -> User:
    """Replace the roles of ``username``."""
    return update_user(conn, find_user(conn, username).id, roles=roles)


def authenticate(
    conn: psycopg.Connection[Any], username: str, password: str, *, rounds: int = BCRYPT_ROUNDS
) -> User | None:
    """The user when ``username``/``password`` match an enabled account, else ``None``.

    Always runs one bcrypt verification (against a dummy hash for unknown names) so the
    answer time does not reveal whether a name exists. A hash weaker than ``rounds`` is
    upgraded on successful login; ``last_login_at`` is recorded.
    """
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_USER_BY_NAME, (username.strip().lower(),)).fetchone()
    if row is None:
        verify_password(password, dummy_hash(rounds))
        return None
    if not verify_password(password, row["password_hash"]) or row["disabled"]:
        return None
    cost = hash_cost(row["password_hash"])
    new_hash = hash_password(password, rounds) if cost is None or cost < rounds else None
    with conn.cursor(row_factory=dict_row) as cur:
        updated = cur.execute(_RECORD_LOGIN, (new_hash, row["id"])).fetchone()
    return _user(updated) if updated else None


# --------------------------------------------------------------------------- API keys


def create_api_key(conn: psycopg.Connection[Any], user_id: int, name: str) -> tuple[ApiKey, str]:
    """Create a key for ``user_id``; returns its metadata and the full key (shown once)."""
    label = name.strip()
    if not 1 <= len(label) <= 100:
        raise InvalidInput("name", ["1-100 characters"])
    get_user(conn, user_id)
    key, prefix, secret_hash = generate_api_key()
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_INSERT_KEY, (user_id, label, prefix, secret_hash)).fetchone()
    assert row is not None
    return _key(row), key


def list_api_keys(
    conn: psycopg.Connection[Any], user_id: int, *, limit: int = 50, offset: int = 0
) -> tuple[list[ApiKey], int]:
    """One page of a user's keys (revoked ones included) ordered by id, and the total."""
    get_user(conn, user_id)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_LIST_KEYS, (user_id, limit, offset)).fetchall()
        total = (
            rows[0]["total"]
            if rows
            else _count(cur, "SELECT count(*) AS n FROM api_keys WHERE user_id = %s", (user_id,))
        )
    return [_key(r) for r in rows], total


def revoke_api_key(conn: psycopg.Connection[Any], key_id: int) -> ApiKey:
    """Revoke a key (idempotent; the first revocation time is kept)."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_REVOKE_KEY, (key_id,)).fetchone()
    if row is None:
        raise UserNotFound(f"no API key {key_id}")
    return _key(row)


def authenticate_api_key(conn: psycopg.Connection[Any], key: str) -> User | None:
    """The enabled owner of a valid, unrevoked key, else ``None`` (records ``last_used_at``)."""
    parsed = parse_api_key(key)
    if parsed is None:
        return None
    prefix, secret = parsed
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_KEY_OWNER, (prefix,)).fetchone()
        if row is None or not secret_matches(secret, row["secret_hash"]):
            return None
        if row["revoked_at"] is not None or row["disabled"]:
            return None
        cur.execute("UPDATE api_keys SET last_used_at = now() WHERE id = %s", (row["key_id"],))
    return get_user(conn, row["user_id"])


__all__ = [
    "IMPLIED_ROLES",
    "ROLES",
    "ApiKey",
    "AuthError",
    "InvalidInput",
    "User",
    "UserExists",
    "UserNotFound",
    "authenticate",
    "authenticate_api_key",
    "create_api_key",
    "create_user",
    "delete_user",
    "effective_roles",
    "find_user",
    "get_user",
    "has_role",
    "list_api_keys",
    "list_users",
    "normalise_roles",
    "normalise_username",
    "revoke_api_key",
    "set_roles",
    "update_user",
]
