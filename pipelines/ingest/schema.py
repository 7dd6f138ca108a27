"""The decklist-cache document schema (DOMAIN.md §2.2), decoded and type-checked by msgspec.

msgspec decodes straight into these typed structs in C: the JSON is parsed and every field's
type checked in one pass, several times faster than decoding to dicts and checking in Python,
and its errors carry the JSON path of the offending value. Unknown keys are ignored; keys are
PascalCase and case-sensitive as in the real files. Values the format allows to be null or
missing have defaults; what the parser tolerates beyond that (a non-string ``RoundName`` or
match ``Result``) is typed ``Any`` and judged by :mod:`pipelines.ingest.parse`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec

# Leaf structs are never part of a reference cycle: gc=False spares the collector ~1M objects.


class Item(msgspec.Struct, gc=False):
    CardName: str
    Count: Annotated[int, msgspec.Meta(ge=0)]


class Deck(msgspec.Struct, gc=False):
    Player: str
    Result: str | None = None
    AnchorUri: str | None = None
    Date: str | None = None
    Mainboard: list[Item] = []
    Sideboard: list[Item] | None = None


class Standing(msgspec.Struct, gc=False):
    Player: str
    Rank: int | None = None
    Points: int | None = None
    Wins: int | None = None
    Losses: int | None = None
    Draws: int | None = None
    # Topdeck writes 0/1 for some percentages: msgspec accepts JSON integers as floats.
    OMWP: float | None = None
    GWP: float | None = None
    OGWP: float | None = None


class Match(msgspec.Struct, gc=False):
    Player1: str | None = None
    Player2: str | None = None
    Result: Any = None  # a malformed score is a warning, not a reason to refuse the file


class Round(msgspec.Struct, gc=False):
    RoundName: Any = None
    Matches: list[Match] | None = None


class Tournament(msgspec.Struct, gc=False):
    Name: str
    Uri: str
    Date: str
    Formats: str | None = None  # one format name despite the plural


class Document(msgspec.Struct, gc=False):
    Tournament: Tournament | None = None
    Decks: list[Deck] | None = None
    Rounds: list[Round] | None = None  # null or missing: rounds not available
    Standings: list[Standing] | None = None


DECODER = msgspec.json.Decoder(Document)

_LOCATED = re.compile(r"^(?P<what>.*) - at `\$\.?(?P<where>.*)`$")


def describe(error: msgspec.ValidationError) -> str:
    """msgspec's message in the parser's words: ``Decks[0].Player must be str, got null``."""
    match = _LOCATED.match(str(error))
    what, where = (match["what"], match["where"]) if match else (str(error), "")
    what = what.replace("`", "")
    if what.startswith("Expected "):
        return f"{where or 'top level'} must be {what.removeprefix('Expected ')}"
    return f"{where}: {what[0].lower()}{what[1:]}" if where else what
