"""Display names of archetypes (DOMAIN.md §3.8), quirks included.

The reference renders ``Death's Shadow`` as ``Death 's Shadow`` and ``Oops! All Spells`` as
``Oops ! All Spells``; users know these labels, so we reproduce them exactly.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Colour code -> prefix, before space insertion ("MonoRed" becomes "Mono Red" later). Keys are
# canonical WUBRG codes only; four-colour codes have no traditional name and render as is.
COLOUR_PREFIXES: dict[str, str] = {
    "C": "",
    "W": "MonoWhite",
    "U": "MonoBlue",
    "B": "MonoBlack",
    "R": "MonoRed",
    "G": "MonoGreen",
    "WU": "Azorius",
    "WB": "Orzhov",
    "WR": "Boros",
    "WG": "Selesnya",
    "UB": "Dimir",
    "UR": "Izzet",
    "UG": "Simic",
    "BR": "Rakdos",
    "BG": "Golgari",
    "RG": "Gruul",
    "WUB": "Esper",
    "WUR": "Jeskai",
    "WUG": "Bant",
    "WBR": "Mardu",
    "WBG": "Abzan",
    "WRG": "Naya",
    "UBR": "Grixis",
    "UBG": "Sultai",
    "URG": "Temur",
    "BRG": "Jund",
    "WUBR": "WUBR",
    "WUBG": "WUBG",
    "WURG": "WURG",
    "WBRG": "WBRG",
    "UBRG": "UBRG",
    "WUBRG": "5Color",
}

_WHITESPACE_RUN = re.compile(r"\s+")


def colour_prefix(colour: str) -> str:
    """The name prefix of a colour code ('' for colourless or an unknown code)."""
    return COLOUR_PREFIXES.get(colour, "")


def _is_upper(ch: str) -> bool:
    return "A" <= ch <= "Z"  # ASCII only: 'É' is "not a capital" in the reference


def _is_lower(ch: str) -> bool:
    return "a" <= ch <= "z"


def _is_letter(ch: str) -> bool:
    return _is_upper(ch) or _is_lower(ch)


def _space_before(text: str, p: int) -> bool:
    """Whether a space goes between ``text[p-1]`` and ``text[p]`` (rules a, b, c of §3.8)."""
    prev, cur = text[p - 1], text[p]
    nxt = text[p + 1] if p + 1 < len(text) else ""
    if _is_upper(prev) and _is_upper(cur) and _is_lower(nxt):
        return True  # (a) "UWControl" -> "UW Control"
    if not _is_upper(prev) and _is_upper(cur):
        return True  # (b) "IzzetProwess" -> "Izzet Prowess", "5Color" -> "5 Color"
    return _is_letter(prev) and not _is_letter(cur)  # (c) "Death's" -> "Death 's"


def insert_spaces(text: str) -> str:
    """Insert the reference's word-break spaces; positions are decided on the input string."""
    parts = [text[:1]]
    for p in range(1, len(text)):
        if _space_before(text, p):
            parts.append(" ")
        parts.append(text[p])
    return "".join(parts)


@lru_cache(maxsize=65536)
def display_name(name: str, include_colour: bool, colour: str) -> str:
    """The rendered label of an archetype, variant or fallback for a deck of ``colour``.

    ``Generic`` is removed (case-sensitive), the colour prefix is glued on when requested,
    spaces are inserted, then whitespace runs collapse to one space without trimming.
    """
    text = name.replace("Generic", "")
    if include_colour:
        text = colour_prefix(colour) + text
    return _WHITESPACE_RUN.sub(" ", insert_spaces(text))


def conflict_label(names: list[str] | tuple[str, ...]) -> str:
    """The record label of several matches: ``Conflict(a,b)`` (no spaces after commas)."""
    return "Conflict(" + ",".join(names) + ")"


UNKNOWN = "Unknown"

__all__ = [
    "COLOUR_PREFIXES",
    "UNKNOWN",
    "colour_prefix",
    "conflict_label",
    "display_name",
    "insert_spaces",
]
