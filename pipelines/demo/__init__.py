"""Demo and scale data: a deterministic generator of decklist-cache tournaments, plus the small
archetype definitions folder (MTGOFormatData layout) that classifies what it generates.

``DEMO_DEFINITIONS_DIR`` is laid out like MTGOFormatData's ``Formats`` folder:
``card_colors.json`` at the top, then ``<Format>/metas.json``, ``<Format>/color_overrides.json``,
``<Format>/Archetypes/*.json`` and ``<Format>/Fallbacks/*.json`` for Modern, Pioneer, Legacy and
Pauper. All of it was written for this project (no file is copied from MTGOFormatData).
"""

from __future__ import annotations

from pathlib import Path

from pipelines.demo.generator import (
    DEFAULT_DAYS,
    DEFAULT_START,
    SCALE_DECKS,
    SOURCES,
    GeneratedEvent,
    GenerationSummary,
    dumps_event,
    generate,
    iter_events,
)

DEMO_DEFINITIONS_DIR: Path = Path(__file__).resolve().parent / "definitions"
DEMO_FORMATS: tuple[str, ...] = ("Modern", "Pioneer", "Legacy", "Pauper")

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_START",
    "DEMO_DEFINITIONS_DIR",
    "DEMO_FORMATS",
    "SCALE_DECKS",
    "SOURCES",
    "GeneratedEvent",
    "GenerationSummary",
    "dumps_event",
    "generate",
    "iter_events",
]
