"""Fixtures of the adapter tests: a thin HTTP client and the real sample's documents.

Every adapter test talks HTTP to a real local server (pytest-httpserver); nothing inside the
adapters is mocked. :class:`RequestsClient` is the smallest client that honours the
``HttpClient`` contract of :mod:`pipelines.sources.base` (no retries, no rate limit: those are
the framework client's job and tested there), so that these tests only exercise the adapters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

from pipelines.sources.base import (
    CacheDocument,
    HttpStatusError,
    Response,
    export_cookies,
    import_cookies,
)


class RequestsClient:
    """``HttpClient`` over one ``requests.Session`` (cookies kept); records every request."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.calls: list[tuple[str, str]] = []

    def _send(self, method: str, url: str, **kwargs: Any) -> Response:
        raw = self.session.request(method, url, timeout=10, **kwargs)
        self.calls.append((method, raw.url))
        response = Response(raw.url, raw.status_code, dict(raw.headers), raw.content)
        if raw.status_code >= 400:
            raise HttpStatusError(f"HTTP {raw.status_code} for {raw.url}", response=response)
        return response

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        return self._send("GET", url, params=params, headers=headers)

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        return self._send("POST", url, data=data, json=json, headers=headers)

    def cookies(self) -> list[dict[str, Any]]:
        return export_cookies(self.session.cookies)

    def set_cookies(self, cookies: Iterable[Mapping[str, Any]]) -> None:
        import_cookies(self.session.cookies, cookies)


@pytest.fixture
def http() -> Iterator[RequestsClient]:
    client = RequestsClient()
    yield client
    client.session.close()


def sample_documents(root: Path, folder: str) -> list[tuple[str, dict[str, Any]]]:
    """(relative path, document) of every readable JSON file of one source folder."""
    found = []
    for path in sorted((root / "tournaments" / folder).rglob("*.json")):
        try:
            doc = json.loads(path.read_bytes())
        except ValueError:
            continue  # the sample has a zero-byte file; the ingestion tests cover it
        found.append((path.relative_to(root / "tournaments").as_posix(), doc))
    return found


def folder_date(rel_path: str) -> str:
    """``yyyy-mm-dd`` of a cache path ``<Source>/<yyyy>/<mm>/<dd>/<name>.json``."""
    _, y, m, d, _ = rel_path.split("/")
    return f"{y}-{m}-{d}"


def write_cache(root: Path, documents: Iterable[CacheDocument]) -> list[Path]:
    """Write documents into the cache layout the way the reference does (UTF-8, indent 2)."""
    written = []
    for cached in documents:
        path = root / cached.relative_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(cached.document, ensure_ascii=False, indent=2), encoding="utf-8")
        written.append(path)
    return written
