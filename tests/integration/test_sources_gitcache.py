"""The cache-repository source against a local bare git repository (file:// URL, no network):
first clone, an update that adds, changes and deletes files (a deleted file's event leaves the
database), nothing new, a force-pushed history, a re-created clone, an unreachable remote."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from pipelines.core.settings import Settings
from pipelines.core.settings_loader import load_settings
from pipelines.sources import runs
from pipelines.sources.fetch import run_source
from tests.integration.sources_fixture import event_document


def rel_path(event_id: int, day: str) -> str:
    y, m, d = day.split("-")
    return f"Tournaments/MTGO/{y}/{m}/{d}/modern-challenge-32-{day}{event_id}.json"


class Upstream:
    """A working repository pushing to a bare one: the cache repository's maintainers."""

    def __init__(self, tmp_path: Path) -> None:
        self.bare = tmp_path / "cache.git"
        self.work = tmp_path / "maintainer"
        self.git("init", "--quiet", "--bare", "-b", "main", str(self.bare), cwd=tmp_path)
        self.git("init", "--quiet", "-b", "main", str(self.work), cwd=tmp_path)
        self.git("remote", "add", "origin", self.bare.as_uri())
        (self.work / "README.md").write_text("decklist cache\n")

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def git(self, *args: str, cwd: Path | None = None) -> str:
        done = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
            cwd=cwd or self.work,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    def put(self, event_id: int, day: str, players: list[str]) -> None:
        path = self.work / rel_path(event_id, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(event_document(str(event_id), day, players), indent=2))

    def delete(self, event_id: int, day: str) -> None:
        (self.work / rel_path(event_id, day)).unlink()

    def commit(self, message: str, *, force: bool = False) -> str:
        self.git("add", "--all")
        self.git("commit", "--quiet", "-m", message)
        self.git("push", "--quiet", *(["--force"] if force else []), "origin", "main")
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    repo = Upstream(tmp_path)
    repo.put(10000001, "2025-03-01", ["alice", "bob"])
    repo.put(10000002, "2025-03-02", ["carol", "dave"])
    repo.put(10000003, "2025-03-03", ["erin"])
    repo.commit("three events")
    return repo


def settings_for(tmp_path: Path, url: str) -> Settings:
    return load_settings(
        {
            "SOURCES_DATA_DIR": str(tmp_path / "data"),
            "GITCACHE_URL": url,
            "GITCACHE_BRANCH": "main",
        }
    )


def decks_by_event(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT t.uri, count(d.id) FROM tournaments t LEFT JOIN decks d "
            "ON d.tournament_id = t.id GROUP BY t.uri"
        ).fetchall()
    return {uri.rsplit("-", 1)[-1][-8:]: n for uri, n in rows}


def checkpoint(dsn: str) -> dict | None:
    with psycopg.connect(dsn) as conn:
        return runs.get_checkpoint(conn, "gitcache")


