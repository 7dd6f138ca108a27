"""The one HTTP client of every source (implements :class:`pipelines.sources.base.HttpClient`).

* ``requests.Session`` per source run: connection reuse and cookies for the run's lifetime;
  connect and read timeouts on every call; a descriptive User-Agent.
* Retries by tenacity (not a hand-written loop): connection errors, timeouts, truncated
  bodies, 429 and 5xx are retried with exponential back-off and jitter, honouring
  ``Retry-After`` (capped); any other 4xx is final at once, and parse errors never reach
  this layer. Every attempt — retries included — passes the per-host rate limit, so a
  retry storm cannot break a site's quota (Topdeck: 200 calls in any 60 s).
* Conditional GETs: when the page store holds an earlier 200 of the same URL with an
  ``ETag`` or ``Last-Modified``, the request carries ``If-None-Match`` /
  ``If-Modified-Since``; a 304 is answered with the stored page.
* Every final response is kept raw (see :mod:`pipelines.sources.pages`).
* Credentials never reach the logs: URLs are logged with secret-looking query values masked;
  headers and request bodies are never logged or stored.
"""

from __future__ import annotations

import collections
import email.utils
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import tenacity

from pipelines.sources.base import (
    HttpStatusError,
    Response,
    TransientFetchError,
    export_cookies,
    import_cookies,
)
from pipelines.sources.pages import PageStore, request_key

log = logging.getLogger("manalytics.sources.http")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
_SECRET_PARAM = re.compile(r"key|token|secret|pass|auth|session|sig", re.IGNORECASE)


@dataclass(frozen=True)
class RateLimit:
    """At most ``calls`` requests in any sliding window of ``period`` seconds."""

    calls: int
    period: float


@dataclass(frozen=True)
class ClientConfig:
    """Knobs of the client (built from settings by the registry)."""

    user_agent: str
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 5
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    retry_after_max: float = 300.0
    # host (exact, or a parent domain) -> limit; ``default_rate`` for every other host.
    rate_limits: Mapping[str, RateLimit] = field(default_factory=dict)
    default_rate: RateLimit | None = None

    def rate_for(self, host: str) -> RateLimit | None:
        """The limit of ``host``: its own entry, a parent domain's, else the default."""
        host = host.lower()
        parts = host.split(".")
        for i in range(len(parts)):
            limit = self.rate_limits.get(".".join(parts[i:]))
            if limit is not None:
                return limit
        return self.default_rate


@dataclass
class ClientStats:
    """What the client did (copied into the run record and the metrics)."""

    pages: int = 0
    retries: int = 0
    not_modified: int = 0
    rate_limited_seconds: float = 0.0
    retry_reasons: collections.Counter[str] = field(default_factory=collections.Counter)


class RateLimiter:
    """Per-host sliding-window limiter (one process, one run: the source lock makes a run
    the only client of its sites)."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.clock = clock
        self.sleep = sleep
        self._calls: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, host: str) -> float:
        """Wait until ``host`` may be called again; returns the seconds waited."""
        limit = self.config.rate_for(host)
        if limit is None:
            return 0.0
        waited = 0.0
        with self._lock:
            calls = self._calls.setdefault(host, collections.deque())
            while True:
                now = self.clock()
                while calls and calls[0] <= now - limit.period:
                    calls.popleft()
                if len(calls) < limit.calls:
                    calls.append(now)
                    return waited
                # Sleep until the oldest call leaves the window.
                delay = calls[0] + limit.period - now
                self.sleep(delay)
                waited += delay


def redact_url(url: str) -> str:
    """``url`` with the values of secret-looking query parameters masked (for logs)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (key, "***" if _SECRET_PARAM.search(key) else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); ``None`` when absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


_SECRET_IN_TEXT = re.compile(
    r"([?&;][^=&\s\"]*(?:key|token|secret|pass|auth|session|sig)[^=&\s\"]*=)[^&\s\"]*",
    re.IGNORECASE,
)


