"""A synthetic decklist cache and definitions folder for the discovery integration tests:
the decks of ``tests/unit/discovery/synthetic.py`` written as one MTGO event per day."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from tests.unit.discovery.synthetic import window

FORMAT = "Vintage"  # no fixture definitions use it: the synthetic folder decides alone


def player(deck_id: int) -> str:
    return f"player{deck_id:03d}"


def write_definitions(root: Path) -> Path:
    """``root/Formats`` with Alpha and Beta rules for :data:`FORMAT`."""
    formats = root / "Formats"
    folder = formats / FORMAT / "Archetypes"
    folder.mkdir(parents=True)
    (formats / "card_colors.json").write_text('{"Lands": [], "NonLands": []}')
    (formats / FORMAT / "metas.json").write_text(
        '{"Metas": [{"StartDate": "2025-03-01", "Name": "Synthetic"}]}'
    )
    for name in ("Alpha", "Beta"):
        rule = {"Name": name, "Conditions": [{"Type": "InMainboard", "Cards": [f"{name} Core 0"]}]}
        (folder / f"{name}.json").write_text(json.dumps(rule))
    return formats


def write_cache(
    root: Path, seed: int = 1, new_size: int = 12, first: date = date(2025, 3, 9)
) -> tuple[Path, set[str]]:
    """The cache folder and the players of the unnamed archetype (Gamma)."""
    decks, gamma = window(seed, new_size)
    cache = root / "cache"
    per_day = 12
    for day_index in range(0, len(decks), per_day):
        day = first + timedelta(days=day_index // per_day)
        chunk = decks[day_index : day_index + per_day]
        slug = f"vintage-challenge-32-{day.isoformat()}{day_index:04d}"
        uri = f"https://www.mtgo.com/decklist/{slug}"
        doc = {
            "Tournament": {
                "Date": day.isoformat(),
                "Name": "Vintage Challenge 32",
                "Uri": uri,
                "Formats": FORMAT,
            },
            "Decks": [
                {
                    "Date": f"{day.isoformat()}T12:00:00+00:00",
                    "Player": player(d.id),
                    "Result": f"{i + 1}th Place",
                    "AnchorUri": f"{uri}#deck_{player(d.id)}",
                    "Mainboard": [{"Count": n, "CardName": c} for c, n in d.main],
                    "Sideboard": [{"Count": n, "CardName": c} for c, n in d.side],
                }
                for i, d in enumerate(chunk)
            ],
            "Rounds": [],
            "Standings": [],
        }
        folder = cache / "MTGO" / f"{day:%Y/%m/%d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{slug}.json").write_text(json.dumps(doc))
    return cache, {player(i) for i in gamma}
