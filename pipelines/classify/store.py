"""Classification results in PostgreSQL: versions, chunked reclassification, atomic switch.

Each format's decks are labelled against one *definitions version* (the content hash of its
folder). Reclassification after a definitions change writes the new version's rows beside
the old ones in chunks of deck ids (each chunk a separate task, on any worker); when the
last chunk is done, one UPDATE of ``active_definitions`` switches every reader at once.
Newly ingested decks are labelled with the active version (:func:`classify_new_decks`).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pipelines.classify.definitions import (
    FormatDefinitions,
    dated_siblings,
    definitions_scope,
    format_dirs,
    load_all,
    load_format,
    pick_definitions,
)
from pipelines.classify.matcher import CompiledFormat, compile_format
from pipelines.classify.result import DEFAULT_MODE, Detection
from pipelines.classify.sync import synced_commit
from pipelines.core import db
from pipelines.ingest import copy as c
from pipelines.ingest.normalize import canonical_format

CHUNK_DECKS = 2500  # small enough to spread one format over several workers
# The decks a definitions folder classifies: its format's events, inside the folder's date
# range when it is dated ("Standard-20230701-20240802"), outside every dated sibling's range
# when it is not. Parameters: see _scope().
_IN_SCOPE = sql.SQL("""t.format = %(format)s
       AND (%(first)s::date IS NULL OR t.event_date BETWEEN %(first)s AND %(last)s)
       AND NOT EXISTS (SELECT 1 FROM unnest(%(starts)s::date[], %(ends)s::date[]) AS r(a, b)
                        WHERE t.event_date BETWEEN r.a AND r.b)""")
_DECKS_IN_SCOPE = sql.SQL("""
    SELECT d.id, d.main_card_ids, d.main_counts, d.side_card_ids, d.side_counts
      FROM decks d JOIN tournaments t ON t.id = d.tournament_id
     WHERE {scope} AND d.id BETWEEN %(first_id)s AND %(last_id)s
""").format(scope=_IN_SCOPE)
_UNLABELLED_DECKS_IN_SCOPE = sql.SQL("""
    SELECT d.id, d.main_card_ids, d.main_counts, d.side_card_ids, d.side_counts
      FROM decks d JOIN tournaments t ON t.id = d.tournament_id
     WHERE {scope} AND d.id > %(after)s AND NOT EXISTS (
           SELECT 1 FROM deck_archetypes a WHERE a.version_id = %(version)s AND a.deck_id = d.id)
""").format(scope=_IN_SCOPE)
# Labels of one version for decks of the scope's format that lie outside the scope.
_LABELS_OUT_OF_SCOPE = sql.SQL("""
    DELETE FROM deck_archetypes a USING decks d, tournaments t
     WHERE a.version_id = %(version)s AND d.id = a.deck_id AND t.id = d.tournament_id
       AND t.format = %(format)s AND NOT ({scope})
""").format(scope=_IN_SCOPE)
_CHUNKS_OF_SCOPE = sql.SQL("""
    INSERT INTO classification_chunks (run_id, chunk_no, first_deck_id, last_deck_id, decks)
    SELECT %(run)s, n, min(id), max(id), count(*)
      FROM (SELECT d.id, (row_number() OVER (ORDER BY d.id) - 1) / %(size)s AS n
              FROM decks d JOIN tournaments t ON t.id = d.tournament_id
             WHERE {scope}) numbered
     GROUP BY n
""").format(scope=_IN_SCOPE)


class ClassificationError(RuntimeError):
    """A request that cannot be served (unknown format, unknown deck, stale folder...)."""


@dataclass(frozen=True)
class RunProgress:
    """Where a reclassification run stands."""

    run_id: int
    format: str
    version: str
    status: str
    chunks_total: int
    chunks_done: int
    decks_total: int


@dataclass(frozen=True)
class LabelMove:
    """One line of a diff: how many decks went from one label to another."""

    old: str
    new: str
    decks: int


@lru_cache(maxsize=32)
def _compiled(fmt: FormatDefinitions) -> CompiledFormat:
    """Compiling takes ~0.1 s per format: once per process and definitions version."""
    return compile_format(fmt, DEFAULT_MODE)


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and mtimes of a folder's files: changes whenever a file does."""
    entries = []
    for path in sorted(folder.rglob("*.json")):
        stat = path.stat()
        entries.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


