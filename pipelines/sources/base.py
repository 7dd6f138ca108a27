"""The contract between the fetch framework and the per-site adapters.

An adapter (a :class:`Source`) lists the events a site published in a date range
(:meth:`Source.list_events`) and turns one event into cache documents
(:meth:`Source.fetch_event`), the JSON objects of DOMAIN.md §2, each with the place it takes
in the cache layout (:meth:`CacheDocument.relative_path`). Adapters never retry, sleep or
rate-limit: the :class:`HttpClient` they are given does (see :mod:`pipelines.sources.http`).
They raise :class:`PageParseError` for a page they cannot understand; the fetch run
quarantines it and goes on.
"""

from __future__ import annotations

import json as _json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePosixPath
from typing import Any, Protocol


class PageParseError(Exception):
    """A page whose content cannot be parsed (truncated JSON, changed layout...)."""

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.url = url
        self.status = status

    def __str__(self) -> str:
        where = f" ({self.url})" if self.url else ""
        return f"{self.message}{where}"


class MissingCredentials(Exception):
    """A source is enabled but the settings it needs (API key, login) are missing."""


class FetchError(Exception):
    """Base of the HTTP client's errors."""

    def __init__(self, message: str, *, url: str | None = None):
        super().__init__(message)
        self.url = url


def _charset(headers: Mapping[str, str]) -> str:
    content_type = _header(headers, "content-type") or ""
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip().strip('"')
    return "utf-8"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


@dataclass(frozen=True)
class Response:
    """A fetched page: final URL (with query string), status, headers and raw body."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup."""
        return _header(self.headers, name)

    def text(self) -> str:
        """The body decoded with the response's charset (utf-8 when none or unknown)."""
        try:
            return self.body.decode(_charset(self.headers), errors="replace")
        except LookupError:  # an unknown charset name
            return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; :class:`PageParseError` (with the URL) when it is not."""
        try:
            return _json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PageParseError(f"invalid JSON: {exc}", url=self.url, status=self.status) from exc


class HttpStatusError(FetchError):
    """A final status >= 400: 4xx at once (never retried), 429/5xx once retries ran out."""

    def __init__(self, message: str, *, response: Response):
        super().__init__(message, url=response.url)
        self.status = response.status
        self.response = response


class TransientFetchError(FetchError):
    """Connection errors and timeouts once retries ran out."""

    reason = "transient"  # the failure reason a run records


class HttpClient(Protocol):
    """What adapters call; :class:`pipelines.sources.http.SourceHttpClient` implements it.

    Both methods raise :class:`HttpStatusError` for any final status >= 400 and
    :class:`TransientFetchError` when the site stayed unreachable. Cookies persist for the
    client's lifetime (one session per source run); a source that keeps its session longer
    saves and restores them (:meth:`cookies`, :meth:`set_cookies`).
    """

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response: ...

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response: ...

    def cookies(self) -> list[dict[str, Any]]:
        """The session's cookies (name, value, domain, path, expires, secure): what a source
        persists between runs (Melee's sign-in)."""
        ...

    def set_cookies(self, cookies: Iterable[Mapping[str, Any]]) -> None:
        """Put cookies saved by :meth:`cookies` back into the session."""
        ...


def export_cookies(jar: Any) -> list[dict[str, Any]]:
    """A ``requests`` cookie jar as plain data (see :meth:`HttpClient.cookies`)."""
    return [
        {
            "name": c.name,
            "value": c.value,
            "domain": c.domain,
            "path": c.path,
            "expires": c.expires,
            "secure": c.secure,
        }
        for c in jar
    ]


def import_cookies(jar: Any, cookies: Iterable[Mapping[str, Any]]) -> None:
    """Put plain-data cookies back into a ``requests`` cookie jar."""
    for c in cookies:
        jar.set(
            str(c["name"]),
            str(c["value"]),
            domain=c.get("domain") or "",
            path=c.get("path") or "/",
            expires=c.get("expires"),
            secure=bool(c.get("secure")),
        )


@dataclass(frozen=True)
class EventRef:
    """One event as listed by a source: enough to fetch it and to checkpoint it."""

    source: str
    key: str
    date: date
    name: str
    format: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CacheDocument:
    """A cache JSON document (DOMAIN.md §2.2) and its place in the cache layout (§2.1)."""

    folder: str
    date: date
    name: str
    document: Mapping[str, Any]

    def relative_path(self) -> PurePosixPath:
        """``<folder>/<yyyy>/<mm>/<dd>/<name>.json``; refuses names that would escape it."""
        for label, part in (("folder", self.folder), ("name", self.name)):
            if not part or "/" in part or "\\" in part or part in (".", "..") or "\0" in part:
                raise ValueError(f"invalid cache document {label}: {part!r}")
        day = self.date
        return PurePosixPath(
            self.folder,
            f"{day.year:04d}",
            f"{day.month:02d}",
            f"{day.day:02d}",
            f"{self.name}.json",
        )


class Source(Protocol):
    """A site adapter. Configuration comes through the constructor, never from settings."""

    name: str

    def list_events(self, http: HttpClient, since: date, until: date) -> Iterator[EventRef]: ...

    def fetch_event(self, http: HttpClient, ref: EventRef) -> list[CacheDocument]: ...
