"""Accounts of the read API, framework-free: users with bcrypt passwords and roles, API keys.

* :mod:`pipelines.auth.passwords` — the password complexity rule and bcrypt hashing (cost 12);
* :mod:`pipelines.auth.apikeys` — API key generation and hashing (only a hash is stored);
* :mod:`pipelines.auth.users` — repository functions over the ``users`` / ``api_keys`` tables
  (migration 0004), used by the HTTP layer and by the command line;
* :mod:`pipelines.auth.cli` — ``manalytics users create|set-role|create-api-key|list``.

Nothing here imports Flask; every function taking a connection takes an open psycopg
connection and runs parameterised SQL only.
"""

from __future__ import annotations

from pipelines.auth.apikeys import generate_api_key, hash_secret, parse_api_key
from pipelines.auth.passwords import (
    BCRYPT_ROUNDS,
    PasswordRuleError,
    check_password,
    hash_password,
    verify_password,
)
from pipelines.auth.users import (
    ROLES,
    ApiKey,
    AuthError,
    InvalidInput,
    User,
    UserExists,
    UserNotFound,
)

__all__ = [
    "BCRYPT_ROUNDS",
    "ROLES",
    "ApiKey",
    "AuthError",
    "InvalidInput",
    "PasswordRuleError",
    "User",
    "UserExists",
    "UserNotFound",
    "check_password",
    "generate_api_key",
    "hash_password",
    "hash_secret",
    "parse_api_key",
    "verify_password",
]
