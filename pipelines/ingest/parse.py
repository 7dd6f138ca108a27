"""Decklist-cache documents (DOMAIN.md §2) to normalised, validated Python records.

:func:`parse_document` turns one file's bytes into a :class:`ParsedDocument`, or raises
:class:`DocumentError` with a message that says what is wrong and where (the document is then
quarantined). Problems that do not make the document unusable (an empty deck, an unknown
format, a malformed match score) become warnings and the rest of the document is kept.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import orjson

from pipelines.ingest import schema
from pipelines.ingest.normalize import (
    UNKNOWN_FORMAT,
    canonical_format,
    canonical_uri,
    event_kind,
    parse_result,
    player_key,
    source_event_id,
)

_FOLDER = re.compile(r"^(?P<source>[^/]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/[^/]+$")
_MATCH_RESULT = re.compile(r"^\s*(\d+)-(\d+)-(\d+)\s*$")
# A mainboard this large is a data-entry error in practice (a 429-card Pioneer list exists).
SUSPICIOUS_MAINBOARD = 250

Card = tuple[str, int]


class DocumentError(ValueError):
    """The document cannot be ingested; the message says why."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind

    def __reduce__(self) -> tuple[type[DocumentError], tuple[str, str]]:
        # Crosses process boundaries (the ingestion's worker processes).
        return DocumentError, (self.kind, str(self))


@dataclass(slots=True)
class ParsedDeck:
    """One deck entry, names trimmed, lines kept in file order (duplicates included)."""

    player: str
    player_key: str
    result: str
    rank: int | None
    record_wins: int | None
    record_losses: int | None
    record_draws: int | None
    anchor_uri: str | None
    deck_date: str | None
    main_names: list[str]
    main_counts: list[int]
    side_names: list[str]
    side_counts: list[int]
    decklist_hash: bytes

    @property
    def main(self) -> list[Card]:
        return list(zip(self.main_names, self.main_counts, strict=True))

    @property
    def side(self) -> list[Card]:
        return list(zip(self.side_names, self.side_counts, strict=True))


@dataclass(slots=True)
class ParsedStanding:
    """One standings row."""

    rank: int | None
    player: str
    player_key: str
    points: int | None
    wins: int | None
    losses: int | None
    draws: int | None
    omwp: float | None
    gwp: float | None
    ogwp: float | None


@dataclass(slots=True)
class ParsedMatch:
    """One match after de-duplication; ``is_bye`` when one side has no opponent."""

    round_index: int
    round_name: str
    player1: str | None
    player2: str | None
    key1: str | None  # player keys for joins; None for a bye marker ("", "-", null)
    key2: str | None
    p1_games: int
    p2_games: int
    draw_games: int
    is_bye: bool

    @property
    def decisive(self) -> bool:
        return self.p1_games != self.p2_games


@dataclass(slots=True)
class EventFields:
    """The event and file fields of a document (parsed or prepared)."""

    path: str
    source: str
    folder_date: date | None
    sha256: bytes
    size: int
    name: str
    uri: str
    external_id: str
    source_event_id: str | None
    event_date: date
    starts_at: str | None
    format: str
    format_inferred: bool
    event_kind: str


@dataclass(slots=True)
class ParsedDocument(EventFields):
    """Everything one cache file says, ready to be written."""

    decks: list[ParsedDeck]
    standings: list[ParsedStanding]
    matches: list[ParsedMatch]
    warnings: list[tuple[str, str]] = field(default_factory=list)
    duplicate_matches: int = 0

    @property
    def document_key(self) -> str:
        """Orders copies of one event: the latest folder, then the most decks, then the path."""
        day = self.folder_date.isoformat() if self.folder_date else "0000-00-00"
        return f"{day}|{len(self.decks):06d}|{self.path}"

    @property
    def player_count(self) -> int:
        """Distinct players named anywhere: standings, decks or matches (byes included)."""
        players = {d.player_key for d in self.decks}
        players.update(s.player_key for s in self.standings)
        players.update(m.key1 for m in self.matches if m.key1 is not None)
        players.update(m.key2 for m in self.matches if m.key2 is not None)
        return len(players)


def path_info(rel_path: str) -> tuple[str, date | None]:
    """Source folder and folder date of a path relative to the cache root."""
    match = _FOLDER.match(rel_path)
    if not match:
        return rel_path.split("/", 1)[0], None
    try:
        day = date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        day = None
    return match["source"], day


def parse_document(raw: bytes, rel_path: str, sha256: bytes | None = None) -> ParsedDocument:
    """Validate and normalise one cache document (bytes as read from ``rel_path``)."""
    return build_document(decode(raw), raw, rel_path, sha256)


