"""One fetch run of one source: list, fetch what is new, write cache files, ingest them.

Site adapters (:mod:`pipelines.sources.base`):

1. list the events of ``[since, until]`` (an event listed twice is fetched once);
2. skip the events already fetched, except those younger than ``SOURCES_REFETCH_DAYS``
   (results and leagues change after publication) and earlier failures; an operator can
   also re-fetch the quarantined ones (``refetch="quarantined"``, after a parser fix) or
   every listed one (``refetch="all"``, ``--force``), or replay them all from the stored
   pages without fetching (``refetch="replay"``, :mod:`pipelines.sources.replay`);
3. fetch each remaining event; its documents are written atomically into the cache layout
   ``<SOURCES_DATA_DIR>/cache/<Folder>/<yyyy>/<mm>/<dd>/<name>.json`` (a document whose
   bytes did not change is not rewritten);
4. hand exactly the written files to the existing ingestion (:mod:`pipelines.sources.staging`),
   except those whose path the cache repository holds (:mod:`pipelines.sources.handoff`:
   one path, one file, the repository's copy wins).

A page an adapter cannot parse is quarantined (URL, status, error; its raw bytes are in
``source_pages``) and the run goes on; an event whose fetch failed (HTTP error, site
unreachable after the client's retries) is recorded as failed and retried next run. A
listing that fails fails the run of that source only.

The cache repository (:mod:`pipelines.sources.gitcache`) takes the same run record and
ingestion path, with the changed files of the git diff instead of fetched events; the files
it deletes leave the database (:func:`pipelines.sources.handoff.handle_deleted`).

Runs of one source never overlap: a second one (beat firing again, an operator) finds the
source's advisory lock held and returns ``skipped`` at once.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg

from pipelines.core.db import connect
from pipelines.core.settings import Settings
from pipelines.sources import gitcache, handoff, runs
from pipelines.sources.base import (
    CacheDocument,
    EventRef,
    HttpClient,
    HttpStatusError,
    MissingCredentials,
    PageParseError,
    Source,
    TransientFetchError,
)
from pipelines.sources.http import SourceHttpClient
from pipelines.sources.pages import PageStore
from pipelines.sources.registry import build_adapter, client_config, gitcache_config
from pipelines.sources.replay import ReplayHttpClient
from pipelines.sources.runs import RunCounts

log = logging.getLogger("manalytics.sources.fetch")

# Statuses of an event checkpoint that mean "done, fetch again only while young".
DONE = frozenset({"fetched", "empty", "quarantined"})
# What a run re-fetches among the events it lists (see select_events).
REFETCH = ("new", "quarantined", "all", "replay")

Progress = Callable[[Iterable[EventRef], int], Iterable[EventRef]]
ClientFactory = Callable[[PageStore], SourceHttpClient | ReplayHttpClient]


@dataclass
class FetchReport:
    """The outcome of one run (CLI output, Celery task result)."""

    source: str
    status: str  # succeeded, partial, failed, skipped, disabled
    run_id: int | None = None
    counts: RunCounts = field(default_factory=RunCounts)
    error: str | None = None
    ingest: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ingested_anything(self) -> bool:
        """Whether the run wrote something to the database (the chain has work to do)."""
        deletions = self.details.get("deletions") or {}
        if deletions.get("scraped_copy") or (deletions.get("forgotten") or {}).get("files"):
            return True
        if not self.ingest:
            return False
        return bool(self.ingest.get("files_new") or self.ingest.get("files_changed"))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (dates as ISO strings, no file list)."""
        counts = asdict(self.counts)
        counts.pop("written")
        if counts["newest_event"] is not None:
            counts["newest_event"] = counts["newest_event"].isoformat()
        result = {"source": self.source, "status": self.status, "run_id": self.run_id}
        ingest = dict(self.ingest or {})
        ingest.pop("quarantined_paths", None)
        return {**result, **counts, "error": self.error, "ingest": ingest or None, **self.details}