@lru_cache(maxsize=64)
def _load_format_cached(
    folder: Path, colours: Path, name: str, signature: tuple[tuple[str, int, int], ...]
) -> FormatDefinitions:
    del signature  # part of the cache key only
    return load_format(folder, colours, name=name)


@lru_cache(maxsize=8)
def _load_all_cached(
    formats_dir: Path, signature: tuple[tuple[str, int, int], ...]
) -> dict[str, FormatDefinitions]:
    del signature
    return load_all(formats_dir)


def load_definitions(formats_dir: Path, format_name: str) -> FormatDefinitions:
    """The definitions of one format from a Formats folder (exact name, then any case).

    Parsed once per process while the folder's files are unchanged (chunks of a run and
    nightly chains reuse it).
    """
    folder = formats_dir / format_name
    if not (folder / "Archetypes").is_dir():
        matches = [
            d
            for d in formats_dir.iterdir()
            if d.name.lower() == format_name.lower() and (d / "Archetypes").is_dir()
        ]
        if not matches:
            raise ClassificationError(f"no definitions for format {format_name!r} in {formats_dir}")
        folder = matches[0]
    colours = formats_dir / "card_colors.json"
    signature = _signature(folder) + _signature_of_file(colours)
    # Named after the folder, whatever the caller's spelling: one version history per folder.
    return _load_format_cached(folder, colours, folder.name, signature)


def _signature_of_file(path: Path) -> tuple[tuple[str, int, int], ...]:
    stat = path.stat()
    return ((str(path), stat.st_size, stat.st_mtime_ns),)


def origin_of(formats_dir: Path, fmt: FormatDefinitions) -> str:
    """Where a version came from: its folder, and the repository commit when synced."""
    commit = synced_commit(formats_dir)
    folder = str(formats_dir / fmt.name)
    return f"{folder} @ {commit}" if commit else folder


def ensure_version(conn: psycopg.Connection, fmt: FormatDefinitions, origin: str) -> int:
    """The id of this definitions version (recorded on first sight)."""
    row = conn.execute(
        """INSERT INTO definition_versions (format, version, origin) VALUES (%s, %s, %s)
           ON CONFLICT (format, version) DO UPDATE SET origin = definition_versions.origin
           RETURNING id""",
        (fmt.name, fmt.version, origin),
    ).fetchone()
    assert row is not None
    return int(row[0])


