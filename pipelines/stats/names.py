"""Archetype identity: display names, URL slugs, and which labels may rank (METHODOLOGY.md §1).

The classifier's labels are rendered exactly as the reference does (DOMAIN §3.8), quirks
included: ``"Tin Fins "`` keeps its trailing space, ``"Oops ! All Spells"`` and
``"Mono Black Death 's Shadow"`` get a space before their punctuation. Those labels are kept
as ``name_raw``; what the API shows and groups by is :func:`display_name` of the label, and
what URLs use is a **slug**, stable per (format, display name) once assigned (the table
``archetype_names`` remembers it, :mod:`pipelines.stats.name_sync` fills it).

``Unknown`` (no rule matched) and ``Conflict(…)`` (several rules matched) are labels like any
other for presence, but they are not archetypes a player can pick: they never get a rank or a
tier (:func:`is_rankable`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Final

__all__ = [
    "UNKNOWN_LABEL",
    "assign_slugs",
    "display_name",
    "is_rankable",
    "lookup_key",
    "slugify",
]

UNKNOWN_LABEL: Final = "Unknown"
_CONFLICT_PREFIX: Final = "Conflict("

# Typographic apostrophes and quotes folded to the ASCII apostrophe.
_APOSTROPHES: Final = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_SPACES = re.compile(r"\s+")
# A space the renderer inserted between a letter and an apostrophe ("Death 's").
_SPACE_BEFORE_APOSTROPHE = re.compile(r"(?<=[^\W\d_]) '(?=[^\W\d_])")
# A space before closing punctuation ("Oops ! All", "Hello , world", "(Foo )"). Full stops are
# left alone: "Now You See Me . . ." is a definition's own spelling.
_SPACE_BEFORE_PUNCT = re.compile(r" (?=[!?,;:)\]])")
_SPACE_AFTER_OPEN = re.compile(r"(?<=[(\[]) ")
_SLUG_DROP = re.compile(r"['\u2019]")
_SLUG_SEPARATORS = re.compile(r"[^a-z0-9]+")


def display_name(label: str) -> str:
    """The normalised display name of a classifier label.

    Unicode NFC; typographic apostrophes → ``'``; whitespace runs → one space; trimmed; no
    space between a letter and an apostrophe followed by a letter (``Death 's`` →
    ``Death's``); no space before ``! ? , ; : ) ]`` nor after ``( [``. Idempotent.
    """
    text = unicodedata.normalize("NFC", label).translate(_APOSTROPHES)
    text = _SPACES.sub(" ", text).strip()
    text = _SPACE_BEFORE_APOSTROPHE.sub("'", text)
    text = _SPACE_BEFORE_PUNCT.sub("", text)
    return _SPACE_AFTER_OPEN.sub("", text)


def slugify(name: str) -> str:
    """URL slug of a display name: accents folded to ASCII, lower case, apostrophes dropped,
    every other run of non-alphanumerics one ``-``, trimmed of ``-``; ``"archetype"`` if
    nothing is left (a name made only of symbols)."""
    folded = unicodedata.normalize("NFKD", display_name(name))
    ascii_only = folded.encode("ascii", "ignore").decode("ascii").lower()
    slug = _SLUG_SEPARATORS.sub("-", _SLUG_DROP.sub("", ascii_only)).strip("-")
    return slug or "archetype"


def lookup_key(text: str) -> str:
    """What a request's archetype segment is compared on: case-folded display name. A slug
    and a spelling are both tried by the reader (:mod:`pipelines.stats.archetype_reads`)."""
    return display_name(text).casefold()


def is_rankable(name: str) -> bool:
    """False for ``Unknown`` and ``Conflict(…)`` labels (raw or normalised): they keep their
    shares but never get a rank or a tier."""
    cleaned = display_name(name)
    return cleaned != UNKNOWN_LABEL and not cleaned.startswith(_CONFLICT_PREFIX)


def assign_slugs(existing: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """Slugs for new display names of one format, never changing an existing one.

    Args:
        existing: display name → slug already assigned in the format.
        names: display names (new ones get a slug; known ones are skipped).

    Returns:
        display name → slug for the new names only. A slug already taken in the format gets
        ``-2``, ``-3``… (in name order, so the outcome does not depend on input order).
    """
    taken = set(existing.values())
    out: dict[str, str] = {}
    for name in sorted(set(names) - set(existing)):
        base = slugify(name)
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        out[name] = slug
    return out
