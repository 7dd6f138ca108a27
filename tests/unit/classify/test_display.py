"""Display names (DOMAIN.md §3.8), every rendered example included."""

from __future__ import annotations

import pytest

from pipelines.classify.definitions import CANONICAL_COLOURS
from pipelines.classify.display import (
    COLOUR_PREFIXES,
    colour_prefix,
    conflict_label,
    display_name,
    insert_spaces,
)


@pytest.mark.parametrize(
    ("name", "include_colour", "colour", "expected"),
    [
        ("Prowess", True, "UR", "Izzet Prowess"),
        ("Burn", True, "R", "Mono Red Burn"),
        ("GenericControl", True, "WU", "Azorius Control"),
        ("GenericTron", False, "UR", "Tron"),
        ("GenericTron", False, "C", "Tron"),
        ("AnvilTron", False, "G", "Anvil Tron"),
        ("Zoo", True, "WUBRG", "5 Color Zoo"),
        ("Omnath Control", True, "WURG", "WURG Omnath Control"),
        ("Affinity", True, "C", "Affinity"),
        ("BTLValki", False, "U", "BTL Valki"),
        ("8Whack", False, "R", "8 Whack"),
        ("Death's Shadow", True, "UB", "Dimir Death 's Shadow"),
        ("Mind's Desire", False, "U", "Mind 's Desire"),
        ("Oops! All Spells", False, "B", "Oops ! All Spells"),
        ("Tin Fins ", False, "B", "Tin Fins "),
        ("4c Legends", False, "WUBRG", "4c Legends"),
        ("KCI Combo", False, "C", "KCI Combo"),
        ("Death & Taxes", False, "W", "Death & Taxes"),
        ("8-cast", False, "C", "8-cast"),
        # Rule (a): a capital run followed by Capital+lower splits before the last capital.
        ("UWControl", False, "WU", "UW Control"),
        ("IzzetProwess", False, "UR", "Izzet Prowess"),
    ],
)
def test_rendered_examples(name: str, include_colour: bool, colour: str, expected: str) -> None:
    assert display_name(name, include_colour, colour) == expected


def test_variant_flag_is_its_own() -> None:
    # The caller passes the variant's own flag: a parent flag of True must not leak in.
    assert display_name("AnvilTron", False, "UR") == "Anvil Tron"
    assert display_name("AnvilTron", True, "UR") == "Izzet Anvil Tron"


def test_generic_removed_case_sensitively() -> None:
    assert display_name("generic Stuff", False, "C") == "generic Stuff"
    assert display_name("GenericGenericX", False, "C") == "X"


def test_accented_capital_is_not_a_capital() -> None:
    # 'É' is neither an ASCII capital nor an ASCII letter: rule (c) puts a space before it
    # after a letter, and rule (b) puts one between it and a following capital.
    assert insert_spaces("AÉB") == "A É B"
    assert insert_spaces("Éowyn") == "Éowyn"
    assert display_name("ÉowynDeck", False, "W") == "Éowyn Deck"


def test_positions_are_decided_before_insertion() -> None:
    # "ABCd": only position 2 qualifies by rule (a); rule (b) never fires between capitals.
    assert insert_spaces("ABCd") == "AB Cd"
    # '!' then ' ': rule (c) inserts before '!', and the original space stays.
    assert insert_spaces("a! b") == "a ! b"


def test_whitespace_runs_collapse_without_trimming() -> None:
    assert display_name("  Lots\t of   Space ", False, "C") == " Lots of Space "


def test_every_canonical_colour_has_a_prefix() -> None:
    assert set(COLOUR_PREFIXES) == set(CANONICAL_COLOURS)
    assert colour_prefix("C") == ""
    assert colour_prefix("UW") == ""  # non-canonical codes never match


@pytest.mark.parametrize(
    ("colour", "expected"),
    [
        ("WG", "Selesnya Pile"),
        ("WR", "Boros Pile"),
        ("UG", "Simic Pile"),
        ("WRG", "Naya Pile"),
        ("WUG", "Bant Pile"),
        ("WUR", "Jeskai Pile"),
        ("UBG", "Sultai Pile"),
        ("WBR", "Mardu Pile"),
        ("URG", "Temur Pile"),
        ("G", "Mono Green Pile"),
        ("WUBR", "WUBR Pile"),
    ],
)
def test_prefixes_keyed_by_wubrg_order(colour: str, expected: str) -> None:
    assert display_name("Pile", True, colour) == expected


def test_conflict_label() -> None:
    assert conflict_label(["Amulet Titan", "Gruul Ramp"]) == "Conflict(Amulet Titan,Gruul Ramp)"
    assert conflict_label(("A", "A")) == "Conflict(A,A)"
