"""Normalisation rules of the cache format, on real examples from DOMAIN.md §2."""

from __future__ import annotations

import pytest

from pipelines.ingest.normalize import (
    canonical_format,
    canonical_uri,
    event_kind,
    is_no_opponent,
    normalize_card_name,
    parse_result,
    player_key,
    source_event_id,
    trim_card_name,
)

KNOWN = {"Wear // Tear", "Marang River Regent", "Scavenger Regent", "Bonecrusher Giant"}


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("Fire/Ice", "Fire // Ice"),  # Manatrader single slash
        ("Dead/Gone", "Dead // Gone"),
        ("Rough/Tumble", "Rough // Tumble"),  # a few MTGO lists
        ("Summon: Choco/Mog", "Summon: Choco/Mog"),  # a real name with one slash
        ("SP//dr, Piloted by Peni", "SP//dr, Piloted by Peni"),  # a real name with //
        ("fogo/gelo", "fogo/gelo"),  # localised, not ours to translate
        ("Wear // Tear", "Wear // Tear"),  # a real split card stays whole
        ("Marang River Regent // Coil and Catch", "Marang River Regent"),  # omen: front face
        ("Scavenger Regent // Exude Toxin // Scavenger Regent", "Scavenger Regent"),
        ("Bonecrusher Giant // Stomp", "Bonecrusher Giant"),  # adventure full name
        ("Thormod’s Crypt", "Thormod's Crypt"),  # curly apostrophe
        ("  Lórien Revealed ", "Lórien Revealed"),  # accents kept, whitespace trimmed
        ("Troll of Khazad-dûm", "Troll of Khazad-dûm"),
        ("A-Teferi, Time Raveler", "Teferi, Time Raveler"),  # Alchemy prefix
        ("The Monarch\n왕위를 계승한다.", "The Monarch 왕위를 계승한다."),  # newline inside
        (" Bottled Cloister", "Bottled Cloister"),  # leading space in a definition
    ],
)
def test_normalize_card_name_real_examples(raw: str, canonical: str) -> None:
    assert normalize_card_name(raw, KNOWN) == canonical


def test_full_names_are_kept_without_a_card_table() -> None:
    # Without knowing which faces exist we cannot tell a split card from an adventure.
    assert normalize_card_name("Bonecrusher Giant // Stomp") == "Bonecrusher Giant // Stomp"


def test_trim_keeps_everything_but_surrounding_whitespace() -> None:
    assert trim_card_name("  Fire/Ice ") == "Fire/Ice"
    assert trim_card_name("Thormod’s Crypt") == "Thormod’s Crypt"


@pytest.mark.parametrize(
    ("result", "rank", "wins", "losses", "draws"),
    [
        ("1st Place", 1, None, None, None),
        ("2st Place", 2, None, None, None),  # Melee/Topdeck ordinal bug
        ("22th Place", 22, None, None, None),  # MTGO ordinal bug
        ("5-0", None, 5, 0, None),
        ("4-1-1", None, 4, 1, 1),
        ("", None, None, None, None),
        ("Top 8", None, None, None, None),
    ],
)
def test_parse_result(result: str, rank: int, wins: int, losses: int, draws: int) -> None:
    parsed = parse_result(result)
    assert (parsed.rank, parsed.wins, parsed.losses, parsed.draws) == (rank, wins, losses, draws)


def test_canonical_format() -> None:
    assert canonical_format("Modern") == ("Modern", False)
    assert canonical_format("modern") == ("Modern", False)
    assert canonical_format("Premodern") == ("Premodern", False)
    assert canonical_format(None, "Manatraders Series Pioneer October 2024") == ("Pioneer", True)
    assert canonical_format(None, "x", "aspiringspikes-modern-madness-2024-12-01.json") == (
        "Modern",
        True,
    )
    assert canonical_format(None, "Duel Commander League") == ("Duel Commander", True)
    assert canonical_format(None, "Contraption League") == ("Unknown", True)


@pytest.mark.parametrize(
    ("source", "name", "kind"),
    [
        ("MTGO", "Modern League", "league"),
        ("MTGO", "Modern Challenge 32", "challenge"),
        ("MTGO", "Pauper Preliminary", "preliminary"),
        ("MTGO", "Modern Showcase Challenge", "challenge"),
        ("MTGO", "Legacy Showcase Qualifier", "showcase"),
        ("MTGO", "Pauper Last Chance", "last_chance"),
        ("MTGO", "Modern RC Qualifier", "qualifier"),
        ("MTGO", "AspiringSpikes Modern Madness", "other"),
        ("MTGmelee", "Spring Open", "paper"),
        ("Manatrader", "Manatraders Series Pioneer", "series"),
    ],
)
def test_event_kind(source: str, name: str, kind: str) -> None:
    assert event_kind(source, name) == kind


def test_event_identity_from_uri() -> None:
    uri = "https://www.mtgo.com/decklist/modern-challenge-32-2025-03-0912345678#deck_x"
    assert (
        canonical_uri(uri) == "https://www.mtgo.com/decklist/modern-challenge-32-2025-03-0912345678"
    )
    assert source_event_id("MTGO", uri) == "12345678"
    assert source_event_id("MTGmelee", "https://melee.gg/Tournament/View/448320/") == "448320"
    assert source_event_id("CardsRealm", "https://mtg.cardsrealm.com/en-us/tournament/1k2") is None


def test_players_and_byes() -> None:
    assert player_key("  Jo   Smith ") == "Jo Smith"
    assert all(is_no_opponent(v) for v in (None, "", "-", " "))
    assert not is_no_opponent("Bob")


def test_every_event_kind_is_in_the_vocabulary() -> None:
    """The kinds ingestion can give are exactly the shared vocabulary's (which the database
    check constraint and the event groups follow: tests/integration/test_stats_views.py)."""
    from pipelines.core.vocabulary import EVENT_KINDS
    from pipelines.ingest.normalize import _MTGO_KINDS

    names = [f"Modern {word.title()}" for word, _ in _MTGO_KINDS] + ["Modern Madness"]
    produced = {event_kind("MTGO", name) for name in names}
    produced |= {event_kind("MTGmelee", "Open"), event_kind("Manatrader", "Series")}
    assert produced == set(EVENT_KINDS)
