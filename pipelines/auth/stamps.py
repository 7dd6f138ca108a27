"""An account's security stamp: what every authenticated request is checked against.

A token is only as good as the account behind it *now*. Each token carries the account's
``token_version`` (claim ``ver``) from when it was issued; the version is bumped by a database
trigger on every change of roles, disabled flag or password (migration 0009), and deleting the
account removes it. A request is accepted only while the account exists, is enabled and still
has the version of the token — so deleting, disabling, demoting an account or changing its
password cuts every token issued before, at once.

The current state is read through a small Redis cache (one key per user, ``SET NX`` with a
short TTL when filled from PostgreSQL, overwritten by whoever changes the account), so the
check costs one Redis ``GET`` per authenticated request. A change made through the API or the
``manalytics users`` commands overwrites the key in the same breath; a change made with plain
SQL is seen within :data:`STATE_TTL_SECONDS`. Writers publish *after* their commit, readers
fill with ``NX``: a reader that loaded the old row cannot overwrite a newer published state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg
import redis

from pipelines.core.settings import Settings

# How long a state read from PostgreSQL is trusted (bounds plain-SQL changes only).
STATE_TTL_SECONDS = 30
_GONE = b"gone"
_STATE_SQL = "SELECT token_version, disabled, roles FROM users WHERE id = %s"


@dataclass(frozen=True, slots=True)
class AccountState:
    """What a token is checked against: the stamp, the flag and the roles of now."""

    version: int
    disabled: bool
    roles: tuple[str, ...]

    def encode(self) -> bytes:
        """Cache form."""
        return orjson.dumps({"v": self.version, "d": self.disabled, "r": list(self.roles)})

    @classmethod
    def decode(cls, raw: bytes) -> AccountState:
        """Inverse of :meth:`encode`."""
        data = orjson.loads(raw)
        return cls(int(data["v"]), bool(data["d"]), tuple(str(r) for r in data["r"]))


def load_state(conn: psycopg.Connection[Any], user_id: int) -> AccountState | None:
    """The account's state from PostgreSQL (``None``: no such account)."""
    row = conn.execute(_STATE_SQL, (user_id,)).fetchone()
    if row is None:
        return None
    return AccountState(int(row[0]), bool(row[1]), tuple(row[2]))


def accounts_prefix(settings: Settings) -> str:
    """Key prefix of the cached states (the API's ``manalytics:<env>:<purpose>`` scheme)."""
    return f"manalytics:{settings.env}:accounts"


def redis_client(settings: Settings) -> redis.Redis:
    """A client of the Redis database holding the states (short timeouts)."""
    return redis.Redis.from_url(
        settings.redis_db_url("blocklist"), socket_connect_timeout=0.5, socket_timeout=0.5
    )


def state_key(prefix: str, user_id: int) -> str:
    """Redis key of one account's cached state."""
    return f"{prefix}:{user_id}"


class StateCache:
    """Cached account states in Redis (see the module docstring for the protocol)."""

    def __init__(self, client: Callable[[], redis.Redis], prefix: str) -> None:
        self._client = client
        self.prefix = prefix

    def get(self, user_id: int, load: Callable[[], AccountState | None]) -> AccountState | None:
        """The state of ``user_id``; ``load`` reads PostgreSQL on a miss.

        Raises ``redis.RedisError`` when Redis cannot answer (callers fail closed).
        """
        client = self._client()
        key = state_key(self.prefix, user_id)
        raw: bytes | None = client.get(key)  # type: ignore[assignment]  # sync client
        if raw is not None:
            return None if raw == _GONE else AccountState.decode(raw)
        state = load()
        client.set(key, _GONE if state is None else state.encode(), ex=STATE_TTL_SECONDS, nx=True)
        return state

    def publish(self, user_id: int, state: AccountState | None) -> None:
        """Record a change that is committed (overwrites whatever a reader cached)."""
        value = _GONE if state is None else state.encode()
        self._client().set(state_key(self.prefix, user_id), value, ex=STATE_TTL_SECONDS)


def publish_from_database(
    cache: StateCache, conn: psycopg.Connection[Any], user_id: int
) -> AccountState | None:
    """Publish the committed state of ``user_id`` as PostgreSQL has it now."""
    state = load_state(conn, user_id)
    cache.publish(user_id, state)
    return state


__all__ = [
    "STATE_TTL_SECONDS",
    "AccountState",
    "StateCache",
    "accounts_prefix",
    "load_state",
    "publish_from_database",
    "redis_client",
    "state_key",
]