def active_version(conn: psycopg.Connection, format_name: str) -> tuple[int, str] | None:
    """(version id, version hash) readers currently see for a format."""
    row = conn.execute(
        """SELECT v.id, v.version FROM active_definitions a
             JOIN definition_versions v ON v.id = a.version_id WHERE a.format = %s""",
        (format_name,),
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else None


_CARD_NAMES: dict[tuple[str, str, int], dict[int, str]] = {}


class _CardNames:
    """Card id -> name, cached per process and database, extended when new ids show up.

    Card rows are only ever added (ids are never reused), so a cached name stays right; the
    key includes the database oid, so a dropped and re-created database starts afresh.
    """

    def __init__(self, conn: psycopg.Connection) -> None:
        row = conn.execute(
            "SELECT oid FROM pg_database WHERE datname = current_database()"
        ).fetchone()
        self.key = (conn.info.host, str(conn.info.port), int(row[0]) if row else 0)
        if self.key not in _CARD_NAMES:
            _CARD_NAMES[self.key] = dict(conn.execute("SELECT id, name FROM cards").fetchall())
        self.names = _CARD_NAMES[self.key]

    def matcher(self, matcher: CompiledFormat) -> CompiledFormat:
        """``matcher`` keyed by card id (cached), knowing every card name loaded so far."""
        key = (self.key, matcher)
        by_id = _ID_MATCHERS.get(key)
        if by_id is None:
            if len(_ID_MATCHERS) >= _ID_MATCHERS_LIMIT:
                _ID_MATCHERS.clear()
            by_id = _ID_MATCHERS[key] = matcher.for_card_ids(self.names)
        return by_id

    def teach(self, conn: psycopg.Connection, by_id: CompiledFormat, ids: Sequence[int]) -> None:
        """Make sure the id-keyed matcher knows every card id in ``ids``."""
        self._load(conn, ids)
        new = set(ids) - by_id.card_ids
        by_id.add_card_ids({i: self.names[i] for i in new if i in self.names})

    def _load(self, conn: psycopg.Connection, ids: Sequence[int]) -> None:
        missing = [i for i in set(ids) if i not in self.names]
        if missing:  # cards ingested since the cache was filled
            query = "SELECT id, name FROM cards WHERE id = ANY(%s)"
            self.names.update(conn.execute(query, (missing,)).fetchall())


_ID_MATCHERS: dict[tuple[tuple[str, str, int], CompiledFormat], CompiledFormat] = {}
_ID_MATCHERS_LIMIT = 64


def _detect_rows(
    conn: psycopg.Connection, matcher: CompiledFormat, query: sql.Composed, params: dict[str, Any]
) -> Iterator[tuple[int, Detection]]:
    """(deck id, detection) for every deck row ``query`` returns (id and the four arrays).

    Decks are classified straight from their card-id arrays by an id-keyed matcher.
    """
    cards = _CardNames(conn)
    by_id = cards.matcher(matcher)
    known = by_id.card_ids
    # Fetched first: unknown card ids need a query of their own.
    rows = conn.cursor(binary=True).execute(query, params).fetchall()
    for deck_id, main_ids, main_counts, side_ids, side_counts in rows:
        if not (known.issuperset(main_ids) and known.issuperset(side_ids)):
            cards.teach(conn, by_id, [*main_ids, *side_ids])
        yield deck_id, by_id.detect_lines(main_ids, main_counts, side_ids, side_counts)


def _detections(
    conn: psycopg.Connection, matcher: CompiledFormat, scope: dict[str, Any], first: int, last: int
) -> Iterator[tuple[int, Detection]]:
    params = {**scope, "first_id": first, "last_id": last}
    return _detect_rows(conn, matcher, _DECKS_IN_SCOPE, params)


def _scope(formats_dir: Path, name: str) -> dict[str, Any]:
    """Query parameters of ``_IN_SCOPE`` for the definitions folder ``name``."""
    scope = definitions_scope(name)
    # Events store canonical format names ("Modern"); a folder may be spelled otherwise.
    params: dict[str, Any] = {"format": canonical_format(scope.format)[0]}
    params |= {"first": scope.first, "last": scope.last}
    siblings = dated_siblings((d.name for d in format_dirs(formats_dir)), name)
    params |= {"starts": [s.first for s in siblings], "ends": [s.last for s in siblings]}
    return params


def _label_lines(version_id: int, labelled: Iterator[tuple[int, Detection]]) -> list[str]:
    """COPY lines of ``deck_archetypes``. Decks of one label mostly share one (cached)
    Detection object, so each distinct object is encoded once."""
    encoded: dict[int, tuple[Detection, str]] = {}  # id(d) -> (d kept alive, columns)
    lines = []
    for deck_id, d in labelled:
        hit = encoded.get(id(d))
        if hit is None:
            hit = encoded[id(d)] = (d, _label_columns(d))
        lines.append(f"{version_id}\t{deck_id}\t{hit[1]}")
    return lines


def _label_columns(d: Detection) -> str:
    candidates = "{" + ",".join(_array_item(x) for x in d.candidates) + "}"
    return c.line(
        (
            c.text(d.display_name),
            c.text(d.archetype),
            c.text(d.variant),
            d.colour,
            c.text(d.companion),
            d.method.value,
            c.number(d.fallback_score),
            c.text(candidates),
        )
    )


def _array_item(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_labels(
    conn: psycopg.Connection,
    version_id: int,
    labelled: Iterator[tuple[int, Detection]],
    fresh: bool = False,
) -> int:
    """Store labels for one version (replacing any earlier row of the same deck); returns n.

    ``fresh`` promises that none of these decks has a row for this version yet, so the rows
    can be copied straight into the table.
    """
    lines = _label_lines(version_id, labelled)
    if lines and fresh:
        with conn.cursor().copy("COPY deck_archetypes FROM STDIN") as copy:
            copy.write("".join(lines))
        return len(lines)
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS labels_in (LIKE deck_archetypes) ON COMMIT DELETE ROWS"
    )
    if lines:
        with conn.cursor().copy("COPY labels_in FROM STDIN") as copy:
            copy.write("".join(lines))
        # A redelivered chunk rewrites the same rows: idempotent.
        conn.execute(
            """INSERT INTO deck_archetypes SELECT * FROM labels_in
               ON CONFLICT (version_id, deck_id) DO UPDATE SET
                   archetype = EXCLUDED.archetype, definition = EXCLUDED.definition,
                   variant = EXCLUDED.variant, color = EXCLUDED.color,
                   companion = EXCLUDED.companion, method = EXCLUDED.method,
                   score = EXCLUDED.score, candidates = EXCLUDED.candidates"""
        )
    return len(lines)


def classify_new_decks(dsn: str, formats_dir: Path) -> dict[str, int]:
    """Label every deck without a label under its definitions' active version.

    A format's events are classified by its folder, or by a dated folder of the format
    (historical Standard) when one covers the event's date. Definitions seen for the first
    time get activated. Each format is done in one transaction, so readers never see a deck
    with two labels or none when dated folders come or go. Part of the ingestion chain;
    returns decks labelled per folder.
    """
    definitions = _load_all_cached(formats_dir, _signature(formats_dir))
    done: dict[str, int] = {}
    with db.connect(dsn, application_name="manalytics-classify") as conn:
        formats = [r[0] for r in conn.execute("SELECT DISTINCT format FROM tournaments")]
        for fmt_name, folders in _folders_by_format(definitions, formats).items():
            with conn.transaction():
                _retire_removed_dated_folders(conn, fmt_name, folders)
                for name in folders:
                    fmt = definitions[name]
                    version_id = _active_or_new(conn, fmt, origin_of(formats_dir, fmt))
                    scope = _scope(formats_dir, name)
                    if scope["starts"]:  # ranges now classified by a dated folder
                        _drop_labels_out_of_scope(conn, version_id, scope)
                    rows = _unlabelled(conn, _compiled(fmt), scope, version_id)
                    done[name] = write_labels(conn, version_id, rows, fresh=True)
    return done


def _folders_by_format(
    definitions: dict[str, FormatDefinitions], formats: list[str]
) -> dict[str, list[str]]:
    """Per format with events (case-folded): the folders classifying them, i.e. its own
    folder (exact name, then any case) and its dated folders. Formats without definitions
    stay unlabelled (readers show Unknown)."""
    wanted = {f.casefold() for f in formats}
    by_format: dict[str, list[str]] = {}
    for folder in sorted(definitions):
        scope = definitions_scope(folder)
        own = scope.dated or pick_definitions(definitions, scope.format, None) == folder
        if own and scope.format.casefold() in wanted:
            by_format.setdefault(scope.format.casefold(), []).append(folder)
    return by_format


def _retire_removed_dated_folders(conn: psycopg.Connection, fmt: str, folders: list[str]) -> None:
    """A dated folder that is gone stops labelling its range (its labels stay stored)."""
    for (active,) in conn.execute("SELECT format FROM active_definitions").fetchall():
        scope = definitions_scope(active)
        if scope.dated and scope.format.casefold() == fmt and active not in folders:
            conn.execute("DELETE FROM active_definitions WHERE format = %s", (active,))


def _drop_labels_out_of_scope(
    conn: psycopg.Connection, version_id: int, scope: dict[str, Any]
) -> None:
    """An undated folder's labels of decks a dated folder now classifies (it appeared after
    they were labelled): without this they would have two current labels."""
    conn.execute(_LABELS_OUT_OF_SCOPE, {**scope, "version": version_id})


def _active_or_new(conn: psycopg.Connection, fmt: FormatDefinitions, origin: str) -> int:
    # Serialise first activations of one format between concurrent chains.
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('classify:' || %s))", (fmt.name,))
    active = active_version(conn, fmt.name)
    if active is not None:
        return active[0]
    version_id = ensure_version(conn, fmt, origin)
    conn.execute(
        "INSERT INTO active_definitions (format, version_id) VALUES (%s, %s)",
        (fmt.name, version_id),
    )
    return version_id


