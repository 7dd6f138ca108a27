"""What the adapters produce goes through the one ingestion path unchanged, into PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pytest_httpserver import HTTPServer

from pipelines.core.db import connect
from pipelines.ingest.cache import ingest_cache
from pipelines.sources.base import CacheDocument
from pipelines.sources.mtgo import MtgoSource
from tests.sources.conftest import RequestsClient, write_cache
from tests.sources.test_mtgo import FIXTURES as MTGO_FIXTURES


def _mtgo(httpserver: HTTPServer, http: RequestsClient) -> list[CacheDocument]:
    for name in (
        "index-2025-03",
        "modern-challenge-32-2025-03-0912345678",
        "pauper-league-2025-03-0910123",
    ):
        path = "/decklists/2025/03" if name.startswith("index") else f"/decklist/{name}"
        httpserver.expect_request(path).respond_with_data(
            (MTGO_FIXTURES / f"{name}.html").read_bytes()
        )
    source = MtgoSource(base_url=httpserver.url_for("/").rstrip("/"))
    refs = list(source.list_events(http, date(2025, 3, 9), date(2025, 3, 9)))
    return [doc for ref in refs for doc in source.fetch_event(http, ref)]


def _counts(dsn: str) -> dict[str, dict[str, int]]:
    def per_source(table: str) -> str:
        return (
            f"(SELECT count(*) FROM {table} x JOIN tournaments u ON u.id = x.tournament_id "
            "WHERE u.source_id = s.id)"
        )

    sql = (
        "SELECT s.name, count(t.id), "
        f"{per_source('decks')}, {per_source('matches')}, {per_source('standings')} "
        "FROM sources s JOIN tournaments t ON t.source_id = s.id GROUP BY s.id, s.name"
    )
    with connect(dsn) as conn:
        rows = conn.execute(sql).fetchall()
    return {r[0]: {"events": r[1], "decks": r[2], "matches": r[3], "standings": r[4]} for r in rows}


def test_adapter_documents_ingest(
    pg_dsn: str, tmp_path: Path, httpserver: HTTPServer, http: RequestsClient
) -> None:
    documents = _mtgo(httpserver, http)
    root = tmp_path / "Tournaments"
    write_cache(root, documents)
    summary = ingest_cache(pg_dsn, root)
    assert summary.files_quarantined == 0
    assert summary.files_new == len(documents)
    assert _counts(pg_dsn) == {
        "MTGO": {"events": 2, "decks": 5 + 4, "matches": 3, "standings": 5},
    }
