"""Response cache: Redis entries keyed by generation, ETag/304, Cache-Control, invalidation by
a refresh, the per-worker layer, and reads with Redis down."""

from __future__ import annotations

import socket
from typing import Any

import redis
from flask import Flask

from tests.api.conftest import AppFactory, refresh

META = "/api/v1/formats/Modern/meta"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_miss_then_hit_from_redis_with_etag_and_cache_control(
    make_app: AppFactory, redis_url: str
) -> None:
    client = make_app(API_LOCAL_CACHE_BYTES=0).test_client()
    first = client.get(META)
    assert first.status_code == 200 and first.headers["X-Cache"] == "MISS"
    assert first.headers["Cache-Control"] == "public, max-age=300"
    etag = first.headers["ETag"]
    assert etag.startswith('"g1-')
    keys = redis.Redis.from_url(redis_url).keys("manalytics:test:cache:g1:*")
    assert len(keys) == 1
    second = client.get(META)
    assert second.headers["X-Cache"] == "HIT" and second.headers["ETag"] == etag
    assert second.get_data() == first.get_data()
    # Equivalent URLs (defaults spelled out, other order) share the entry.
    third = client.get(META + "?offset=0&sort=-share&limit=50")
    assert third.headers["X-Cache"] == "HIT" and third.headers["ETag"] == etag


def test_if_none_match_gives_304_without_body(client: Flask) -> None:
    etag = client.get(META).headers["ETag"]
    not_modified = client.get(META, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.get_data() == b""
    assert not_modified.headers["ETag"] == etag
    assert not_modified.headers["Cache-Control"] == "public, max-age=300"
    weak = client.get(META, headers={"If-None-Match": f'W/{etag}, "other"'})
    assert weak.status_code == 304
    other = client.get(META, headers={"If-None-Match": '"g1-something-else"'})
    assert other.status_code == 200 and other.get_data()


def test_a_refresh_invalidates_by_construction(make_app: AppFactory, api_dsn: str) -> None:
    client = make_app(API_GENERATION_CHECK_SECONDS=0).test_client()
    before = client.get(META)
    assert client.get(META).headers["X-Cache"] == "HIT"
    assert refresh(api_dsn) == 2
    after = client.get(META)
    assert after.headers["X-Cache"] == "MISS"
    assert after.get_json()["generation"] == 2 and after.headers["ETag"].startswith('"g2-')
    assert after.headers["ETag"] != before.headers["ETag"]
    stale = client.get(META, headers={"If-None-Match": before.headers["ETag"]})
    assert stale.status_code == 200  # the old ETag no longer matches
    assert client.get(META).headers["X-Cache"] == "HIT"


def test_generation_is_rechecked_only_after_the_interval(
    make_app: AppFactory, api_dsn: str
) -> None:
    client = make_app(API_GENERATION_CHECK_SECONDS=3600).test_client()
    assert client.get(META).get_json()["generation"] == 1
    refresh(api_dsn)
    # Within the interval the process still serves generation 1 (documented trade-off).
    assert client.get(META).get_json()["generation"] == 1


def test_local_layer_serves_without_redis_round_trip(make_app: AppFactory, redis_url: str) -> None:
    app = make_app()
    client = app.test_client()
    assert client.get(META).headers["X-Cache"] == "MISS"
    redis.Redis.from_url(redis_url).flushdb()  # only the worker's copy is left
    assert client.get(META).headers["X-Cache"] == "HIT"
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'manalytics_cache_requests_total{layer="local",result="hit"} 1.0' in metrics
    assert 'manalytics_cache_requests_total{layer="none",result="miss"} 1.0' in metrics
    assert "manalytics_cache_hit_ratio 0.5" in metrics


def test_operator_and_error_answers_are_not_stored(client: Flask) -> None:
    assert client.get("/api/v1/formats/Nope/meta").headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/admin/tasks").headers["Cache-Control"] == "no-store"
    assert client.get("/ready").headers["Cache-Control"] == "no-store"


def test_reads_answer_from_postgresql_when_redis_is_down(make_app: AppFactory) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"
    app = make_app(settings={"redis_url": down}, API_LOCAL_CACHE_BYTES=0)
    client = app.test_client()
    for path in (
        META,
        "/api/v1/formats",
        "/api/v1/formats/Modern/matchups",
        "/api/v1/formats/Modern/archetypes/Mono Red Burn",
        "/api/v1/formats/Modern/trends",
        "/api/v1/tournaments",
        "/api/v1/decks",
        "/api/v1/ping",
    ):
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True))
    answer = client.get(META)
    assert answer.headers["X-Cache"] == "MISS" and answer.headers["ETag"]
    etag = answer.headers["ETag"]
    assert client.get(META, headers={"If-None-Match": etag}).status_code == 304
    ready = client.get("/ready")
    assert ready.status_code == 200
    body = ready.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["status"] == "down"
    assert body["checks"]["database"]["status"] == "ok"
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'manalytics_cache_requests_total{layer="none",result="bypass"}' in metrics


def test_cached_answers_survive_a_database_outage(make_app: AppFactory) -> None:
    from contextlib import contextmanager

    from psycopg_pool import PoolTimeout

    from api.resources import resources

    app = make_app(API_GENERATION_CHECK_SECONDS=0)
    client = app.test_client()
    assert client.get(META).status_code == 200

    @contextmanager
    def down(timeout: float | None = None) -> Any:
        raise PoolTimeout("database unreachable")
        yield

    resources(app).db.read = down  # type: ignore[method-assign]
    cached = client.get(META)
    assert cached.status_code == 200 and cached.headers["X-Cache"] == "HIT"
    assert client.get("/api/v1/formats").status_code == 503  # never cached: no data
