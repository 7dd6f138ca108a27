"""Per-account login back-off (issue 12, defect 14), on top of the per-IP rate limit.

Password guessing against one account from many addresses is slowed down per *account name*:
after :data:`FREE_FAILURES` failed logins within :data:`WINDOW_SECONDS`, the next attempt on
that name must wait ``2 ** (failures - FREE_FAILURES)`` seconds after the last failure, at most
:data:`MAX_DELAY_SECONDS`. During the wait the password is not even checked (429 with
``Retry-After``), so a guesser gets at most ~2 tries a minute per account whatever its number
of addresses.

What keeps an attacker from locking the real user out:

* the delay is capped (30 s) and the count forgets failures after 15 minutes;
* an address the account has logged in from successfully in the last 30 days is not held back
  by the account's back-off at all (only by the per-IP limit): the user's own networks keep
  working while strangers are slowed down;
* a successful login clears the count.

Unknown names are counted exactly like known ones (same answers, same timing), so the
back-off does not reveal which names exist. Names are normalised (trimmed, lower-case) and
addresses hashed before they become Redis keys.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

FREE_FAILURES = 5
MAX_DELAY_SECONDS = 30
WINDOW_SECONDS = 15 * 60
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def delay_after(failures: int) -> int:
    """Seconds an attempt must wait after the last of ``failures`` failures."""
    if failures < FREE_FAILURES:
        return 0
    return int(min(MAX_DELAY_SECONDS, 2 ** (failures - FREE_FAILURES)))


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether an attempt may check the password now, else how long to wait."""

    allowed: bool
    retry_after: int = 0


class LoginBackoff:
    """The per-account failure counts in Redis (see the module docstring)."""

    def __init__(
        self,
        client: Callable[[], redis.Redis],
        prefix: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self.prefix = prefix
        self._clock = clock

    def _keys(self, username: str) -> tuple[str, str]:
        name = _digest(username.strip().lower())
        return f"{self.prefix}:fail:{name}", f"{self.prefix}:known:{name}"

    def check(self, username: str, address: str) -> Verdict:
        """May ``address`` try a password for ``username`` now?"""
        failures_key, known_key = self._keys(username)
        pipe = self._client().pipeline()
        pipe.hmget(failures_key, ["count", "last"])
        pipe.sismember(known_key, _digest(address))
        (count, last), known = pipe.execute()
        if known or count is None:
            return Verdict(True)
        wait = delay_after(int(count)) - (self._clock() - float(last))
        return Verdict(False, max(1, int(wait + 0.999))) if wait > 0 else Verdict(True)

    def failed(self, username: str) -> None:
        """Count a failed attempt on ``username``."""
        failures_key, _ = self._keys(username)
        pipe = self._client().pipeline()
        pipe.hincrby(failures_key, "count", 1)
        pipe.hset(failures_key, "last", repr(self._clock()))
        pipe.expire(failures_key, WINDOW_SECONDS)
        pipe.execute()

    def succeeded(self, username: str, address: str) -> None:
        """Clear the count; remember ``address`` as one of the account's own."""
        failures_key, known_key = self._keys(username)
        pipe = self._client().pipeline()
        pipe.delete(failures_key)
        pipe.sadd(known_key, _digest(address))
        pipe.expire(known_key, KNOWN_ADDRESS_SECONDS)
        pipe.execute()


__all__ = [
    "FREE_FAILURES",
    "KNOWN_ADDRESS_SECONDS",
    "MAX_DELAY_SECONDS",
    "WINDOW_SECONDS",
    "LoginBackoff",
    "Verdict",
    "delay_after",
]
