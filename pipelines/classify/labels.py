"""Deck labels in PostgreSQL: which decks a definitions folder classifies, classifying stored
decks from their card-id arrays, and writing label rows (new decks after each ingestion).

Newly ingested decks are labelled with their format's active version
(:func:`classify_new_decks`); :mod:`pipelines.classify.reclassify` relabels whole formats.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pipelines.classify.definitions import FormatDefinitions
from pipelines.classify.definitions_loader import format_dirs
from pipelines.classify.matcher import CompiledFormat
from pipelines.classify.result import Detection
from pipelines.classify.scopes import dated_siblings, definitions_scope, pick_definitions
from pipelines.classify.versions import (
    active_version,
    compiled_matcher,
    ensure_version,
    load_all_definitions,
    origin_of,
)
from pipelines.core import db
from pipelines.ingest import copy as c
from pipelines.ingest.normalize import canonical_format

# The decks a definitions folder classifies: its format's events, inside the folder's date
# range when it is dated ("Standard-20230701-20240802"), outside every dated sibling's range
# when it is not. Parameters: see scope_params().
IN_SCOPE = sql.SQL("""t.format = %(format)s
       AND (%(first)s::date IS NULL OR t.event_date BETWEEN %(first)s AND %(last)s)
       AND NOT EXISTS (SELECT 1 FROM unnest(%(starts)s::date[], %(ends)s::date[]) AS r(a, b)
                        WHERE t.event_date BETWEEN r.a AND r.b)""")
_DECKS_IN_SCOPE = sql.SQL("""
    SELECT d.id, t.event_date, d.main_card_ids, d.main_counts, d.side_card_ids, d.side_counts
      FROM decks d JOIN tournaments t ON t.id = d.tournament_id
     WHERE {scope} AND d.id BETWEEN %(first_id)s AND %(last_id)s
""").format(scope=IN_SCOPE)
_UNLABELLED_DECKS_IN_SCOPE = sql.SQL("""
    SELECT d.id, t.event_date, d.main_card_ids, d.main_counts, d.side_card_ids, d.side_counts
      FROM decks d JOIN tournaments t ON t.id = d.tournament_id
     WHERE {scope} AND d.id > %(after)s AND NOT EXISTS (
           SELECT 1 FROM deck_archetypes a WHERE a.version_id = %(version)s AND a.deck_id = d.id)
""").format(scope=IN_SCOPE)
# Labels of one version for decks of the scope's format that lie outside the scope.
_LABELS_OUT_OF_SCOPE = sql.SQL("""
    DELETE FROM deck_archetypes a USING decks d, tournaments t
     WHERE a.version_id = %(version)s AND d.id = a.deck_id AND t.id = d.tournament_id
       AND t.format = %(format)s AND NOT ({scope})
