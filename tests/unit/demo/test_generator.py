"""Generated files: determinism, exact counts and validity against the cache format."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from pipelines.demo import GenerationSummary, dumps_event, generate, iter_events

TOP_KEYS = ["Tournament", "Decks", "Rounds", "Standings"]
TOURNAMENT_KEYS = ["Date", "Name", "Uri", "Formats"]
DECK_KEYS = ["Date", "Player", "Result", "AnchorUri", "Mainboard", "Sideboard"]
STANDING_KEYS = ["Rank", "Player", "Points", "Wins", "Losses", "Draws", "OMWP", "GWP", "OGWP"]
PLACE = re.compile(r"^(\d+)(st|nd|rd|th) Place$")
MATCH_RESULT = re.compile(r"^(\d+)-(\d+)-(\d+)$")
MTGO_FILE = re.compile(r"^(.*)-(\d{4})-(\d{2})-(\d{2})(\d+)$")
BYES = {None, "", "-"}


def _files_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.json"))}


# -- determinism and counts -------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", decks=900, seed=42)
    second = generate(tmp_path / "b", decks=900, seed=42)
    assert first.files == second.files and first.decks == second.decks == 900
    a, b = _files_bytes(tmp_path / "a"), _files_bytes(tmp_path / "b")
    assert a.keys() == b.keys() and a == b


def test_different_seed_differs(tmp_path: Path) -> None:
    generate(tmp_path / "a", decks=400, seed=1)
    generate(tmp_path / "b", decks=400, seed=2)
    assert _files_bytes(tmp_path / "a") != _files_bytes(tmp_path / "b")


def test_iter_events_matches_written_files(sample_dir: tuple[Path, GenerationSummary]) -> None:
    from .conftest import SAMPLE_DECKS, SAMPLE_SEED

    root, summary = sample_dir
    written = _files_bytes(root)
    events = list(iter_events(SAMPLE_DECKS, seed=SAMPLE_SEED))
    assert {e.relpath for e in events} == written.keys()
    assert all(written[e.relpath] == dumps_event(e) for e in events)
    assert summary.files == len(events)
    assert summary.matches == sum(e.matches for e in events)


@pytest.mark.parametrize("decks", [0, 1, 5, 31, 33, 64, 257, 1234])
def test_exact_deck_count(decks: int) -> None:
    events = list(iter_events(decks, seed=decks))
    assert sum(len(e.payload["Decks"]) for e in events) == decks
    assert all(len(e.intended) == len(e.payload["Decks"]) for e in events)
    assert all(e.payload["Decks"] for e in events)  # no empty event files


@pytest.mark.parametrize("sources", [("MTGO",), ("MTGmelee",), ("CardsRealm",)])
def test_single_source(sources: tuple[str, ...]) -> None:
    events = list(iter_events(700, seed=3, sources=sources))
    assert {e.source for e in events} == set(sources)
    assert sum(len(e.intended) for e in events) == 700


def test_summary_counts(sample_dir: tuple[Path, GenerationSummary]) -> None:
    from .conftest import SAMPLE_DECKS

    root, summary = sample_dir
    assert summary.decks == SAMPLE_DECKS
    assert summary.files == len(list(root.rglob("*.json")))
    assert sum(summary.decks_by_format.values()) == SAMPLE_DECKS
    assert set(summary.events_by_source) == {"MTGO", "MTGmelee", "CardsRealm"}
    assert "decks" in summary.to_text()


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        list(iter_events(-1, seed=1))
    with pytest.raises(ValueError):
        list(iter_events(10, seed=1, sources=("Topdeck",)))
    with pytest.raises(ValueError):
        list(iter_events(10, seed=1, days=0))


def test_dates_stay_in_the_window() -> None:
    start = date(2024, 3, 4)
    days = {
        e.relpath.split("/", 1)[1][:10] for e in iter_events(3000, seed=5, start=start, days=10)
    }
    parsed = sorted(date(*map(int, d.split("/"))) for d in days)
    assert parsed[0] == start and (parsed[-1] - start).days <= 9
    assert len(parsed) == 10  # events on every day of the window


# -- cache format ----------------------------------------------------------------------------


def _check_deck_items(items: list[dict[str, Any]]) -> int:
    for item in items:
        assert list(item) == ["Count", "CardName"]
        assert isinstance(item["Count"], int) and item["Count"] > 0
        assert isinstance(item["CardName"], str) and item["CardName"] == item["CardName"].strip()
    return sum(item["Count"] for item in items)


def test_every_file_is_valid_cache_json(sample_files: list[tuple[Path, dict[str, Any]]]) -> None:
    assert sample_files
    for path, data in sample_files:
        assert list(data) == TOP_KEYS, path
        tournament = data["Tournament"]
        assert list(tournament) == TOURNAMENT_KEYS
        assert tournament["Formats"] in {"Modern", "Pioneer", "Legacy", "Pauper"}
        assert isinstance(tournament["Name"], str) and tournament["Uri"].startswith("https://")
        _source, year, month, day, _name = path.parts[-5:]
        folder_date = date(int(year), int(month), int(day))
        assert datetime.fromisoformat(tournament["Date"]).date() == folder_date
        assert data["Decks"]
        for deck in data["Decks"]:
            assert list(deck) == DECK_KEYS
            assert isinstance(deck["Player"], str) and deck["Player"]
            assert PLACE.match(deck["Result"]) or deck["Result"] == "5-0", deck["Result"]
            main = _check_deck_items(deck["Mainboard"])
            side = _check_deck_items(deck["Sideboard"])
            assert main in (60, 80) and side == 15
        for round_ in data["Rounds"]:
            assert list(round_) == ["RoundName", "Matches"]
            assert round_["Matches"], (path, round_["RoundName"])
            for match in round_["Matches"]:
                assert list(match) == ["Player1", "Player2", "Result"]
                assert MATCH_RESULT.match(match["Result"]), match
                assert match["Player1"] not in BYES
        for standing in data["Standings"]:
            assert list(standing) == STANDING_KEYS
            for key in ("Rank", "Points", "Wins", "Losses", "Draws"):
                assert isinstance(standing[key], int) and standing[key] >= 0
            for key in ("OMWP", "GWP", "OGWP"):
                assert isinstance(standing[key], float) and 0.0 <= standing[key] <= 1.0
        ranks = [s["Rank"] for s in data["Standings"]]
        assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)


def _split_result(result: str) -> tuple[int, int, int]:
    a, b, c = (int(x) for x in result.split("-"))
    return a, b, c


def _by_source(files: list[tuple[Path, dict[str, Any]]], source: str) -> list[tuple[Path, dict]]:
    return [(p, d) for p, d in files if p.parts[-5] == source]


def test_mtgo_conventions(sample_files: list[tuple[Path, dict[str, Any]]]) -> None:
    challenges = leagues = 0
    for path, data in _by_source(sample_files, "MTGO"):
        match = MTGO_FILE.match(path.stem)
        assert match, path.name
        assert data["Tournament"]["Uri"] == f"https://www.mtgo.com/decklist/{path.stem}"
        assert data["Tournament"]["Date"] == "-".join(match.group(2, 3, 4))
        decks = data["Decks"]
        for deck in decks:
            assert deck["AnchorUri"] == f"{data['Tournament']['Uri']}#deck_{deck['Player']}"
            assert deck["Date"].endswith("+00:00")
            names = [i["CardName"] for i in deck["Mainboard"]]
            assert names == sorted(set(names))  # merged and sorted by name
        if "League" in data["Tournament"]["Name"]:
            leagues += 1
            assert len(match.group(5)) in (4, 5)
            assert data["Rounds"] == [] and data["Standings"] == []
            assert {d["Result"] for d in decks} == {"5-0"}
            continue
        challenges += 1
        assert len(match.group(5)) == 8
        assert len(decks) == 32 and len(data["Standings"]) == 32
        expected = [f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n, 'th') } Place" for n in range(1, 33)]
        assert [d["Result"] for d in decks] == expected  # incl. 21th, 22th, 23th
        assert [r["RoundName"] for r in data["Rounds"]] == ["Quarterfinals", "Semifinals", "Finals"]
        assert [len(r["Matches"]) for r in data["Rounds"]] == [4, 2, 1]
        standings = {s["Player"]: s for s in data["Standings"]}
        assert set(standings) == {d["Player"] for d in decks}
        playoff_w: Counter[str] = Counter()
        playoff_l: Counter[str] = Counter()
        for round_ in data["Rounds"]:
            for m in round_["Matches"]:
                a, b, c = _split_result(m["Result"])
                assert a == 2 and b in (0, 1) and c == 0  # winner first, no playoff draws
                playoff_w[m["Player1"]] += 1
                playoff_l[m["Player2"]] += 1
        top8 = {s["Player"] for s in data["Standings"][:8]}
        assert set(playoff_w) | set(playoff_l) == top8  # bracket = Swiss top 8
        final = data["Rounds"][-1]["Matches"][0]
        assert decks[0]["Player"] == final["Player1"] and decks[1]["Player"] == final["Player2"]
        for player, s in standings.items():
            assert s["Draws"] == 0 and s["Points"] % 3 == 0
            # Points are Swiss-only, Wins/Losses include the playoff.
            assert s["Wins"] - playoff_w[player] == s["Points"] // 3
            assert s["Losses"] >= playoff_l[player]
    assert challenges and leagues


def _records_from_rounds(
    rounds: list[dict[str, Any]], dedupe_pairs: bool
) -> dict[str, Counter[str]]:
    """W/L/D per player, byes as wins; optionally de-duplicating Melee's doubled matches."""
    records: dict[str, Counter[str]] = defaultdict(Counter)
    for round_ in rounds:
        seen: set[frozenset[str]] = set()
        for m in round_["Matches"]:
            p1, p2 = m["Player1"], m["Player2"]
            a, b, _ = _split_result(m["Result"])
            if p2 in BYES:
                records[p1]["W" if a > b else "L" if b > a else "D"] += 1
                continue
            pair = frozenset((p1, p2))
            if dedupe_pairs and pair in seen:
                continue
            seen.add(pair)
            if a > b:
                records[p1]["W"] += 1
                records[p2]["L"] += 1
            elif b > a:
                records[p2]["W"] += 1
                records[p1]["L"] += 1
            else:
                records[p1]["D"] += 1
                records[p2]["D"] += 1
    return records