class RedactSecrets(logging.Filter):
    """Masks secret-looking query values in records of loggers we do not own (urllib3 logs
    every request line with its query string at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRET_IN_TEXT.sub(r"\1***", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(RedactSecrets())


class _Retryable(Exception):
    """One failed attempt that tenacity may retry."""

    def __init__(
        self, reason: str, response: Response | None = None, cause: Exception | None = None
    ):
        super().__init__(reason)
        self.reason = reason
        self.response = response
        self.cause = cause


class SourceHttpClient:
    """See the module docstring. One instance per source run; close it (or use ``with``)."""

    def __init__(
        self,
        source: str,
        config: ClientConfig,
        *,
        store: PageStore | None = None,
        sleep: Callable[[float], None] = time.sleep,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.source = source
        self.config = config
        self.store = store
        self.sleep = sleep
        self.limiter = limiter or RateLimiter(config, sleep=sleep)
        self.stats = ClientStats()
        self.session = requests.Session()
        self.session.headers["User-Agent"] = config.user_agent

    def __enter__(self) -> SourceHttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()

    # -- HttpClient protocol -------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """GET ``url`` (conditional when an earlier copy is stored)."""
        return self._request("GET", url, params=params, headers=headers)

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """POST a form (``data``) or a JSON body (``json``)."""
        return self._request("POST", url, data=data, json=json, headers=headers)

    def cookies(self) -> list[dict[str, Any]]:
        """The session's cookies, as plain data."""
        return export_cookies(self.session.cookies)

    def set_cookies(self, cookies: Iterable[Mapping[str, Any]]) -> None:
        """Restore cookies saved by :meth:`cookies`."""
        import_cookies(self.session.cookies, cookies)

    # -- internals -----------------------------------------------------------------------

    def _request(self, method: str, url: str, **kwargs: Any) -> Response:
        prepared = self.session.prepare_request(
            requests.Request(method, url, params=kwargs.pop("params", None))
        )
        full_url = prepared.url or url
        key = request_key(method, full_url, kwargs.get("data"), kwargs.get("json"))
        headers = dict(kwargs.pop("headers", None) or {})
        cached = self.store.latest(full_url) if self.store and method == "GET" else None
        if cached is not None:
            if "etag" in cached.headers:
                headers.setdefault("If-None-Match", cached.headers["etag"])
            if "last-modified" in cached.headers:
                headers.setdefault("If-Modified-Since", cached.headers["last-modified"])
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.config.max_attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(_Retryable),
            before_sleep=self._before_sleep(method, full_url),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            response = retrying(self._attempt, method, full_url, headers, kwargs)
        except _Retryable as exc:
            if exc.response is not None:
                self._keep(method, exc.response, key)
                raise HttpStatusError(
                    f"{method} {redact_url(full_url)}: HTTP {exc.response.status} after "
                    f"{self.config.max_attempts} attempts",
                    response=exc.response,
                ) from None
            raise TransientFetchError(
                f"{method} {redact_url(full_url)}: {exc.reason} after "
                f"{self.config.max_attempts} attempts",
                url=full_url,
            ) from exc.cause
        if response.status == 304 and cached is not None:
            self.stats.not_modified += 1
            self._keep(method, response, key)
            headers_out = {**cached.headers, "x-manalytics-not-modified": "1"}
            return Response(full_url, 200, headers_out, cached.body)
        self._keep(method, response, key)
        if response.status >= 400:
            raise HttpStatusError(
                f"{method} {redact_url(full_url)}: HTTP {response.status}", response=response
            )
        return response

    def _attempt(
        self, method: str, url: str, headers: dict[str, str], kwargs: dict[str, Any]
    ) -> Response:
        host = urlsplit(url).hostname or ""
        waited = self.limiter.acquire(host)
        self.stats.rate_limited_seconds += waited
        try:
            raw = self.session.request(
                method,
                url,
                headers=headers,
                timeout=(self.config.connect_timeout, self.config.read_timeout),
                allow_redirects=True,
                **kwargs,
            )
            body = raw.content  # reads the whole body: a truncated one raises here
        except requests.Timeout as exc:
            raise _Retryable("timeout", cause=exc) from exc
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise _Retryable("connection", cause=exc) from exc
        self.stats.pages += 1
        response = Response(raw.url or url, raw.status_code, dict(raw.headers), body)
        log.debug("%s %s -> %s", method, redact_url(url), raw.status_code)
        if raw.status_code in RETRYABLE_STATUSES:
            raise _Retryable(f"http_{raw.status_code}", response=response)
        return response

    def _wait(self, state: tenacity.RetryCallState) -> float:
        backoff = tenacity.wait_exponential_jitter(
            multiplier=self.config.backoff_initial, max=self.config.backoff_max
        )(state)
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retryable) and error.response is not None:
            after = retry_after_seconds(error.response.header("retry-after"))
            if after is not None:
                # The site said when: wait that long (capped: a hostile or buggy header must
                # not park a worker for hours), plus a little jitter.
                return min(after, self.config.retry_after_max) + min(backoff, 1.0) * 0.1
        return backoff

    def _before_sleep(self, method: str, url: str) -> Callable[[tenacity.RetryCallState], None]:
        def hook(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            reason = error.reason if isinstance(error, _Retryable) else "error"
            self.stats.retries += 1
            self.stats.retry_reasons[reason] += 1
            delay = state.next_action.sleep if state.next_action else 0.0
            log.warning(
                "%s %s: %s, retry %d/%d in %.1f s",
                method,
                redact_url(url),
                reason,
                state.attempt_number,
                self.config.max_attempts - 1,
                delay,
            )

        return hook

    def _keep(self, method: str, response: Response, request: bytes) -> None:
        if self.store is not None:
            self.store.save(
                method, response.url, response.status, response.headers, response.body, request
            )
