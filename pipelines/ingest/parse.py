"""Decklist-cache documents (DOMAIN.md §2) to normalised, validated Python records.

:func:`parse_document` turns one file's bytes into a :class:`ParsedDocument`, or raises
:class:`DocumentError` with a message that says what is wrong and where (the document is then
quarantined). Problems that do not make the document unusable (an empty deck, an unknown
format, a malformed match score) become warnings and the rest of the document is kept.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson

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
    main: list[Card]
    side: list[Card]
    decklist_hash: bytes

    @property
    def main_total(self) -> int:
        return sum(count for _, count in self.main)

    @property
    def side_total(self) -> int:
        return sum(count for _, count in self.side)


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

    @property
    def keys(self) -> tuple[str, str]:
        return (self.key1 or "", self.key2 or "")


@dataclass(slots=True)
class ParsedDocument:
    """Everything one cache file says, ready to be written."""

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


def parse_bytes(raw: bytes) -> dict[str, Any]:
    """Decode a file's bytes as a JSON object, or raise :class:`DocumentError`."""
    if not raw.strip():
        raise DocumentError("empty", "empty file (0 bytes or only whitespace)")
    if b"\\u0000" in raw:
        # Valid JSON, but PostgreSQL's jsonb cannot store a NUL character.
        raise DocumentError("nul_character", "JSON contains \\u0000 (not storable as jsonb)")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DocumentError("invalid_json", f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DocumentError("wrong_type", f"top level must be an object, got {_type(data)}")
    return data


def parse_document(raw: bytes, rel_path: str, sha256: bytes | None = None) -> ParsedDocument:
    """Validate and normalise one cache document (bytes as read from ``rel_path``)."""
    return build_document(parse_bytes(raw), raw, rel_path, sha256)


def build_document(
    data: dict[str, Any], raw: bytes, rel_path: str, sha256: bytes | None = None
) -> ParsedDocument:
    """Like :func:`parse_document` for an already decoded object."""
    source, folder_date = path_info(rel_path)
    tournament = data.get("Tournament")
    if tournament is None:
        raise DocumentError("missing_tournament", "missing Tournament object")
    _expect(tournament, dict, "Tournament")
    name = _expect(tournament.get("Name"), str, "Tournament.Name")
    uri = _expect(tournament.get("Uri"), str, "Tournament.Uri")
    raw_date = _expect(tournament.get("Date"), str, "Tournament.Date")
    formats = tournament.get("Formats")
    if formats is not None:
        _expect(formats, str, "Tournament.Formats")
    starts_at = _parse_datetime(raw_date, "Tournament.Date")
    event_date = folder_date or datetime.fromisoformat(starts_at).date()
    warnings: list[tuple[str, str]] = []
    fmt, inferred = canonical_format(formats, name, rel_path.rsplit("/", 1)[-1])
    if fmt == UNKNOWN_FORMAT:
        warnings.append(("unknown_format", "Tournament.Formats is null and the name names none"))
    decks = _parse_decks(_list(data, "Decks"), warnings)
    if not decks:
        raise DocumentError("no_decks", "the document has no decks")
    matches, duplicates = _parse_rounds(_list(data, "Rounds"), warnings)
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
        standings=_parse_standings(_list(data, "Standings")),
        matches=matches,
        warnings=warnings,
        duplicate_matches=duplicates,
    )


