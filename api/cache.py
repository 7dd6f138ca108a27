"""Response cache of the public reads: Redis, keyed by the refresh generation, with ETags.

Key: ``<prefix>:g<generation>:<endpoint>:<digest of path values + canonical query>``. A
statistics refresh creates a new generation, so the next request builds a new key: there is
nothing to delete, ever — a refresh invalidates every entry by construction, and entries of
old generations expire after :data:`ENTRY_TTL_SECONDS` (the cache Redis database may also
run with an LRU eviction policy). The generation is read from PostgreSQL (``refresh_log``) at
most every ``API_GENERATION_CHECK_SECONDS`` per process (default 1 s): that is the delay
before a finished refresh is served, in exchange for no database round trip on a cache hit.

A value is ``<etag>\\n<json body>``; the ETag is a digest of the body, so ``If-None-Match``
is answered with 304 without sending the body again. Responses carry ``Cache-Control:
public, max-age=API_CACHE_SECONDS`` and ``X-Cache: HIT|MISS``.

In front of Redis each worker keeps a small LRU of recent entries (``API_LOCAL_CACHE_BYTES``,
default 32 MiB): same keys, so the same generation rule applies, and the hottest answers
(the default meta of each format) skip even the Redis round trip. It is emptied when the
generation changes.

Redis unavailable: reads go straight to PostgreSQL (slower, still 200). After an error the
cache stays bypassed for :data:`BREAKER_SECONDS` instead of paying a connection timeout per
request; ``/ready`` reports ``degraded`` meanwhile.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

import orjson
import psycopg
import redis
from flask import Response, current_app, g, request
from psycopg_pool import PoolTimeout

from api.db import Database
from pipelines.stats.refresh import latest_generation

log = logging.getLogger("manalytics.api.cache")

ENTRY_TTL_SECONDS = 24 * 3600
CHECK_TIMEOUT = 1.0
BREAKER_SECONDS = 5.0
REDIS_CONNECT_TIMEOUT = 0.25
REDIS_TIMEOUT = 0.5


@dataclass(frozen=True, slots=True)
class GenerationInfo:
    """The latest succeeded refresh as this process last saw it (0 = none yet)."""

    generation: int
    finished_at: datetime | None
    checked_at: float


class GenerationTracker:
    """Latest refresh generation, re-read from PostgreSQL at most every ``interval`` s."""

    def __init__(self, db: Database, interval: float) -> None:
        self.db = db
        self.interval = interval
        self._info: GenerationInfo | None = None
        self._lock = threading.Lock()

    def current(self) -> GenerationInfo:
        """The generation to key cache entries with."""
        info = self._info
        now = time.monotonic()
        if info is not None and now - info.checked_at < self.interval:
            return info
        with self._lock:
            info = self._info
            if info is not None and time.monotonic() - info.checked_at < self.interval:
                return info
            try:
                # A short wait: with PostgreSQL down, cached answers keep being served under
                # the last known generation instead of every check stalling a request.
                with self.db.read(timeout=CHECK_TIMEOUT) as conn:
                    latest = latest_generation(conn)
            except (psycopg.Error, PoolTimeout):
                if info is None:
                    raise
                log.warning("refresh generation check failed; keeping %s", info.generation)
                self._info = replace(info, checked_at=time.monotonic())
                return self._info
            self._info = GenerationInfo(
                latest.generation if latest else 0,
                latest.finished_at if latest else None,
                time.monotonic(),
            )
            return self._info

    def invalidate(self) -> None:
        """Forget the cached generation (next call re-reads it)."""
        self._info = None


class LocalCache:
    """A per-process LRU of encoded responses, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._bytes = 0
        self._generation: int | None = None
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[str, bytes] | None:
        """The entry, marked as recently used, or ``None``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def set(self, generation: int, key: str, etag: str, body: bytes) -> None:
        """Store an entry; older generations are dropped, then the least recently used."""
        size = len(body) + len(key) + len(etag)
        if size > self.max_bytes // 4:  # never let one answer evict everything else
            return
        with self._lock:
            if generation != self._generation:
                self._entries.clear()
                self._bytes = 0
                self._generation = generation
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous[1]) + len(key) + len(previous[0])
            self._entries[key] = (etag, body)
            self._bytes += size
            while self._bytes > self.max_bytes and self._entries:
                old_key, (old_etag, old_body) = self._entries.popitem(last=False)
                self._bytes -= len(old_body) + len(old_key) + len(old_etag)


class ResponseCache:
    """Redis GET/SET of encoded responses, bypassed for a while after a Redis error."""

    def __init__(
        self, url: str, prefix: str, ttl: int = ENTRY_TTL_SECONDS, local_bytes: int = 0
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.ttl = ttl
        self.local = LocalCache(local_bytes) if local_bytes > 0 else None
        self._client: redis.Redis | None = None
        self._down_until = 0.0

    @property
    def client(self) -> redis.Redis:
        """The Redis client (its connection pool re-creates sockets after a fork)."""
        if self._client is None:
            self._client = redis.Redis.from_url(
                self.url,
                socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
                socket_timeout=REDIS_TIMEOUT,
                retry_on_timeout=False,
            )
        return self._client

    @property
    def available(self) -> bool:
        """False while the breaker is open after a Redis error."""
        return time.monotonic() >= self._down_until

    def _failed(self, exc: Exception) -> None:
        self._down_until = time.monotonic() + BREAKER_SECONDS
        log.warning(
            "response cache unavailable for %.0f s (%s); serving from PostgreSQL",
            BREAKER_SECONDS,
            type(exc).__name__,
        )

    def get(self, key: str) -> tuple[str, bytes] | bool | None:
        """``(etag, body)`` on a hit, ``None`` on a miss, ``False`` when Redis is unusable."""
        if not self.available:
            return False
        try:
            value = self.client.get(key)
        except redis.RedisError as exc:
            self._failed(exc)
            return False
        if value is None:
            return None
        etag, _, body = cast(bytes, value).partition(b"\n")
        return etag.decode("ascii"), body

    def set(self, key: str, etag: str, body: bytes) -> None:
        """Store an entry (best effort)."""
        if not self.available:
            return
        try:
            self.client.set(key, etag.encode("ascii") + b"\n" + body, ex=self.ttl)
        except redis.RedisError as exc:
            self._failed(exc)

    def ping(self) -> None:
        """Raise unless Redis answers (``/ready``)."""
        self.client.ping()

    def close(self) -> None:
        """Drop the client's connections."""
        if self._client is not None:
            self._client.close()
            self._client = None


