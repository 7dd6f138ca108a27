"""Small synthetic decks and definitions for the discovery tests."""

from __future__ import annotations

import random
from types import MappingProxyType

from pipelines.classify.definitions import (
    Archetype,
    Condition,
    ConditionType,
    FormatDefinitions,
)
from pipelines.discovery.vectors import Deck

STAPLES = [f"Staple {i}" for i in range(6)]
LANDS = ["Island", "Mountain"]


def archetype(name: str, card: str) -> Archetype:
    return Archetype(
        name, False, (Condition(ConditionType.IN_MAINBOARD, (card,)),), (), f"{name}.json"
    )


def definitions(*archetypes: Archetype) -> FormatDefinitions:
    return FormatDefinitions(
        name="Synthetic",
        archetypes=tuple(archetypes),
        fallbacks=(),
        lands=MappingProxyType({}),
        nonlands=MappingProxyType({}),
        metas=(),
        version="synthetic",
    )


def deck_of(
    deck_id: int, core: list[str], rng: random.Random, flex: list[str] | None = None
) -> Deck:
    """A deck: its archetype's core cards, most of its flex cards, two staples, lands."""
    cards = [*core, *rng.sample(flex, k=max(1, len(flex) - 1))] if flex else list(core)
    cards += rng.sample(STAPLES, k=2)
    main = tuple((c, 4) for c in cards) + tuple((land, 8) for land in LANDS)
    side = ((rng.choice(STAPLES), 2),)
    return Deck(deck_id, main, side)


def family(prefix: str, size: int) -> tuple[list[str], list[str]]:
    core = [f"{prefix} Core {i}" for i in range(4)]
    flex = [f"{prefix} Flex {i}" for i in range(4)]
    return core, flex


def window(seed: int = 1, new_size: int = 12) -> tuple[list[Deck], set[int]]:
    """Decks of archetypes Alpha (ruled), Beta (ruled), Gamma (no rule yet) and lone brews.

    Returns the decks and the ids of the Gamma decks (the cluster to find)."""
    rng = random.Random(seed)
    decks: list[Deck] = []
    gamma: set[int] = set()
    for prefix, size in (("Alpha", 15), ("Beta", 10), ("Gamma", new_size)):
        core, flex = family(prefix, size)
        for _ in range(size):
            deck = deck_of(len(decks) + 1, core, rng, flex)
            decks.append(deck)
            if prefix == "Gamma":
                gamma.add(deck.id)
    for i in range(4):  # one-off brews: Unknown, but no archetype
        decks.append(deck_of(len(decks) + 1, [f"Brew {i} Card {j}" for j in range(5)], rng))
    return decks, gamma


RULED = definitions(archetype("Alpha", "Alpha Core 0"), archetype("Beta", "Beta Core 0"))
