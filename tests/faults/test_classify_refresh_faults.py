"""Reclassification and refresh under faults, and a refresh asked for while a
reclassification runs: each ends equal to a clean run with its runs succeeded."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from pipelines.runs import store
from tests.faults.conftest import Cluster, elapsed, seed_clean
from tests.faults.harness import (
    FIXTURE_CACHE,
    FIXTURE_DEFINITIONS,
    fingerprint,
    remove_slow_downs,
    run_row,
    runs_of,
    slow_down,
)
from tests.integration.conftest import create_database, drop_database

pytestmark = pytest.mark.faults


def _finish_clean(cluster: Cluster, run_id: str, clean: dict, since: float) -> float:
    row = cluster.wait_state(run_id, {"succeeded", "failed", "abandoned"}, 180)
    recovered = elapsed(since)
    assert row["state"] == "succeeded", (row, cluster.logs())
    assert row["attempt"] >= 2, row
    cluster.settle()
    remove_slow_downs(cluster.dsn)
    assert fingerprint(cluster.dsn) == clean
    print(f"recovered in {recovered} s; history: {[e['event'] for e in row['history']]}")
    return recovered


def _reclassify_half_done(cluster: Cluster) -> str:
    seed_clean(cluster.dsn)
    slow_down(cluster.dsn, "deck_archetypes", 0.4)
    run_id = cluster.request("classify.reclassify_format", format_name="Modern")
    cluster.wait_progress(run_id, "chunks_done", 1)
    return run_id


def _refresh_half_done(cluster: Cluster) -> str:
    seed_clean(cluster.dsn)
    slow_down(cluster.dsn, "meta_window_stats", 0.04)  # ~111 rows: a few seconds
    run_id = cluster.request("refresh.meta_views")
    cluster.wait_state(run_id, {"running"}, 120)
    time.sleep(1.5)  # inside the refresh transaction
    return run_id


@pytest.mark.parametrize("what", ["pool process", "whole worker"])
def test_reclassification_killed_mid_run_resumes(
    cluster: Cluster, clean_fingerprint: dict, what: str
) -> None:
    if what == "whole worker":
        cluster.beat()
    worker = cluster.worker()
    run_id = _reclassify_half_done(cluster)
    if what == "pool process":
        os.kill(worker.children()[0], signal.SIGKILL)
    else:
        worker.kill_group()
        cluster.worker()
    killed = time.monotonic()
    _finish_clean(cluster, run_id, clean_fingerprint, killed)
    progress = run_row(cluster.dsn, run_id)["progress"]
    assert progress["chunks_done"] == progress["chunks_total"] == 4  # 10 decks, 3 per chunk


@pytest.mark.parametrize("what", ["pool process", "whole worker"])
def test_refresh_killed_mid_run_runs_again(
    cluster: Cluster, clean_fingerprint: dict, what: str
) -> None:
    if what == "whole worker":
        cluster.beat()
    worker = cluster.worker()
    run_id = _refresh_half_done(cluster)
    if what == "pool process":
        os.kill(worker.children()[0], signal.SIGKILL)
    else:
        worker.kill_group()
        cluster.worker()
    _finish_clean(cluster, run_id, clean_fingerprint, time.monotonic())


def test_reclassification_chunks_run_in_parallel_on_two_workers(
    cluster: Cluster, clean_fingerprint: dict
) -> None:
    cluster.worker()
    cluster.worker()
    seed_clean(cluster.dsn)
    slow_down(cluster.dsn, "deck_archetypes", 0.5)  # ~1.5 s a chunk of 3 decks
    run_id = cluster.request("classify.reclassify_format", format_name="Modern")
    row = cluster.wait_state(run_id, {"succeeded", "failed", "abandoned"}, 240)
    assert row["state"] == "succeeded", (row, cluster.logs())
    assert row["progress"]["chunks_done"] == row["progress"]["chunks_total"] == 4
    chunks = runs_of(cluster.dsn, "classify.chunk")
    # One run per chunk, each labelled once (no second attempt, no second run).
    assert sorted(r["arguments"]["kwargs"]["chunk_no"] for r in chunks) == [0, 1, 2, 3]
    assert all(r["state"] == "succeeded" and r["attempt"] == 1 for r in chunks), chunks
    by_worker = {r["worker"].split(" pid ")[0] for r in chunks}
    assert len(by_worker) == 2, chunks  # both workers labelled chunks...
    assert any(  # ...at the same time
        a["worker"] != b["worker"]
        and a["started_at"] < b["finished_at"]
        and b["started_at"] < a["finished_at"]
        for a in chunks
        for b in chunks
    ), [(r["worker"], r["started_at"], r["finished_at"]) for r in chunks]
    cluster.settle(180)
    remove_slow_downs(cluster.dsn)
    assert fingerprint(cluster.dsn) == clean_fingerprint


def _renamed_definitions(tmp_path: Path) -> Path:
    """The fixture definitions with Modern's Burn renamed: reclassifying changes labels."""
    folder = tmp_path / "definitions"
    shutil.copytree(FIXTURE_DEFINITIONS, folder)
    burn = folder / "Modern" / "Archetypes" / "Burn.json"
    data = json.loads(burn.read_text())
    data["Name"] = "Red Deck Wins"
    burn.write_text(json.dumps(data))
    return folder


