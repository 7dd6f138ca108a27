"""A minimal, test-only reading of the demo definitions and the DOMAIN.md §3.7 detection rules.

Deliberately independent of ``pipelines/classify`` (written concurrently by a teammate): it lets
the demo tests check that every generated deck classifies as the archetype it was built for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WUBRG = "WUBRG"
# fmt: off
CANONICAL_COLORS = frozenset({
    "C", "W", "U", "B", "R", "G", "WU", "WB", "WR", "WG", "UB", "UR", "UG", "BR", "BG", "RG",
    "WUB", "WUR", "WUG", "WBR", "WBG", "WRG", "UBR", "UBG", "URG", "BRG",
    "WUBR", "WUBG", "WURG", "WBRG", "UBRG", "WUBRG",
})
# fmt: on
SINGLE_CARD_TYPES = frozenset(
    {
        "InMainboard",
        "InSideboard",
        "InMainOrSideboard",
        "DoesNotContain",
        "DoesNotContainMainboard",
        "DoesNotContainSideboard",
    }
)
MULTI_CARD_TYPES = frozenset(
    {
        "OneOrMoreInMainboard",
        "OneOrMoreInSideboard",
        "OneOrMoreInMainOrSideboard",
        "TwoOrMoreInMainboard",
        "TwoOrMoreInSideboard",
        "TwoOrMoreInMainOrSideboard",
    }
)

Board = list[tuple[str, int]]


@dataclass
class Definitions:
    archetypes: list[dict[str, Any]]
    fallbacks: list[dict[str, Any]]
    lands: dict[str, str]
    nonlands: dict[str, str]


def load_format(root: Path, fmt: str) -> Definitions:
    """Load one format (ordinal file-name order, overrides applied over the shared table)."""
    table = json.loads((root / "card_colors.json").read_text(encoding="utf-8"))
    overrides = json.loads((root / fmt / "color_overrides.json").read_text(encoding="utf-8"))
    lands = {e["Name"]: e["Color"] for e in table["Lands"] or []}
    nonlands = {e["Name"]: e["Color"] for e in table["NonLands"] or []}
    lands.update({e["Name"]: e["Color"] for e in overrides["Lands"] or []})
    nonlands.update({e["Name"]: e["Color"] for e in overrides["NonLands"] or []})

    def read(kind: str) -> list[dict[str, Any]]:
        files = sorted((root / fmt / kind).glob("*.json"), key=lambda p: p.name.encode())
        return [json.loads(p.read_text(encoding="utf-8")) for p in files]

    return Definitions(read("Archetypes"), read("Fallbacks"), lands, nonlands)


def _holds(cond: dict[str, Any], main: Board, side: Board) -> bool:
    cards = cond.get("Cards") or []
    if not cards:
        return True
    kind = cond["Type"]
    main_names = [n for n, _ in main]
    side_names = [n for n, _ in side]
    first = cards[0]
    hits_main = sum(1 for n in main_names if n in cards)
    hits_side = sum(1 for n in side_names if n in cards)
    rules = {
        "InMainboard": lambda: first in main_names,
        "InSideboard": lambda: first in side_names,
        "InMainOrSideboard": lambda: first in main_names or first in side_names,
        "OneOrMoreInMainboard": lambda: hits_main >= 1,
        "OneOrMoreInSideboard": lambda: hits_side >= 1,
        "OneOrMoreInMainOrSideboard": lambda: hits_main >= 1 or hits_side >= 1,
        "TwoOrMoreInMainboard": lambda: hits_main >= 2,
        "TwoOrMoreInSideboard": lambda: hits_side >= 2,
        "TwoOrMoreInMainOrSideboard": lambda: hits_main + hits_side >= 2,
        "DoesNotContain": lambda: first not in main_names and first not in side_names,
        "DoesNotContainMainboard": lambda: first not in main_names,
        "DoesNotContainSideboard": lambda: first not in side_names,
    }
    return rules[kind]()


def _passes(definition: dict[str, Any], main: Board, side: Board) -> bool:
    return all(_holds(c, main, side) for c in definition.get("Conditions") or [])


def detect(defs: Definitions, main: Board, side: Board) -> list[tuple[str, str | None, float]]:
    """Matches as ``(name, variant name or None, similarity)``; fallbacks as ``("fallback:X")``."""
    matches: list[tuple[str, str | None, float]] = []
    for archetype in defs.archetypes:
        if not _passes(archetype, main, side):
            continue
        variants = [v for v in archetype.get("Variants") or [] if _passes(v, main, side)]
        if variants:
            matches.extend((archetype["Name"], v["Name"], 1.0) for v in variants)
        else:
            matches.append((archetype["Name"], None, 1.0))
    if matches or not defs.fallbacks:
        return matches
    weights = []
    for fallback in defs.fallbacks:
        common = set(fallback["CommonCards"])
        weights.append(sum(c for n, c in main + side if n in common))
    top = max(weights)
    if top == 0:
        return []
    best = min(
        (k for k, w in enumerate(weights) if w == top),
        key=lambda k: (len(defs.fallbacks[k]["CommonCards"]), k),
    )
    similarity = top / (len(main) + len(side))
    if similarity > 0.1:
        return [("fallback:" + defs.fallbacks[best]["Name"], None, similarity)]
    return []


def label_of(matches: list[tuple[str, str | None, float]]) -> str:
    """The catalog label a detection corresponds to (``Unknown`` / ``Conflict`` otherwise)."""
    if not matches:
        return "Unknown"
    if len(matches) > 1:
        return "Conflict(" + ",".join(f"{n}/{v}" if v else n for n, v, _ in matches) + ")"
    name, variant, _ = matches[0]
    return f"{name}/{variant}" if variant else name


def deck_colour(defs: Definitions, main: Board, side: Board) -> str:
    """Deck colour per DOMAIN.md §3.7.2 (sideboard counts too)."""
    land_hits = dict.fromkeys(WUBRG, 0)
    nonland_hits = dict.fromkeys(WUBRG, 0)
    for name, count in main + side:
        for letter in defs.lands.get(name, ""):
            land_hits[letter] += count
        for letter in defs.nonlands.get(name, ""):
            nonland_hits[letter] += count
    colour = "".join(c for c in WUBRG if land_hits[c] > 0 and nonland_hits[c] > 0)
    return colour or "C"


def boards(deck: dict[str, Any]) -> tuple[Board, Board]:
    main = [(item["CardName"], item["Count"]) for item in deck["Mainboard"]]
    side = [(item["CardName"], item["Count"]) for item in deck["Sideboard"]]
    return main, side