def _unlabelled(
    conn: psycopg.Connection,
    matcher: CompiledFormat,
    scope: dict[str, Any],
    version_id: int,
    after: int = 0,
) -> Iterator[tuple[int, Detection]]:
    """Decks of the scope with ids above ``after`` that have no label of this version."""
    params = {**scope, "version": version_id, "after": after}
    return _detect_rows(conn, matcher, _UNLABELLED_DECKS_IN_SCOPE, params)


# -- reclassification ---------------------------------------------------------------------


def start_reclassification(
    dsn: str, formats_dir: Path, format_name: str, requested_by: str | None = None
) -> RunProgress:
    """Record a run for the format's current definitions and split its decks into chunks.

    The caller runs :func:`classify_chunk` for every chunk (on any workers, in any order).
    """
    with db.connect(dsn, application_name="manalytics-classify") as conn:
        return _start_run(conn, formats_dir, format_name, requested_by)


def _start_run(
    conn: psycopg.Connection, formats_dir: Path, format_name: str, requested_by: str | None
) -> RunProgress:
    fmt = load_definitions(formats_dir, format_name)
    version_id = ensure_version(conn, fmt, origin_of(formats_dir, fmt))
    run = conn.execute(
        "INSERT INTO classification_runs (format, version_id, requested_by) "
        "VALUES (%s, %s, %s) RETURNING id",
        (fmt.name, version_id, requested_by),
    ).fetchone()
    assert run is not None
    run_id = int(run[0])
    # Chunks of CHUNK_DECKS consecutive deck ids of the scope, cut by the server.
    scope = _scope(formats_dir, fmt.name)
    conn.execute(_CHUNKS_OF_SCOPE, {**scope, "run": run_id, "size": CHUNK_DECKS})
    total = conn.execute(
        "UPDATE classification_runs SET decks_total = (SELECT coalesce(sum(decks), 0) "
        "FROM classification_chunks WHERE run_id = %(run)s) WHERE id = %(run)s "
        "RETURNING decks_total",
        {"run": run_id},
    ).fetchone()
    if total is not None and total[0] == 0:  # nothing to label: complete at once
        _complete(conn, run_id, fmt, scope)
    conn.commit()
    return progress(conn, run_id)


