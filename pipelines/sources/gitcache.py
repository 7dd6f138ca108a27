"""The community decklist cache as a git repository: the default source of a deployment.

A clone of the cache repository (``GITCACHE_URL``, branch ``GITCACHE_BRANCH``; default the
public ``fbettega/MTG_decklistcache``) lives under the sources data directory. Each run
fetches the branch, moves the working tree to its tip and works out which files to ingest:

* first run (or no usable checkpoint): every file — a full scan;
* the recorded commit is an ancestor of the new tip: ``git diff --name-status`` between the
  two — added and modified files are ingested, deleted ones reported;
* history was rewritten (force push: the recorded commit is not an ancestor of the tip): the
  same diff between the two trees (the clone keeps the old commit's objects);
* the recorded commit is unknown to the clone (the clone was re-created): a full scan,
  which ingestion's size/mtime and hash checks make cheap (unchanged files are not even
  parsed); files deleted upstream meanwhile cannot be told apart and stay ingested.

Deleted files leave the database (:mod:`pipelines.ingest.forget`), unless a site scraper
holds a file at the same path (see :mod:`pipelines.sources.fetch`, "one path, one file").

The commit is recorded (``source_checkpoints``) only after ingestion succeeded, so a failed
run is redone from the same commit next time and nothing is ingested twice (ingestion skips
what it already has). An unreachable remote raises :class:`GitCacheError` before anything is
touched. Partial clone (``--filter=blob:none``): the full commit history (for the ancestry
check) without every past version of every file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.core.git import GitError, redact, run_git

log = logging.getLogger("manalytics.sources.gitcache")

NAME = "gitcache"


class GitCacheError(RuntimeError):
    """The cache repository could not be cloned or updated; the message says why."""


@dataclass(frozen=True)
class GitCacheConfig:
    """Where the repository comes from and where its clone lives."""

    url: str
    branch: str
    checkout: Path
    subdir: str = "Tournaments"  # the folder holding <Source>/yyyy/mm/dd/*.json
    timeout: float = 3600.0


@dataclass
class SyncResult:
    """What an update found."""

    previous: str | None
    commit: str
    mode: str  # "full" (first run, rewritten history), "diff" or "unchanged"
    root: Path  # the tree ingestion reads (<checkout>/<subdir>)
    changed: list[str] = field(default_factory=list)  # relative to root; None for full
    deleted: list[str] = field(default_factory=list)
    reason: str = ""

    @property
    def full_scan(self) -> bool:
        return self.mode == "full"


def _git(*args: str, cwd: Path | None, timeout: float, remote: str | None = None) -> str:
    try:
        return run_git(*args, cwd=cwd, timeout=timeout)
    except GitError as exc:
        where = f" (remote {redact(remote)})" if remote else ""
        raise GitCacheError(f"{exc}{where}") from None


def _is_commit(checkout: Path, sha: str) -> bool:
    try:
        run_git("cat-file", "-e", f"{sha}^{{commit}}", cwd=checkout, timeout=60)
    except GitError:
        return False
    return True


def _is_ancestor(checkout: Path, old: str, new: str) -> bool:
    try:
        run_git("merge-base", "--is-ancestor", old, new, cwd=checkout, timeout=300)
    except GitError:
        return False
    return True


def update_checkout(config: GitCacheConfig) -> str:
    """Clone or fetch, move the working tree to the branch tip; the tip's commit."""
    checkout, timeout = config.checkout, config.timeout
    ref = f"refs/remotes/origin/{config.branch}"
    if not (checkout / ".git").is_dir():
        if checkout.exists() and any(checkout.iterdir()):
            raise GitCacheError(f"{checkout} exists and is not a git checkout")
        checkout.parent.mkdir(parents=True, exist_ok=True)
        log.info("cloning %s (branch %s) into %s", redact(config.url), config.branch, checkout)
        _git(
            "clone",
            "--quiet",
            "--filter=blob:none",
            "--no-tags",
            "--single-branch",
            "--branch",
            config.branch,
            config.url,
            str(checkout),
            cwd=None,
            timeout=timeout,
            remote=config.url,
        )
    else:
        # The URL or branch may have changed in the settings since the clone.
        _git("remote", "set-url", "origin", config.url, cwd=checkout, timeout=60)
        _git(
            "fetch",
            "--quiet",
            "--no-tags",
            "--force",  # accept a force-pushed branch; the ancestry check handles it
            "origin",
            f"+refs/heads/{config.branch}:{ref}",
            cwd=checkout,
            timeout=timeout,
            remote=config.url,
        )
    commit = _git("rev-parse", f"{ref}^{{commit}}", cwd=checkout, timeout=60)
    _git("checkout", "--quiet", "--force", "--detach", commit, cwd=checkout, timeout=timeout)
    # Leftovers of an interrupted checkout would otherwise be ingested as cache files.
    _git("clean", "--quiet", "-d", "--force", "-x", cwd=checkout, timeout=timeout)
    return commit


def changes(config: GitCacheConfig, previous: str | None, commit: str) -> SyncResult:
    """What to ingest between the recorded commit ``previous`` and ``commit``."""
    root = config.checkout / config.subdir if config.subdir else config.checkout
    if previous == commit:
        return SyncResult(previous, commit, "unchanged", root)
    if previous is None:
        return SyncResult(previous, commit, "full", root, reason="first run")
    if not _is_commit(config.checkout, previous):
        log.warning(
            "recorded commit %s is unknown to the clone (re-created?): full scan; files "
            "deleted upstream since then cannot be told and stay ingested",
            previous[:12],
        )
        return SyncResult(previous, commit, "full", root, reason="recorded commit unknown")
    reason = ""
    if not _is_ancestor(config.checkout, previous, commit):
        # A force push. The old commit is still in the clone (the fetch keeps its objects):
        # a diff between the two trees still says exactly what was added, changed, deleted.
        log.warning(
            "cache repository history was rewritten (%s is not an ancestor of %s)",
            previous[:12],
            commit[:12],
        )
        reason = "history rewritten"
    pathspec = [config.subdir] if config.subdir else []
    output = _git(
        "diff",
        "--name-status",
        "--no-renames",  # a move is a delete plus an add: both sides handled
        "-z",
        previous,
        commit,
        "--",
        *pathspec,
        cwd=config.checkout,
        timeout=config.timeout,
    )
    result = SyncResult(previous, commit, "diff", root, reason=reason)
    prefix = f"{config.subdir}/" if config.subdir else ""
    fields = output.split("\0")
    for status, path in zip(fields[0::2], fields[1::2], strict=False):
        if not path.endswith(".json"):
            continue
        rel = path.removeprefix(prefix)
        if status.startswith("D"):
            result.deleted.append(rel)
        else:  # A, M, T (type change)
            result.changed.append(rel)
    return result


def sync(config: GitCacheConfig, previous: str | None) -> SyncResult:
    """Update the clone and say what changed since ``previous`` (the recorded commit)."""
    commit = update_checkout(config)
    result = changes(config, previous, commit)
    if not result.root.is_dir():
        raise GitCacheError(
            f"the cache repository has no {config.subdir or '.'} folder at commit {commit[:12]}"
        )
    log.info(
        "cache repository at %s (%s): %d changed, %d deleted files since %s",
        commit[:12],
        result.mode,
        len(result.changed),
        len(result.deleted),
        (previous or "-")[:12],
    )
    return result
