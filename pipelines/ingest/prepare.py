"""Documents prepared for writing: parsed, validated and already encoded as COPY text.

:func:`prepare_file` is what the ingestion's worker processes run: everything that does not
need the database (reading, hashing, parsing, encoding rows) happens there, in parallel, and
only compact strings travel back to the process that writes. The ids that link rows (event,
deck, card) are the only parts filled in by the writer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from pathlib import Path

import orjson

from pipelines.ingest import copy as c
from pipelines.ingest.parse import (
    DocumentError,
    EventFields,
    ParsedDeck,
    ParsedDocument,
    ParsedMatch,
    ParsedStanding,
    parse_document,
)

# Card names of a prepared board travel as one string (the worker processes pickle them):
# JSON documents containing NUL are refused by the parser, so no name contains it.
NAME_SEPARATOR = "\x00"


def names_of(joined: str) -> list[str]:
    """The card names of a prepared board, in file order."""
    return joined.split(NAME_SEPARATOR) if joined else []


@dataclass(slots=True)
class PreparedDeck:
    """A deck row without its ids; card names stay names until the writer maps them."""

    player_key: str
    decklist_hash: bytes
    text: str  # player .. deck_date columns, COPY-encoded
    main_names: str  # NUL-separated (documents with NUL are refused): one object to pickle
    main_counts: str  # "{4,4,20}"
    side_names: str
    side_counts: str
    totals: str  # "main_total\tside_total\t<hash>"


@dataclass(slots=True)
class PreparedDocument(EventFields):
    """A valid document: event fields, rows as COPY text, and what merging needs."""

    player_count: int
    document_key: str
    decks: list[PreparedDeck]
    standings: list[tuple[str, str]]  # (columns before deck_id, player_key)
    matches: list[tuple[str, str | None, str | None]]  # (columns before deck ids, keys)
    warnings: list[tuple[str, str]]

    @property
    def match_count(self) -> int:
        return len(self.matches)


@dataclass(slots=True)
class PreparedFile:
    """One new or changed file: bytes, hash and either the prepared document or the error."""

    rel: str
    size: int
    mtime_ns: int
    sha256: bytes
    raw: bytes
    document: PreparedDocument | None
    error: DocumentError | None


def prepare_file(path: Path, rel: str, mtime_ns: int) -> PreparedFile | None:
    """Read, hash and prepare one file; ``None`` when it vanished meanwhile."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    sha = hashlib.sha256(raw).digest()
    try:
        document: PreparedDocument | None = prepare_document(raw, rel, sha)
        error = None
    except DocumentError as exc:
        document, error = None, exc
    except Exception as exc:  # a parser bug must not lose the file nor stop the run
        document, error = None, DocumentError("internal_error", f"unexpected {exc!r}")
    return PreparedFile(rel, len(raw), mtime_ns, sha, raw, document, error)


def prepare_document(raw: bytes, rel: str, sha256: bytes | None = None) -> PreparedDocument:
    """Parse ``raw`` and encode its rows (raises :class:`DocumentError`)."""
    return from_parsed(parse_document(raw, rel, sha256))


_EVENT_FIELDS = tuple(f.name for f in fields(EventFields))


def from_parsed(doc: ParsedDocument) -> PreparedDocument:
    """Encode an already parsed document."""
    return PreparedDocument(
        **{name: getattr(doc, name) for name in _EVENT_FIELDS},
        player_count=doc.player_count,
        document_key=doc.document_key,
        decks=[_deck(d) for d in doc.decks],
        standings=[_standing(s) for s in doc.standings],
        matches=[_match(m) for m in doc.matches],
        warnings=doc.warnings,
    )


def _deck(d: ParsedDeck) -> PreparedDeck:
    text = (
        f"{c.text(d.player)}\t{c.text(d.player_key)}\t{c.text(d.result)}\t{c.number(d.rank)}\t"
        f"{c.number(d.record_wins)}\t{c.number(d.record_losses)}\t{c.number(d.record_draws)}\t"
        f"{c.text(d.anchor_uri)}\t{c.text(d.deck_date)}"
    )
    return PreparedDeck(
        player_key=d.player_key,
        decklist_hash=d.decklist_hash,
        text=text,
        main_names=NAME_SEPARATOR.join(d.main_names),
        main_counts=c.int_array(d.main_counts),
        side_names=NAME_SEPARATOR.join(d.side_names),
        side_counts=c.int_array(d.side_counts),
        totals=f"{sum(d.main_counts)}\t{sum(d.side_counts)}\t{c.bytea(d.decklist_hash)}",
    )


def _standing(s: ParsedStanding) -> tuple[str, str]:
    # orjson writes the numbers, above all the three floats, several times faster than str().
    numbers = orjson.dumps([s.points, s.wins, s.losses, s.draws, s.omwp, s.gwp, s.ogwp])
    rest = numbers.decode()[1:-1].replace(",", "\t").replace("null", c.NULL)
    text = f"{c.number(s.rank)}\t{c.text(s.player)}\t{c.text(s.player_key)}\t{rest}"
    return text, s.player_key


def _match(m: ParsedMatch) -> tuple[str, str | None, str | None]:
    fields = (
        str(m.round_index),
        c.text(m.round_name),
        c.text(m.player1),
        c.text(m.player2),
        str(m.p1_games),
        str(m.p2_games),
        str(m.draw_games),
        c.boolean(m.is_bye),
    )
    return "\t".join(fields), m.key1, m.key2