@dataclass(frozen=True)
class Window:
    """The dates a run lists, and what counts as young."""

    since: date
    until: date
    refetch_since: date

    @classmethod
    def nightly(
        cls,
        settings: Settings,
        since: date | None = None,
        until: date | None = None,
        today: date | None = None,
    ) -> Window:
        """``since``/``until`` or the nightly window (the last ``SOURCES_LOOKBACK_DAYS``)."""
        today = today or datetime.now(UTC).date()
        until = until or today
        since = since or until - timedelta(days=settings.sources_lookback_days)
        if since > until:
            raise ValueError(f"since ({since}) is after until ({until})")
        return cls(since, until, today - timedelta(days=settings.sources_refetch_days))


# --------------------------------------------------------------------------- writing files


def _encode(document: CacheDocument) -> bytes:
    # The reference writer's format: UTF-8, non-ASCII kept, 2-space indentation. orjson, not
    # json: with indentation the standard library falls back to its pure-Python encoder,
    # which took 40 % of an MTGO fetch run (ops.bench.sources). Same text except that tiny
    # floats are written in plain decimals (0.00001, not 1e-05).
    return orjson.dumps(dict(document.document), option=orjson.OPT_INDENT_2)


def write_documents(root: Path, documents: Iterable[CacheDocument]) -> list[str]:
    """Write ``documents`` atomically below ``root``; the relative paths whose bytes changed
    (an unchanged file keeps its mtime, so ingestion does not even open it)."""
    written = []
    for document in documents:
        rel = document.relative_path().as_posix()
        target = root / rel
        data = _encode(document)
        try:
            if target.read_bytes() == data:
                continue
        except FileNotFoundError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        written.append(rel)
    return written


# --------------------------------------------------------------------------- site adapters


def _unique(refs: Iterable[EventRef]) -> list[EventRef]:
    """Events by key, first listing wins (sites list an event twice across pages/slices)."""
    seen: dict[str, EventRef] = {}
    for ref in refs:
        seen.setdefault(ref.key, ref)
    return sorted(seen.values(), key=lambda r: (r.date, r.key))


def select_events(
    conn: psycopg.Connection,
    name: str,
    refs: list[EventRef],
    window: Window,
    refetch: str = "new",
) -> tuple[list[EventRef], int]:
    """Events to fetch now, and how many are skipped as already fetched.

    ``refetch``: ``new`` (the nightly rule: new, failed and young events), ``quarantined``
    (also the events quarantined earlier, whatever their age: after a parser fix) or ``all``
    (every listed event: ``--force``)."""
    if refetch not in REFETCH:
        raise ValueError(f"refetch must be one of {', '.join(REFETCH)}, not {refetch!r}")
    known = runs.known_events(conn, name, [r.key for r in refs])
    done = DONE - {"quarantined"} if refetch == "quarantined" else DONE
    todo = [
        r
        for r in refs
        if refetch == "all" or known.get(r.key) not in done or r.date >= window.refetch_since
    ]
    return todo, len(refs) - len(todo)