def test_melee_conventions(sample_files: list[tuple[Path, dict[str, Any]]]) -> None:
    doubled_draws = byes = without_list = 0
    for path, data in _by_source(sample_files, "MTGmelee"):
        tournament = data["Tournament"]
        event_id = tournament["Uri"].rsplit("/", 1)[1]
        assert tournament["Uri"] == f"https://melee.gg/Tournament/View/{event_id}"
        assert path.stem.endswith(f"-{event_id}-{path.parts[-4]}-{path.parts[-3]}-{path.parts[-2]}")
        standings = data["Standings"]
        rank_of = {s["Player"]: s["Rank"] for s in standings}
        assert [s["Rank"] for s in standings] == list(range(1, len(standings) + 1))
        deck_players = [d["Player"] for d in data["Decks"]]
        assert set(deck_players) <= set(rank_of) and len(set(deck_players)) == len(deck_players)
        without_list += len(standings) - len(deck_players)
        for deck in data["Decks"]:
            assert deck["Date"] is None
            assert deck["AnchorUri"].startswith("https://melee.gg/Decklist/View/")
            rank = rank_of[deck["Player"]]
            assert deck["Result"] == f"{rank}{'st' if rank <= 3 else 'th'} Place"  # 2st, 3st
        names = [r["RoundName"] for r in data["Rounds"]]
        swiss = [n for n in names if n.startswith("Round ")]
        assert swiss == [f"Round {k}" for k in range(1, len(swiss) + 1)]
        assert names[len(swiss) :] in (
            [],
            ["Quarterfinals", "Semifinals", "Finals"][: len(names) - len(swiss)],
        )
        with_list = set(deck_players)
        for round_ in data["Rounds"]:
            pairs: Counter[frozenset[str]] = Counter()
            for m in round_["Matches"]:
                assert m["Player1"] in with_list or m["Player2"] in with_list
                if m["Player2"] == "-":
                    byes += 1
                    assert m["Result"] == "2-0-0" and m["Player1"] in with_list
                    continue
                a, b, _ = _split_result(m["Result"])
                assert a >= b  # winner (or either side of a draw) first
                pairs[frozenset((m["Player1"], m["Player2"]))] += 1
                if a == b and pairs[frozenset((m["Player1"], m["Player2"]))] == 2:
                    doubled_draws += 1
            assert max(pairs.values(), default=1) <= 2
        records = _records_from_rounds(data["Rounds"], dedupe_pairs=True)
        for s in standings:
            if s["Player"] not in with_list:
                continue
            r = records[s["Player"]]
            assert (s["Wins"], s["Losses"], s["Draws"]) == (r["W"], r["L"], r["D"]), s
            assert s["Points"] == 3 * s["Wins"] + s["Draws"]
    assert doubled_draws and byes and without_list


