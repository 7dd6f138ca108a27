"""Replaying a source from its stored pages: a parser fix re-derives documents without
fetching again.

:class:`ReplayHttpClient` implements the adapters' ``HttpClient`` from ``source_pages``
(:mod:`pipelines.sources.pages`): each request is answered with the newest stored answer to
the same request (method, URL, body digest), error statuses included; nothing goes to the
network and nothing is stored again. A request never made before raises
:class:`PageNotStored` (the event is recorded as failed with reason ``not_stored``, the run
goes on). ``manalytics sources fetch SOURCE --replay`` runs the adapter over every event the
stored listing pages name in the window; the documents whose bytes changed are written and
ingested like fetched ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import requests

from pipelines.sources.base import HttpStatusError, Response, TransientFetchError
from pipelines.sources.http import ClientStats
from pipelines.sources.pages import PageStore, request_key


class PageNotStored(TransientFetchError):
    """A replay met a request no stored page answers."""

    reason = "not_stored"


class ReplayHttpClient:
    """``HttpClient`` answering from the page store (see the module docstring)."""

    def __init__(self, store: PageStore) -> None:
        self.store = store
        self.session = requests.Session()  # only to build URLs exactly as the real client
        self.stats = ClientStats()  # pages answered; never any retry

    def __enter__(self) -> ReplayHttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release but the URL builder."""
        self.session.close()

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """The stored answer to this GET."""
        return self._answer("GET", url, params=params)

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """The stored answer to this POST (same form or JSON body)."""
        return self._answer("POST", url, data=data, json_body=json)

    def cookies(self) -> list[dict[str, Any]]:
        """A replay holds no session."""
        return []

    def set_cookies(self, cookies: Iterable[Mapping[str, Any]]) -> None:
        """Ignored: a replay holds no session."""

    def _answer(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        json_body: Any = None,
    ) -> Response:
        prepared = self.session.prepare_request(requests.Request(method, url, params=params))
        full_url = prepared.url or url
        page = self.store.answer(method, full_url, request_key(method, full_url, data, json_body))
        if page is None:
            raise PageNotStored(f"{method} {full_url}: no stored page to replay", url=full_url)
        self.stats.pages += 1
        response = Response(page.url, page.status, dict(page.headers), page.body)
        if page.status >= 400:
            message = f"{method} {full_url}: HTTP {page.status} (stored)"
            raise HttpStatusError(message, response=response)
        return response
