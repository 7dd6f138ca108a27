"""Operators' view: ``manalytics sources list|status|fetch`` and the Prometheus metrics."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

import pipelines.cli
import pipelines.sources.cli
from pipelines.cli import main
from pipelines.core.settings import REPO_ROOT, Settings
from pipelines.sources.metrics import render_source_metrics
from pipelines.sources.status import SourceStatus, source_status
from tests.integration.test_sources_gitcache import Upstream, settings_for

DEFINITIONS = REPO_ROOT / "tests" / "fixtures" / "definitions"


def use(monkeypatch: pytest.MonkeyPatch, settings: Settings, dsn: str) -> None:
    monkeypatch.setattr(pipelines.sources.cli, "get_settings", lambda: settings)
    monkeypatch.setattr(pipelines.cli, "database_url", lambda: dsn)


def test_cli_fetch_status_and_list(
    pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    upstream = Upstream(tmp_path)
    upstream.put(10000001, "2025-03-01", ["alice", "bob"])
    upstream.put(10000002, "2025-03-02", ["carol"])
    upstream.commit("two events")
    settings = replace(settings_for(tmp_path, upstream.url), formats_dir=DEFINITIONS)
    use(monkeypatch, settings, pg_dsn)

    # The chain follows in-process: classify the new decks, refresh the statistics.
    assert main(["sources", "fetch", "gitcache", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "succeeded" and report["mode"] == "full"
    assert report["ingest"]["files_new"] == 2 and report["newest_event"] == "2025-03-02"
    assert report["chain"]["classified"] == {"Modern": 3}
    assert report["chain"]["refresh"] == "succeeded"

    assert main(["sources", "fetch", "gitcache", "--no-chain"]) == 0
    text = capsys.readouterr().out
    assert "mode         unchanged" in text and "status       succeeded" in text

    assert main(["sources", "status", "--json"]) == 0
    [status] = json.loads(capsys.readouterr().out)
    assert status["source"] == "gitcache" and status["last_status"] == "succeeded"
    assert status["newest_event"] == "2025-03-02"
    assert main(["sources", "status"]) == 0
    table = capsys.readouterr().out
    assert "gitcache" in table and "2025-03-02" in table

    assert main(["sources", "list"]) == 0
    assert "gitcache     enabled" in capsys.readouterr().out

    # A failing source exits non-zero with the reason; status shows it.
    broken = settings_for(tmp_path, (tmp_path / "gone.git").as_uri())
    use(monkeypatch, broken, pg_dsn)
    assert main(["sources", "fetch", "gitcache", "--no-chain"]) == 1
    assert "git fetch failed" in capsys.readouterr().out
    assert main(["sources", "status"]) == 0
    assert "error: GitCacheError: git fetch failed" in capsys.readouterr().out


def test_cli_rejects_unknown_sources_and_bad_dates(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["sources", "fetch", "myspace"])
    with pytest.raises(SystemExit):
        main(["sources", "fetch", "mtgo", "--since", "last week"])
    assert "not a date" in capsys.readouterr().err


def test_status_and_metrics_from_the_run_records(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(
            "INSERT INTO source_runs (source, status, finished_at, pages, retries, failures, "
            "newest_event) VALUES "
            "('mtgo', 'succeeded', '2026-12-01T02:00:00Z', 40, 3, '{\"http_404\": 1}', "
            "'2026-11-30'), "
            "('mtgo', 'partial', '2026-12-02T02:00:00Z', 10, 1, "
            "'{\"http_404\": 2, \"parse\": 1}', '2026-12-01'), "
            "('topdeck', 'disabled', now(), 0, 0, '{}', NULL)"
        )
        conn.execute(
            "INSERT INTO source_quarantine (source, url, status, error) "
            "VALUES ('mtgo', 'https://www.mtgo.com/x', 200, 'invalid JSON')"
        )
        conn.commit()
        statuses = {s.source: s for s in source_status(conn)}
    mtgo = statuses["mtgo"]
    assert mtgo.last_status == "partial" and (mtgo.pages, mtgo.retries) == (50, 4)
    assert mtgo.failures_total == {"http_404": 3, "parse": 1}
    assert mtgo.last_failures == {"http_404": 2, "parse": 1}
    assert mtgo.newest_event == date(2026, 12, 1) and mtgo.quarantined == 1
    assert statuses["topdeck"].last_status == "disabled"

    now = datetime(2026, 12, 2, 6, 0, tzinfo=UTC).timestamp()
    text = render_source_metrics(list(statuses.values()), now=now).decode()
    assert 'manalytics_source_pages_fetched_total{source="mtgo"} 50.0' in text
    assert 'manalytics_source_retries_total{source="mtgo"} 4.0' in text
    assert 'manalytics_source_failures_total{reason="http_404",source="mtgo"} 3.0' in text
    assert 'manalytics_source_newest_event_age_seconds{source="mtgo"} 108000.0' in text
    assert 'manalytics_source_last_run_status{source="topdeck",status="disabled"} 1.0' in text
    assert 'manalytics_source_quarantined_pages{source="mtgo"} 1.0' in text
    success = datetime(2026, 12, 2, 2, 0, tzinfo=UTC).timestamp()
    samples = {
        (sample.name, sample.labels.get("source")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples[("manalytics_source_last_success_timestamp_seconds", "mtgo")] == success


def test_metrics_of_no_source_at_all() -> None:
    assert b"manalytics_source_pages_fetched" in render_source_metrics([])
    assert SourceStatus("x").as_dict()["source"] == "x"