def test_cardsrealm_conventions(sample_files: list[tuple[Path, dict[str, Any]]]) -> None:
    loser_first = byes = 0
    for path, data in _by_source(sample_files, "CardsRealm"):
        tournament = data["Tournament"]
        assert tournament["Formats"] == "Pauper"
        assert tournament["Uri"].startswith("https://mtg.cardsrealm.com/en-us/tournament/")
        assert "+" not in tournament["Date"]  # naive datetime
        assert path.stem.endswith("-".join(path.parts[-4:-1]))
        standings = data["Standings"]
        assert [s["Player"] for s in standings] == [d["Player"] for d in data["Decks"]]
        for deck, s in zip(data["Decks"], standings, strict=True):
            assert deck["Date"] == tournament["Date"]
            suffix = {1: "st", 2: "nd", 3: "rd"}.get(s["Rank"], "th")
            assert deck["Result"] == f"{s['Rank']}{suffix} Place"
        rounds = data["Rounds"]
        assert [r["RoundName"] for r in rounds] == [f"Round {k}" for k in range(1, len(rounds) + 1)]
        swiss = [r for r in rounds if len(r["Matches"]) == len(rounds[0]["Matches"])]
        for round_ in rounds:
            for m in round_["Matches"]:
                a, b, _ = _split_result(m["Result"])
                loser_first += a < b
                if m["Player2"] == "":
                    byes += 1
        records = _records_from_rounds(swiss, dedupe_pairs=False)
        for s in standings:
            r = records[s["Player"]]
            assert (s["Wins"], s["Losses"], s["Draws"]) == (r["W"], r["L"], r["D"]), s
            assert s["Points"] == 3 * s["Wins"] + s["Draws"]
    assert loser_first and byes


