"""The real sample (../shared/data/tournaments) lands with the counts its README gives,
after our documented de-duplication; a second run reports nothing new."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import psycopg
import pytest

from pipelines.ingest.cache import ingest_cache

pytestmark = pytest.mark.shared_data

# From ../shared/data/README.md, "Whole sample (566 files)".
README_FILES, README_DECKS, README_MATCHES, README_STANDINGS = 566, 16784, 29332, 14794


def expected_counts(root: Path) -> dict[str, int]:
    """A plain re-statement of the de-duplication rules over the raw files."""
    events: dict[tuple[str, str], list[tuple[str, dict]]] = defaultdict(list)
    raw_decks = raw_matches = raw_standings = files = 0
    for path in sorted(root.rglob("*.json")):
        files += 1
        text = path.read_bytes()
        if not text.strip():
            continue
        data = json.loads(text)
        raw_decks += len(data["Decks"])
        raw_standings += len(data["Standings"])
        raw_matches += sum(len(r["Matches"]) for r in data["Rounds"])
        rel = path.relative_to(root).as_posix()
        uri = data["Tournament"]["Uri"].split("#")[0].rstrip("/").lower()
        events[(rel.split("/")[0], uri)].append((rel, data))
    decks = 0
    for copies in events.values():

        def key(item: tuple[str, dict]) -> tuple[str, int, str]:
            rel, data = item
            return ("/".join(rel.split("/")[1:4]), len(data["Decks"]), rel)

        copies.sort(key=key)
        latest = copies[-1][1]
        if "league" in latest["Tournament"]["Name"].lower() and copies[0][0].startswith("MTGO"):
            seen = set()
            for _, data in copies:
                for d in data["Decks"]:
                    cards = [
                        sorted((c["CardName"].strip(), c["Count"]) for c in d[board])
                        for board in ("Mainboard", "Sideboard")
                    ]
                    seen.add((" ".join(d["Player"].split()), json.dumps(cards)))
            decks += len(seen)
        else:
            decks += len(latest["Decks"])
    return {
        "files": files,
        "raw_decks": raw_decks,
        "raw_matches": raw_matches,
        "raw_standings": raw_standings,
        "events": len(events),
        "decks": decks,
    }


def test_sample_counts_and_second_run(pg_dsn: str, shared_data_dir: Path) -> None:
    root = shared_data_dir / "tournaments"
    expected = expected_counts(root)
    # The sample is the one the README describes.
    assert (expected["files"], expected["raw_decks"]) == (README_FILES, README_DECKS)
    assert (expected["raw_matches"], expected["raw_standings"]) == (
        README_MATCHES,
        README_STANDINGS,
    )
    first = ingest_cache(pg_dsn, root)
    assert (first.files_seen, first.files_new, first.files_quarantined) == (566, 566, 1)
    with psycopg.connect(pg_dsn) as conn:
        tournaments, decks = conn.execute(
            "SELECT count(*), sum(deck_count) FROM tournaments"
        ).fetchone()  # type: ignore[misc]
        assert tournaments == expected["events"]
        assert (
            decks == expected["decks"] == conn.execute("SELECT count(*) FROM decks").fetchone()[0]
        )  # type: ignore[index]
        stored_matches = conn.execute("SELECT count(*) FROM matches").fetchone()[0]  # type: ignore[index]
        # Only copies of events and Melee's listed-twice matches are dropped.
        assert 0 < README_MATCHES - stored_matches < 0.05 * README_MATCHES
        quarantined = conn.execute(
            "SELECT source_path, kind FROM quarantine WHERE severity = 'error'"
        ).fetchall()
        assert quarantined == [
            ("MTGO/2026/07/14/standard-challenge-32-2026-07-1412847168.json", "empty")
        ]
    second = ingest_cache(pg_dsn, root)
    assert (second.files_new, second.files_changed, second.decks) == (0, 0, 0)
    assert second.files_unchanged == 566
