"""Reading decks from tournament cache files (DOMAIN.md §2.2) for offline detection.

Only what classification needs: the format, and per deck the player and both boards as
``(card name, count)`` entries in file order (duplicate lines kept, like the reference).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import orjson

Entry = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Deck:
    """One decklist: the player and both boards in file order."""

    player: str
    main: tuple[Entry, ...]
    side: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class TournamentFile:
    """The parts of a tournament file detection uses; ``format`` may be None."""

    path: Path
    format: str | None
    decks: tuple[Deck, ...]
    date: date | None = None  # the event's day (picks dated definitions folders)


class TournamentReadError(ValueError):
    """A tournament file cannot be read or does not have the expected shape."""


def _board(items: object) -> tuple[Entry, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise TournamentReadError("a board is not a list")
    board = []
    for item in items:
        name, count = item["CardName"], item["Count"]
        if not isinstance(name, str) or not isinstance(count, int):
            raise TournamentReadError(f"bad deck item {item!r}")
        board.append((name, count))
    return tuple(board)


def read_tournament(path: Path | str) -> TournamentFile:
    """Parse one cache file; raises :class:`TournamentReadError` when it is unusable."""
    file = Path(path)
    try:
        doc = orjson.loads(file.read_bytes())
        fmt = doc["Tournament"]["Formats"]
        day = _day(doc["Tournament"].get("Date"))
        decks = tuple(
            Deck(
                player=str(deck.get("Player") or ""),
                main=_board(deck.get("Mainboard")),
                side=_board(deck.get("Sideboard")),
            )
            for deck in doc["Decks"] or ()
        )
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise TournamentReadError(f"{file}: {type(exc).__name__}: {exc}") from None
    except TournamentReadError as exc:
        raise TournamentReadError(f"{file}: {exc}") from None
    return TournamentFile(file, fmt if isinstance(fmt, str) else None, decks, day)


def _day(value: object) -> date | None:
    """The date part of ``Tournament.Date`` (ISO date or datetime), None when unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.strip()).date()
    except ValueError:
        return None


def tournament_files(root: Path | str) -> list[tuple[Path, str]]:
    """``(path, relative name)`` of the JSON files under ``root`` in ordinal order.

    A file argument yields itself with its file name; a folder is searched recursively and
    sorted by relative POSIX path (code point order) so output never depends on the file
    system's listing order.
    """
    base = Path(root)
    if base.is_file():
        return [(base, base.name)]
    found = [(p, p.relative_to(base).as_posix()) for p in base.rglob("*.json") if p.is_file()]
    return sorted(found, key=lambda item: item[1])


def iter_tournaments(
    paths: Iterable[Path | str], errors: list[str] | None = None
) -> Iterator[tuple[str, TournamentFile]]:
    """Readable tournaments of ``paths`` (arguments in order, files sorted within each).

    Unreadable files are skipped; their messages are appended to ``errors`` when given.
    """
    for root in paths:
        for path, relative in tournament_files(root):
            try:
                yield relative, read_tournament(path)
            except TournamentReadError as exc:
                if errors is not None:
                    errors.append(str(exc))


__all__ = [
    "Deck",
    "TournamentFile",
    "TournamentReadError",
    "iter_tournaments",
    "read_tournament",
    "tournament_files",
]