def _type(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _expect(value: Any, kind: type, where: str) -> Any:
    # bool is an int subclass in Python; a JSON true is never a valid count or rank.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise DocumentError("wrong_type", f"{where} must be {kind.__name__}, got {_type(value)}")
    return value


def _list(data: dict[str, Any], key: str) -> list[Any]:
    """A top-level list; missing or null Rounds/Standings mean 'not available'."""
    value = data.get(key)
    if value is None:
        return []
    return _expect(value, list, key)


def _parse_datetime(text: str, where: str) -> str:
    """ISO date or datetime as an ISO string with an offset (naive times are UTC)."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise DocumentError("wrong_type", f"{where} is not an ISO date: {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()


def _parse_board(items: Any, deck: int, board_name: str) -> list[Card]:
    if type(items) is not list:
        _expect(items, list, f"Decks[{deck}].{board_name}")
    try:
        # Fast path: one comprehension over well-formed entries, validated below.
        board = [(item["CardName"].strip(), item["Count"]) for item in items]
    except (TypeError, KeyError, AttributeError):
        board = []
    if len(board) != len(items) or not all(type(c) is int and c >= 0 for _, c in board):
        _explain_bad_board(items, f"Decks[{deck}].{board_name}")
    return board


def _explain_bad_board(items: list[Any], where: str) -> None:
    """Raise the precise error for the first malformed card entry."""
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise DocumentError("wrong_type", f"{where}[{i}] must be an object")
        _expect(item.get("CardName"), str, f"{where}[{i}].CardName")
        count = _expect(item.get("Count"), int, f"{where}[{i}].Count")
        if count < 0:
            raise DocumentError("wrong_type", f"{where}[{i}].Count is negative ({count})")


def _merged(board: list[Card]) -> list[Card]:
    """Lines merged per name and sorted (most boards have no duplicate names)."""
    if len({name for name, _ in board}) == len(board):
        return sorted(board)
    totals: dict[str, int] = {}
    for name, count in board:
        totals[name] = totals.get(name, 0) + count
    return sorted(totals.items())


def _decklist_hash(main: list[Card], side: list[Card]) -> bytes:
    """Hash of the merged, sorted lists: equal for the same deck however its lines are split."""
    payload = orjson.dumps([_merged(main), _merged(side)])
    return hashlib.blake2b(payload, digest_size=16).digest()


def _parse_decks(items: list[Any], warnings: list[tuple[str, str]]) -> list[ParsedDeck]:
    decks = []
    for i, item in enumerate(items):
        if type(item) is not dict:
            _expect(item, dict, f"Decks[{i}]")
        player, result, anchor, deck_date = (
            item.get("Player"),
            item.get("Result"),
            item.get("AnchorUri"),
            item.get("Date"),
        )
        if type(player) is not str:
            _expect(player, str, f"Decks[{i}].Player")
        player = player.strip()
        if result is None:
            result = ""
        elif type(result) is not str:
            _expect(result, str, f"Decks[{i}].Result")
        if anchor is not None:
            anchor = _expect(anchor, str, f"Decks[{i}].AnchorUri").strip() or None
        if deck_date is not None:
            where = f"Decks[{i}].Date"
            deck_date = _parse_datetime(_expect(deck_date, str, where), where)
        main = _parse_board(item.get("Mainboard", []), i, "Mainboard")
        side = _parse_board(item.get("Sideboard") or [], i, "Sideboard")
        _check_size(main, side, f"Decks[{i}] ({player})", warnings)
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
                main=main,
                side=side,
                decklist_hash=_decklist_hash(main, side),
            )
        )
    return decks


def _check_size(
    main: list[Card], side: list[Card], where: str, warnings: list[tuple[str, str]]
) -> None:
    if not main and not side:
        warnings.append(("empty_deck", f"{where} has no cards"))
    elif not main:
        warnings.append(("empty_mainboard", f"{where} has an empty mainboard"))
    elif sum(c for _, c in main) > SUSPICIOUS_MAINBOARD:
        warnings.append(("suspicious_size", f"{where} lists a huge mainboard"))


_STANDING_INTS = ("Rank", "Points", "Wins", "Losses", "Draws")
_STANDING_FLOATS = ("OMWP", "GWP", "OGWP")


def _parse_standings(items: list[Any]) -> list[ParsedStanding]:
    rows = []
    for i, item in enumerate(items):
        if type(item) is not dict:
            _expect(item, dict, f"Standings[{i}]")
        player = item.get("Player")
        if type(player) is not str:
            _expect(player, str, f"Standings[{i}].Player")
        ints = [item.get(k) for k in _STANDING_INTS]
        floats = [item.get(k) for k in _STANDING_FLOATS]
        if not all(v is None or type(v) is int for v in ints):
            _explain_numbers(item, i)
        if not all(v is None or type(v) is float for v in floats):
            # Topdeck writes 0/1 for some percentages: accept integers as floats.
            floats = [_float(item.get(k), f"Standings[{i}].{k}") for k in _STANDING_FLOATS]
        rows.append(ParsedStanding(ints[0], player.strip(), player_key(player), *ints[1:], *floats))
    return rows


def _float(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if type(value) is int:
        return float(value)
    return _expect(value, float, where)


def _explain_numbers(item: dict[str, Any], i: int) -> None:
    for key in _STANDING_INTS:
        value = item.get(key)
        if value is not None:
            _expect(value, int, f"Standings[{i}].{key}")


def _parse_rounds(
    rounds: list[Any], warnings: list[tuple[str, str]]
) -> tuple[list[ParsedMatch], int]:
    """All matches, de-duplicated on (round, unordered pair); returns (matches, dropped)."""
    kept: dict[tuple[Any, ...], ParsedMatch] = {}
    dropped = 0
    for r, round_ in enumerate(rounds):
        if type(round_) is not dict:
            _expect(round_, dict, f"Rounds[{r}]")
        round_name = str(round_.get("RoundName") or f"#{r + 1}").strip()
        matches = round_.get("Matches") or []
        if type(matches) is not list:
            _expect(matches, list, f"Rounds[{r}].Matches")
        for m, item in enumerate(matches):
            match = _parse_match(item, r, round_name, warnings, (r, m))
            if match is None:
                continue
            key = (r, match.key1, match.key2) if match.is_bye else (r, *sorted(match.keys))
            previous = kept.get(key)
            if previous is None:
                kept[key] = match
                continue
            dropped += 1
            # Melee records a match from both sides: draws twice, forfeits as 0-2-0 from one
            # side and 0-0-0 from the other. Keep the decisive record.
            if match.decisive and not previous.decisive:
                kept[key] = match
    return list(kept.values()), dropped


def _opponent(value: Any, at: tuple[int, int], field: str) -> tuple[str | None, str | None]:
    """(stripped name, join key) of a match player; the key is None for a bye marker."""
    if value is None:
        return None, None
    if type(value) is not str:
        _expect(value, str, _match_where(at) + "." + field)
    name = value.strip()
    if not name or name == "-":
        return name, None
    return name, player_key(name)


def _match_where(at: tuple[int, int]) -> str:
    return "Rounds[{}].Matches[{}]".format(*at)


def _parse_match(
    item: Any,
    round_index: int,
    round_name: str,
    warnings: list[tuple[str, str]],
    at: tuple[int, int],
) -> ParsedMatch | None:
    # Hot path (one call per match): error locations are only formatted when needed.
    if type(item) is not dict:
        _expect(item, dict, _match_where(at))
    p1, key1 = _opponent(item.get("Player1"), at, "Player1")
    p2, key2 = _opponent(item.get("Player2"), at, "Player2")
    result = item.get("Result")
    parsed = _MATCH_RESULT.match(result) if type(result) is str else None
    if parsed is None:
        where = _match_where(at)
        warnings.append(("bad_match_result", f"{where}.Result {result!r} is not 'W-L-D'"))
        return None
    if key1 is None and key2 is None:
        warnings.append(("empty_match", f"{_match_where(at)} names no player"))
        return None
    return ParsedMatch(
        round_index,
        round_name,
        p1,
        p2,
        key1,
        key2,
        int(parsed[1]),
        int(parsed[2]),
        int(parsed[3]),
        key1 is None or key2 is None,
    )