""").format(scope=IN_SCOPE)

# (deck id, event date, detection): the event date is stored on the label for the deck lists
# (migration 0015), passed here so no per-row trigger has to look it up.
Labelled = tuple[int, date, Detection]
_COLUMNS = (
    "(version_id, deck_id, event_date, archetype, definition, variant, color, companion,"
    " method, score, candidates)"
)

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
) -> Iterator[Labelled]:
    """(deck id, detection) for every deck row ``query`` returns (id and the four arrays).

    Decks are classified straight from their card-id arrays by an id-keyed matcher.
    """
    cards = _CardNames(conn)
    by_id = cards.matcher(matcher)
    known = by_id.card_ids
    # Fetched first: unknown card ids need a query of their own.
    rows = conn.cursor(binary=True).execute(query, params).fetchall()
    for deck_id, event_date, main_ids, main_counts, side_ids, side_counts in rows:
        if not (known.issuperset(main_ids) and known.issuperset(side_ids)):
            cards.teach(conn, by_id, [*main_ids, *side_ids])
        yield deck_id, event_date, by_id.detect_lines(main_ids, main_counts, side_ids, side_counts)


def detections_in_range(
    conn: psycopg.Connection, matcher: CompiledFormat, scope: dict[str, Any], first: int, last: int
) -> Iterator[Labelled]:
    params = {**scope, "first_id": first, "last_id": last}
    return _detect_rows(conn, matcher, _DECKS_IN_SCOPE, params)


def scope_params(formats_dir: Path, name: str) -> dict[str, Any]:
    """Query parameters of ``IN_SCOPE`` for the definitions folder ``name``."""
    scope = definitions_scope(name)
    # Events store canonical format names ("Modern"); a folder may be spelled otherwise.
    params: dict[str, Any] = {"format": canonical_format(scope.format)[0]}
    params |= {"first": scope.first, "last": scope.last}
    siblings = dated_siblings((d.name for d in format_dirs(formats_dir)), name)
    params |= {"starts": [s.first for s in siblings], "ends": [s.last for s in siblings]}
    return params


def _label_lines(version_id: int, labelled: Iterator[Labelled]) -> list[str]:
    """COPY lines of ``deck_archetypes``. Decks of one label mostly share one (cached)
    Detection object, so each distinct object is encoded once."""
    encoded: dict[int, tuple[Detection, str]] = {}  # id(d) -> (d kept alive, columns)
    lines = []
    for deck_id, event_date, d in labelled:
        hit = encoded.get(id(d))
        if hit is None:
            hit = encoded[id(d)] = (d, _label_columns(d))
        lines.append(f"{version_id}\t{deck_id}\t{event_date.isoformat()}\t{hit[1]}")
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
    labelled: Iterator[Labelled],
    fresh: bool = False,
) -> int:
    """Store labels for one version (replacing any earlier row of the same deck); returns n.

    ``fresh`` promises that none of these decks has a row for this version yet, so the rows
    can be copied straight into the table.
    """
    lines = _label_lines(version_id, labelled)
    if lines and fresh:
        with conn.cursor().copy(f"COPY deck_archetypes {_COLUMNS} FROM STDIN") as copy:
            copy.write("".join(lines))
        return len(lines)
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS labels_in (LIKE deck_archetypes) ON COMMIT DELETE ROWS"
    )
    if lines:
        with conn.cursor().copy(f"COPY labels_in {_COLUMNS} FROM STDIN") as copy:
            copy.write("".join(lines))
        # A redelivered chunk rewrites the same rows: idempotent.
        conn.execute(
            """INSERT INTO deck_archetypes SELECT * FROM labels_in
               ON CONFLICT (version_id, deck_id) DO UPDATE SET
                   archetype = EXCLUDED.archetype, definition = EXCLUDED.definition,
                   variant = EXCLUDED.variant, color = EXCLUDED.color,
                   companion = EXCLUDED.companion, method = EXCLUDED.method,
                   score = EXCLUDED.score, candidates = EXCLUDED.candidates,
                   event_date = EXCLUDED.event_date"""
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
    definitions = load_all_definitions(formats_dir)
    done: dict[str, int] = {}
    with db.connect(dsn, application_name="manalytics-classify") as conn:
        formats = [r[0] for r in conn.execute("SELECT DISTINCT format FROM tournaments")]
        for fmt_name, folders in _folders_by_format(definitions, formats).items():
            with conn.transaction():
                _retire_removed_dated_folders(conn, fmt_name, folders)
                for name in folders:
                    fmt = definitions[name]
                    version_id = _active_or_new(conn, fmt, origin_of(formats_dir, fmt))
                    scope = scope_params(formats_dir, name)
                    if scope["starts"]:  # ranges now classified by a dated folder
                        _drop_labels_out_of_scope(conn, version_id, scope)
                    through = newest_deck_id(conn)
                    rows = unlabelled(conn, compiled_matcher(fmt), scope, version_id)
                    done[name] = write_labels(conn, version_id, rows, fresh=True)
                    _labelled_through(conn, name, through)
    return done


def newest_deck_id(conn: psycopg.Connection) -> int:
    """The highest deck id now (read BEFORE labelling: decks above it may come meanwhile)."""
    row = conn.execute("SELECT coalesce(max(id), 0) FROM decks").fetchone()
    return int(row[0]) if row else 0


def _labelled_through(conn: psycopg.Connection, folder: str, through: int) -> None:
    """Record that every deck of the folder's scope up to ``through`` has a label of its
    active version: the deck list finds the unlabelled (Unknown) decks of a labelled format
    above it (pipelines.reads.deck_list). Deck ids only grow (see reclassify._complete)."""
    conn.execute(
        "UPDATE active_definitions SET labelled_through = %s WHERE format = %s",
        (through, folder),
    )


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


def unlabelled(
    conn: psycopg.Connection,
    matcher: CompiledFormat,
    scope: dict[str, Any],
    version_id: int,
    after: int = 0,
) -> Iterator[Labelled]:
    """Decks of the scope with ids above ``after`` that have no label of this version."""
    params = {**scope, "version": version_id, "after": after}
    return _detect_rows(conn, matcher, _UNLABELLED_DECKS_IN_SCOPE, params)
