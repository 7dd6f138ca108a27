"""``formats sync`` against a real git repository served from disk (no network here)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pipelines.classify.sync import RECORD, SyncError, sync_formats, synced_commit
from pipelines.cli import main as cli_main

DEFINITIONS = Path(__file__).parents[1] / "fixtures" / "definitions"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


@pytest.fixture
def upstream(tmp_path: Path) -> Path:
    """A repository shaped like MTGOFormatData (Formats/<Format>/...)."""
    repo = tmp_path / "upstream"
    shutil.copytree(DEFINITIONS, repo / "Formats")
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-qm", "first", cwd=repo)
    return repo


def test_clone_then_update_records_the_commit(upstream: Path, tmp_path: Path) -> None:
    target = tmp_path / "checkout"
    first = sync_formats(target, upstream.as_uri())
    assert first.action == "cloned" and first.commit == git("rev-parse", "HEAD", cwd=upstream)
    assert (first.formats_dir / "Modern" / "Archetypes" / "Burn.json").is_file()
    assert synced_commit(first.formats_dir) == first.commit
    (upstream / "Formats" / "Modern" / "Archetypes" / "New.json").write_text(
        json.dumps({"Name": "New", "Conditions": [{"Type": "InMainboard", "Cards": ["X"]}]})
    )
    git("add", ".", cwd=upstream)
    git("commit", "-qm", "second", cwd=upstream)
    second = sync_formats(target, upstream.as_uri())
    assert second.action == "updated" and second.commit != first.commit
    assert json.loads((target / RECORD).read_text())["commit"] == second.commit
    assert (target / "Formats" / "Modern" / "Archetypes" / "New.json").is_file()


def test_unreachable_repository_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SyncError, match="git clone failed"):
        sync_formats(tmp_path / "x", "http://127.0.0.1:9/MTGOFormatData.git")


def test_cli(upstream: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "via-cli"
    assert cli_main(["formats", "sync", "--into", str(target), "--url", upstream.as_uri()]) == 0
    assert "cloned" in capsys.readouterr().out
    assert cli_main(["formats", "sync", "--into", str(tmp_path / "y"), "--url", "/nope"]) == 2
    assert "formats sync: git clone failed" in capsys.readouterr().err
