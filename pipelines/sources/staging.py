"""Hand exactly the files a source changed to the existing ingestion, unchanged.

:func:`pipelines.ingest.cache.ingest_cache` ingests a tree and keys files by their path
relative to that tree's root. A staging tree holds hard links (same inode: same size and
mtime, no copy) to the changed files under the same relative paths, so ingestion reads
only them and records them exactly as a scan of the full tree would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path


@contextlib.contextmanager
def staged_tree(root: Path, relative_paths: Iterable[str], work_dir: Path) -> Iterator[Path]:
    """A temporary tree under ``work_dir`` holding ``root``'s files at ``relative_paths``
    (those that exist); removed on exit. ``work_dir`` should be on ``root``'s file system
    (hard links); elsewhere files are copied with their times."""
    work_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=work_dir))
    try:
        for rel in relative_paths:
            source = root / rel
            if not source.is_file():
                continue  # deleted since: nothing to ingest
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)
