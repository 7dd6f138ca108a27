"""Password rule and bcrypt hashing.

The rule (:func:`check_password`) is what a human can remember and a guesser cannot cheaply
enumerate: 12+ characters, at least three of four character classes, not built around the
user name or an obviously common word. bcrypt reads at most 72 bytes of a password (bcrypt 5
refuses longer input instead of silently truncating), so that is the upper bound.

Hashes use cost :data:`BCRYPT_ROUNDS` (12, ~0.25 s on one core). Tests may pass a lower
``rounds`` to keep the suite fast; nothing reads a cost from the environment, so production
always hashes at 12 or more.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import bcrypt

BCRYPT_ROUNDS = 12
MIN_LENGTH = 12
MAX_BYTES = 72  # bcrypt's input limit
MIN_CLASSES = 3
MIN_DISTINCT = 6
# Fragments that make a password guessable whatever else it contains.
COMMON_FRAGMENTS = (
    "password",
    "passw0rd",
    "qwerty",
    "azerty",
    "123456",
    "abcdef",
    "letmein",
    "welcome",
    "iloveyou",
    "admin",
    "manalytics",
)


class PasswordRuleError(ValueError):
    """A password breaks the rule; ``problems`` lists every reason (for a 422 response)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _classes(password: str) -> int:
    lower = any(c.islower() for c in password)
    upper = any(c.isupper() for c in password)
    digit = any(c.isdigit() for c in password)
    other = any(not c.isalnum() for c in password)
    return sum((lower, upper, digit, other))


def check_password(password: str, username: str | None = None) -> list[str]:
    """Every reason ``password`` is refused (empty list = acceptable)."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters long")
    if len(password.encode("utf-8")) > MAX_BYTES:
        problems.append(f"must be at most {MAX_BYTES} bytes in UTF-8 (bcrypt's limit)")
    if any(unicodedata.category(c) == "Cc" for c in password):
        problems.append("must not contain control characters")
    if _classes(password) < MIN_CLASSES:
        problems.append(
            "must mix at least three of: lower-case letters, upper-case letters, digits, "
            "other characters"
        )
    if len(set(password)) < MIN_DISTINCT:
        problems.append(f"must use at least {MIN_DISTINCT} different characters")
    folded = password.casefold()
    if username and len(username) >= 3 and username.casefold() in folded:
        problems.append("must not contain the user name")
    if any(fragment in folded for fragment in COMMON_FRAGMENTS):
        problems.append("must not contain a common word or sequence (password, qwerty, 123456…)")
    return problems


def require_valid_password(password: str, username: str | None = None) -> None:
    """Raise :class:`PasswordRuleError` unless ``password`` follows the rule."""
    problems = check_password(password, username)
    if problems:
        raise PasswordRuleError(problems)


def hash_password(password: str, rounds: int = BCRYPT_ROUNDS) -> str:
    """bcrypt hash (``$2b$<cost>$…``) of ``password``; the caller checks the rule first."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, hashed: str) -> bool:
    """True when ``password`` matches ``hashed`` (False for any malformed input)."""
    try:
        return bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))
    except ValueError:  # malformed hash, or a password over bcrypt's 72-byte limit
        return False


def hash_cost(hashed: str) -> int | None:
    """The cost factor of a bcrypt hash, or ``None`` when it is not one."""
    parts = hashed.split("$")
    if len(parts) < 4 or not parts[2].isdigit():
        return None
    return int(parts[2])


@lru_cache(maxsize=4)
def dummy_hash(rounds: int = BCRYPT_ROUNDS) -> str:
    """A hash to verify against when the user does not exist, so a failed login takes as
    long for an unknown name as for a wrong password (no user enumeration by timing)."""
    return hash_password("dummy-Password-for-timing-1!", rounds)


__all__ = [
    "BCRYPT_ROUNDS",
    "MAX_BYTES",
    "MIN_LENGTH",
    "PasswordRuleError",
    "check_password",
    "dummy_hash",
    "hash_cost",
    "hash_password",
    "require_valid_password",
    "verify_password",
]
