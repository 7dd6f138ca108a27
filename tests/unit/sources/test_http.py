"""The HTTP client against a real local server (pytest-httpserver): retries, back-off,
Retry-After, timeouts, 4xx, rate limits, cookies, User-Agent, secrets out of the logs."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request
from werkzeug import Response as WResponse

from pipelines.sources.base import HttpStatusError, TransientFetchError
from pipelines.sources.http import (
    ClientConfig,
    RateLimit,
    RateLimiter,
    SourceHttpClient,
    redact_url,
    retry_after_seconds,
)

UA = "Manalytics-test/1.0 (+https://example.org/bot)"


class Sleeps:
    """Records the delays instead of sleeping (the tests stay fast)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def client(sleep: Sleeps, **overrides: object) -> SourceHttpClient:
    config = ClientConfig(
        user_agent=UA,
        connect_timeout=1.0,
        read_timeout=overrides.pop("read_timeout", 2.0),  # type: ignore[arg-type]
        max_attempts=overrides.pop("max_attempts", 4),  # type: ignore[arg-type]
        backoff_initial=0.5,
        backoff_max=8.0,
        **overrides,  # type: ignore[arg-type]
    )
    return SourceHttpClient("test", config, sleep=sleep)


def test_429_waits_for_retry_after_then_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/list").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7"}
    )
    httpserver.expect_oneshot_request("/list").respond_with_json({"ok": 1})
    sleeps = Sleeps()
    with client(sleeps) as http:
        response = http.get(httpserver.url_for("/list"))
        assert response.json() == {"ok": 1}
        assert http.stats.retries == 1 and http.stats.retry_reasons["http_429"] == 1
    assert len(sleeps.delays) == 1 and 7.0 <= sleeps.delays[0] <= 7.2


def test_retry_after_is_capped(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/x").respond_with_data(
        "", status=503, headers={"Retry-After": "86400"}
    )
    httpserver.expect_oneshot_request("/x").respond_with_data("fine")
    sleeps = Sleeps()
    with client(sleeps, retry_after_max=30.0) as http:
        assert http.get(httpserver.url_for("/x")).text() == "fine"
    assert 30.0 <= sleeps.delays[0] <= 30.2


def test_500_then_success_backs_off_exponentially(httpserver: HTTPServer) -> None:
    for _ in range(3):
        httpserver.expect_oneshot_request("/event").respond_with_data("oops", status=500)
    httpserver.expect_oneshot_request("/event").respond_with_data("<html>ok</html>")
    sleeps = Sleeps()
    with client(sleeps) as http:
        assert http.get(httpserver.url_for("/event")).text() == "<html>ok</html>"
    # wait_exponential_jitter(initial=0.5): 0.5*2^n plus up to 1 s of jitter.
    assert len(sleeps.delays) == 3
    for n, delay in enumerate(sleeps.delays):
        assert 0.5 * 2**n <= delay <= 0.5 * 2**n + 1.0