def decode(raw: bytes) -> schema.Document:
    """Decode and type-check a file's bytes, or raise :class:`DocumentError`."""
    if not raw or raw.isspace():  # (raw.strip() would copy every file ending in a newline)
        raise DocumentError("empty", "empty file (0 bytes or only whitespace)")
    if b"\\u0000" in raw:
        # Valid JSON, but PostgreSQL cannot store a NUL character in a json value.
        raise DocumentError("nul_character", "JSON contains \\u0000 (not storable as json)")
    try:
        return schema.DECODER.decode(raw)
    except msgspec.ValidationError as exc:
        raise DocumentError("wrong_type", schema.describe(exc)) from None
    except msgspec.DecodeError as exc:
        raise DocumentError("invalid_json", f"invalid JSON: {exc}") from None


def build_document(
    data: schema.Document, raw: bytes, rel_path: str, sha256: bytes | None = None
) -> ParsedDocument:
    """Like :func:`parse_document` for an already decoded document."""
    source, folder_date = path_info(rel_path)
    tournament = data.Tournament
    if tournament is None:
        raise DocumentError("missing_tournament", "missing Tournament object")
    starts_at = _parse_datetime(tournament.Date, "Tournament.Date")
    event_date = folder_date or datetime.fromisoformat(starts_at).date()
    warnings: list[tuple[str, str]] = []
    name, uri = tournament.Name, tournament.Uri
    fmt, inferred = canonical_format(tournament.Formats, name, rel_path.rsplit("/", 1)[-1])
    if fmt == UNKNOWN_FORMAT:
        warnings.append(("unknown_format", "Tournament.Formats is null and the name names none"))
    decks = _parse_decks(data.Decks or [], warnings)
    if not decks:
        raise DocumentError("no_decks", "the document has no decks")
    matches, duplicates = _parse_rounds(data.Rounds or [], warnings)
    clean_uri = canonical_uri(uri) if uri.strip() else ""
    return ParsedDocument(
        path=rel_path,
        source=source,
        folder_date=folder_date,
        sha256=sha256 if sha256 is not None else hashlib.sha256(raw).digest(),
        size=len(raw),
        name=name.strip(),
        uri=uri.strip(),
        # Without a URI the file path is the only identity there is.
        external_id=clean_uri or f"file:{rel_path}",
        source_event_id=source_event_id(source, uri) if clean_uri else None,
        event_date=event_date,
        starts_at=starts_at,
        format=fmt,
        format_inferred=inferred,
        event_kind=event_kind(source, name),
        decks=decks,
        standings=[_standing(s) for s in data.Standings or []],
        matches=matches,
        warnings=warnings,
        duplicate_matches=duplicates,
    )


def _parse_datetime(text: str, where: str) -> str:
    """ISO date or datetime as an ISO string with an offset (naive times are UTC)."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise DocumentError("wrong_type", f"{where} is not an ISO date: {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()


def _board(items: list[schema.Item]) -> tuple[list[str], list[int]]:
    """Names (trimmed, as the reference classifier sees them) and counts, in file order."""
    return [item.CardName.strip() for item in items], [item.Count for item in items]


def _totals(names: list[str], counts: list[int]) -> dict[str, int]:
    """Count per card name, lines of the same name added up."""
    # strict=False: equal lengths by construction, and strict checking costs a third more.
    totals = dict(zip(names, counts, strict=False))
    if len(totals) != len(names):  # rare: a name on several lines
        totals = {}
        for name, count in zip(names, counts, strict=False):
            totals[name] = totals.get(name, 0) + count
    return totals


def _decklist_hash(main: tuple[list[str], list[int]], side: tuple[list[str], list[int]]) -> bytes:
    """Hash of the per-name totals: equal for the same deck however its lines are split or
    ordered (orjson sorts the names while encoding)."""
    payload = orjson.dumps([_totals(*main), _totals(*side)], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(payload, digest_size=16).digest()


def _parse_decks(items: list[schema.Deck], warnings: list[tuple[str, str]]) -> list[ParsedDeck]:
    decks = []
    dates: dict[str, str] = {}
    for i, item in enumerate(items):
        player = item.Player.strip()
        result = item.Result or ""
        anchor = (item.AnchorUri or "").strip() or None  # "" and missing: no link
        deck_date = None
        if item.Date is not None:  # the decks of an event mostly share one time stamp
            if item.Date not in dates:
                dates[item.Date] = _parse_datetime(item.Date, f"Decks[{i}].Date")
            deck_date = dates[item.Date]
        main = _board(item.Mainboard)
        side = _board(item.Sideboard) if item.Sideboard else ([], [])
        problem = _size_problem(main[1], side[1])
        if problem is not None:
            warnings.append((problem[0], f"Decks[{i}] ({player}) {problem[1]}"))
        parsed = parse_result(result)
        decks.append(
            ParsedDeck(
                player=player,
                player_key=player_key(player),
                result=result,
                rank=parsed.rank,
                record_wins=parsed.wins,
                record_losses=parsed.losses,
                record_draws=parsed.draws,
                anchor_uri=anchor,
                deck_date=deck_date,
                main_names=main[0],
                main_counts=main[1],
                side_names=side[0],
                side_counts=side[1],
                decklist_hash=_decklist_hash(main, side),
            )
        )
    return decks


def _size_problem(main_counts: list[int], side_counts: list[int]) -> tuple[str, str] | None:
    """(kind, wording) of a warning about a deck's size, or None when it looks normal."""
    if not main_counts and not side_counts:
        return "empty_deck", "has no cards"
    if not main_counts:
        return "empty_mainboard", "has an empty mainboard"
    if sum(main_counts) > SUSPICIOUS_MAINBOARD:
        return "suspicious_size", "lists a huge mainboard"
    return None


