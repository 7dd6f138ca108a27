"""Raw pages kept in PostgreSQL (``source_pages`` + ``source_page_bodies``, migration 0007).

Why PostgreSQL and not files on the data volume: pages are written in the same database
as the run and event checkpoints that refer to them, so one backup (``pg_dump``) holds
everything needed to re-derive documents, every worker on any host sees the same store
(no shared volume between workers), and the newest page of a URL — what a conditional
request needs — is one indexed lookup. Bodies are gzip-compressed and stored once per
content hash, so a nightly re-fetch of an unchanged page costs one small row.

Never stored: request headers or bodies (cookies, API keys, passwords) and the response
headers that carry session secrets (``Set-Cookie``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

# Response headers worth keeping (validators for conditional requests, content type for
# decoding); everything else (Set-Cookie above all) is dropped.
KEPT_HEADERS = ("content-type", "etag", "last-modified", "retry-after", "location")


@dataclass(frozen=True)
class StoredPage:
    """One stored fetch of a URL."""

    url: str
    status: int
    fetched_at: datetime
    headers: Mapping[str, str]
    body: bytes


# Form fields and JSON keys whose values never enter a request digest (passwords, tokens).
_SECRET_FIELD = re.compile(r"key|token|secret|pass|auth|session|sig", re.IGNORECASE)


def request_key(method: str, url: str, data: Any = None, json_body: Any = None) -> bytes:
    """The digest that identifies a request for replaying: method, full URL and body (form
    fields sorted, JSON with sorted keys), secret-looking fields masked before hashing."""
    parts = [method.upper(), url]
    if isinstance(data, Mapping):
        parts.append(
            "&".join(
                f"{k}={'***' if _SECRET_FIELD.search(str(k)) else v}"
                for k, v in sorted((str(k), str(v)) for k, v in data.items())
            )
        )
    elif data is not None:
        parts.append(str(data))
    if json_body is not None:
        parts.append(json.dumps(_masked(json_body), sort_keys=True, default=str))
    return hashlib.sha256("\n".join(parts).encode()).digest()


def _masked(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: "***" if _SECRET_FIELD.search(str(k)) else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The subset of response headers stored with a page (lower-case names)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    return {name: lowered[name] for name in KEPT_HEADERS if name in lowered}


class PageStore:
    """Writes and reads raw pages through the caller's connection, in the caller's
    transaction: the fetch run commits once per event (pages and checkpoint together), and
    commits what it has before recording a failure."""

    def __init__(self, conn: psycopg.Connection, source: str, run_id: int | None = None):
        self.conn = conn
        self.source = source
        self.run_id = run_id

    def save(
        self,
        method: str,
        url: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        request: bytes | None = None,
    ) -> None:
        """Record one fetched page (``request``: its :func:`request_key`)."""
        digest = hashlib.sha256(body).digest()
        self.conn.execute(
            "INSERT INTO source_page_bodies (sha256, size, body) VALUES (%s, %s, %s) "
            "ON CONFLICT (sha256) DO NOTHING",
            (digest, len(body), gzip.compress(body, compresslevel=6)),
        )
        self.conn.execute(
            # clock_timestamp(): the time of this fetch, not of the run's open transaction.
            "INSERT INTO source_pages (source, run_id, method, url, status, headers, "
            "body_sha256, request_sha256, fetched_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp())",
            (
                self.source,
                self.run_id,
                method,
                url,
                status,
                Jsonb(kept_headers(headers)),
                digest,
                request,
            ),
        )

    def latest(self, url: str, *, status: int = 200) -> StoredPage | None:
        """The newest stored page of ``url`` with ``status`` (for conditional requests)."""
        row = self.conn.execute(
            "SELECT p.url, p.status, p.fetched_at, p.headers, b.body FROM source_pages p "
            "JOIN source_page_bodies b ON b.sha256 = p.body_sha256 "
            "WHERE p.url = %s AND p.status = %s AND p.method = 'GET' "
            "ORDER BY p.fetched_at DESC, p.id DESC LIMIT 1",
            (url, status),
        ).fetchone()
        if row is None:
            return None
        return StoredPage(row[0], row[1], row[2], row[3], gzip.decompress(row[4]))

    def answer(self, method: str, url: str, request: bytes) -> StoredPage | None:
        """The newest stored answer to a request (any status but 304): what a replay
        serves. Found by its request digest; a GET also by its URL (pages stored before
        requests were keyed)."""
        row = self.conn.execute(
            "SELECT p.url, p.status, p.fetched_at, p.headers, b.body FROM source_pages p "
            "JOIN source_page_bodies b ON b.sha256 = p.body_sha256 "
            "WHERE p.source = %s AND p.status <> 304 AND (p.request_sha256 = %s "
            "OR (%s = 'GET' AND p.method = 'GET' AND p.url = %s)) "
            "ORDER BY p.fetched_at DESC, p.id DESC LIMIT 1",
            (self.source, request, method, url),
        ).fetchone()
        if row is None:
            return None
        return StoredPage(row[0], row[1], row[2], row[3], gzip.decompress(row[4]))


def iter_pages(
    conn: psycopg.Connection, source: str, *, since: datetime | None = None
) -> Iterator[StoredPage]:
    """Stored pages of ``source`` (oldest first): what a parser fix re-derives from."""
    with conn.cursor(name="source_pages_scan") as cur:
        cur.execute(
            "SELECT p.url, p.status, p.fetched_at, p.headers, b.body FROM source_pages p "
            "JOIN source_page_bodies b ON b.sha256 = p.body_sha256 "
            "WHERE p.source = %s AND (%s::timestamptz IS NULL OR p.fetched_at >= %s) "
            "ORDER BY p.fetched_at, p.id",
            (source, since, since),
        )
        for url, status, fetched_at, headers, body in cur:
            yield StoredPage(url, status, fetched_at, headers, gzip.decompress(body))