def classify_chunk(
    dsn: str,
    formats_dir: Path,
    run_id: int,
    chunk_no: int,
    conn: psycopg.Connection | None = None,
) -> RunProgress:
    """Label one chunk; the call that finishes the last chunk switches readers atomically.

    ``conn`` (idle, outside a transaction) is used instead of a new connection when given;
    the chunk's transaction is committed, or rolled back on error, before returning.
    """
    if conn is None:
        with db.connect(dsn, application_name="manalytics-classify") as own:
            return classify_chunk(dsn, formats_dir, run_id, chunk_no, own)
    try:
        done = _classify_chunk(conn, formats_dir, run_id, chunk_no)
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return done


def _classify_chunk(
    conn: psycopg.Connection, formats_dir: Path, run_id: int, chunk_no: int
) -> RunProgress:
    row = conn.execute(
        """SELECT r.format, v.version, r.version_id, ch.first_deck_id, ch.last_deck_id
             FROM classification_chunks ch
             JOIN classification_runs r ON r.id = ch.run_id
             JOIN definition_versions v ON v.id = r.version_id
            WHERE ch.run_id = %s AND ch.chunk_no = %s""",
        (run_id, chunk_no),
    ).fetchone()
    if row is None:
        raise ClassificationError(f"run {run_id} has no chunk {chunk_no}")
    format_name, version, version_id, first, last = row
    fmt = load_definitions(formats_dir, format_name)
    if fmt.version != version:
        raise ClassificationError(
            f"definitions of {format_name} changed during run {run_id} "
            f"({version} -> {fmt.version}); start a new run"
        )
    with conn.transaction():
        # Lock the chunk row: a redelivered copy of this chunk waits, then upserts.
        started = conn.execute(
            "SELECT done_at IS NOT NULL OR EXISTS (SELECT 1 FROM deck_archetypes "
            "WHERE version_id = %s AND deck_id BETWEEN %s AND %s) "
            "FROM classification_chunks WHERE run_id = %s AND chunk_no = %s FOR UPDATE",
            (version_id, first, last, run_id, chunk_no),
        ).fetchone()
        scope = _scope(formats_dir, format_name)
        rows = _detections(conn, _compiled(fmt), scope, first, last)
        write_labels(conn, version_id, rows, fresh=not (started and started[0]))
        conn.execute(
            "UPDATE classification_chunks SET done_at = coalesce(done_at, now()) "
            "WHERE run_id = %s AND chunk_no = %s",
            (run_id, chunk_no),
        )
        # Lock the run row: of two chunks finishing at once, exactly one sees 0 left.
        conn.execute("SELECT 1 FROM classification_runs WHERE id = %s FOR UPDATE", (run_id,))
        left = conn.execute(
            "SELECT count(*) FROM classification_chunks WHERE run_id = %s AND done_at IS NULL",
            (run_id,),
        ).fetchone()
        if left is not None and left[0] == 0:
            _complete(conn, run_id, fmt, scope)
    return progress(conn, run_id)


