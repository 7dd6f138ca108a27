"""The shipped demo definitions folder is valid MTGOFormatData-style data."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipelines.demo import DEFAULT_DAYS, DEFAULT_START, DEMO_DEFINITIONS_DIR, DEMO_FORMATS
from pipelines.demo.catalog import FALLBACK_PREFIX, FORMATS, UNKNOWN, all_generated_cards

from ._detect import CANONICAL_COLORS, MULTI_CARD_TYPES, SINGLE_CARD_TYPES

ROOT = DEMO_DEFINITIONS_DIR


def _load(path: Path) -> Any:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), f"{path}: BOM"
    return json.loads(raw.decode("utf-8"))  # strict: no trailing commas either


def test_layout_matches_mtgoformatdata() -> None:
    assert (ROOT / "card_colors.json").is_file()
    for fmt in DEMO_FORMATS:
        for name in ("metas.json", "color_overrides.json"):
            assert (ROOT / fmt / name).is_file(), f"{fmt}/{name}"
        assert 4 <= len(list((ROOT / fmt / "Archetypes").glob("*.json"))) <= 7, fmt
        assert 1 <= len(list((ROOT / fmt / "Fallbacks").glob("*.json"))) <= 2, fmt
    # Nothing else in the folder (every file is JSON the loader understands).
    assert {p.suffix for p in ROOT.rglob("*") if p.is_file()} == {".json"}


@pytest.mark.parametrize(
    "name", ["card_colors.json", *(f"{f}/color_overrides.json" for f in DEMO_FORMATS)]
)
def test_colour_tables_use_canonical_codes(name: str) -> None:
    table = _load(ROOT / name)
    assert isinstance(table, dict) and set(table) == {"Lands", "NonLands"}
    for key in ("Lands", "NonLands"):
        entries = table[key]
        if entries is None:
            continue
        names = [e["Name"] for e in entries]
        assert len(names) == len(set(names)), f"{name}: duplicate {key}"
        for entry in entries:
            assert set(entry) == {"Name", "Color"}
            assert entry["Name"] == entry["Name"].strip() and entry["Name"]
            assert entry["Color"] in CANONICAL_COLORS and entry["Color"] != "C", entry


def test_overrides_have_no_nonlands() -> None:
    for fmt in DEMO_FORMATS:
        assert _load(ROOT / fmt / "color_overrides.json")["NonLands"] is None


@pytest.mark.parametrize("fmt", DEMO_FORMATS)
def test_metas_cover_the_default_window(fmt: str) -> None:
    metas = _load(ROOT / fmt / "metas.json")["Metas"]
    starts = [date.fromisoformat(m["StartDate"]) for m in metas]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    for meta in metas:
        assert set(meta) == {"StartDate", "Name"}
        assert meta["Name"][0].isupper() and " " not in meta["Name"]
    window_end = DEFAULT_START + timedelta(days=DEFAULT_DAYS - 1)
    assert starts[0] <= DEFAULT_START
    # A period boundary inside the default window, so period filters have something to split.
    assert any(DEFAULT_START < s <= window_end for s in starts)


@pytest.mark.parametrize("fmt", DEMO_FORMATS)
def test_archetypes_are_well_formed(fmt: str) -> None:
    names = []
    for path in sorted((ROOT / fmt / "Archetypes").glob("*.json")):
        data = _load(path)
        assert isinstance(data, dict)
        assert set(data) <= {"Name", "IncludeColorInName", "Conditions", "Variants"}
        assert isinstance(data["Name"], str) and data["Name"]
        assert isinstance(data["IncludeColorInName"], bool)
        names.append(data["Name"])
        for definition in [data, *data.get("Variants", [])]:
            assert definition["Conditions"], f"{path.name}: empty conditions"
            for cond in definition["Conditions"]:
                assert set(cond) == {"Type", "Cards"}
                assert cond["Type"] in SINGLE_CARD_TYPES | MULTI_CARD_TYPES, cond
                assert cond["Cards"] and all(c == c.strip() and c for c in cond["Cards"])
                if cond["Type"] in SINGLE_CARD_TYPES:
                    assert len(cond["Cards"]) == 1, cond
        for variant in data.get("Variants", []):
            assert set(variant) == {"Name", "IncludeColorInName", "Conditions"}
    assert len(names) == len(set(names))


@pytest.mark.parametrize("fmt", DEMO_FORMATS)
def test_fallbacks_are_well_formed(fmt: str) -> None:
    for path in sorted((ROOT / fmt / "Fallbacks").glob("*.json")):
        data = _load(path)
        assert isinstance(data, dict)
        assert set(data) == {"Name", "IncludeColorInName", "CommonCards"}
        assert data["CommonCards"] and len(set(data["CommonCards"])) == len(data["CommonCards"])


def test_definitions_exercise_the_feature_set() -> None:
    """Variants, colour-prefixed names and the five main condition types all occur."""
    types: Counter[str] = Counter()
    with_variants = with_colour = 0
    for path in ROOT.glob("*/Archetypes/*.json"):
        data = _load(path)
        with_variants += bool(data.get("Variants"))
        with_colour += bool(data["IncludeColorInName"])
        for definition in [data, *data.get("Variants", [])]:
            types.update(c["Type"] for c in definition["Conditions"])
    assert with_variants >= 1 and with_colour >= 1
    for kind in (
        "InMainboard",
        "OneOrMoreInMainboard",
        "TwoOrMoreInMainboard",
        "DoesNotContain",
        "InSideboard",
    ):
        assert types[kind] >= 1, kind


def test_catalog_labels_match_definition_names() -> None:
    """Every label the generator aims for exists in the definitions of its format."""
    for fmt, spec in FORMATS.items():
        archetypes = {}
        for path in (ROOT / fmt / "Archetypes").glob("*.json"):
            data = _load(path)
            archetypes[data["Name"]] = {v["Name"] for v in data.get("Variants", [])}
        fallbacks = {_load(p)["Name"] for p in (ROOT / fmt / "Fallbacks").glob("*.json")}
        for archetype in spec.archetypes:
            for build in archetype.builds:
                label = build.label
                if label == UNKNOWN:
                    continue
                if label.startswith(FALLBACK_PREFIX):
                    assert label.removeprefix(FALLBACK_PREFIX) in fallbacks, label
                    continue
                name, _, variant = label.partition("/")
                assert name in archetypes, label
                assert not variant or variant in archetypes[name], label


def test_colour_table_covers_every_coloured_generated_card() -> None:
    """Only cards the generator emits are listed (the table is ours, kept small)."""
    table = _load(ROOT / "card_colors.json")
    listed = {e["Name"] for e in table["Lands"]} | {e["Name"] for e in table["NonLands"]}
    assert listed <= all_generated_cards()


@pytest.mark.shared_data
def test_colours_agree_with_the_reference_table(shared_data_dir: Path) -> None:
    """Our colours equal MTGOFormatData's for every generated card (absent where it is absent:
    colourless, hybrid, Phyrexian-mana cards and any-colour lands)."""
    ours = _load(ROOT / "card_colors.json")
    real = json.loads((shared_data_dir / "formats" / "card_colors.json").read_text("utf-8-sig"))
    for key in ("Lands", "NonLands"):
        mine = {e["Name"]: e["Color"] for e in ours[key]}
        theirs = {e["Name"]: e["Color"] for e in real[key] or []}
        for card in sorted(all_generated_cards()):
            assert mine.get(card) == theirs.get(card), (key, card)