def _standing(s: schema.Standing) -> ParsedStanding:
    player = s.Player.strip()
    return ParsedStanding(
        s.Rank, player, player_key(player), s.Points, s.Wins, s.Losses, s.Draws,
        s.OMWP, s.GWP, s.OGWP,
    )  # fmt: skip


def _parse_rounds(
    rounds: list[schema.Round], warnings: list[tuple[str, str]]
) -> tuple[list[ParsedMatch], int]:
    """All matches, de-duplicated on (round, unordered pair); returns (matches, dropped)."""
    kept: dict[tuple[Any, ...], ParsedMatch] = {}
    dropped = 0
    for r, round_ in enumerate(rounds):
        round_name = str(round_.RoundName or f"#{r + 1}").strip()
        for m, item in enumerate(round_.Matches or ()):
            match = _parse_match(item, r, round_name, warnings, m)
            if match is None:
                continue
            k1, k2 = match.key1, match.key2
            # A played match is the same whichever side reported it; a bye keeps its sides.
            key = (r, k1, k2) if match.is_bye or k1 <= k2 else (r, k2, k1)  # type: ignore[operator]
            previous = kept.get(key)
            if previous is None:
                kept[key] = match
                continue
            dropped += 1
            # Melee records a match from both sides: draws twice, forfeits as 0-2-0 from one
            # side and 0-0-0 from the other. Keep the more informative record.
            if _evidence(match) > _evidence(previous):
                kept[key] = match
    return list(kept.values()), dropped


def _evidence(match: ParsedMatch) -> tuple[bool, int]:
    """How much a record of a match says: a decisive score first (DOMAIN.md §2.7), then the
    games it reports (a played 1-1-1 draw over an unreported 0-0-0); ties keep the first."""
    return match.decisive, match.p1_games + match.p2_games + match.draw_games


@functools.lru_cache(maxsize=65536)
def _opponent(value: str | None) -> tuple[str | None, str | None]:
    """(stripped name, join key) of a match player; the key is None for a bye marker.

    Cached: every player appears in several rounds, and the answer depends on the name only.
    """
    if value is None:
        return None, None
    name = value.strip()
    if not name or name == "-":
        return name, None
    return name, player_key(name)


@functools.lru_cache(maxsize=1024)
def _score(result: str) -> tuple[int, int, int] | None:
    """Games won by each player and drawn, from ``"2-1-0"``; cached (a handful of values)."""
    parsed = _MATCH_RESULT.match(result)
    return (int(parsed[1]), int(parsed[2]), int(parsed[3])) if parsed else None


def _match_where(round_index: int, position: int) -> str:
    return f"Rounds[{round_index}].Matches[{position}]"


def _parse_match(
    item: schema.Match,
    round_index: int,
    round_name: str,
    warnings: list[tuple[str, str]],
    position: int,
) -> ParsedMatch | None:
    # Hot path (one call per match): error locations are only formatted when needed.
    p1, key1 = _opponent(item.Player1)
    p2, key2 = _opponent(item.Player2)
    result = item.Result
    score = _score(result) if type(result) is str else None
    if score is None:
        where = _match_where(round_index, position)
        warnings.append(("bad_match_result", f"{where}.Result {result!r} is not 'W-L-D'"))
        return None
    if key1 is None and key2 is None:
        warnings.append(("empty_match", f"{_match_where(round_index, position)} names no player"))
        return None
    is_bye = key1 is None or key2 is None
    return ParsedMatch(round_index, round_name, p1, p2, key1, key2, *score, is_bye)