def _complete(
    conn: psycopg.Connection, run_id: int, fmt: FormatDefinitions, scope: dict[str, Any]
) -> None:
    """Switch readers to the run's version, in the caller's transaction."""
    row = conn.execute(
        "SELECT format, version_id, status FROM classification_runs WHERE id = %s", (run_id,)
    ).fetchone()
    assert row is not None
    format_name, version_id, status = row
    if status != "running":
        return
    # Decks ingested while the run went on were labelled with the old version; label them
    # under the new one too before switching, so nothing is missing after the switch. Deck
    # ids only grow (one ingestion writes at a time and reserves ids batch after batch), so
    # those decks are above the run's last chunk: a range scan, not a whole-format anti-join.
    row = conn.execute(
        "SELECT coalesce(max(last_deck_id), 0) FROM classification_chunks WHERE run_id = %s",
        (run_id,),
    ).fetchone()
    after = int(row[0]) if row else 0
    rows = _unlabelled(conn, _compiled(fmt), scope, version_id, after)
    write_labels(conn, version_id, rows)
    conn.execute(
        """INSERT INTO active_definitions (format, version_id) VALUES (%s, %s)
           ON CONFLICT (format) DO UPDATE SET version_id = EXCLUDED.version_id,
               activated_at = now()""",
        (format_name, version_id),
    )
    conn.execute(
        "UPDATE classification_runs SET status = 'superseded' "
        "WHERE format = %s AND status = 'completed' AND id <> %s",
        (format_name, run_id),
    )
    conn.execute(
        "UPDATE classification_runs SET status = 'completed', finished_at = now() WHERE id = %s",
        (run_id,),
    )


def progress(conn: psycopg.Connection, run_id: int) -> RunProgress:
    """The run's status and chunk counts."""
    row = conn.execute(
        """SELECT r.id, r.format, v.version, r.status, r.decks_total,
                  (SELECT count(*) FROM classification_chunks ch WHERE ch.run_id = r.id),
                  (SELECT count(*) FROM classification_chunks ch
                    WHERE ch.run_id = r.id AND ch.done_at IS NOT NULL)
             FROM classification_runs r JOIN definition_versions v ON v.id = r.version_id
            WHERE r.id = %s""",
        (run_id,),
    ).fetchone()
    if row is None:
        raise ClassificationError(f"no classification run {run_id}")
    run, fmt, version, status, decks, total, done = row
    return RunProgress(run, fmt, version, status, total, done, decks)


