"""Raw pages in PostgreSQL and conditional requests, against a real local HTTP server."""

from __future__ import annotations

import psycopg
from pytest_httpserver import HTTPServer

from pipelines.sources.http import ClientConfig, SourceHttpClient
from pipelines.sources.pages import PageStore, iter_pages


def _client(conn: psycopg.Connection) -> SourceHttpClient:
    config = ClientConfig(user_agent="test", max_attempts=2, backoff_initial=0.01)
    return SourceHttpClient("mtgo", config, store=PageStore(conn, "mtgo"), sleep=lambda s: None)


def test_pages_are_kept_compressed_once_per_content(pg_dsn: str, httpserver: HTTPServer) -> None:
    body = b'{"decks": [' + b'{"player": "someone"},' * 500 + b"{}]}"
    httpserver.expect_request("/event/1").respond_with_data(
        body, headers={"Set-Cookie": "session=SECRET"}, content_type="application/json"
    )
    with psycopg.connect(pg_dsn) as conn, _client(conn) as http:
        http.get(httpserver.url_for("/event/1"))
        http.get(httpserver.url_for("/event/1"))
        pages = conn.execute("SELECT count(*), count(DISTINCT body_sha256) FROM source_pages")
        assert pages.fetchone() == (2, 1)
        size, stored = conn.execute(
            "SELECT size, octet_length(body) FROM source_page_bodies"
        ).fetchone()
        assert size == len(body) and stored < len(body) / 10
        headers = conn.execute("SELECT headers FROM source_pages LIMIT 1").fetchone()[0]
        assert headers == {"content-type": "application/json"}  # no Set-Cookie kept
        again = list(iter_pages(conn, "mtgo"))
        assert [p.body for p in again] == [body, body]
        assert again[0].url == httpserver.url_for("/event/1")


def test_conditional_get_with_etag_serves_the_stored_page(
    pg_dsn: str, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request("/month").respond_with_data(
        "<html>v1</html>",
        headers={"ETag": '"v1"', "Last-Modified": "Tue, 01 Dec 2026 10:00:00 GMT"},
    )
    httpserver.expect_oneshot_request(
        "/month",
        headers={"If-None-Match": '"v1"', "If-Modified-Since": "Tue, 01 Dec 2026 10:00:00 GMT"},
    ).respond_with_data("", status=304)
    with psycopg.connect(pg_dsn) as conn, _client(conn) as http:
        assert http.get(httpserver.url_for("/month")).text() == "<html>v1</html>"
        second = http.get(httpserver.url_for("/month"))
        assert second.status == 200 and second.text() == "<html>v1</html>"
        assert second.header("x-manalytics-not-modified") == "1"
        assert http.stats.not_modified == 1
        statuses = [r[0] for r in conn.execute("SELECT status FROM source_pages ORDER BY id")]
        assert statuses == [200, 304]
    httpserver.check_assertions()


def test_changed_page_is_fetched_again(pg_dsn: str, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/month").respond_with_data("v1", headers={"ETag": '"v1"'})
    httpserver.expect_oneshot_request(
        "/month", headers={"If-None-Match": '"v1"'}
    ).respond_with_data("v2", headers={"ETag": '"v2"'})
    httpserver.expect_oneshot_request(
        "/month", headers={"If-None-Match": '"v2"'}
    ).respond_with_data("", status=304)
    with psycopg.connect(pg_dsn) as conn, _client(conn) as http:
        assert [http.get(httpserver.url_for("/month")).text() for _ in range(3)] == [
            "v1",
            "v2",
            "v2",
        ]
