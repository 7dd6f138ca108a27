"""``manalytics formats sync``: fetch the public MTGOFormatData repository.

Clones (first time) or fast-forwards (afterwards) the repository into a folder and records
the commit it got in ``<folder>/.manalytics-sync.json``; the definitions then live in
``<folder>/Formats`` (point ``MANALYTICS_FORMATS_DIR`` there). Without network access the
command fails at once with git's reason.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipelines.core.git import GitError, run_git

DEFAULT_URL = "https://github.com/Badaro/MTGOFormatData.git"
RECORD = ".manalytics-sync.json"
GIT_TIMEOUT_S = 300


class SyncError(RuntimeError):
    """git could not clone or update the repository; the message says why."""


@dataclass(frozen=True)
class SyncResult:
    """What a sync got."""

    folder: str
    url: str
    commit: str
    action: str  # "cloned" or "updated"
    synced_at: str

    @property
    def formats_dir(self) -> Path:
        return Path(self.folder) / "Formats"


def _git(*args: str, cwd: Path | None = None) -> str:
    try:
        return run_git(*args, cwd=cwd, timeout=GIT_TIMEOUT_S)
    except GitError as exc:
        raise SyncError(str(exc)) from None


def sync_formats(folder: Path, url: str = DEFAULT_URL) -> SyncResult:
    """Clone or fast-forward ``url`` into ``folder``; record and return the commit."""
    if (folder / ".git").is_dir():
        _git("pull", "--ff-only", "--quiet", cwd=folder)
        action = "updated"
    else:
        if folder.exists() and any(folder.iterdir()):
            raise SyncError(f"{folder} exists and is not a git checkout")
        folder.parent.mkdir(parents=True, exist_ok=True)
        _git("clone", "--quiet", "--depth", "1", url, str(folder))
        action = "cloned"
    commit = _git("rev-parse", "HEAD", cwd=folder)
    result = SyncResult(str(folder), url, commit, action, datetime.now(UTC).isoformat())
    (folder / RECORD).write_text(json.dumps(asdict(result), indent=2) + "\n")
    return result


def synced_commit(formats_dir: Path) -> str | None:
    """The commit recorded by the last sync of the repository holding ``formats_dir``."""
    record = formats_dir.parent / RECORD
    if not record.is_file():
        return None
    return str(json.loads(record.read_text()).get("commit") or "") or None
