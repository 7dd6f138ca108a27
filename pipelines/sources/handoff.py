"""Handing what the sources changed to the ingestion: written files, deleted files, and the
rule for a path that both the cache repository and a site scraper hold.

Ingestion keys a file by its path relative to its tree (``MTGO/2025/03/09/<name>.json``), and
the repository clone and the scrapers' cache folder are two trees with the same layout: for
MTGO both name a file after the event's URL, so the same event lands on the same path.

**One path, one file: the repository's copy wins.** A scraped document whose path exists in
the repository clone is written to the scrapers' folder but not ingested (it is
*shadowed*); when the repository later adds a path a scraper already ingested, its copy
replaces the scraper's (an ordinary changed file); when the repository deletes a path, the
scraper's copy, if there is one, is ingested in its place, otherwise the file is forgotten
(:mod:`pipelines.ingest.forget`). The stored version of a path therefore never flips with
the order runs happen in: the repository's while it has the file, the scraper's after.

Different paths of one event (the scrapers' Melee/Topdeck file names can differ from the
repository's in how format words are shortened) are two files of the same event (source,
canonical URI): one event, merged by the ingestion's usual rule (the authoritative document
is the latest folder date, then most decks; leagues get the union of their decks).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from pipelines.core.settings import Settings
from pipelines.ingest.cache import IngestSummary, ingest_cache
from pipelines.ingest.forget import forget_files
from pipelines.ingest.parse import path_info
from pipelines.sources.registry import gitcache_config
from pipelines.sources.staging import staged_tree

log = logging.getLogger("manalytics.sources.handoff")


def scraped_root(settings: Settings) -> Path:
    """The site scrapers' cache tree."""
    return settings.sources_dir / "cache"


def repository_root(settings: Settings) -> Path:
    """The cache repository's tree inside its clone."""
    config = gitcache_config(settings)
    return config.checkout / config.subdir if config.subdir else config.checkout


def ingest(dsn: str, settings: Settings, root: Path, rels: list[str] | None) -> IngestSummary:
    """Ingest the whole tree (``rels`` None) or exactly ``rels`` of it."""
    if rels is None:
        return ingest_cache(dsn, root)
    with staged_tree(root, rels, settings.sources_dir / "staging") as tree:
        return ingest_cache(dsn, tree)


def split_shadowed(settings: Settings, rels: Iterable[str]) -> tuple[list[str], list[str]]:
    """Scraped paths to ingest, and those the repository holds (not ingested)."""
    repository = repository_root(settings)
    own: list[str] = []
    shadowed: list[str] = []
    for rel in rels:
        (shadowed if (repository / rel).is_file() else own).append(rel)
    if shadowed:
        log.info(
            "%d scraped files are held by the cache repository (its copy wins): %s",
            len(shadowed),
            ", ".join(shadowed[:5]),
        )
    return own, shadowed


def handle_deleted(dsn: str, settings: Settings, deleted: list[str]) -> dict[str, Any]:
    """Paths the repository deleted: the scrapers' copy takes over, or they are forgotten."""
    scraped = scraped_root(settings)
    takeover = [rel for rel in deleted if (scraped / rel).is_file()]
    gone = [rel for rel in deleted if rel not in set(takeover)]
    result: dict[str, Any] = {"deleted": len(deleted), "scraped_copy": len(takeover)}
    if takeover:
        result["ingest"] = ingest(dsn, settings, scraped, takeover).as_dict()
    summary = forget_files(dsn, gone)
    result["forgotten"] = summary.as_dict()
    if deleted:
        log.info(
            "cache repository deleted %d files: %d replaced by a scraped copy, %d events "
            "deleted, %d rebuilt",
            len(deleted),
            len(takeover),
            summary.events_deleted,
            summary.events_rebuilt,
        )
    return result


def newest(rels: Iterable[str]) -> date | None:
    """Newest folder date among cache paths."""
    days = [d for d in (path_info(rel)[1] for rel in rels) if d is not None]
    return max(days) if days else None


def newest_in_tree(root: Path) -> date | None:
    """Newest ``<Source>/yyyy/mm/dd`` folder of a cache tree (no file is opened)."""
    found_newest = None
    for source_dir in (p for p in root.iterdir() if p.is_dir()):
        try:
            year = max(p for p in source_dir.iterdir() if p.name.isdigit())
            month = max(p for p in year.iterdir() if p.name.isdigit())
            day = max(p for p in month.iterdir() if p.name.isdigit())
            found = date(int(year.name), int(month.name), int(day.name))
        except ValueError:  # empty or foreign folder
            continue
        found_newest = found if found_newest is None or found > found_newest else found_newest
    return found_newest