def _fetch_one(
    conn: psycopg.Connection,
    source: Source,
    http: HttpClient,
    ref: EventRef,
    run_id: int,
    counts: RunCounts,
    root: Path,
) -> None:
    name = source.name
    try:
        documents = source.fetch_event(http, ref)
    except PageParseError as exc:
        log.warning("%s: quarantined %s: %s", name, ref.key, exc)
        runs.quarantine_page(
            conn, name, run_id, event_key=ref.key, url=exc.url, status=exc.status, error=str(exc)
        )
        runs.record_event(conn, run_id, ref, "quarantined", error=str(exc))
        counts.quarantined += 1
        counts.fail("parse")
        return
    except HttpStatusError as exc:
        reason = f"http_{exc.status}"
    except TransientFetchError as exc:
        reason = exc.reason
    except MissingCredentials:
        raise
    except Exception as exc:  # an adapter bug on an unexpected page: keep it, go on
        log.exception("%s: %s failed unexpectedly", name, ref.key)
        error = f"{type(exc).__name__}: {exc}"
        runs.quarantine_page(
            conn, name, run_id, event_key=ref.key, url=ref.key, status=None, error=error
        )
        runs.record_event(conn, run_id, ref, "quarantined", error=error)
        counts.quarantined += 1
        counts.fail("adapter_error")
        return
    else:
        written = write_documents(root, documents)
        paths = [d.relative_path().as_posix() for d in documents]
        runs.record_event(conn, run_id, ref, "fetched" if documents else "empty", documents=paths)
        counts.fetched += 1
        counts.documents += len(written)
        counts.written += written
        counts.saw(ref.date)
        return
    # HTTP error or unreachable: the event is retried next run.
    log.warning("%s: %s not fetched (%s)", name, ref.key, reason)
    runs.record_event(conn, run_id, ref, "failed", error=reason)
    counts.failed += 1
    counts.fail(reason)


def fetch_site(
    conn: psycopg.Connection,
    source: Source,
    http: HttpClient,
    window: Window,
    run_id: int,
    counts: RunCounts,
    root: Path,
    progress: Progress | None = None,
    refetch: str = "new",
) -> str:
    """Steps 1-3 of the module docstring; the run's status."""
    try:
        refs = _unique(source.list_events(http, window.since, window.until))
    except PageParseError as exc:
        runs.quarantine_page(
            conn,
            source.name,
            run_id,
            event_key=None,
            url=exc.url,
            status=exc.status,
            error=f"listing: {exc}",
        )
        counts.quarantined += 1
        counts.fail("parse")
        raise
    counts.listed = len(refs)
    todo, counts.skipped = select_events(conn, source.name, refs, window, refetch)
    log.info(
        "%s: %d events listed in %s..%s, %d to fetch",
        source.name,
        len(refs),
        window.since,
        window.until,
        len(todo),
    )
    for ref in progress(todo, len(todo)) if progress else todo:
        _fetch_one(conn, source, http, ref, run_id, counts, root)
    return "partial" if counts.failed or counts.quarantined else "succeeded"


# --------------------------------------------------------------------------- runs


def _lock(conn: psycopg.Connection, name: str) -> bool:
    row = conn.execute(
        "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (f"manalytics.source.{name}",)
    ).fetchone()
    conn.commit()
    return bool(row and row[0])


def _unlock(conn: psycopg.Connection, name: str) -> None:
    conn.rollback()
    conn.execute(
        "SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (f"manalytics.source.{name}",)
    )
    conn.commit()


def _run_gitcache(
    conn: psycopg.Connection, dsn: str, settings: Settings, report: FetchReport
) -> None:
    config = gitcache_config(settings)
    checkpoint = runs.get_checkpoint(conn, gitcache.NAME) or {}
    same_origin = (checkpoint.get("url"), checkpoint.get("branch")) == (config.url, config.branch)
    previous = checkpoint.get("commit") if same_origin else None
    result = gitcache.sync(config, previous)
    counts = report.counts
    report.details.update(
        commit=result.commit,
        previous=result.previous,
        mode=result.mode,
        reason=result.reason,
        deleted=len(result.deleted),
    )
    if result.mode != "unchanged":
        rels = None if result.full_scan else result.changed
        summary = handoff.ingest(dsn, settings, result.root, rels)
        report.ingest = summary.as_dict()
        counts.listed = summary.files_seen
        counts.fetched = summary.files_new + summary.files_changed
        counts.skipped = summary.files_unchanged
        counts.documents = counts.fetched
        counts.quarantined = summary.files_quarantined
        counts.newest_event = (
            handoff.newest_in_tree(result.root)
            if result.full_scan
            else handoff.newest(result.changed)
        )
    if result.deleted:
        report.details["deletions"] = handoff.handle_deleted(dsn, settings, result.deleted)
    runs.set_checkpoint(
        conn,
        gitcache.NAME,
        {
            "commit": result.commit,
            "url": config.url,
            "branch": config.branch,
            "synced_at": datetime.now(UTC).isoformat(),
        },
    )
    report.status = "partial" if counts.quarantined else "succeeded"