def test_first_clone_update_and_nothing_new(
    pg_dsn: str, tmp_path: Path, upstream: Upstream
) -> None:
    settings = settings_for(tmp_path, upstream.url)

    first = run_source(pg_dsn, settings, "gitcache", trigger="test")
    assert first.status == "succeeded", first.error
    assert first.details["mode"] == "full"
    assert first.ingest and first.ingest["files_new"] == 3
    assert decks_by_event(pg_dsn) == {"10000001": 2, "10000002": 2, "10000003": 1}
    assert first.counts.newest_event is not None and first.counts.newest_event.isoformat() == (
        "2025-03-03"
    )
    assert checkpoint(pg_dsn)["commit"] == upstream.git("rev-parse", "HEAD")

    # An update that adds, changes and deletes files: only the changed files are ingested.
    upstream.put(10000004, "2025-03-04", ["frank", "grace", "heidi"])
    upstream.put(10000001, "2025-03-01", ["alice", "bob", "ivan"])
    upstream.delete(10000003, "2025-03-03")
    head = upstream.commit("add, change, delete")
    with psycopg.connect(pg_dsn) as conn:
        marked_before = conn.execute("SELECT coalesce(max(id), 0) FROM stats_dirty_days")
        dirty_from = marked_before.fetchone()[0]
    second = run_source(pg_dsn, settings, "gitcache", trigger="test")
    assert second.status == "succeeded", second.error
    assert second.details["mode"] == "diff" and second.details["deleted"] == 1
    assert second.ingest and second.ingest["files_seen"] == 2  # not the whole tree
    assert second.ingest["files_new"] == 1 and second.ingest["files_changed"] == 1
    events = decks_by_event(pg_dsn)
    assert events["10000001"] == 3 and events["10000004"] == 3
    # The deleted file's event left the database, and the statistics are told which day.
    assert "10000003" not in events
    forgotten = second.details["deletions"]["forgotten"]
    assert (forgotten["files"], forgotten["events_deleted"]) == (1, 1)
    assert forgotten["days"] == [["Modern", "2025-03-03"]]
    assert second.ingested_anything
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute(
            "SELECT count(*) FROM source_files WHERE path LIKE '%10000003.json'"
        ).fetchone() == (0,)
        orphans = conn.execute(
            "SELECT count(*) FROM decks d WHERE NOT EXISTS "
            "(SELECT 1 FROM tournaments t WHERE t.id = d.tournament_id)"
        ).fetchone()
    assert orphans == (0,)
    # The statistics refresh is told (migration 0013's triggers, in the deletion's own
    # transaction): the deleted event's day is dirty, beside the two changed ones.
    with psycopg.connect(pg_dsn) as conn:
        dirty = conn.execute(
            "SELECT DISTINCT format, event_date::text FROM stats_dirty_days WHERE id > %s",
            (dirty_from,),
        ).fetchall()
    assert ("Modern", "2025-03-03") in dirty
    assert set(dirty) == {
        ("Modern", "2025-03-01"),
        ("Modern", "2025-03-03"),
        ("Modern", "2025-03-04"),
    }
    assert checkpoint(pg_dsn)["commit"] == head
    checkout = tmp_path / "data" / "gitcache" / "checkout"
    assert not (checkout / rel_path(10000003, "2025-03-03")).exists()

    # Nothing new upstream: nothing ingested at all.
    third = run_source(pg_dsn, settings, "gitcache", trigger="test")
    assert third.status == "succeeded" and third.details["mode"] == "unchanged"
    assert third.ingest is None and not third.ingested_anything


def test_force_pushed_history_is_diffed_against_the_old_commit(
    pg_dsn: str, tmp_path: Path, upstream: Upstream
) -> None:
    settings = settings_for(tmp_path, upstream.url)
    assert run_source(pg_dsn, settings, "gitcache").status == "succeeded"
    before = checkpoint(pg_dsn)["commit"]

    # Rewrite history: a new root commit with one event changed, one added, one deleted.
    upstream.git("checkout", "--quiet", "--orphan", "rewritten")
    upstream.put(10000002, "2025-03-02", ["carol", "dave", "judy"])
    upstream.put(10000005, "2025-03-05", ["mallory"])
    upstream.delete(10000001, "2025-03-01")
    upstream.git("add", "--all")
    upstream.git("commit", "--quiet", "-m", "squashed history")
    upstream.git("push", "--quiet", "--force", "origin", "rewritten:main")
    head = upstream.git("rev-parse", "HEAD")
    assert upstream.git("rev-list", "--count", "HEAD") == "1"

    report = run_source(pg_dsn, settings, "gitcache")
    assert report.status == "succeeded", report.error
    assert report.details["mode"] == "diff" and report.details["previous"] == before
    assert report.details["reason"] == "history rewritten"
    ingest = report.ingest
    assert ingest is not None
    # Only what changed between the two trees: nothing twice, the deletion seen.
    assert (ingest["files_seen"], ingest["files_new"], ingest["files_changed"]) == (2, 1, 1)
    assert report.details["deleted"] == 1
    events = decks_by_event(pg_dsn)
    assert events == {"10000002": 3, "10000003": 1, "10000005": 1}
    assert checkpoint(pg_dsn)["commit"] == head


