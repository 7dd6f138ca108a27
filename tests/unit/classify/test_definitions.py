"""Loader leniency and strictness (DOMAIN.md §3.1-§3.6) on hand-written fixture folders."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from pipelines.classify.definitions import (
    CANONICAL_COLOURS,
    ConditionType,
    DefinitionError,
    FormatDefinitions,
    strip_trailing_commas,
)
from pipelines.classify.definitions_loader import load_all, load_format, ordinal_sorted
from pipelines.classify.scopes import dated_siblings, definitions_scope, pick_definitions
from tests.unit.classify.helpers import BROKEN, FORMATS


def test_load_all_keeps_only_folders_with_archetypes() -> None:
    formats = load_all(FORMATS)
    assert list(formats) == ["Lenient", "Tiny"]  # NoDefinitions has no Archetypes folder


def test_tiny_loads_everything(tiny: FormatDefinitions) -> None:
    assert tiny.name == "Tiny"
    assert len(tiny.archetypes) == 11
    assert [f.name for f in tiny.fallbacks] == ["GenericAggro", "GenericControl", "Midrange"]
    assert tiny.metas == ((date(2024, 1, 1), "Start"), (date(2024, 6, 11), "PostHorizons"))
    tron = next(a for a in tiny.archetypes if a.name == "GenericTron")
    assert [v.name for v in tron.variants] == ["AnvilTron", "EldraziTron", "Tron"]


def test_overrides_replace_shared_colours(tiny: FormatDefinitions) -> None:
    assert tiny.lands["Ancient Ziggurat"] == "WUBRG"  # R in card_colors.json, WUBRG override
    assert tiny.lands["Steam Vents"] == "UR"
    assert tiny.nonlands["Emeria's Call"] == "W" and tiny.lands["Emeria's Call"] == "W"


def test_definitions_are_immutable(tiny: FormatDefinitions) -> None:
    with pytest.raises(AttributeError):
        tiny.name = "Other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        tiny.lands["Island"] = "B"  # type: ignore[index]
    assert hash(tiny) == hash(load_format(FORMATS / "Tiny"))


def test_ordinal_file_order(lenient: FormatDefinitions) -> None:
    # Upper case < '_' < lower case, and ' ' < letters: code point order, not locale order.
    assert [a.file for a in lenient.archetypes] == [
        "B.json",
        "_under.json",
        "a b.json",
        "ab.json",
        "c.json",
    ]
    names = [Path(n) for n in ["b.json", "B.json", "a.json", "Ä.json", "Z.json", "_x.json"]]
    assert [p.name for p in ordinal_sorted(names)] == [
        "B.json",
        "Z.json",
        "_x.json",
        "a.json",
        "b.json",
        "Ä.json",
    ]


def test_lenient_json_features(lenient: FormatDefinitions) -> None:
    by_file = {a.file: a for a in lenient.archetypes}
    # BOM + trailing commas + lower-case condition type.
    assert by_file["B.json"].conditions[0].type is ConditionType.IN_MAINBOARD
    # Lower-case / upper-case property names.
    assert by_file["a b.json"].name == "Space" and by_file["a b.json"].include_colour is True
    # Cards: null -> skipped condition; a comma inside a string is untouched.
    comma = by_file["c.json"]
    assert comma.conditions[0].cards == ()
    assert comma.conditions[1].cards == ("Odd, ]Card",)
    # Missing IncludeColorInName -> False.
    assert by_file["_under.json"].include_colour is False
    # NonLands null in overrides, lower-case keys, BOM in overrides.
    assert lenient.lands["Island"] == "UB"
    # Fallback with lower-case keys and trailing commas.
    assert lenient.fallbacks[0].common_cards == ("Shared Card", "Other Card")
    assert lenient.fallbacks[0].include_colour is True
    assert lenient.metas[1] == (date(2024, 2, 1), "Next")


def test_variants_without_conditions_and_nested_variants(lenient: FormatDefinitions) -> None:
    arch = next(a for a in lenient.archetypes if a.name == "WithVariants")
    no_key, empty, other = arch.variants
    assert no_key.conditions == () and empty.conditions == ()
    # The nested variant (with a bogus type) is ignored rather than loaded or rejected.
    assert other.conditions[0].cards == ("Other Card",)
    assert len(arch.variants) == 3


def test_non_json_files_are_ignored(lenient: FormatDefinitions) -> None:
    assert all(a.file.endswith(".json") for a in lenient.archetypes)


@pytest.mark.parametrize(
    ("folder", "file", "fragment"),
    [
        ("UnknownType", "Archetypes/Typo.json", "unknown Type 'InMainbord'"),
        ("EmptyConditions", "Archetypes/Empty.json", "no Conditions"),
        ("MissingConditions", "Archetypes/Missing.json", "no Conditions"),
        ("EmptyCommonCards", "Fallbacks/Pile.json", "no CommonCards"),
        ("NonCanonicalColour", "color_overrides.json", "invalid colour code 'UW'"),
        ("InvalidJson", "Archetypes/Broken.json", "invalid JSON"),
    ],
)
def test_strict_errors_name_the_file(folder: str, file: str, fragment: str) -> None:
    with pytest.raises(DefinitionError) as info:
        load_format(BROKEN / folder)
    assert info.value.file == str(BROKEN / folder / file)
    assert str(BROKEN / folder / file) in str(info.value)
    assert fragment in str(info.value)


def test_missing_metas_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "Fmt"
    shutil.copytree(FORMATS / "Tiny", folder)
    shutil.copy(FORMATS / "card_colors.json", tmp_path / "card_colors.json")
    (folder / "metas.json").unlink()
    with pytest.raises(DefinitionError, match=r"metas\.json"):
        load_format(folder)


def test_explicit_card_colors_path(tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere" / "Tiny"
    shutil.copytree(FORMATS / "Tiny", folder)
    with pytest.raises(DefinitionError, match=r"card_colors\.json"):
        load_format(folder)  # no card_colors.json in the parent folder
    fmt = load_format(folder, FORMATS / "card_colors.json")
    assert fmt.lands["Island"] == "U"


@pytest.mark.parametrize("colour", ["UW", "X", "wu", "", "GW", "RGW"])
def test_invalid_colour_codes(tmp_path: Path, colour: str) -> None:
    folder = _copy_tiny(tmp_path)
    (folder / "color_overrides.json").write_text(
        f'{{"Lands": [{{"Name": "Island", "Color": "{colour}"}}], "NonLands": null}}'
    )
    with pytest.raises(DefinitionError, match="invalid colour code"):
        load_format(folder)


def test_32_canonical_colours() -> None:
    assert len(CANONICAL_COLOURS) == 32
    assert {"C", "WU", "UB", "WUBRG", "WURG", "BRG"} <= CANONICAL_COLOURS
    assert "UW" not in CANONICAL_COLOURS


def _copy_tiny(tmp_path: Path) -> Path:
    shutil.copy(FORMATS / "card_colors.json", tmp_path / "card_colors.json")
    folder = tmp_path / "Tiny"
    shutil.copytree(FORMATS / "Tiny", folder)
    return folder


def test_version_is_stable_and_content_sensitive(tmp_path: Path, tiny: FormatDefinitions) -> None:
    folder = _copy_tiny(tmp_path)
    first = load_format(folder)
    assert first.version == tiny.version == load_format(folder).version
    assert len(first.version) == 16 and int(first.version, 16) >= 0

    burn = folder / "Archetypes" / "Burn.json"
    burn.write_text(burn.read_text().replace("Goblin Guide", "Goblin Lackey"))
    changed_archetype = load_format(folder).version
    assert changed_archetype != first.version

    colours = tmp_path / "card_colors.json"
    colours.write_text(
        colours.read_text().replace('"Forest", "Color": "G"', '"Forest", "Color": "WG"')
    )
    changed_colours = load_format(folder).version
    assert changed_colours != changed_archetype

    # A rename changes load order, so it changes the version too.
    (folder / "Archetypes" / "Burn.json").rename(folder / "Archetypes" / "ZBurn.json")
    assert load_format(folder).version != changed_colours


def test_version_changes_with_fallbacks_metas_and_overrides(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    versions = {load_format(folder).version}
    for relative in ("Fallbacks/Midrange.json", "metas.json", "color_overrides.json"):
        path = folder / relative
        path.write_text(path.read_text() + "\n")
        versions.add(load_format(folder).version)
    assert len(versions) == 4


def test_strip_trailing_commas_outside_strings_only() -> None:
    text = '{"a": [1, 2, ], "b": "x, ]", "c": {"d": 1 ,\n }, "e": "\\", }"}'
    assert (
        strip_trailing_commas(text)
        == '{"a": [1, 2 ], "b": "x, ]", "c": {"d": 1 \n }, "e": "\\", }"}'
    )


def test_case_insensitive_condition_types(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    (folder / "Archetypes" / "Odd.json").write_text(
        '{"NAME": "Odd", "Conditions": [{"TYPE": "doesnotcontainsideboard", "CARDS": ["X"]}]}'
    )
    odd = next(a for a in load_format(folder).archetypes if a.name == "Odd")
    assert odd.conditions[0].type is ConditionType.DOES_NOT_CONTAIN_SIDEBOARD


def test_dated_folder_names_give_a_scope() -> None:
    scope = definitions_scope("Standard-20230701-20240802")
    assert (scope.format, scope.first, scope.last) == (
        "Standard",
        date(2023, 7, 1),
        date(2024, 8, 2),
    )
    assert scope.covers(date(2023, 7, 1)) and scope.covers(date(2024, 8, 2))  # inclusive
    assert not scope.covers(date(2024, 8, 3))
    assert not definitions_scope("Standard").dated
    assert not definitions_scope("Odd-20231399-20240101").dated  # not a date: a plain name


STANDARD_FOLDERS = [
    "Modern",
    "Standard",
    "Standard-20230701-20240802",
    "Standard-20240803-20250730",
    "Unspecified",
]


@pytest.mark.parametrize(
    ("fmt", "day", "expected"),
    [
        ("Standard", date(2024, 1, 5), "Standard-20230701-20240802"),
        ("Standard", date(2024, 8, 3), "Standard-20240803-20250730"),
        ("standard", date(2025, 7, 30), "Standard-20240803-20250730"),
        ("Standard", date(2025, 9, 1), "Standard"),  # after every rotation: the current rules
        ("Standard", None, "Standard"),
        ("Modern", date(2024, 1, 5), "Modern"),
        ("Premodern", date(2024, 1, 5), None),
    ],
)
def test_pick_definitions_by_event_date(fmt: str, day: date | None, expected: str | None) -> None:
    assert pick_definitions(STANDARD_FOLDERS, fmt, day) == expected


def test_an_undated_folder_leaves_its_dated_siblings_ranges_out() -> None:
    siblings = dated_siblings(STANDARD_FOLDERS, "Standard")
    assert [(s.first, s.last) for s in siblings] == [
        (date(2023, 7, 1), date(2024, 8, 2)),
        (date(2024, 8, 3), date(2025, 7, 30)),
    ]
    assert dated_siblings(STANDARD_FOLDERS, "Modern") == []
    assert dated_siblings(STANDARD_FOLDERS, "Standard-20230701-20240802") == []