def test_refresh_asked_for_during_a_reclassification_ends_with_the_new_labels(
    cluster: Cluster, tmp_path: Path, pg_admin_dsn: str, pg_template: str
) -> None:
    from pipelines.classify.labels import classify_new_decks
    from pipelines.ingest.cache import ingest_cache
    from pipelines.stats.periods import load_periods
    from pipelines.stats.refresh import refresh_all

    renamed = _renamed_definitions(tmp_path)
    name = f"manalytics_clean_{uuid.uuid4().hex[:10]}"
    clean_dsn = create_database(pg_admin_dsn, name, template=pg_template)
    try:  # the clean run: everything labelled with the new definitions
        ingest_cache(clean_dsn, FIXTURE_CACHE)
        classify_new_decks(clean_dsn, renamed)
        refresh_all(clean_dsn, periods=load_periods(renamed))
        clean = fingerprint(clean_dsn)
    finally:
        drop_database(pg_admin_dsn, name)
    assert any("Red Deck Wins" in row for row in clean["labels"])

    cluster.worker(concurrency=2, MANALYTICS_FORMATS_DIR=str(renamed))
    seed_clean(cluster.dsn)  # the old labels, refreshed
    slow_down(cluster.dsn, "deck_archetypes", 0.3)
    slow_down(cluster.dsn, "meta_window_stats", 0.03)
    reclassify = cluster.request("classify.reclassify_format", format_name="Modern")
    cluster.wait_progress(reclassify, "chunks_done", 1)
    operator_refresh = cluster.request("refresh.meta_views")  # runs while labels change
    cluster.wait_state(reclassify, {"succeeded"}, 180)
    cluster.settle(180)
    refreshes = runs_of(cluster.dsn, "refresh.meta_views")
    assert all(r["state"] == "succeeded" for r in refreshes)
    # The refresh asked for at the end of the reclassification found the operator's one
    # running: it became its follow-up instead of being skipped.
    [follow] = [r for r in refreshes if r["follow_up_of"] is not None]
    assert str(follow["follow_up_of"]) == operator_refresh
    assert follow["started_at"] >= run_row(cluster.dsn, operator_refresh)["finished_at"]
    remove_slow_downs(cluster.dsn)
    assert fingerprint(cluster.dsn) == clean


def test_a_run_recorded_but_never_published_is_sent_by_the_next_asker(cluster: Cluster) -> None:
    # A task killed between recording the next link of the chain and publishing it leaves a
    # queued run without a message. No beat here (no reaper): the next identical request
    # must send it.
    cluster.worker()
    seed_clean(cluster.dsn)
    with psycopg.connect(cluster.dsn, autocommit=True) as conn:
        orphan = store.request_run(conn, "refresh.meta_views", requested_by="killed asker").run
    cluster.request("classify.new_decks")  # asks for the refresh when it is done
    row = cluster.wait_state(str(orphan.id), {"succeeded", "failed"}, 180)
    assert row["state"] == "succeeded", (row, cluster.logs())
    assert len(runs_of(cluster.dsn, "refresh.meta_views")) == 1  # joined, not duplicated