def test_game_scores_are_plausible(sample_files: list[tuple[Path, dict[str, Any]]]) -> None:
    results: Counter[str] = Counter()
    for _path, data in sample_files:
        for round_ in data["Rounds"]:
            for m in round_["Matches"]:
                if m["Player2"] not in BYES:
                    a, b, c = _split_result(m["Result"])
                    results[f"{max(a, b)}-{min(a, b)}-{c}"] += 1
    assert set(results) <= {"2-0-0", "2-1-0", "1-1-1", "1-1-0", "0-0-3"}
    total = sum(results.values())
    assert 0.4 < results["2-0-0"] / total < 0.75
    assert 0.25 < results["2-1-0"] / total < 0.6
    assert results["1-1-1"] > 0


def test_compact_output_has_the_same_content(tmp_path: Path) -> None:
    import json

    generate(tmp_path / "indented", decks=150, seed=8)
    generate(tmp_path / "compact", decks=150, seed=8, indent=False)
    indented, compact = _files_bytes(tmp_path / "indented"), _files_bytes(tmp_path / "compact")
    assert indented.keys() == compact.keys()
    for name, data in compact.items():
        assert b"\n" not in data and len(data) < len(indented[name])
        assert json.loads(data) == json.loads(indented[name])


def test_write_errors_surface(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(OSError):
        generate(blocker, decks=50, seed=1)


def test_archive_mix_has_the_public_archives_shape() -> None:
    # Issue 14: the archive has ~1.17 matches per deck and ~29 decks per file (leagues without
    # rounds and challenges with only their Top 8 weigh more than in the recent sample).
    from pipelines.demo.generator import ARCHIVE_MIX

    events = list(iter_events(12_000, seed=14, start=date(2020, 1, 1), days=2525, mix=ARCHIVE_MIX))
    decks = sum(len(e.intended) for e in events)
    matches = sum(e.matches for e in events)
    kinds = Counter(
        e.payload["Tournament"]["Name"].split()[-1] for e in events if e.source == "MTGO"
    )
    assert decks == 12_000
    assert 1.0 < matches / decks < 1.35
    assert 22 < decks / len(events) < 34
    assert kinds["League"] > kinds["32"] > kinds["64"]  # leagues: the most frequent MTGO files
    assert events[0].payload["Tournament"]["Date"][:4] == "2020"
    assert events[-1].payload["Tournament"]["Date"][:4] == "2026"
    assert {e.source for e in events} == {"MTGO", "MTGmelee", "CardsRealm"}
