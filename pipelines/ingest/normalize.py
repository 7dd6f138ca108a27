"""Small normalisation rules of the decklist-cache format (DOMAIN.md §2).

Each function here is the one place its rule lives: card names, player names, ``Result``
strings, formats, event kinds and event identity.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

_WS = re.compile(r"\s+")
_PLACE = re.compile(r"^(\d+)(?:st|nd|rd|th) Place$")
_RECORD = re.compile(r"^(\d+)-(\d+)(?:-(\d+))?$")
# "Fire/Ice", "Wear/Tear": a split card written with one slash by some sources. Both halves
# start upper-case and the slash has no spaces; "Summon: Choco/Mog" (a real name) has a colon.
_SINGLE_SLASH_SPLIT = re.compile(r"^([A-Z][^/:]*[a-z])/([A-Z][^/:]*)$")
_CURLY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})

KNOWN_FORMATS = (
    "Standard",
    "Pioneer",
    "Modern",
    "Legacy",
    "Vintage",
    "Pauper",
    "Premodern",
    "Duel Commander",
    "Commander",
    "Limited",
)
UNKNOWN_FORMAT = "Unknown"
_FORMAT_WORDS = re.compile(
    r"\b(" + "|".join(re.escape(f) for f in KNOWN_FORMATS) + r")\b", re.IGNORECASE
)
_FORMAT_BY_LOWER = {f.lower(): f for f in KNOWN_FORMATS}


def trim_card_name(name: str) -> str:
    """The name as the reference classifier sees it: only surrounding whitespace removed."""
    return name.strip()


def normalize_card_name(name: str, known: Collection[str] | None = None) -> str:
    """Canonical card name for statistics (DOMAIN.md §2.9, the optional canonical layer).

    Collapses whitespace, straightens curly quotes, strips the Alchemy ``A-`` prefix, writes
    single-slash split cards as ``A // B`` and reduces full double-faced / adventure / omen
    names to the front face unless ``known`` lists the full name (real split cards such as
    ``Wear // Tear`` are listed that way in the colour table).
    """
    text = _WS.sub(" ", name.translate(_CURLY)).strip()
    if text.startswith("A-") and len(text) > 2 and text[2].isupper():
        text = text[2:]
    split = _SINGLE_SLASH_SPLIT.match(text)
    if split:
        text = f"{split[1]} // {split[2]}"
    if " // " in text and known is not None and text not in known:
        front = text.split(" // ", 1)[0]
        if front in known:
            text = front
    return text


def player_key(player: str) -> str:
    """Player name for joins between decks, standings and matches (whitespace collapsed)."""
    text = player.strip()
    # Fast path: printable text has no whitespace but ASCII spaces (other Unicode spaces are
    # not printable), so without a double space there is nothing to collapse.
    if "  " not in text and text.isprintable():
        return text
    return " ".join(text.split())


def is_no_opponent(player: str | None) -> bool:
    """True for the bye / forfeit markers of the sources: ``None``, ``""`` or ``"-"``."""
    return player is None or player.strip() in {"", "-"}


@dataclass(frozen=True)
class ParsedResult:
    """A deck's ``Result`` string split into a placement or a match record."""

    rank: int | None = None
    wins: int | None = None
    losses: int | None = None
    draws: int | None = None


@functools.lru_cache(maxsize=4096)  # few distinct strings ("5-0", "3rd Place"), one per deck
def parse_result(result: str) -> ParsedResult:
    """Parse ``"3rd Place"`` (any suffix, the scrapers write ``2st``/``22th``) or ``"5-0"``."""
    text = result.strip()
    place = _PLACE.match(text)
    if place:
        return ParsedResult(rank=int(place[1]))
    record = _RECORD.match(text)
    if record:
        draws = int(record[3]) if record[3] is not None else None
        return ParsedResult(wins=int(record[1]), losses=int(record[2]), draws=draws)
    return ParsedResult()


def canonical_format(formats: str | None, *hints: str) -> tuple[str, bool]:
    """The event's format and whether it was inferred from the name or file name.

    ``Tournament.Formats`` wins when present; otherwise the first known format word in the
    hints (event name, file name); otherwise ``Unknown``.
    """
    if formats and formats.strip():
        value = formats.strip()
        return _FORMAT_BY_LOWER.get(value.lower(), value), False
    for hint in hints:
        found = _FORMAT_WORDS.search(hint.replace("-", " "))
        if found:
            return _FORMAT_BY_LOWER[found[1].lower()], True
    return UNKNOWN_FORMAT, True


_MTGO_KINDS = (
    ("league", "league"),
    ("challenge", "challenge"),
    ("preliminary", "preliminary"),
    ("showcase", "showcase"),
    ("last chance", "last_chance"),
    ("qualifier", "qualifier"),
    ("trial", "trial"),
)


def event_kind(source: str, name: str) -> str:
    """Event kind from the source and the event name (DOMAIN.md §2.11)."""
    if source == "MTGO":
        lowered = name.lower()
        for word, kind in _MTGO_KINDS:
            if word in lowered:
                return kind
        return "other"
    if source == "Manatrader":
        return "series"
    return "paper"


def canonical_uri(uri: str) -> str:
    """Event URI without fragment, query, trailing slash or host case differences."""
    parts = urlsplit(uri.strip())
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))


_MTGO_SLUG = re.compile(r"^(.*)-(\d{4})-(\d{2})-(\d{2})(\d+)$")


def source_event_id(source: str, uri: str) -> str | None:
    """The source's own event id: MTGO's id glued to the slug date, else the last URI segment."""
    last = canonical_uri(uri).rsplit("/", 1)[-1]
    if not last:
        return None
    if source == "MTGO":
        match = _MTGO_SLUG.match(last)
        return match[5] if match else None
    if source in {"MTGmelee", "Topdeck"}:
        return last
    return None


def slug(text: str) -> str:
    """ASCII slug (for file names of generated data and display keys)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = re.sub(r"[^\w\s-]", "", ascii_text).strip().lower()
    return re.sub(r"[-\s_]+", "-", ascii_text)
