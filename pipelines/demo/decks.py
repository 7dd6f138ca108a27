"""Turn catalog recipes into concrete decklists, pre-serialised per source convention.

Building a deck card by card for each of 170,000 decks would dominate the run time, so each
build gets a pool of concrete variants drawn once per run (seeded). Each generated deck then
picks one variant: O(1) per deck, and the ``DeckItem`` dicts are shared between decks (they are
only ever serialised, never mutated).

Card order follows what each source writes: MTGO merges and sorts by card name; melee.gg keeps
the player's order (spells first, lands last, occasionally one basic land split over two lines
as real Melee lists do); CardsRealm lists lands first.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipelines.demo.catalog import BASIC_LANDS, Build, FormatSpec

DeckItems = list[dict[str, object]]

# Variants per archetype (split between its builds by weight): enough for card statistics to
# show a spread of copies, small enough to build in a few milliseconds.
VARIANTS_PER_ARCHETYPE = 48
# Share of melee.gg variants where one basic land is listed on two lines.
_MELEE_SPLIT_BASIC_RATE = 0.04


@dataclass(frozen=True, slots=True)
class DeckVariant:
    """One concrete decklist in the three orderings the sources use."""

    label: str
    mtgo_main: DeckItems
    mtgo_side: DeckItems
    melee_main: DeckItems
    melee_side: DeckItems
    cardsrealm_main: DeckItems
    cardsrealm_side: DeckItems


Entry = tuple[str, int]


def _fill(
    rng: random.Random, pool: tuple[tuple[str, int, int], ...], slots: int, exclude: set[str]
) -> list[Entry]:
    """Draw ``(name, count)`` entries from ``pool`` in random order until ``slots`` are used."""
    entries = [entry for entry in pool if entry[0] not in exclude]
    rng.shuffle(entries)
    counts: dict[str, int] = {}
    remaining = slots
    for name, low, high in entries:
        if remaining <= 0:
            break
        counts[name] = min(rng.randint(low, high), remaining)
        remaining -= counts[name]
    # Rare: the random counts came out short. Top up the chosen cards towards four copies.
    while remaining > 0:
        short = [name for name, count in counts.items() if count < 4]
        if not short:
            raise ValueError(f"card pool too small to fill {slots} slots")
        for name in short[:remaining]:
            counts[name] += 1
            remaining -= 1
    return list(counts.items())


def _lands(rng: random.Random, build: Build) -> list[Entry]:
    """Every land starts at its minimum; the rest of the slots go to lands with room left."""
    counts = {name: low for name, low, _ in build.lands}
    highs = {name: high for name, _, high in build.lands}
    remaining = build.land_slots - sum(counts.values())
    if remaining < 0:
        raise ValueError(f"{build.label}: land minimums exceed {build.land_slots} slots")
    while remaining > 0:
        open_names = [name for name, count in counts.items() if count < highs[name]]
        if not open_names:
            raise ValueError(f"{build.label}: land maximums below {build.land_slots} slots")
        counts[rng.choice(open_names)] += 1
        remaining -= 1
    return [(name, count) for name, count in counts.items() if count > 0]


def _items(entries: list[Entry]) -> DeckItems:
    return [{"Count": count, "CardName": name} for name, count in entries]


def build_variant(rng: random.Random, build: Build) -> DeckVariant:
    """Draw one concrete decklist for ``build``."""
    core = list(build.core)
    used = {name for name, _ in core}
    spell_slots = build.main_size - sum(count for _, count in core) - build.land_slots
    flex = _fill(rng, build.flex, spell_slots, used)
    used |= {name for name, _ in flex}
    lands = _lands(rng, build)
    used |= {name for name, _ in lands}
    side_slots = build.side_size - sum(count for _, count in build.side_core)
    side = list(build.side_core) + _fill(rng, build.sideboard, side_slots, used)

    melee_main = core + flex + lands
    if rng.random() < _MELEE_SPLIT_BASIC_RATE:
        melee_main = _split_one_basic(rng, melee_main)
    return DeckVariant(
        label=build.label,
        mtgo_main=_items(sorted(core + flex + lands)),
        mtgo_side=_items(sorted(side)),
        melee_main=_items(melee_main),
        melee_side=_items(side),
        cardsrealm_main=_items(lands + core + flex),
        cardsrealm_side=_items(side),
    )


def _split_one_basic(rng: random.Random, entries: list[Entry]) -> list[Entry]:
    """List one basic land (with >= 2 copies) on two lines, as some melee.gg exports do."""
    basics = [k for k, (name, count) in enumerate(entries) if name in BASIC_LANDS and count >= 2]
    if not basics:
        return entries
    k = rng.choice(basics)
    name, count = entries[k]
    first = rng.randint(1, count - 1)
    return [*entries[:k], (name, first), *entries[k + 1 :], (name, count - first)]


def build_pools(rng: random.Random, spec: FormatSpec) -> list[list[DeckVariant]]:
    """Variant pools per archetype of ``spec`` (same order as ``spec.archetypes``)."""
    pools: list[list[DeckVariant]] = []
    for archetype in spec.archetypes:
        total_weight = sum(build.weight for build in archetype.builds)
        pool: list[DeckVariant] = []
        for build in archetype.builds:
            count = max(4, round(VARIANTS_PER_ARCHETYPE * build.weight / total_weight))
            pool.extend(build_variant(rng, build) for _ in range(count))
        pools.append(pool)
    return pools
