"""API keys for machine clients: ``mk_<prefix>_<secret>``.

* ``prefix``: 12 lower-case alphanumerics, public — stored in clear, shown in listings, used
  to find the key's row;
* ``secret``: 32 random bytes (URL-safe base64) — only its SHA-256 is stored. The secret has
  256 bits of entropy, so a fast hash cannot be brute-forced (bcrypt is for passwords).

Verification compares digests in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string

KEY_PREFIX = "mk"
PREFIX_LENGTH = 12
SECRET_BYTES = 32
_ALPHABET = string.ascii_lowercase + string.digits
_KEY_RE = re.compile(r"^mk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")


def hash_secret(secret: str) -> bytes:
    """SHA-256 digest of the secret part of a key (32 bytes, what the database stores)."""
    return hashlib.sha256(secret.encode("ascii")).digest()


def generate_api_key() -> tuple[str, str, bytes]:
    """A new key: ``(full key to hand out once, public prefix, secret hash to store)``."""
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(PREFIX_LENGTH))
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return f"{KEY_PREFIX}_{prefix}_{secret}", prefix, hash_secret(secret)


def parse_api_key(key: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed key, else ``None``."""
    match = _KEY_RE.match(key.strip())
    return (match[1], match[2]) if match else None


def secret_matches(secret: str, stored_hash: bytes) -> bool:
    """Constant-time comparison of a presented secret with a stored hash."""
    return hmac.compare_digest(hash_secret(secret), bytes(stored_hash))


__all__ = ["generate_api_key", "hash_secret", "parse_api_key", "secret_matches"]