def reclassify_formats(
    dsn: str,
    formats_dir: Path,
    format_names: Sequence[str],
    requested_by: str | None = None,
    processes: int = 2,
) -> list[RunProgress]:
    """Start one run per format and do all their chunks in local processes (the CLI path;
    Celery workers share the chunks of an operator's run instead)."""
    processes = min(processes, os.cpu_count() or 1)
    if processes <= 1 or multiprocessing.current_process().daemon:
        runs = [start_reclassification(dsn, formats_dir, f, requested_by) for f in format_names]
        for run in runs:
            for chunk_no in range(run.chunks_total):
                classify_chunk(dsn, formats_dir, run.run_id, chunk_no)
    else:
        # Definitions parsed once, here, before forking: the processes inherit them. They
        # start on one format's chunks while the next format's run is being set up here
        # (each compiles the matchers it needs).
        for name in format_names:
            load_definitions(formats_dir, name)
        pool = multiprocessing.get_context("fork").Pool(processes, _open_process_connection, (dsn,))
        with pool:
            pending = []
            with db.connect(dsn, application_name="manalytics-classify") as conn:
                runs = []
                for name in format_names:
                    runs.append(_start_run(conn, formats_dir, name, requested_by))
                    pending += [
                        pool.apply_async(_chunk_in_process, (formats_dir, runs[-1].run_id, n))
                        for n in range(runs[-1].chunks_total)
                    ]
            for result in pending:
                result.get()
            pool.close()  # let the processes exit normally: they close their connections
            pool.join()
    with db.connect(dsn) as conn:
        return [progress(conn, r.run_id) for r in runs]


# One connection per pool process, reused by all the chunks it labels.
_PROCESS_CONNECTION: psycopg.Connection | None = None


def _open_process_connection(dsn: str) -> None:
    global _PROCESS_CONNECTION
    conn = db.connect(dsn, application_name="manalytics-classify")
    _PROCESS_CONNECTION = conn
    multiprocessing.util.Finalize(None, conn.close, exitpriority=10)


def _chunk_in_process(formats_dir: Path, run_id: int, chunk_no: int) -> RunProgress:
    assert _PROCESS_CONNECTION is not None, "pool process without its connection"
    conn = _PROCESS_CONNECTION
    return classify_chunk(conn.info.dsn, formats_dir, run_id, chunk_no, conn)


def reclassify_format(
    dsn: str, formats_dir: Path, format_name: str, requested_by: str | None = None
) -> RunProgress:
    """Reclassify one format (see :func:`reclassify_formats`)."""
    return reclassify_formats(dsn, formats_dir, [format_name], requested_by)[0]


# -- diff and explain ---------------------------------------------------------------------


def diff_versions(dsn: str, format_name: str, old: str, new: str) -> list[LabelMove]:
    """Decks per (old label -> new label) between two versions (prefixes of hashes work)."""
    with db.connect(dsn) as conn:
        ids = []
        for version in (old, new):
            rows = conn.execute(
                "SELECT id FROM definition_versions WHERE format = %s AND version LIKE %s",
                (format_name, version + "%"),
            ).fetchall()
            if len(rows) != 1:
                raise ClassificationError(
                    f"version {version!r} of {format_name} is {'ambiguous' if rows else 'unknown'}"
                )
            ids.append(rows[0][0])
        rows = conn.execute(
            """SELECT coalesce(a.archetype, '(not labelled)'), coalesce(b.archetype,
                      '(not labelled)'), count(*)
                 FROM deck_archetypes a FULL JOIN deck_archetypes b
                   ON b.deck_id = a.deck_id AND b.version_id = %s
                WHERE (a.version_id = %s OR a.version_id IS NULL)
                  AND (b.version_id = %s OR b.version_id IS NULL)
                GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2""",
            (ids[1], ids[0], ids[1]),
        ).fetchall()
    return [LabelMove(o, n, int(k)) for o, n, k in rows]


def render_diff(moves: list[LabelMove]) -> str:
    """Text summary: changed labels first, then how many stayed."""
    changed = [m for m in moves if m.old != m.new]
    same = sum(m.decks for m in moves if m.old == m.new)
    lines = [f"{m.decks:6d}  {m.old}  ->  {m.new}" for m in changed]
    lines.append(f"{same:6d}  unchanged; {sum(m.decks for m in changed)} changed")
    return "\n".join(lines)