def _json_default(value: Any) -> Any:
    # psycopg returns numeric columns as Decimal; everything else orjson handles natively.
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(payload: Any) -> bytes:
    """The API's JSON encoding (dates as ISO 8601, NaN as null)."""
    return orjson.dumps(payload, default=_json_default, option=orjson.OPT_NON_STR_KEYS)


def make_etag(generation: int, body: bytes) -> str:
    """Strong ETag value (unquoted): generation and a digest of the body."""
    return f"g{generation}-{hashlib.blake2b(body, digest_size=12).hexdigest()}"


def _cache_key(prefix: str, generation: int) -> str:
    # Path values and the canonical query (validated, defaults applied) identify the answer;
    # equivalent URLs share one entry, and unknown parameters were refused (400) already.
    parts = [request.endpoint or "", repr(sorted((request.view_args or {}).items()))]
    query = g.get("query")
    if query is not None:
        parts.append(query.canonical())
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=16).hexdigest()
    return f"{prefix}:g{generation}:{request.endpoint}:{digest}"


def conditional_response(etag: str, body: bytes, mimetype: str) -> Response:
    """``body`` under ``etag`` with the public cache lifetime; 304 when the client has it."""
    max_age = current_app.config["API_CACHE_SECONDS"]
    if request.if_none_match and request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = Response(body, status=200, mimetype=mimetype)
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


def _respond(etag: str, body: bytes, result: str, mimetype: str = "application/json") -> Response:
    response = conditional_response(etag, body, mimetype)
    response.headers["X-Cache"] = result
    return response


def serve_cached(
    build: Callable[[psycopg.Connection[Any]], Mapping[str, Any]],
    *,
    encode: Callable[[Mapping[str, Any]], bytes] = dumps,
    mimetype: str = "application/json",
) -> Response:
    """Answer from the cache, or build the payload from PostgreSQL and cache it.

    ``build`` receives a read-only connection and returns a JSON-ready mapping. An answer
    whose ``generation`` field differs from the key's generation (a refresh committed in
    between) is served but not stored, so a key only ever holds its generation's data.
    ``encode``/``mimetype`` turn the payload into another representation (the HTML pages).
    """
    from api.resources import resources

    res = resources()
    info = res.generations.current()
    key = _cache_key(res.cache.prefix, info.generation)
    local = res.cache.local
    entry = local.get(key) if local is not None else None
    if entry is not None:
        res.metrics.cache("hit", "local")
        return _respond(entry[0], entry[1], "HIT", mimetype)
    hit = res.cache.get(key)
    if hit:
        etag, body = hit  # type: ignore[misc]
        if local is not None:
            local.set(info.generation, key, etag, body)
        res.metrics.cache("hit", "redis")
        return _respond(etag, body, "HIT", mimetype)
    with res.db.read() as conn:
        payload = build(conn)
    body = encode(payload)
    etag = make_etag(info.generation, body)
    produced = payload.get("generation", info.generation)
    if (produced or 0) == info.generation:
        if hit is None:
            res.cache.set(key, etag, body)
        if local is not None:
            local.set(info.generation, key, etag, body)
    else:
        res.generations.invalidate()
    res.metrics.cache("miss" if hit is None else "bypass", "none")
    return _respond(etag, body, "MISS", mimetype)


__all__ = [
    "GenerationInfo",
    "GenerationTracker",
    "LocalCache",
    "ResponseCache",
    "dumps",
    "make_etag",
    "serve_cached",
]
