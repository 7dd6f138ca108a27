"""Which events a definitions folder classifies (DOMAIN.md §3.1: historical Standard).

MTGOFormatData keeps the rules of a past Standard rotation in a folder named
``<Format>-YYYYMMDD-YYYYMMDD``; such a dated folder classifies that format's events inside
the date range (both dates inclusive) and the undated folder classifies the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

# "Standard-20230701-20240802": the rules of a format for events inside a date range
# (historical Standard rotations in MTGOFormatData; both dates inclusive).
_DATED_FOLDER = re.compile(r"^(?P<format>.+)-(?P<first>\d{8})-(?P<last>\d{8})$")


@dataclass(frozen=True)
class DefinitionsScope:
    """Which events a definitions folder classifies: a format, over a date range if dated."""

    format: str
    first: date | None = None
    last: date | None = None

    @property
    def dated(self) -> bool:
        return self.first is not None

    def covers(self, day: date) -> bool:
        """True when an event on ``day`` falls inside a dated folder's range."""
        return self.first is not None and self.last is not None and self.first <= day <= self.last


def definitions_scope(folder_name: str) -> DefinitionsScope:
    """A definitions folder's scope from its name: dated if ``<Format>-YYYYMMDD-YYYYMMDD``."""
    match = _DATED_FOLDER.match(folder_name)
    if match is None:
        return DefinitionsScope(folder_name)
    try:
        first = datetime.strptime(match["first"], "%Y%m%d").date()
        last = datetime.strptime(match["last"], "%Y%m%d").date()
    except ValueError:  # not a real date: an ordinary folder name
        return DefinitionsScope(folder_name)
    return DefinitionsScope(match["format"], first, last)


def pick_definitions(folders: Iterable[str], format_name: str, day: date | None) -> str | None:
    """The folder classifying an event of ``format_name`` held on ``day``.

    The dated folder of that format whose range contains the day (the reference's rule for
    historical Standard), else the undated folder: exact name first, then any case; ``None``
    when there is none.
    """
    folded = format_name.casefold()
    undated: list[str] = []
    for folder in sorted(folders):
        scope = definitions_scope(folder)
        if scope.format.casefold() != folded:
            continue
        if scope.dated:
            if day is not None and scope.covers(day):
                return folder
        else:
            undated.append(folder)
    if format_name in undated:
        return format_name
    return undated[0] if undated else None


def dated_siblings(folders: Iterable[str], folder_name: str) -> list[DefinitionsScope]:
    """The dated scopes of the same format as an undated folder (events it must leave out)."""
    scope = definitions_scope(folder_name)
    if scope.dated:
        return []
    scopes = (definitions_scope(f) for f in folders)
    return [s for s in scopes if s.dated and s.format.casefold() == scope.format.casefold()]


__all__ = ["DefinitionsScope", "dated_siblings", "definitions_scope", "pick_definitions"]
