"""What the demo generator knows about each format: archetypes, deck recipes, meta shares.

Every recipe is written so that the decks it produces satisfy exactly one definition of the
shipped demo definitions folder (``pipelines/demo/definitions``): the cards named by a
definition's ``InMainboard``/``TwoOrMoreInMainboard``… conditions are in the recipe's core, and
the cards named by its ``DoesNotContain`` conditions never appear in the recipe. The unit tests
re-check that contract deck by deck, so editing one side without the other fails loudly.

Recipes use real card names with the spelling of the decklist cache (front face only for
double-faced cards, ``A // B`` for split cards, accents preserved).

Intended labels (what a deck is built to classify as) are strings:

* ``"Burn"`` — the specific archetype whose definition ``Name`` is ``Burn``, no variant;
* ``"GenericTron/EldraziTron"`` — archetype ``GenericTron``, variant ``EldraziTron``;
* ``"fallback:GenericControl"`` — no specific archetype matches, the fallback wins;
* ``"Unknown"`` — nothing matches at all (no specific archetype, no fallback common card).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

UNKNOWN = "Unknown"
FALLBACK_PREFIX = "fallback:"

_COUNT_LINE = re.compile(r"^(\d+) (.+)$")
_RANGE_LINE = re.compile(r"^(.+) (\d+)-(\d+)$")


def _counts(spec: str) -> tuple[tuple[str, int], ...]:
    """Parse lines such as ``4 Lava Spike`` (one card per line)."""
    out = []
    for line in filter(None, (raw.strip() for raw in spec.splitlines())):
        match = _COUNT_LINE.match(line)
        if match is None:
            raise ValueError(f"bad count line: {line!r}")
        out.append((match.group(2), int(match.group(1))))
    return tuple(out)


def _ranges(spec: str) -> tuple[tuple[str, int, int], ...]:
    """Parse lines such as ``Searing Blaze 1-3`` (card, minimum copies, maximum copies)."""
    out = []
    for line in filter(None, (raw.strip() for raw in spec.splitlines())):
        match = _RANGE_LINE.match(line)
        if match is None:
            raise ValueError(f"bad range line: {line!r}")
        low, high = int(match.group(2)), int(match.group(3))
        if low > high or (high > 4 and not _is_basic(match.group(1))):
            raise ValueError(f"bad range in line: {line!r}")
        out.append((match.group(1), low, high))
    return tuple(out)


BASIC_LANDS = frozenset({"Plains", "Island", "Swamp", "Mountain", "Forest", "Wastes"})


def _is_basic(name: str) -> bool:
    return name in BASIC_LANDS


@dataclass(frozen=True)
class Build:
    """One way of building an archetype (a colour pair or a variant of it).

    ``core`` is always played with exactly these counts. ``flex`` cards are drawn in random order
    with a random count in their range until the non-land slots are full. ``lands`` start at
    their minimum and the remaining ``land_slots`` are spread over the entries with room left.
    """

    label: str
    weight: float
    core: tuple[tuple[str, int], ...]
    flex: tuple[tuple[str, int, int], ...]
    lands: tuple[tuple[str, int, int], ...]
    land_slots: int
    sideboard: tuple[tuple[str, int, int], ...]
    side_core: tuple[tuple[str, int], ...] = ()
    main_size: int = 60
    side_size: int = 15

    def all_cards(self) -> set[str]:
        """Every card name this build can put in a deck (either board)."""
        names = {n for n, _ in self.core} | {n for n, _, _ in self.flex}
        names |= {n for n, _, _ in self.lands} | {n for n, _, _ in self.sideboard}
        return names | {n for n, _ in self.side_core}


@dataclass(frozen=True)
class ArchetypeSpec:
    """An archetype of the demo metagame: how common it is, how strong, how it is built."""

    key: str
    share: float
    power: float
    builds: tuple[Build, ...]


@dataclass(frozen=True)
class FormatSpec:
    """One format: its archetypes and the hand-written matchup edges (logit units)."""

    name: str
    archetypes: tuple[ArchetypeSpec, ...]
    edges: dict[tuple[str, str], float] = field(default_factory=dict)


def _build(
    label: str,
    *,
    weight: float = 1.0,
    core: str,
    flex: str,
    lands: str,
    land_slots: int,
    side: str,
    side_core: str = "",
    main_size: int = 60,
) -> Build:
    return Build(
        label=label,
        weight=weight,
        core=_counts(core),
        flex=_ranges(flex),
        lands=_ranges(lands),
        land_slots=land_slots,
        sideboard=_ranges(side),
        side_core=_counts(side_core) if side_core.strip() else (),
        main_size=main_size,
    )


# --------------------------------------------------------------------------------------------
# Modern
# --------------------------------------------------------------------------------------------

_ENERGY_FLEX = """
Ragavan, Nimble Pilferer 1-4
Seasoned Pyromancer 1-2
Static Prison 1-3
Goblin Bombardment 1-2
Fable of the Mirror-Breaker 1-2
Amped Raptor 2-4
Lightning Bolt 1-3
Ranger-Captain of Eos 1-1
Solitude 1-2
The One Ring 1-1
Voice of Victory 1-3
Thraben Inspector 1-2
"""
_ENERGY_SIDE = """
Wear // Tear 1-2
Celestial Purge 1-2
Obsidian Charmaw 1-2
Blood Moon 1-2
Kor Firewalker 1-2
High Noon 1-1
Orim's Chant 1-3
Damping Sphere 1-2
Tormod's Crypt 1-2
Engineered Explosives 1-1
Surgical Extraction 1-2
Deflecting Palm 1-1
"""

MODERN = FormatSpec(
    name="Modern",
    archetypes=(
        ArchetypeSpec(
            key="Energy",
            share=22.0,
            power=0.15,
            builds=(
                _build(
                    "Energy",
                    weight=0.8,
                    core="""
                    4 Guide of Souls
                    4 Ocelot Pride
                    4 Ajani, Nacatl Pariah
                    4 Galvanic Discharge
                    3 Phlage, Titan of Fire's Fury
                    """,
                    flex=_ENERGY_FLEX,
                    lands="""
                    Arena of Glory 1-2
                    Sacred Foundry 1-2
                    Arid Mesa 2-4
                    Marsh Flats 1-3
                    Flooded Strand 1-2
                    Windswept Heath 1-3
                    Elegant Parlor 1-2
                    Sunbaked Canyon 0-1
                    Plains 2-4
                    Mountain 2-4
                    Inspiring Vantage 1-2
                    """,
                    land_slots=20,
                    side=_ENERGY_SIDE,
                ),
                # Jeskai: the blue splash turns the displayed name into "Jeskai Energy".
                _build(
                    "Energy",
                    weight=0.2,
                    core="""
                    4 Guide of Souls
                    4 Ocelot Pride
                    4 Ajani, Nacatl Pariah
                    4 Galvanic Discharge
                    3 Phlage, Titan of Fire's Fury
                    2 Consign to Memory
                    """,
                    flex=_ENERGY_FLEX + "Stubborn Denial 1-2\n",
                    lands="""
                    Arena of Glory 1-1
                    Sacred Foundry 1-2
                    Hallowed Fountain 1-1
                    Steam Vents 1-1
                    Meticulous Archive 1-1
                    Arid Mesa 2-4
                    Flooded Strand 2-4
                    Windswept Heath 1-2
                    Elegant Parlor 1-2
                    Plains 1-3
                    Mountain 1-3
                    Island 0-1
                    """,
                    land_slots=20,
                    side=_ENERGY_SIDE + "Mystical Dispute 1-2\n",
                ),
            ),
        ),
        ArchetypeSpec(
            key="GenericTron",
            share=12.0,
            power=0.0,
            builds=(
                _build(
                    "GenericTron/GreenTron",
                    weight=0.55,
                    core="""
                    4 Urza's Tower
                    4 Urza's Mine
                    4 Urza's Power Plant
                    4 Sylvan Scrying
                    4 Ancient Stirrings
                    4 Karn Liberated
                    """,
                    flex="""
                    Expedition Map 2-4
                    Chromatic Star 3-4
                    Chromatic Sphere 2-4
                    Wurmcoil Engine 1-3
                    Ulamog, the Ceaseless Hunger 1-2
                    Oblivion Stone 1-2
                    Walking Ballista 1-3
                    Relic of Progenitus 1-2
                    Karn, the Great Creator 1-2
                    The One Ring 1-2
                    Ugin, the Spirit Dragon 1-1
                    Warping Wail 1-2
                    Haywire Mite 1-2
                    """,
                    lands="""
                    Forest 2-4
                    Sanctum of Ugin 0-1
                    Ghost Quarter 0-2
                    Boseiju, Who Endures 0-1
                    """,
                    land_slots=6,
                    side="""
                    Thragtusk 1-2
                    Force of Vigor 1-2
                    Dismember 1-2
                    Pithing Needle 1-2
                    Nature's Claim 1-2
                    Spatial Contortion 1-2
                    Tormod's Crypt 1-2
                    Ulamog, the Defiler 1-1
                    Trinisphere 1-2
                    Chalice of the Void 1-2
                    """,
                ),
                _build(
                    "GenericTron/EldraziTron",
                    weight=0.30,
                    core="""
                    4 Urza's Tower
                    4 Urza's Mine
                    4 Urza's Power Plant
                    4 Eldrazi Temple
                    4 Thought-Knot Seer
                    4 Reality Smasher
                    3 Matter Reshaper
                    """,
                    flex="""
                    Walking Ballista 2-4
                    Chalice of the Void 3-4
                    Karn, the Great Creator 2-4
                    Dismember 1-2
                    Wurmcoil Engine 1-2
                    Ulamog, the Ceaseless Hunger 1-1
                    Expedition Map 2-4
                    The One Ring 1-2
                    Warping Wail 1-2
                    All Is Dust 1-1
                    Emrakul, the Promised End 1-1
                    Devourer of Destiny 1-2
                    """,
                    lands="""
                    Wastes 1-3
                    Ghost Quarter 1-2
                    Ugin's Labyrinth 0-2
                    Sanctum of Ugin 0-1
                    """,
                    land_slots=5,
                    side="""
                    Trinisphere 1-2
                    Pithing Needle 1-2
                    Relic of Progenitus 1-2
                    Tormod's Crypt 1-2
                    Spatial Contortion 1-2
                    Ratchet Bomb 1-2
                    Cityscape Leveler 1-1
                    Liquimetal Coating 1-1
                    """,
                ),
                # No Scrying and no Eldrazi: reported as the parent "Tron".
                _build(
                    "GenericTron",
                    weight=0.15,
                    core="""
                    4 Urza's Tower
                    4 Urza's Mine
                    4 Urza's Power Plant
                    4 Ancient Stirrings
                    4 Karn Liberated
                    4 Expedition Map
                    """,
                    flex="""
                    Chromatic Star 3-4
                    Chromatic Sphere 2-4
                    Wurmcoil Engine 1-3
                    Ulamog, the Ceaseless Hunger 1-2
                    Oblivion Stone 1-2
                    Walking Ballista 1-3
                    Relic of Progenitus 1-2
                    Karn, the Great Creator 1-2
                    The One Ring 1-2
                    Ugin, the Spirit Dragon 1-1
                    Haywire Mite 1-2
                    """,
                    lands="""
                    Forest 3-5
                    Sanctum of Ugin 0-1
                    Ghost Quarter 0-2
                    """,
                    land_slots=6,
                    side="""
                    Thragtusk 1-2
                    Force of Vigor 1-2
                    Dismember 1-2
                    Pithing Needle 1-2
                    Nature's Claim 1-2
                    Tormod's Crypt 1-2
                    Trinisphere 1-2
                    Chalice of the Void 1-2
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="Burn",
            share=10.0,
            power=-0.05,
            builds=(
                _build(
                    "Burn",
                    weight=0.6,
                    core="""
                    4 Goblin Guide
                    4 Monastery Swiftspear
                    4 Lightning Bolt
                    4 Lava Spike
                    4 Rift Bolt
                    4 Boros Charm
                    4 Lightning Helix
                    """,
                    flex="""
                    Eidolon of the Great Revel 2-4
                    Skewer the Critics 2-4
                    Searing Blaze 1-3
                    Skullcrack 1-3
                    Light Up the Stage 1-2
                    Play with Fire 1-2
                    Fireblast 1-2
                    """,
                    lands="""
                    Mountain 4-8
                    Sacred Foundry 2-4
                    Inspiring Vantage 2-4
                    Sunbaked Canyon 0-2
                    Arid Mesa 2-4
                    Bloodstained Mire 2-4
                    Wooded Foothills 0-2
                    """,
                    land_slots=18,
                    side="""
                    Deflecting Palm 1-2
                    Kor Firewalker 1-3
                    Path to Exile 1-2
                    Smash to Smithereens 1-2
                    Sanctifier en-Vec 1-2
                    Rest in Peace 1-2
                    Roiling Vortex 1-2
                    Exquisite Firecraft 1-2
                    Damping Sphere 1-2
                    """,
                ),
                _build(
                    "Burn",
                    weight=0.4,
                    core="""
                    4 Goblin Guide
                    4 Monastery Swiftspear
                    4 Lightning Bolt
                    4 Lava Spike
                    4 Rift Bolt
                    4 Skewer the Critics
                    """,
                    flex="""
                    Eidolon of the Great Revel 3-4
                    Searing Blaze 2-4
                    Light Up the Stage 2-4
                    Play with Fire 2-4
                    Fireblast 2-4
                    Roiling Vortex 1-2
                    Kumano Faces Kakkazan 1-3
                    """,
                    lands="""
                    Mountain 9-14
                    Arid Mesa 2-4
                    Bloodstained Mire 2-4
                    Wooded Foothills 0-3
                    Sunbaked Canyon 0-2
                    """,
                    land_slots=19,
                    side="""
                    Smash to Smithereens 2-3
                    Exquisite Firecraft 1-2
                    Tormod's Crypt 1-2
                    Damping Sphere 1-2
                    Magus of the Moon 1-2
                    Alpine Moon 1-2
                    Relic of Progenitus 1-2
                    Obsidian Charmaw 1-2
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="Murktide",
            share=11.0,
            power=0.05,
            builds=(
                _build(
                    "Murktide",
                    core="""
                    4 Murktide Regent
                    4 Dragon's Rage Channeler
                    4 Ragavan, Nimble Pilferer
                    3 Counterspell
                    4 Consider
                    4 Lightning Bolt
                    3 Unholy Heat
                    """,
                    flex="""
                    Spell Pierce 1-2
                    Mishra's Bauble 3-4
                    Preordain 2-4
                    Force of Negation 1-2
                    Subtlety 1-1
                    Brazen Borrower 1-2
                    Fire // Ice 1-1
                    Cori-Steel Cutter 1-2
                    Sleight of Hand 1-2
                    """,
                    lands="""
                    Scalding Tarn 3-4
                    Steam Vents 1-2
                    Spirebluff Canal 1-2
                    Island 2-4
                    Mountain 1-2
                    Fiery Islet 1-2
                    Otawara, Soaring City 1-1
                    Flooded Strand 1-3
                    Bloodstained Mire 1-2
                    """,
                    land_slots=18,
                    side="""
                    Mystical Dispute 1-2
                    Blood Moon 1-2
                    Engineered Explosives 1-1
                    Fury 1-2
                    Pyroclasm 1-2
                    Spell Snare 1-1
                    Hurkyl's Recall 1-1
                    Consign to Memory 1-2
                    Surgical Extraction 1-2
                    Tormod's Crypt 1-1
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="AmuletTitan",
            share=9.0,
            power=0.1,
            builds=(
                _build(
                    "AmuletTitan",
                    core="""
                    4 Amulet of Vigor
                    4 Primeval Titan
                    2 Arboreal Grazer
                    4 Summoner's Pact
                    4 Dryad of the Ilysian Grove
                    4 Spelunking
                    2 Explore
                    """,
                    flex="""
                    Azusa, Lost but Seeking 1-2
                    Cultivator Colossus 1-1
                    Expedition Map 1-2
                    The One Ring 1-1
                    Aftermath Analyst 1-2
                    Lotus Cobra 2-4
                    Sakura-Tribe Scout 1-2
                    Scapeshift 1-1
                    """,
                    lands="""
                    Simic Growth Chamber 1-3
                    Gruul Turf 1-2
                    Selesnya Sanctuary 0-1
                    Boros Garrison 0-1
                    Urza's Saga 2-4
                    Tolaria West 1-1
                    Castle Garenbrig 0-1
                    Slayers' Stronghold 0-1
                    Vesuva 1-2
                    Forest 2-8
                    Crumbling Vestige 0-1
                    Otawara, Soaring City 1-1
                    Lotus Field 0-1
                    Boseiju, Who Endures 1-1
                    """,
                    land_slots=26,
                    side="""
                    Force of Vigor 1-3
                    Dismember 1-2
                    Mystical Dispute 1-2
                    Obstinate Baloth 1-2
                    Beast Within 1-2
                    Collector Ouphe 1-2
                    Pithing Needle 1-1
                    Hurkyl's Recall 1-1
                    Trinisphere 1-1
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="LivingEnd",
            share=7.0,
            power=0.0,
            builds=(
                _build(
                    "LivingEnd",
                    core="""
                    3 Living End
                    4 Shardless Agent
                    4 Demonic Dread
                    4 Street Wraith
                    4 Architects of Will
                    3 Curator of Mysteries
                    """,
                    flex="""
                    Striped Riverwinder 1-3
                    Grief 2-4
                    Subtlety 1-3
                    Force of Negation 2-4
                    Fury 1-2
                    Endurance 1-2
                    Foundation Breaker 1-2
                    Waker of Waves 1-2
                    Troll of Khazad-dûm 1-3
                    """,
                    lands="""
                    Watery Grave 1-2
                    Blood Crypt 1-2
                    Breeding Pool 1-2
                    Overgrown Tomb 1-2
                    Misty Rainforest 2-4
                    Verdant Catacombs 2-4
                    Scalding Tarn 1-2
                    Forest 1-2
                    Island 1-2
                    Swamp 1-2
                    Mountain 1-1
                    Otawara, Soaring City 0-1
                    Boseiju, Who Endures 0-1
                    """,
                    land_slots=18,
                    side="""
                    Force of Vigor 1-2
                    Mystical Dispute 1-2
                    Fatal Push 1-2
                    Brazen Borrower 1-1
                    Dismember 1-2
                    Foundation Breaker 1-2
                    Endurance 1-2
                    Subtlety 1-2
                    Leyline of the Void 1-2
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="HammerTime",
            share=6.0,
            power=-0.1,
            builds=(
                _build(
                    "HammerTime",
                    core="""
                    4 Colossus Hammer
                    4 Sigarda's Aid
                    4 Puresteel Paladin
                    4 Stoneforge Mystic
                    4 Ornithopter
                    4 Esper Sentinel
                    """,
                    flex="""
                    Memnite 2-4
                    Springleaf Drum 2-4
                    Kaldra Compleat 1-1
                    Lion Sash 1-2
                    Sanctifier en-Vec 1-2
                    Solitude 1-2
                    Steelshaper's Gift 1-1
                    Thraben Inspector 1-2
                    Nettlecyst 1-1
                    Shadowspear 1-1
                    Sojourner's Companion 1-2
                    """,
                    lands="""
                    Urza's Saga 3-4
                    Plains 4-9
                    Silent Clearing 0-1
                    Horizon Canopy 1-2
                    Inventors' Fair 1-1
                    Sunbaked Canyon 0-1
                    Eiganjo, Seat of the Empire 1-1
                    Blinkmoth Nexus 1-2
                    Mutavault 0-1
                    """,
                    land_slots=17,
                    side="""
                    Dismember 1-2
                    Portable Hole 1-2
                    Tormod's Crypt 1-2
                    Damping Sphere 1-2
                    Kor Firewalker 1-2
                    Wrath of the Skies 1-2
                    Orim's Chant 1-2
                    High Noon 1-1
                    Pithing Needle 1-1
                    """,
                ),
            ),
        ),
        # Off-archetype piles: exercise the fallbacks and "Unknown".
        ArchetypeSpec(
            key="fallback:GenericControl",
            share=2.0,
            power=-0.15,
            builds=(
                _build(
                    "fallback:GenericControl",
                    core="""
                    3 Supreme Verdict
                    4 Counterspell
                    3 Solitude
                    2 Teferi, Hero of Dominaria
                    3 Prismatic Ending
                    2 Memory Deluge
                    2 Archmage's Charm
                    """,
                    flex="""
                    Snapcaster Mage 2-4
                    Cryptic Command 1-3
                    Spreading Seas 1-2
                    Wrath of the Skies 1-2
                    Consider 2-4
                    Lórien Revealed 1-2
                    The One Ring 1-1
                    Timely Reinforcements 1-1
                    Shark Typhoon 1-1
                    """,
                    lands="""
                    Hallowed Fountain 2-4
                    Island 3-6
                    Plains 1-3
                    Flooded Strand 2-4
                    Meticulous Archive 1-2
                    Celestial Colonnade 1-2
                    Field of Ruin 0-1
                    Otawara, Soaring City 0-1
                    Eiganjo, Seat of the Empire 0-1
                    Glacial Fortress 1-2
                    Arid Mesa 0-2
                    """,
                    land_slots=24,
                    side="""
                    Mystical Dispute 1-2
                    Rest in Peace 1-2
                    Dovin's Veto 1-2
                    Stern Scolding 1-2
                    Celestial Purge 1-2
                    Engineered Explosives 1-1
                    Flusterstorm 1-1
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="fallback:GenericAggro",
            share=1.5,
            power=-0.2,
            builds=(
                _build(
                    "fallback:GenericAggro",
                    core="""
                    4 Lightning Bolt
                    4 Ragavan, Nimble Pilferer
                    4 Wild Nacatl
                    4 Territorial Kavu
                    3 Tribal Flames
                    """,
                    flex="""
                    Scion of Draco 2-4
                    Leyline Binding 2-4
                    Stubborn Denial 1-2
                    Tarmogoyf 2-4
                    Bonecrusher Giant 1-3
                    Lightning Helix 1-2
                    Nishoba Brawler 2-4
                    """,
                    lands="""
                    Arid Mesa 2-4
                    Wooded Foothills 2-4
                    Windswept Heath 1-3
                    Stomping Ground 1-2
                    Sacred Foundry 1-2
                    Breeding Pool 1-1
                    Steam Vents 0-1
                    Temple Garden 1-1
                    Indatha Triome 0-1
                    Forest 1-1
                    Mountain 1-1
                    Plains 0-1
                    """,
                    land_slots=18,
                    side="""
                    Blood Moon 1-2
                    Mystical Dispute 1-2
                    Force of Vigor 1-2
                    Path to Exile 1-2
                    Rest in Peace 1-2
                    Damping Sphere 1-2
                    Kor Firewalker 1-2
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key=UNKNOWN,
            share=1.0,
            power=-0.25,
            builds=(
                _build(
                    UNKNOWN,
                    core="""
                    4 Goryo's Vengeance
                    2 Griselbrand
                    2 Atraxa, Grand Unifier
                    1 Archon of Cruelty
                    4 Thoughtseize
                    4 Persist
                    4 Unmarked Grave
                    4 Ephemerate
                    """,
                    flex="""
                    Undying Evil 2-3
                    Tainted Indulgence 2-4
                    Thought Scour 2-4
                    Psychic Frog 2-4
                    Fatal Push 1-2
                    Grief 1-2
                    """,
                    lands="""
                    Watery Grave 2-4
                    Godless Shrine 1-2
                    Polluted Delta 2-4
                    Marsh Flats 2-4
                    Swamp 1-2
                    Island 1-2
                    Plains 0-1
                    Hallowed Fountain 0-1
                    Otawara, Soaring City 0-1
                    """,
                    land_slots=17,
                    side="""
                    Fatal Push 1-2
                    Flusterstorm 1-2
                    Leyline of the Void 1-2
                    Mystical Dispute 1-2
                    Force of Negation 1-2
                    Dismember 1-2
                    Surgical Extraction 1-2
                    """,
                ),
            ),
        ),
    ),
    edges={
        ("Burn", "AmuletTitan"): 0.45,
        ("Energy", "Burn"): 0.35,
        ("GenericTron", "Energy"): 0.3,
        ("Murktide", "GenericTron"): 0.35,
        ("LivingEnd", "Energy"): 0.25,
        ("HammerTime", "LivingEnd"): -0.35,
        ("AmuletTitan", "Murktide"): -0.25,
        ("GenericTron", "AmuletTitan"): -0.2,
    },
)

# --------------------------------------------------------------------------------------------
# Pioneer
# --------------------------------------------------------------------------------------------

_SPIRITS_CORE = """
4 Supreme Phantom
4 Mausoleum Wanderer
4 Spectral Sailor
4 Rattlechains
4 Shacklegeist
"""
_SPIRITS_FLEX = """
Brineborn Cutthroat 2-4
Geistlight Snare 2-4
Spell Pierce 1-2
Slip Out the Back 1-2
Nebelgast Herald 2-4
Fading Hope 1-2
Curious Obsession 1-2
"""
_SPIRITS_SIDE = """
Disdainful Stroke 1-2
Negate 1-2
Aether Gust 1-2
Mystical Dispute 1-2
Jwari Disruption 1-2
Unsummon 1-2
"""

PIONEER = FormatSpec(
    name="Pioneer",
    archetypes=(
        ArchetypeSpec(
            key="Midrange",
            share=24.0,
            power=0.1,
            builds=(
                _build(
                    "Midrange",
                    weight=0.75,
                    core="""
                    4 Thoughtseize
                    4 Fatal Push
                    4 Bloodtithe Harvester
                    4 Fable of the Mirror-Breaker
                    3 Sheoldred, the Apocalypse
                    """,
                    flex="""
                    Kolaghan's Command 1-2
                    Bonecrusher Giant 2-4
                    Go for the Throat 1-3
                    Duress 1-2
                    Graveyard Trespasser 1-3
                    Unlicensed Hearse 1-2
                    Invoke Despair 1-2
                    Cut Down 1-2
                    The Meathook Massacre 1-1
                    Archfiend of the Dross 1-2
                    Deep-Cavern Bat 1-3
                    """,
                    lands="""
                    Blood Crypt 2-4
                    Sulfurous Springs 2-4
                    Blightstep Pathway 2-4
                    Swamp 3-6
                    Mountain 1-3
                    Den of the Bugbear 1-2
                    Hive of the Eye Tyrant 1-2
                    Castle Locthwain 1-1
                    Fabled Passage 1-3
                    Takenuma, Abandoned Mire 0-1
                    """,
                    land_slots=24,
                    side="""
                    Go Blank 1-2
                    Anger of the Gods 1-2
                    Rending Flame 1-2
                    Sorin the Mirthless 1-1
                    Pithing Needle 1-1
                    Crux of Fate 1-1
                    Leyline of the Void 2-4
                    Damping Sphere 1-2
                    Abrade 1-2
                    Duress 1-2
                    Cut Down 1-2
                    """,
                ),
                _build(
                    "Midrange",
                    weight=0.25,
                    core="""
                    4 Thoughtseize
                    4 Fatal Push
                    3 Sheoldred, the Apocalypse
                    4 Glissa Sunslayer
                    """,
                    flex="""
                    Go for the Throat 2-4
                    Duress 1-2
                    Deep-Cavern Bat 2-4
                    Graveyard Trespasser 2-3
                    Tear Asunder 1-2
                    Polukranos Reborn 1-2
                    Cut Down 1-3
                    Invoke Despair 1-1
                    Mosswood Dreadknight 1-3
                    Ravenous Chupacabra 1-2
                    Nissa, Who Shakes the World 1-1
                    """,
                    lands="""
                    Overgrown Tomb 3-4
                    Llanowar Wastes 2-4
                    Darkbore Pathway 2-4
                    Swamp 2-5
                    Forest 1-3
                    Restless Cottage 1-2
                    Hive of the Eye Tyrant 1-1
                    Fabled Passage 1-2
                    Castle Locthwain 1-1
                    Boseiju, Who Endures 0-1
                    """,
                    land_slots=25,
                    side="""
                    Go Blank 1-2
                    Damping Sphere 1-2
                    Leyline of the Void 2-3
                    Pithing Needle 1-1
                    Crux of Fate 1-1
                    Duress 1-2
                    Cut Down 1-2
                    Thrun, Breaker of Silence 1-2
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="Phoenix",
            share=15.0,
            power=0.05,
            builds=(
                _build(
                    "Phoenix",
                    core="""
                    4 Arclight Phoenix
                    2 Treasure Cruise
                    4 Sleight of Hand
                    4 Opt
                    4 Consider
                    2 Fiery Impulse
                    """,
                    flex="""
                    Picklock Prankster 2-4
                    Spikefield Hazard 2-4
                    Stormchaser's Talent 2-4
                    Big Score 1-2
                    Lightning Axe 1-2
                    Thing in the Ice 1-3
                    Temporal Trespass 1-1
                    Ledger Shredder 1-3
                    Unholy Heat 2-4
                    """,
                    lands="""
                    Steam Vents 3-4
                    Spirebluff Canal 3-4
                    Stormcarved Coast 2-4
                    Riverglide Pathway 2-4
                    Island 2-4
                    Mountain 1-3
                    Shivan Reef 1-4
                    Otawara, Soaring City 0-1
                    """,
                    land_slots=19,
                    side="""
                    Aether Gust 1-2
                    Negate 1-2
                    Abrade 1-2
                    Brotherhood's End 1-2
                    Jwari Disruption 1-2
                    Disdainful Stroke 1-2
                    Mystical Dispute 1-2
                    Rending Flame 1-2
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="Greasefang",
            share=9.0,
            power=0.0,
            builds=(
                _build(
                    "Greasefang",
                    core="""
                    4 Greasefang, Okiba Boss
                    3 Parhelion II
                    4 Stitcher's Supplier
                    4 Raffine's Informant
                    2 Can't Stay Away
                    4 Fatal Push
                    """,
                    flex="""
                    Thoughtseize 2-4
                    Ertai Resurrected 1-2
                    Archfiend of the Dross 1-2
                    Kaya's Guile 1-2
                    Skyclave Apparition 1-2
                    Cut Down 1-2
                    Concealing Curtains 1-2
                    Sheoldred's Edict 1-2
                    Duress 1-2
                    """,
                    lands="""
                    Godless Shrine 3-4
                    Caves of Koilos 2-4
                    Concealed Courtyard 2-4
                    Brightclimb Pathway 2-4
                    Plains 1-3
                    Swamp 2-4
                    Fabled Passage 1-2
                    Shattered Sanctum 1-2
                    Takenuma, Abandoned Mire 0-1
                    Eiganjo, Seat of the Empire 0-1
                    """,
                    land_slots=24,
                    side="""
                    Sunfall 1-2
                    Pithing Needle 1-1
                    Damping Sphere 1-2
                    Leyline of Sanctity 1-2
                    Rest in Peace 1-2
                    Extraction Specialist 1-2
                    Go Blank 1-2
                    Duress 1-2
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="Control",
            share=11.0,
            power=0.0,
            builds=(
                _build(
                    "Control",
                    core="""
                    3 Supreme Verdict
                    4 No More Lies
                    2 Memory Deluge
                    2 Absorb
                    """,
                    flex="""
                    The Wandering Emperor 2-4
                    Teferi, Hero of Dominaria 1-2
                    Sunfall 1-2
                    Fading Hope 2-4
                    Dig Through Time 1-1
                    March of Otherworldly Light 2-3
                    Temporary Lockdown 1-2
                    Censor 1-2
                    Shark Typhoon 1-2
                    Get Lost 2-4
                    Portable Hole 1-2
                    Consider 1-3
                    Sublime Epiphany 1-1
                    Elspeth Conquers Death 1-1
                    """,
                    lands="""
                    Hallowed Fountain 3-4
                    Glacial Fortress 3-4
                    Deserted Beach 3-4
                    Hengegate Pathway 2-4
                    Adarkar Wastes 2-4
                    Island 3-6
                    Plains 2-4
                    Castle Ardenvale 1-1
                    Restless Anchorage 1-2
                    Otawara, Soaring City 0-1
                    Eiganjo, Seat of the Empire 0-1
                    """,
                    land_slots=26,
                    side="""
                    Rest in Peace 1-2
                    Aether Gust 1-2
                    Negate 1-2
                    Mystical Dispute 1-2
                    Disdainful Stroke 1-2
                    Lyra Dawnbringer 1-1
                    Settle the Wreckage 1-1
                    Brazen Borrower 1-2
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="Spirits",
            share=8.0,
            power=-0.05,
            builds=(
                _build(
                    "Spirits",
                    weight=0.6,
                    core=_SPIRITS_CORE,
                    flex=_SPIRITS_FLEX,
                    lands="""
                    Island 14-18
                    Mutavault 2-4
                    Otawara, Soaring City 0-1
                    Castle Vantress 0-1
                    """,
                    land_slots=20,
                    side=_SPIRITS_SIDE,
                ),
                _build(
                    "Spirits",
                    weight=0.4,
                    core=_SPIRITS_CORE + "4 Empyrean Eagle\n",
                    flex=_SPIRITS_FLEX + "Selfless Spirit 2-3\nDrogskol Captain 1-3\n",
                    lands="""
                    Hallowed Fountain 2-4
                    Glacial Fortress 2-4
                    Deserted Beach 2-3
                    Island 4-8
                    Plains 1-2
                    Mutavault 2-4
                    Hengegate Pathway 1-3
                    """,
                    land_slots=20,
                    side=_SPIRITS_SIDE + "Portable Hole 1-2\nRest in Peace 1-2\n",
                ),
            ),
        ),
        ArchetypeSpec(
            key="fallback:GenericAggro",
            share=3.0,
            power=-0.1,
            builds=(
                _build(
                    "fallback:GenericAggro",
                    core="""
                    4 Monastery Swiftspear
                    4 Kumano Faces Kakkazan
                    4 Soul-Scar Mage
                    4 Play with Fire
                    """,
                    flex="""
                    Light Up the Stage 2-4
                    Bonecrusher Giant 2-4
                    Lightning Strike 2-4
                    Ghitu Lavarunner 2-4
                    Witchstalker Frenzy 2-4
                    Heartfire Hero 2-4
                    Emberheart Challenger 2-4
                    Monstrous Rage 2-4
                    """,
                    lands="""
                    Mountain 16-20
                    Den of the Bugbear 1-2
                    Sokenzan, Crucible of Defiance 0-1
                    """,
                    land_slots=20,
                    side="""
                    Abrade 1-2
                    Rending Flame 1-2
                    Damping Sphere 1-2
                    Pithing Needle 1-1
                    Lithomantic Barrage 1-2
                    Chandra, Dressed to Kill 1-2
                    Fry 1-2
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="fallback:GenericMidrange",
            share=2.0,
            power=-0.1,
            builds=(
                _build(
                    "fallback:GenericMidrange",
                    core="""
                    4 Thoughtseize
                    4 Fatal Push
                    3 Go for the Throat
                    3 Graveyard Trespasser
                    """,
                    flex="""
                    Duress 1-2
                    Tear Asunder 1-2
                    Polukranos Reborn 1-2
                    Skyclave Apparition 2-4
                    Wrenn and Realmbreaker 1-3
                    Mosswood Dreadknight 2-4
                    Ravenous Chupacabra 1-2
                    Deep-Cavern Bat 2-4
                    """,
                    lands="""
                    Indatha Triome 2-4
                    Overgrown Tomb 2-4
                    Godless Shrine 2-4
                    Temple Garden 1-3
                    Fabled Passage 2-4
                    Forest 1-3
                    Swamp 2-4
                    Plains 1-2
                    """,
                    land_slots=25,
                    side="""
                    Rest in Peace 1-2
                    Damping Sphere 1-2
                    Go Blank 1-2
                    Pithing Needle 1-1
                    Leyline of the Void 2-3
                    Extraction Specialist 1-2
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key=UNKNOWN,
            share=1.5,
            power=-0.2,
            builds=(
                _build(
                    UNKNOWN,
                    core="""
                    4 Lotus Field
                    4 Hidden Strings
                    4 Pore Over the Pages
                    2 Thespian's Stage
                    4 Arboreal Grazer
                    4 Vizier of Tumbling Sands
                    """,
                    flex="""
                    Approach of the Second Sun 2-2
                    Fae of Wishes 1-2
                    Dig Through Time 1-2
                    Explore 2-3
                    Strategic Planning 2-3
                    Behold the Multiverse 1-2
                    Omniscience 1-1
                    """,
                    lands="""
                    Hinterland Harbor 2-4
                    Botanical Sanctum 2-4
                    Yavimaya Coast 2-4
                    Forest 1-3
                    Island 1-3
                    Plains 1-1
                    """,
                    land_slots=14,
                    side="""
                    Negate 1-2
                    Aether Gust 1-2
                    Disdainful Stroke 1-2
                    Mystical Dispute 1-2
                    Tamiyo's Safekeeping 1-2
                    Pithing Needle 1-1
                    """,
                ),
            ),
        ),
    ),
    edges={
        ("Midrange", "Greasefang"): 0.3,
        ("Phoenix", "Control"): 0.35,
        ("Control", "Midrange"): 0.25,
        ("Spirits", "Phoenix"): -0.3,
        ("Greasefang", "Control"): 0.3,
    },
)

# --------------------------------------------------------------------------------------------
# Legacy
# --------------------------------------------------------------------------------------------

_BEANSTALK_CORE = """
4 Up the Beanstalk
2 Uro, Titan of Nature's Wrath
4 Leyline Binding
4 Brainstorm
4 Force of Will
2 Omnath, Locus of Creation
"""
_BEANSTALK_FLEX = """
Minsc & Boo, Timeless Heroes 1-2
Fable of the Mirror-Breaker 1-2
Swords to Plowshares 2-4
Prismatic Ending 1-2
Solitude 1-2
Ponder 2-4
Daze 1-2
Lightning Bolt 1-2
Teferi, Time Raveler 1-2
Force of Negation 1-1
Pyroblast 1-1
Endurance 1-2
"""
_BEANSTALK_SIDE = """
Red Elemental Blast 1-2
Hydroblast 1-2
Flusterstorm 1-2
Surgical Extraction 1-2
Force of Vigor 1-2
Veil of Summer 1-2
Mindbreak Trap 1-1
Krosan Grip 1-1
"""

LEGACY = FormatSpec(
    name="Legacy",
    archetypes=(
        ArchetypeSpec(
            key="Delver",
            share=20.0,
            power=0.1,
            builds=(
                _build(
                    "Delver",
                    weight=0.7,
                    core="""
                    4 Delver of Secrets
                    4 Brainstorm
                    4 Ponder
                    4 Force of Will
                    4 Daze
                    4 Dragon's Rage Channeler
                    3 Murktide Regent
                    4 Lightning Bolt
                    """,
                    flex="""
                    Mishra's Bauble 2-4
                    Expressive Iteration 1-2
                    Counterspell 1-2
                    Stifle 1-2
                    Pyroblast 1-1
                    Fire // Ice 1-2
                    Cori-Steel Cutter 1-3
                    Spell Pierce 1-2
                    Unholy Heat 1-3
                    """,
                    lands="""
                    Volcanic Island 3-4
                    Scalding Tarn 2-4
                    Polluted Delta 1-2
                    Flooded Strand 1-2
                    Misty Rainforest 1-2
                    Wasteland 3-4
                    Island 1-2
                    Mountain 0-1
                    Bloodstained Mire 1-2
                    """,
                    land_slots=17,
                    side="""
                    Red Elemental Blast 1-2
                    Flusterstorm 1-2
                    Submerge 1-2
                    Meltdown 1-1
                    Null Rod 1-1
                    Fury 1-2
                    Surgical Extraction 1-2
                    Force of Negation 1-2
                    Blood Moon 1-2
                    Subtlety 1-1
                    """,
                ),
                _build(
                    "Delver",
                    weight=0.3,
                    core="""
                    4 Delver of Secrets
                    4 Brainstorm
                    4 Ponder
                    4 Force of Will
                    4 Daze
                    4 Tamiyo, Inquisitive Student
                    4 Orcish Bowmasters
                    """,
                    flex="""
                    Fatal Push 1-3
                    Snuff Out 1-1
                    Thoughtseize 1-2
                    Barrowgoyf 2-3
                    Nethergoyf 1-3
                    Kaito, Bane of Nightmares 1-2
                    Psychic Frog 2-4
                    Mishra's Bauble 2-4
                    Counterspell 1-2
                    Spell Pierce 1-2
                    """,
                    lands="""
                    Underground Sea 3-4
                    Polluted Delta 2-4
                    Misty Rainforest 1-3
                    Flooded Strand 1-3
                    Wasteland 3-4
                    Island 1-2
                    Swamp 0-1
                    Undercity Sewers 0-1
                    Bloodstained Mire 1-2
                    """,
                    land_slots=17,
                    side="""
                    Toxic Deluge 1-2
                    Hydroblast 1-2
                    Flusterstorm 1-1
                    Surgical Extraction 1-2
                    Force of Negation 1-2
                    Sheoldred's Edict 1-2
                    Cling to Dust 1-1
                    Subtlety 1-1
                    Null Rod 1-1
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="Sneak and Show",
            share=12.0,
            power=0.05,
            builds=(
                _build(
                    "Sneak and Show",
                    core="""
                    4 Show and Tell
                    4 Sneak Attack
                    2 Emrakul, the Aeons Torn
                    2 Griselbrand
                    4 Brainstorm
                    4 Ponder
                    4 Force of Will
                    4 Lotus Petal
                    """,
                    flex="""
                    Atraxa, Grand Unifier 1-1
                    Daze 2-4
                    Spell Pierce 1-2
                    Flusterstorm 1-1
                    Preordain 1-3
                    Omniscience 1-1
                    Misdirection 1-2
                    Fable of the Mirror-Breaker 1-2
                    Pyroblast 1-2
                    Force of Negation 1-2
                    """,
                    lands="""
                    Volcanic Island 3-4
                    Ancient Tomb 4-4
                    City of Traitors 1-2
                    Island 1-3
                    Mountain 1-2
                    Scalding Tarn 2-4
                    Misty Rainforest 1-2
                    Polluted Delta 0-1
                    Flooded Strand 0-1
                    """,
                    land_slots=16,
                    side="""
                    Red Elemental Blast 1-2
                    Blood Moon 1-2
                    Fury 1-2
                    Hydroblast 1-1
                    Defense Grid 1-2
                    Through the Breach 1-2
                    Flusterstorm 1-1
                    Surgical Extraction 1-1
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="Death & Taxes",
            share=10.0,
            power=-0.05,
            builds=(
                _build(
                    "Death & Taxes",
                    core="""
                    4 Thalia, Guardian of Thraben
                    3 Flickerwisp
                    4 Stoneforge Mystic
                    4 Mother of Runes
                    4 Swords to Plowshares
                    4 Aether Vial
                    2 Recruiter of the Guard
                    """,
                    flex="""
                    Palace Jailer 1-2
                    Solitude 2-4
                    Skyclave Apparition 1-2
                    Batterskull 1-1
                    Kaldra Compleat 1-1
                    Adeline, Resplendent Cathar 1-2
                    Phelia, Exuberant Shepherd 1-2
                    Serra Paragon 1-1
                    Sanctifier en-Vec 1-2
                    Thalia, Heretic Cathar 1-2
                    """,
                    lands="""
                    Karakas 1-1
                    Plains 6-10
                    Rishadan Port 3-4
                    Wasteland 4-4
                    Ancient Tomb 2-4
                    Eiganjo, Seat of the Empire 1-1
                    Cavern of Souls 0-2
                    Field of Ruin 0-1
                    Prismatic Vista 0-1
                    """,
                    land_slots=22,
                    side="""
                    Containment Priest 1-2
                    Rest in Peace 1-2
                    Deafening Silence 1-2
                    Pithing Needle 1-1
                    Council's Judgment 1-2
                    Surgical Extraction 1-1
                    Ethersworn Canonist 1-2
                    Path to Exile 1-1
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="Lands",
            share=7.0,
            power=0.0,
            builds=(
                _build(
                    "Lands",
                    core="""
                    4 Life from the Loam
                    4 Mox Diamond
                    3 Exploration
                    2 Crop Rotation
                    1 Dark Depths
                    1 Thespian's Stage
                    """,
                    flex="""
                    Manabond 1-2
                    Sylvan Library 1-2
                    Punishing Fire 2-3
                    Elvish Reclaimer 2-4
                    Once Upon a Time 1-2
                    Zuran Orb 1-1
                    Endurance 1-2
                    Valakut Awakening 1-1
                    Minsc & Boo, Timeless Heroes 1-2
                    """,
                    lands="""
                    Maze of Ith 1-1
                    Wasteland 4-4
                    Rishadan Port 2-4
                    Ghost Quarter 1-2
                    Urza's Saga 2-4
                    The Tabernacle at Pendrell Vale 1-1
                    Taiga 2-3
                    Forest 2-4
                    Grove of the Burnwillows 2-4
                    Bayou 0-1
                    Windswept Heath 2-4
                    Wooded Foothills 2-4
                    Verdant Catacombs 0-2
                    Karakas 0-1
                    Mishra's Factory 0-1
                    Sheltered Thicket 0-1
                    """,
                    land_slots=31,
                    side="""
                    Pithing Needle 1-1
                    Krosan Grip 1-2
                    Red Elemental Blast 1-2
                    Pyroblast 1-2
                    Collector Ouphe 1-2
                    Force of Vigor 1-2
                    Surgical Extraction 1-1
                    Choke 1-1
                    Sphere of Resistance 1-1
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="Reanimator",
            share=9.0,
            power=0.05,
            builds=(
                _build(
                    "Reanimator",
                    core="""
                    4 Reanimate
                    4 Animate Dead
                    3 Exhume
                    4 Entomb
                    2 Archon of Cruelty
                    2 Griselbrand
                    1 Atraxa, Grand Unifier
                    4 Dark Ritual
                    4 Lotus Petal
                    """,
                    flex="""
                    Thoughtseize 2-4
                    Unmask 1-2
                    Faithless Looting 2-3
                    Chancellor of the Annex 1-2
                    Troll of Khazad-dûm 1-2
                    Force of Will 2-4
                    Brainstorm 2-4
                    Ponder 1-2
                    Grief 1-2
                    Careful Study 1-2
                    Daze 1-2
                    """,
                    lands="""
                    Underground Sea 2-4
                    Bloodstained Mire 2-4
                    Polluted Delta 2-4
                    Swamp 2-4
                    Badlands 0-2
                    Scalding Tarn 0-2
                    Island 0-1
                    """,
                    land_slots=14,
                    side="""
                    Force of Negation 1-2
                    Toxic Deluge 1-2
                    Cling to Dust 1-2
                    Hydroblast 1-1
                    Tormod's Crypt 1-1
                    Defense Grid 1-1
                    Sheoldred's Edict 1-2
                    Echoing Truth 1-1
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="Beanstalk",
            share=8.0,
            power=0.05,
            builds=(
                _build(
                    "Beanstalk",
                    weight=0.7,
                    core=_BEANSTALK_CORE,
                    flex=_BEANSTALK_FLEX,
                    lands="""
                    Tropical Island 1-2
                    Savannah 1-1
                    Volcanic Island 1-2
                    Tundra 1-1
                    Scalding Tarn 2-3
                    Misty Rainforest 1-3
                    Flooded Strand 1-3
                    Windswept Heath 1-3
                    Wooded Foothills 0-2
                    Forest 1-2
                    Island 1-2
                    Plains 0-1
                    Mountain 0-1
                    Ketria Triome 1-1
                    Raugrin Triome 0-1
                    Wasteland 0-2
                    Prismatic Vista 0-1
                    """,
                    land_slots=18,
                    side=_BEANSTALK_SIDE,
                ),
                # Yorion as companion: 80-card main deck, companion in the sideboard.
                _build(
                    "Beanstalk/YorionBeanstalk",
                    weight=0.3,
                    main_size=80,
                    core=_BEANSTALK_CORE,
                    flex=_BEANSTALK_FLEX
                    + """
                    Wrenn and Six 1-2
                    Ice-Fang Coatl 2-3
                    Omen of the Sea 2-4
                    Memory Lapse 1-2
                    Fire // Ice 1-2
                    """,
                    lands="""
                    Tropical Island 1-3
                    Savannah 1-2
                    Volcanic Island 1-3
                    Tundra 1-2
                    Scalding Tarn 2-4
                    Misty Rainforest 2-4
                    Flooded Strand 2-4
                    Windswept Heath 1-3
                    Wooded Foothills 1-2
                    Forest 1-3
                    Island 1-3
                    Plains 0-1
                    Mountain 0-1
                    Ketria Triome 1-1
                    Raugrin Triome 0-1
                    Wasteland 0-2
                    Prismatic Vista 0-1
                    """,
                    land_slots=27,
                    side=_BEANSTALK_SIDE,
                    side_core="1 Yorion, Sky Nomad",
                ),
            ),
        ),
        ArchetypeSpec(
            key="fallback:GenericControl",
            share=2.5,
            power=-0.05,
            builds=(
                _build(
                    "fallback:GenericControl",
                    core="""
                    3 Terminus
                    2 Jace, the Mind Sculptor
                    4 Swords to Plowshares
                    3 Counterspell
                    4 Force of Will
                    4 Brainstorm
                    4 Ponder
                    """,
                    flex="""
                    Portent 1-2
                    Predict 1-1
                    Teferi, Time Raveler 1-2
                    Prismatic Ending 1-2
                    Memory Lapse 1-2
                    Monastery Mentor 1-2
                    Snapcaster Mage 1-2
                    Consider 1-1
                    Solitude 1-2
                    Brazen Borrower 1-1
                    """,
                    lands="""
                    Tundra 3-4
                    Flooded Strand 3-4
                    Polluted Delta 1-2
                    Scalding Tarn 1-3
                    Island 3-5
                    Plains 1-2
                    Karakas 1-1
                    Prismatic Vista 0-1
                    Arid Mesa 0-2
                    """,
                    land_slots=19,
                    side="""
                    Flusterstorm 1-2
                    Hydroblast 1-2
                    Rest in Peace 1-2
                    Containment Priest 1-1
                    Mindbreak Trap 1-1
                    Council's Judgment 1-2
                    Surgical Extraction 1-1
                    Meddling Mage 1-2
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="fallback:GenericAggro",
            share=2.0,
            power=-0.15,
            builds=(
                _build(
                    "fallback:GenericAggro",
                    core="""
                    4 Lightning Bolt
                    4 Chain Lightning
                    4 Goblin Guide
                    4 Monastery Swiftspear
                    4 Price of Progress
                    4 Eidolon of the Great Revel
                    4 Fireblast
                    4 Rift Bolt
                    """,
                    flex="""
                    Lava Spike 2-4
                    Light Up the Stage 2-4
                    Skewer the Critics 2-4
                    Searing Blaze 1-2
                    Lava Dart 1-2
                    Sulfuric Vortex 1-2
                    """,
                    lands="""
                    Mountain 14-19
                    Barbarian Ring 0-1
                    Bloodstained Mire 0-2
                    Wooded Foothills 0-2
                    """,
                    land_slots=19,
                    side="""
                    Smash to Smithereens 1-2
                    Pyroclasm 1-2
                    Exquisite Firecraft 1-2
                    Red Elemental Blast 1-2
                    Tormod's Crypt 1-2
                    Roiling Vortex 1-2
                    Magus of the Moon 1-2
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key=UNKNOWN,
            share=1.5,
            power=-0.1,
            builds=(
                _build(
                    UNKNOWN,
                    core="""
                    4 Heritage Druid
                    4 Nettle Sentinel
                    4 Glimpse of Nature
                    3 Natural Order
                    1 Craterhoof Behemoth
                    4 Quirion Ranger
                    3 Wirewood Symbiote
                    """,
                    flex="""
                    Allosaurus Shepherd 2-4
                    Elvish Visionary 2-4
                    Dryad Arbor 1-1
                    Elvish Reclaimer 1-2
                    Green Sun's Zenith 2-3
                    Sylvan Library 1-1
                    Wren's Run Vanquisher 1-2
                    """,
                    lands="""
                    Forest 6-10
                    Gaea's Cradle 2-4
                    Bayou 1-2
                    Savannah 0-1
                    Windswept Heath 1-3
                    Verdant Catacombs 1-3
                    Cavern of Souls 0-1
                    """,
                    land_slots=17,
                    side="""
                    Keen-Eyed Curator 1-2
                    Veil of Summer 1-2
                    Force of Vigor 1-2
                    Thoughtseize 1-2
                    Collector Ouphe 1-2
                    Choke 1-1
                    """,
                ),
            ),
        ),
    ),
    edges={
        ("Delver", "Sneak and Show"): 0.3,
        ("Death & Taxes", "Delver"): 0.25,
        ("Lands", "Death & Taxes"): 0.35,
        ("Sneak and Show", "Lands"): 0.4,
        ("Reanimator", "Death & Taxes"): 0.3,
        ("Beanstalk", "Delver"): -0.2,
    },
)

# --------------------------------------------------------------------------------------------
# Pauper
# --------------------------------------------------------------------------------------------

_FAERIES_CORE = """
4 Spellstutter Sprite
4 Faerie Seer
4 Ninja of the Deep Hours
2 Moonblade Shinobi
4 Counterspell
4 Preordain
4 Brainstorm
"""
_FAERIES_FLEX_U = """
Augur of Bolas 1-2
Vapor Snag 2-4
Snap 1-2
Of One Mind 1-2
Tolarian Terror 1-3
Ponder 1-2
Essence Scatter 1-2
"""
_FAERIES_SIDE_U = """
Hydroblast 2-3
Blue Elemental Blast 1-2
Dispel 1-2
Annul 1-2
Relic of Progenitus 1-2
Steel Sabotage 1-2
Negate 1-2
"""

PAUPER = FormatSpec(
    name="Pauper",
    archetypes=(
        ArchetypeSpec(
            key="Affinity",
            share=17.0,
            power=0.1,
            builds=(
                _build(
                    "Affinity",
                    core="""
                    4 Myr Enforcer
                    3 Thoughtcast
                    4 Galvanic Blast
                    4 Deadly Dispute
                    4 Refurbished Familiar
                    4 Ichor Wellspring
                    3 Krark-Clan Shaman
                    """,
                    flex="""
                    Kenku Artificer 1-2
                    Blood Fountain 2-3
                    Nihil Spellbomb 2-3
                    Reckoner's Bargain 2-4
                    Cast Down 1-2
                    Makeshift Munitions 1-1
                    Prophetic Prism 1-1
                    Fanatical Offering 1-3
                    Candy Trail 1-2
                    Toxin Analysis 1-1
                    Frogmite 2-4
                    """,
                    lands="""
                    Seat of the Synod 2-4
                    Vault of Whispers 2-4
                    Great Furnace 2-4
                    Silverbluff Bridge 1-3
                    Mistvault Bridge 2-4
                    Drossforge Bridge 2-4
                    Swamp 0-1
                    """,
                    land_slots=17,
                    side="""
                    Hydroblast 1-2
                    Pyroblast 1-2
                    Blue Elemental Blast 1-2
                    Red Elemental Blast 1-2
                    Gorilla Shaman 1-2
                    Duress 1-3
                    Tormod's Crypt 1-1
                    Dispel 1-2
                    Fiery Cannonade 1-2
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="Faeries",
            share=15.0,
            power=0.05,
            builds=(
                _build(
                    "Faeries",
                    weight=0.7,
                    core=_FAERIES_CORE,
                    flex=_FAERIES_FLEX_U + "Cast Down 2-3\nSnuff Out 1-2\n",
                    lands="""
                    Island 6-9
                    Swamp 1-3
                    Dimir Guildgate 1-2
                    Remote Isle 1-2
                    Mistvault Bridge 1-2
                    Evolving Wilds 0-1
                    Ash Barrens 0-1
                    Halimar Depths 0-1
                    Dismal Backwater 1-2
                    """,
                    land_slots=18,
                    side=_FAERIES_SIDE_U + "Duress 1-2\nExtract a Confession 1-2\n",
                ),
                _build(
                    "Faeries",
                    weight=0.3,
                    core=_FAERIES_CORE,
                    flex=_FAERIES_FLEX_U + "Faerie Miscreant 2-4\n",
                    lands="""
                    Island 14-18
                    Remote Isle 1-2
                    Halimar Depths 0-1
                    """,
                    land_slots=18,
                    side=_FAERIES_SIDE_U,
                ),
            ),
        ),
        ArchetypeSpec(
            key="Elves",
            share=10.0,
            power=0.0,
            builds=(
                _build(
                    "Elves",
                    core="""
                    4 Llanowar Elves
                    4 Elvish Mystic
                    4 Lys Alana Huntmaster
                    4 Birchlore Rangers
                    4 Quirion Ranger
                    3 Timberwatch Elf
                    """,
                    flex="""
                    Winding Way 1-2
                    Lead the Stampede 2-4
                    Elvish Visionary 2-4
                    Wellwisher 2-4
                    Spidersilk Armor 1-1
                    Jaspera Sentinel 2-4
                    Priest of Titania 2-4
                    Elvish Vanguard 1-2
                    Fyndhorn Elves 2-4
                    Sylvan Ranger 1-2
                    """,
                    lands="""
                    Forest 13-16
                    Tranquil Thicket 0-2
                    """,
                    land_slots=16,
                    side="""
                    Scattershot Archer 1-2
                    Natural State 1-2
                    Gut Shot 1-2
                    Spore Frog 1-2
                    Moment's Peace 1-2
                    Relic of Progenitus 1-2
                    Viridian Longbow 1-1
                    Fog 1-1
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="FlickerTron",
            share=9.0,
            power=0.0,
            builds=(
                _build(
                    "FlickerTron",
                    core="""
                    4 Urza's Tower
                    4 Urza's Mine
                    4 Urza's Power Plant
                    4 Ghostly Flicker
                    3 Mnemonic Wall
                    2 Stonehorn Dignitary
                    2 Mystical Teachings
                    3 Moment's Peace
                    3 Prophetic Prism
                    3 Expedition Map
                    2 Pulse of Murasa
                    """,
                    flex="""
                    Dinrova Horror 1-1
                    Impulse 2-4
                    Forbidden Alchemy 1-2
                    Weather the Storm 1-2
                    Mulldrifter 2-3
                    Rolling Thunder 1-1
                    Flame Slash 1-1
                    Deep Analysis 1-2
                    Compulsive Research 1-2
                    Exclude 1-2
                    Counterspell 1-2
                    """,
                    lands="""
                    Forest 1-3
                    Island 1-3
                    Remote Isle 1-2
                    Bojuka Bog 1-1
                    Thornwood Falls 1-2
                    Ash Barrens 0-1
                    """,
                    land_slots=9,
                    side="""
                    Hydroblast 1-2
                    Relic of Progenitus 1-2
                    Scattershot Archer 1-1
                    Blue Elemental Blast 1-2
                    Fangren Marauder 1-2
                    Serene Heart 1-1
                    Natural State 1-2
                    Negate 1-2
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="Kuldotha",
            share=9.0,
            power=-0.05,
            builds=(
                _build(
                    "Kuldotha",
                    core="""
                    4 Kuldotha Rebirth
                    4 Goblin Bushwhacker
                    4 Galvanic Blast
                    4 Lightning Bolt
                    4 Experimental Synthesizer
                    4 Chromatic Star
                    """,
                    flex="""
                    Ornithopter 2-4
                    Sojourner's Companion 2-4
                    Fireblast 2-4
                    Voldaren Epicure 2-4
                    Goblin Blast-Runner 2-4
                    Kessig Flamebreather 1-2
                    Monastery Swiftspear 1-4
                    Rally at the Hornburg 1-2
                    """,
                    lands="""
                    Mountain 9-13
                    Great Furnace 4-4
                    Barbarian Ring 0-1
                    """,
                    land_slots=17,
                    side="""
                    Gorilla Shaman 1-2
                    Fiery Cannonade 1-2
                    Pyroblast 1-2
                    Red Elemental Blast 1-2
                    Relic of Progenitus 1-2
                    Electrickery 1-2
                    Smash to Smithereens 1-2
                    Flame Slash 1-1
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="Bogles",
            share=7.0,
            power=-0.05,
            builds=(
                _build(
                    "Bogles",
                    core="""
                    4 Slippery Bogle
                    4 Gladecover Scout
                    4 Ancestral Mask
                    4 Ethereal Armor
                    4 Rancor
                    4 Utopia Sprawl
                    """,
                    flex="""
                    Cartographer's Hawk 2-3
                    Abundant Growth 2-4
                    Armadillo Cloak 1-2
                    Heliod's Pilgrim 2-4
                    Spider Umbra 1-3
                    Hyena Umbra 1-2
                    Mutagenic Growth 1-2
                    Silhana Ledgewalker 1-3
                    Ranger's Guile 1-2
                    """,
                    lands="""
                    Forest 8-11
                    Plains 2-4
                    Selesnya Guildgate 1-3
                    Blossoming Sands 1-3
                    """,
                    land_slots=17,
                    side="""
                    Dust to Dust 1-2
                    Journey to Nowhere 1-2
                    Scattershot Archer 1-2
                    Standard Bearer 1-2
                    Prismatic Strands 2-3
                    Relic of Progenitus 1-2
                    Circle of Protection: Red 1-2
                    Natural State 1-2
                    Leave No Trace 1-1
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="fallback:GenericAggro",
            share=3.0,
            power=-0.05,
            builds=(
                _build(
                    "fallback:GenericAggro",
                    core="""
                    4 Battle Screech
                    4 Rally the Peasants
                    4 Guardian of the Guildpact
                    4 Kor Skyfisher
                    """,
                    flex="""
                    Thraben Inspector 2-4
                    Squadron Hawk 2-4
                    Journey to Nowhere 2-4
                    Prismatic Strands 2-4
                    Militia Bugler 2-4
                    Raise the Alarm 2-4
                    Palace Sentinels 1-2
                    """,
                    lands="""
                    Plains 15-18
                    Secluded Steppe 0-2
                    """,
                    land_slots=18,
                    side="""
                    Dust to Dust 1-2
                    Circle of Protection: Red 1-2
                    Standard Bearer 1-2
                    Relic of Progenitus 1-2
                    Leave No Trace 1-2
                    Holy Light 1-2
                    Revoke Existence 1-2
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key="fallback:GenericControl",
            share=2.5,
            power=-0.1,
            builds=(
                _build(
                    "fallback:GenericControl",
                    core="""
                    4 Pestilence
                    4 Crypt Rats
                    4 Chainer's Edict
                    4 Gray Merchant of Asphodel
                    """,
                    flex="""
                    Evincar's Justice 2-3
                    Chittering Rats 3-4
                    Thorn of the Black Rose 2-3
                    Vampire Sovereign 1-2
                    Unearth 1-2
                    Defile 2-4
                    Oubliette 1-2
                    Dusk Legion Zealot 2-4
                    """,
                    lands="""
                    Swamp 16-19
                    Bojuka Bog 1-1
                    Barren Moor 0-2
                    """,
                    land_slots=19,
                    side="""
                    Duress 1-3
                    Cast Down 1-2
                    Nihil Spellbomb 1-2
                    Dead Weight 1-2
                    Cuombajj Witches 1-2
                    Extract a Confession 1-2
                    Tormod's Crypt 1-2
                    """,
                ),
            ),
        ),
        ArchetypeSpec(
            key=UNKNOWN,
            share=1.5,
            power=-0.15,
            builds=(
                _build(
                    UNKNOWN,
                    core="""
                    4 Glistener Elf
                    4 Blight Mamba
                    4 Vines of Vastwood
                    4 Mutagenic Growth
                    4 Groundswell
                    """,
                    flex="""
                    Scale Up 2-4
                    Ichorclaw Myr 2-4
                    Gitaxian Probe 2-4
                    Apostle's Blessing 1-2
                    Ranger's Guile 1-2
                    Giant Growth 2-4
                    Lotus Petal 1-2
                    Invigorate 1-3
                    """,
                    lands="""
                    Forest 14-17
                    Khalni Garden 0-1
                    """,
                    land_slots=17,
                    side="""
                    Scattershot Archer 1-2
                    Natural State 1-2
                    Spore Frog 1-2
                    Gut Shot 1-2
                    Relic of Progenitus 1-2
                    Nylea's Disciple 1-2
                    """,
                ),
            ),
        ),
    ),
    edges={
        ("Affinity", "Faeries"): 0.2,
        ("Faeries", "FlickerTron"): 0.3,
        ("Elves", "Affinity"): 0.25,
        ("FlickerTron", "Elves"): 0.35,
        ("Kuldotha", "FlickerTron"): 0.3,
        ("Bogles", "Faeries"): 0.3,
        ("Affinity", "Bogles"): 0.25,
    },
)

FORMATS: dict[str, FormatSpec] = {spec.name: spec for spec in (MODERN, PIONEER, LEGACY, PAUPER)}


def all_generated_cards() -> set[str]:
    """Every card name any recipe can emit (used to check the shipped colour table)."""
    names: set[str] = set()
    for spec in FORMATS.values():
        for archetype in spec.archetypes:
            for build in archetype.builds:
                names |= build.all_cards()
    return names
