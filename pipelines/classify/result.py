"""The result of one detection and the constants shared by every evaluator."""

from __future__ import annotations

import enum
from dataclasses import dataclass

# Fallbacks need a similarity strictly greater than this (§3.7.4).
MIN_SIMILARITY = 0.1

# Companion cards and their labels, in the reference's scan order: the LAST match wins.
COMPANIONS: tuple[tuple[str, str], ...] = (
    ("Gyruda, Doom of Depths", "Gyruda"),
    ("Jegantha, the Wellspring", "Jegantha"),
    ("Kaheera, the Orphanguard", "Kaheera"),
    ("Keruga, the Macrosage", "Keruga"),
    ("Lurrus of the Dream-Den", "Lurrus"),
    ("Lutri, the Spellchaser", "Lutri"),
    ("Obosh, the Preypiercer", "Obosh"),
    ("Umori, the Collector", "Umori"),
    ("Yorion, Sky Nomad", "Yorion"),
    ("Zirda, the Dawnwaker", "Zirda"),
)


class ConflictMode(enum.Enum):
    """What to do when several specific archetypes match (the reference's two modes)."""

    NONE = "none"  # report Conflict(a,b): how curators find overlapping definitions
    PREFER_SIMPLER = "prefer-simpler"  # keep the first match with the fewest conditions

    @classmethod
    def parse(cls, value: str | ConflictMode) -> ConflictMode:
        """Accept an enum member or its CLI spelling (``none``, ``prefer-simpler``)."""
        if isinstance(value, ConflictMode):
            return value
        normalised = value.strip().lower().replace("_", "-")
        if normalised == "prefersimpler":
            normalised = "prefer-simpler"
        return cls(normalised)


# Production default (DOMAIN.md §3.7.5 recommendation); curation tools pass NONE.
DEFAULT_MODE = ConflictMode.PREFER_SIMPLER


class Method(enum.StrEnum):
    """How the label was reached."""

    RULE = "rule"  # one specific archetype (or PreferSimpler's pick among several)
    FALLBACK = "fallback"  # no specific match; a generic archetype scored above the threshold
    CONFLICT = "conflict"  # several specific matches in mode NONE
    UNKNOWN = "unknown"  # nothing matched


@dataclass(frozen=True, slots=True)
class Detection:
    """One deck's classification, enough to store and to explain.

    * ``archetype``/``variant``: internal names of the chosen definition (None when Unknown
      or Conflict; ``variant`` None when the parent matched without a variant).
    * ``display_name``: the record label: ``Unknown``, one display name or ``Conflict(a,b)``.
    * ``fallback_score``: the best fallback's similarity whenever fallbacks were scored with a
      non-zero weight (also when it was rejected as too low), else None.
    * ``candidates``: display names of every match in match order, even when PreferSimpler
      kept only one of them.
    """

    archetype: str | None
    variant: str | None
    colour: str
    companion: str
    display_name: str
    method: Method
    fallback_score: float | None
    candidates: tuple[str, ...]


__all__ = [
    "COMPANIONS",
    "DEFAULT_MODE",
    "MIN_SIMILARITY",
    "ConflictMode",
    "Detection",
    "Method",
]
