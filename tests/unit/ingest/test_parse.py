"""Parsing and validation of cache documents: every variant of DOMAIN.md §2 and bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from pipelines.ingest.merge import merge_documents
from pipelines.ingest.parse import DocumentError, ParsedDocument, parse_document

CACHE = Path(__file__).parents[2] / "fixtures" / "cache"


def load(rel: str) -> ParsedDocument:
    return parse_document((CACHE / rel).read_bytes(), rel)


def doc_bytes(**overrides: Any) -> bytes:
    data: dict[str, Any] = {
        "Tournament": {
            "Date": "2025-03-09",
            "Name": "Modern Challenge 32",
            "Uri": "https://www.mtgo.com/decklist/modern-challenge-32-2025-03-0912345678",
            "Formats": "Modern",
        },
        "Decks": [
            {
                "Date": None,
                "Player": "a",
                "Result": "1st Place",
                "AnchorUri": "",
                "Mainboard": [{"Count": 4, "CardName": "Lightning Bolt"}],
                "Sideboard": [],
            }
        ],
        "Rounds": [],
        "Standings": [],
    }
    data.update(overrides)
    return orjson.dumps({k: v for k, v in data.items() if v is not ...})


REL = "MTGO/2025/03/09/modern-challenge-32-2025-03-0912345678.json"


def test_mtgo_challenge() -> None:
    doc = load(REL)
    assert doc.source == "MTGO" and doc.event_kind == "challenge" and doc.format == "Modern"
    assert doc.source_event_id == "12345678"
    assert doc.event_date.isoformat() == "2025-03-09"
    assert [d.rank for d in doc.decks] == [1, 2, 3, 22]
    assert doc.decks[0].side == [("Wear // Tear", 2)]
    assert len(doc.matches) == 3 and not any(m.is_bye for m in doc.matches)
    # Placement is not the Swiss rank: alice won the playoff but has Rank 2.
    assert {s.player: s.rank for s in doc.standings}["alice_mtg"] == 2


def test_melee_byes_duplicates_and_odd_lists() -> None:
    doc = load("MTGmelee/2025/03/15/spring-open-pioneer-555001-2025-03-15.json")
    assert (doc.format, doc.format_inferred) == ("Pioneer", True)  # Formats null
    assert doc.starts_at == "2025-03-15T10:00:00+00:00"  # naive datetime taken as UTC
    jo = doc.decks[0]
    assert jo.player == "Jo  Smith" and jo.player_key == "Jo Smith"
    # Lines kept as they appear: duplicates and a Count 0 entry (the reference counts both).
    assert jo.main == [("Llanowar Elves", 4), ("Llanowar Elves", 2), ("Forest", 0), ("Forest", 16)]
    assert [d.rank for d in doc.decks] == [1, 2, 3]  # "2st Place", "3st Place"
    byes = [m for m in doc.matches if m.is_bye]
    assert {(m.player1, m.player2) for m in byes} == {("Lee", "-"), ("Nobody", "-"), ("Kim", None)}
    real = [m for m in doc.matches if not m.is_bye]
    # Round 2's draw listed from both sides is one match; round 3's forfeit recorded 0-2-0
    # from one side and 0-0-0 from the other keeps the decisive record.
    assert len(real) == 3 and doc.duplicate_matches == 2
    r3 = [m for m in real if m.round_name == "Round 3"]
    assert [(m.p1_games, m.p2_games) for m in r3] == [(0, 2)]
    assert doc.player_count == 5  # 4 standings rows, plus "Nobody" who only had a bye


def test_topdeck_names_and_bye_as_draw() -> None:
    doc = load("Topdeck/2025/03/20/friday-legacy-AbCdEf123-2025-03-20.json")
    assert (
        doc.decks[0].player == "Rae" and doc.decks[0].anchor_uri == "https://moxfield.com/decks/x"
    )
    assert doc.decks[1].anchor_uri is None
    bye = [m for m in doc.matches if m.is_bye]
    assert len(bye) == 1 and bye[0].player2 == ""
    final = next(m for m in doc.matches if m.round_name == "Top 2")
    assert final.key2 == "Rae"  # trailing space in the match, matched to the deck


def test_manatrader_single_slash_kept_raw() -> None:
    doc = load("Manatrader/2025/03/31/manatraders-series-pioneer-march-2025-2025-03-31.json")
    assert doc.format == "Pioneer" and doc.event_kind == "series"
    assert doc.decks[0].main[:2] == [("Fire/Ice", 2), ("Fire/Ice", 2)]


def test_warnings_keep_the_document() -> None:
    doc = load("MTGO/2025/03/22/contraption-league-2025-03-224444.json")
    kinds = [k for k, _ in doc.warnings]
    assert kinds == ["unknown_format", "empty_deck"]
    assert doc.format == "Unknown" and len(doc.decks) == 2 and doc.decks[0].result == ""


@pytest.mark.parametrize(
    ("rel", "kind"),
    [
        ("MTGO/2025/03/23/empty-challenge-2025-03-2312340000.json", "empty"),
        ("MTGO/2025/03/23/broken-challenge-2025-03-2312340001.json", "invalid_json"),
        ("MTGO/2025/03/23/no-tournament-2025-03-2312340002.json", "missing_tournament"),
        ("MTGO/2025/03/23/wrong-types-2025-03-2312340003.json", "wrong_type"),
        ("MTGO/2025/03/23/no-decks-2025-03-2312340004.json", "no_decks"),
    ],
)
def test_bad_documents(rel: str, kind: str) -> None:
    with pytest.raises(DocumentError) as info:
        load(rel)
    assert info.value.kind == kind


def test_wrong_type_message_names_the_field() -> None:
    with pytest.raises(DocumentError, match=r"Decks\[0\]\.Mainboard\[0\]\.Count must be int"):
        load("MTGO/2025/03/23/wrong-types-2025-03-2312340003.json")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Tournament": ["x"]}, "Tournament must be object"),
        ({"Tournament": {"Name": "x", "Uri": "y"}}, "Tournament: object missing .* Date"),
        ({"Decks": {"a": 1}}, "Decks must be array"),
        (
            {"Decks": [{"Player": "a", "Mainboard": [{"CardName": "x", "Count": -1}]}]},
            r"Decks\[0\]\.Mainboard\[0\]\.Count must be int >= 0",
        ),
        ({"Decks": [{"Player": "a", "Mainboard": None}]}, r"Decks\[0\]\.Mainboard must be array"),
        ({"Decks": [{"Player": None}]}, r"Decks\[0\]\.Player must be str"),
        ({"Standings": [{"Player": "a", "Rank": "1"}]}, r"Standings\[0\]\.Rank must be int"),
        ({"Rounds": [{"RoundName": "R1", "Matches": [{"Player1": 3}]}]}, "Player1 must be str"),
    ],
)
def test_wrong_types(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        parse_document(doc_bytes(**overrides), REL)


def test_missing_or_null_rounds_and_standings() -> None:
    doc = parse_document(doc_bytes(Rounds=..., Standings=None), REL)
    assert doc.matches == [] and doc.standings == []


def test_nul_characters_are_refused_clearly() -> None:
    raw = doc_bytes().replace(b"Lightning Bolt", b"Lightning\\u0000Bolt")
    with pytest.raises(DocumentError) as info:
        parse_document(raw, REL)
    assert info.value.kind == "nul_character"


@pytest.mark.parametrize(
    ("first", "second", "kept"),
    [
        ("0-0-0", "1-1-1", (1, 1, 1)),  # a played draw over an unreported copy
        ("1-1-1", "0-0-0", (1, 1, 1)),
        ("0-0-0", "0-2-0", (0, 2, 0)),  # a decisive score over anything else
        ("2-1-0", "1-1-1", (2, 1, 0)),
        ("1-1-0", "0-0-1", (1, 1, 0)),  # equal evidence: the first record stays
    ],
)
def test_duplicate_match_records_keep_the_most_informative(
    first: str, second: str, kept: tuple[int, int, int]
) -> None:
    matches = [
        {"Player1": "a", "Player2": "b", "Result": first},
        {"Player1": "b", "Player2": "a", "Result": second},
    ]
    doc = parse_document(doc_bytes(Rounds=[{"RoundName": "R1", "Matches": matches}]), REL)
    [match] = doc.matches
    scores = (match.p1_games, match.p2_games, match.draw_games)
    assert scores == kept and doc.duplicate_matches == 1


def test_bad_match_score_is_a_warning() -> None:
    rounds = [{"RoundName": "R1", "Matches": [{"Player1": "a", "Player2": "b", "Result": "2-1"}]}]
    doc = parse_document(doc_bytes(Rounds=rounds), REL)
    assert doc.matches == [] and doc.warnings[0][0] == "bad_match_result"


def test_same_decklist_hash_however_lines_are_split() -> None:
    doc = load("MTGO/2025/03/10/modern-league-2025-03-104321.json")
    erin1, erin2, frank = doc.decks
    assert erin1.decklist_hash == erin2.decklist_hash != frank.decklist_hash
    split = [{"Count": 2, "CardName": "Lightning Bolt"}] * 2
    deck = {"Player": "a", "Result": "", "Mainboard": split, "Sideboard": []}
    doc2 = parse_document(doc_bytes(Decks=[deck]), REL)
    doc3 = parse_document(doc_bytes(), REL)
    assert doc2.decks[0].decklist_hash == doc3.decks[0].decklist_hash


def test_league_snapshots_merge_as_a_union_in_any_order() -> None:
    first = load("MTGO/2025/03/10/modern-league-2025-03-104321.json")
    second = load("MTGO/2025/03/12/modern-league-2025-03-104321.json")
    for order in ([first, second], [second, first]):
        merged = merge_documents(order)
        assert merged.document is second  # latest snapshot supplies the event's fields
        # erin's identical 5-0 twice counts once; frank's deck is in both snapshots;
        # erin's different deck in the second snapshot is another deck.
        assert sorted(d.player for d in merged.decks) == ["erin", "erin", "frank", "gina"]
        assert merged.contributing == {first.path, second.path}


def test_copies_of_a_non_league_event_keep_one_document() -> None:
    one = load("MTGmelee/2025/03/16/team-trios-seat-1-555002-2025-03-16.json")
    two = load("MTGmelee/2025/03/16/team-trios-seat-2-555002-2025-03-16.json")
    assert one.external_id == two.external_id
    for order in ([one, two], [two, one]):
        merged = merge_documents(order)
        assert merged.document.path == two.path and merged.contributing == {two.path}
        assert len(merged.decks) == 2