def test_5xx_until_attempts_run_out_is_an_http_status_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/down").respond_with_data("bad gateway", status=502)
    with client(Sleeps(), max_attempts=3) as http, pytest.raises(HttpStatusError) as info:
        http.get(httpserver.url_for("/down"))
    assert info.value.status == 502 and info.value.response.body == b"bad gateway"
    assert len(httpserver.log) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_other_4xx_are_not_retried(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/gone").respond_with_data("no", status=status)
    sleeps = Sleeps()
    with client(sleeps) as http, pytest.raises(HttpStatusError) as info:
        http.get(httpserver.url_for("/gone"))
    assert info.value.status == status
    assert len(httpserver.log) == 1 and sleeps.delays == []


def test_read_timeout_is_retried_then_reported(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> WResponse:
        time.sleep(0.6)
        return WResponse("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    with client(Sleeps(), read_timeout=0.2, max_attempts=2) as http:
        with pytest.raises(TransientFetchError) as info:
            http.get(httpserver.url_for("/slow"))
        assert http.stats.retry_reasons["timeout"] == 1
    assert "timeout after 2 attempts" in str(info.value)


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    """A server answering requests in parallel: a timed-out request still holds its thread
    while the retry is served."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_read_timeout_then_success(threaded_server: HTTPServer) -> None:
    httpserver = threaded_server

    def slow(request: Request) -> WResponse:
        time.sleep(0.6)
        return WResponse("late")

    httpserver.expect_oneshot_request("/flaky").respond_with_handler(slow)
    httpserver.expect_oneshot_request("/flaky").respond_with_data("on time")
    with client(Sleeps(), read_timeout=0.2) as http:
        assert http.get(httpserver.url_for("/flaky")).text() == "on time"


def test_connection_refused_is_transient() -> None:
    with client(Sleeps(), max_attempts=2) as http, pytest.raises(TransientFetchError) as info:
        http.get("http://127.0.0.1:9/nothing-listens-here")
    assert info.value.url == "http://127.0.0.1:9/nothing-listens-here"


def test_user_agent_params_and_cookies(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(
        "/login", method="POST", data="user=a&pw=b"
    ).respond_with_data("ok", headers={"Set-Cookie": "sid=abc123; Path=/"})
    httpserver.expect_oneshot_request(
        "/search", query_string={"page": "2"}, headers={"User-Agent": UA, "Cookie": "sid=abc123"}
    ).respond_with_json([1, 2])
    with client(Sleeps()) as http:
        http.post(httpserver.url_for("/login"), data={"user": "a", "pw": "b"})
        response = http.get(httpserver.url_for("/search"), params={"page": 2})
    assert response.json() == [1, 2]
    assert response.url.endswith("/search?page=2")
    httpserver.check_assertions()


def test_json_post_and_charset(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api", method="POST", json={"format": "Modern"}).respond_with_data(
        "Jötun".encode("latin-1"), content_type="text/plain; charset=latin-1"
    )
    with client(Sleeps()) as http:
        assert http.post(httpserver.url_for("/api"), json={"format": "Modern"}).text() == "Jötun"


def test_secrets_never_reach_the_logs(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request("/api").respond_with_data("", status=500)
    caplog.set_level(logging.DEBUG)
    with client(Sleeps(), max_attempts=3) as http, pytest.raises(HttpStatusError) as info:
        http.get(
            httpserver.url_for("/api"),
            params={"api_key": "SUPERSECRET1", "format": "Modern"},
            headers={"Authorization": "SUPERSECRET2"},
        )
    # Every logger of the client side (ours, requests, urllib3); werkzeug is the test server.
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug")]
    assert any("api_key=" in line for line in ours)  # urllib3's request line was logged...
    assert not any("SUPERSECRET" in line for line in ours)  # ...without the key
    assert "SUPERSECRET" not in str(info.value)
    assert any("format=Modern" in line for line in ours)  # the rest of the URL stays readable
    assert len([r for r in caplog.records if "retry" in r.getMessage()]) == 2


def test_redact_url() -> None:
    assert redact_url("https://x/a?token=1&q=2&password=3") == (
        "https://x/a?token=%2A%2A%2A&q=2&password=%2A%2A%2A"
    )
    assert redact_url("https://x/a") == "https://x/a"


def test_retry_after_parsing() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Wed, 02 Dec 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Wed, 02 Dec 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


class FakeClock:
    """A clock that only moves when the limiter sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limiter_sliding_window() -> None:
    clock = FakeClock()
    config = ClientConfig(user_agent=UA, rate_limits={"topdeck.gg": RateLimit(3, 10.0)})
    limiter = RateLimiter(config, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(7):
        limiter.acquire("topdeck.gg")
        stamps.append(clock.now)
        clock.now += 1.0
    assert stamps == [1000, 1001, 1002, 1010, 1011, 1012, 1020]
    # Another host (no limit, no default) never waits; a subdomain takes its parent's limit.
    assert limiter.acquire("melee.gg") == 0.0
    assert config.rate_for("api.topdeck.gg") == RateLimit(3, 10.0)


def test_topdeck_burst_above_its_limit_is_spread_over_windows(httpserver: HTTPServer) -> None:
    """250 calls against a 200-calls-per-60-s limit: calls 201+ wait for the window, and no
    60-s window ever holds more than 200 calls (fake clock: the test takes no minute)."""
    httpserver.expect_request("/api/v2/tournaments").respond_with_json([])
    clock = FakeClock()
    config = ClientConfig(user_agent=UA, rate_limits={"localhost": RateLimit(200, 60.0)})
    limiter = RateLimiter(config, clock=clock, sleep=clock.sleep)
    stamps = []
    with SourceHttpClient("topdeck", config, limiter=limiter, sleep=clock.sleep) as http:
        for _ in range(250):
            http.post(httpserver.url_for("/api/v2/tournaments"), json={"game": "Magic"})
            stamps.append(clock.now)
            clock.now += 0.01
        assert http.stats.rate_limited_seconds == pytest.approx(sum(clock.slept))
    assert len(httpserver.log) == 250
    assert stamps[199] < 1060 <= stamps[200]
    for i, start in enumerate(stamps):
        assert sum(1 for s in stamps[i:] if s < start + 60.0) <= 200


def test_default_rate_applies_to_unlisted_hosts() -> None:
    clock = FakeClock()
    config = ClientConfig(user_agent=UA, default_rate=RateLimit(1, 2.0))
    limiter = RateLimiter(config, clock=clock, sleep=clock.sleep)
    limiter.acquire("mtgo.com")
    assert limiter.acquire("mtgo.com") == 2.0