def _run_site(
    conn: psycopg.Connection,
    dsn: str,
    settings: Settings,
    report: FetchReport,
    window: Window,
    source: Source,
    client_factory: ClientFactory | None,
    progress: Progress | None,
    refetch: str,
) -> None:
    assert report.run_id is not None
    store = PageStore(conn, source.name, report.run_id)
    factory = client_factory or (
        lambda s: SourceHttpClient(source.name, client_config(settings), store=s)
    )
    if refetch == "replay":
        # Every listed event again, answered from the stored pages (see replay.py).
        factory, refetch = (lambda s: ReplayHttpClient(PageStore(conn, source.name))), "all"
    root = handoff.scraped_root(settings)
    pending = runs.unfinished_writes(conn, source.name)
    with factory(store) as http:
        try:
            report.status = fetch_site(
                conn, source, http, window, report.run_id, report.counts, root, progress, refetch
            )
        finally:
            report.counts.pages += http.stats.pages
            report.counts.retries += http.stats.retries
    written = sorted(set(report.counts.written) | set(pending))
    to_ingest, shadowed = handoff.split_shadowed(settings, written)
    if shadowed:
        report.details["shadowed"] = len(shadowed)
    if to_ingest:
        report.ingest = handoff.ingest(dsn, settings, root, to_ingest).as_dict()


def _keep_what_was_fetched(conn: psycopg.Connection) -> None:
    """Commit the pages stored since the last event (the failing listing's error page...);
    a transaction the failure broke is rolled back instead."""
    try:
        conn.commit()
    except psycopg.Error:
        conn.rollback()


def run_source(
    dsn: str,
    settings: Settings,
    name: str,
    *,
    since: date | None = None,
    until: date | None = None,
    trigger: str = "manual",
    today: date | None = None,
    source: Source | None = None,
    client_factory: ClientFactory | None = None,
    progress: Progress | None = None,
    refetch: str = "new",
) -> FetchReport:
    """Run one source end to end (see the module docstring). Never raises for a source's
    own failures: they are in the report and the run record."""
    window = Window.nightly(settings, since, until, today)
    if refetch not in REFETCH:
        raise ValueError(f"refetch must be one of {', '.join(REFETCH)}, not {refetch!r}")
    report = FetchReport(name, "running")
    with connect(dsn, application_name=f"manalytics-source-{name}") as conn:
        if name != gitcache.NAME and source is None:
            try:
                source = build_adapter(settings, name)
            except MissingCredentials as exc:
                log.warning("source %s disabled: %s", name, exc)
                runs.record_disabled(conn, name, str(exc))
                return FetchReport(name, "disabled", error=str(exc))
        if not _lock(conn, name):
            log.info("source %s: another run is in progress, skipped", name)
            return FetchReport(name, "skipped", error="another run of this source is in progress")
        try:
            report.run_id = runs.start_run(
                conn, name, trigger=trigger, since=window.since, until=window.until
            )
            try:
                if source is None:
                    _run_gitcache(conn, dsn, settings, report)
                else:
                    _run_site(
                        conn,
                        dsn,
                        settings,
                        report,
                        window,
                        source,
                        client_factory,
                        progress,
                        refetch,
                    )
            except Exception as exc:  # one failing source never blocks the others
                log.exception("source %s failed", name)
                report.status, report.error = "failed", f"{type(exc).__name__}: {exc}"
                _keep_what_was_fetched(conn)
            runs.finish_run(conn, report.run_id, report.status, report.counts, report.error)
        finally:
            _unlock(conn, name)
    return report