def test_a_recreated_clone_falls_back_to_a_full_scan(
    pg_dsn: str, tmp_path: Path, upstream: Upstream
) -> None:
    settings = settings_for(tmp_path, upstream.url)
    assert run_source(pg_dsn, settings, "gitcache").status == "succeeded"
    # The clone is lost (volume re-created) while upstream rewrote its history: the recorded
    # commit exists nowhere any more, so every file is looked at again.
    shutil.rmtree(tmp_path / "data" / "gitcache" / "checkout")
    upstream.git("checkout", "--quiet", "--orphan", "rewritten")
    upstream.put(10000002, "2025-03-02", ["carol", "dave", "judy"])
    upstream.put(10000005, "2025-03-05", ["mallory"])
    upstream.git("add", "--all")
    upstream.git("commit", "--quiet", "-m", "squashed history")
    upstream.git("push", "--quiet", "--force", "origin", "rewritten:main")
    upstream.git("reflog", "expire", "--expire=now", "--all", cwd=upstream.bare)
    upstream.git("gc", "--quiet", "--prune=now", cwd=upstream.bare)
    report = run_source(pg_dsn, settings, "gitcache")
    assert report.status == "succeeded", report.error
    assert report.details["mode"] == "full"
    assert report.details["reason"] == "recorded commit unknown"
    ingest = report.ingest
    assert ingest is not None
    # Full scan, yet the two untouched files are skipped without parsing: nothing twice.
    assert (ingest["files_seen"], ingest["files_unchanged"]) == (4, 2)
    assert (ingest["files_new"], ingest["files_changed"]) == (1, 1)
    assert decks_by_event(pg_dsn) == {
        "10000001": 2,
        "10000002": 3,
        "10000003": 1,
        "10000005": 1,
    }


def test_unreachable_remote_is_a_clear_error_and_ingests_nothing(
    pg_dsn: str, tmp_path: Path, upstream: Upstream
) -> None:
    settings = settings_for(tmp_path, upstream.url)
    assert run_source(pg_dsn, settings, "gitcache").status == "succeeded"
    recorded = checkpoint(pg_dsn)
    events = decks_by_event(pg_dsn)

    upstream.put(10000006, "2025-03-06", ["oscar"])
    upstream.commit("one more")
    gone = settings_for(tmp_path, (tmp_path / "moved-away.git").as_uri())
    report = run_source(pg_dsn, gone, "gitcache")
    assert report.status == "failed"
    assert report.error and "git fetch failed" in report.error
    assert "moved-away.git" in report.error
    assert checkpoint(pg_dsn) == recorded
    assert decks_by_event(pg_dsn) == events
    with psycopg.connect(pg_dsn) as conn:
        status, error = conn.execute(
            "SELECT status, error FROM source_runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert status == "failed" and "git fetch failed" in error

    # Back online: the next run picks up exactly what it missed.
    report = run_source(pg_dsn, settings, "gitcache")
    assert report.status == "succeeded" and report.details["mode"] == "diff"
    assert report.ingest and report.ingest["files_seen"] == 1
    assert decks_by_event(pg_dsn)["10000006"] == 1


def test_first_clone_of_an_unreachable_remote(pg_dsn: str, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, (tmp_path / "nothing-here.git").as_uri())
    report = run_source(pg_dsn, settings, "gitcache")
    assert report.status == "failed" and "git clone failed" in (report.error or "")
    assert checkpoint(pg_dsn) is None


def test_credentials_in_the_url_never_reach_the_error(pg_dsn: str, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "http://user:s3cr3t-token@127.0.0.1:9/cache.git")
    report = run_source(pg_dsn, settings, "gitcache")
    assert report.status == "failed"
    assert "s3cr3t-token" not in (report.error or "")
