"""MTGOFormatData archetype definitions (DOMAIN.md §3.1-§3.6): what they are and how their
JSON files read. Loading the folders: :mod:`pipelines.classify.definitions_loader`.

The parsers are lenient exactly where the C# reference is: trailing commas before ``]``/``}``
(outside strings), a UTF-8 BOM, case-insensitive property names, case-insensitive condition
``Type`` values, a variant without ``Conditions`` (= empty list), ``Lands``/``NonLands`` null.
It is strict where silently continuing would mislead: an unknown condition type, an archetype
with no conditions, a fallback with no common cards, an invalid colour code (including a
non-canonical order such as ``UW``) or malformed JSON raise :class:`DefinitionError` naming the
file.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson

# The 32 canonical WUBRG-ordered colour codes (§3.3); anything else is a load error.
COLOUR_LETTERS = "WUBRG"


def _canonical_codes() -> frozenset[str]:
    codes = {"C"}
    for mask in range(1, 32):
        codes.add("".join(c for i, c in enumerate(COLOUR_LETTERS) if mask >> i & 1))
    return frozenset(codes)


CANONICAL_COLOURS: frozenset[str] = _canonical_codes()


class DefinitionError(ValueError):
    """A definition file is invalid; ``file`` names it and the message says why."""

    def __init__(self, file: Path | str, message: str) -> None:
        super().__init__(f"{file}: {message}")
        self.file = str(file)
        self.reason = message


class ConditionType(enum.Enum):
    """The twelve condition types of the reference (§3.7.1)."""

    IN_MAINBOARD = "InMainboard"
    IN_SIDEBOARD = "InSideboard"
    IN_MAIN_OR_SIDEBOARD = "InMainOrSideboard"
    ONE_OR_MORE_IN_MAINBOARD = "OneOrMoreInMainboard"
    ONE_OR_MORE_IN_SIDEBOARD = "OneOrMoreInSideboard"
    ONE_OR_MORE_IN_MAIN_OR_SIDEBOARD = "OneOrMoreInMainOrSideboard"
    TWO_OR_MORE_IN_MAINBOARD = "TwoOrMoreInMainboard"
    TWO_OR_MORE_IN_SIDEBOARD = "TwoOrMoreInSideboard"
    TWO_OR_MORE_IN_MAIN_OR_SIDEBOARD = "TwoOrMoreInMainOrSideboard"
    DOES_NOT_CONTAIN = "DoesNotContain"
    DOES_NOT_CONTAIN_MAINBOARD = "DoesNotContainMainboard"
    DOES_NOT_CONTAIN_SIDEBOARD = "DoesNotContainSideboard"

    @classmethod
    def parse(cls, raw: object) -> ConditionType | None:
        """The type whose name equals ``raw`` case-insensitively, else None."""
        if not isinstance(raw, str):
            return None
        return _TYPES_BY_LOWER.get(raw.lower())

    @property
    def single_card(self) -> bool:
        """True for the types that only look at the first listed card."""
        return self in _SINGLE_CARD_TYPES

    @property
    def negative(self) -> bool:
        """True for the DoesNotContain* types (they hold on an empty deck)."""
        return self in _NEGATIVE_TYPES


_TYPES_BY_LOWER = {t.value.lower(): t for t in ConditionType}
_SINGLE_CARD_TYPES = frozenset(
    {
        ConditionType.IN_MAINBOARD,
        ConditionType.IN_SIDEBOARD,
        ConditionType.IN_MAIN_OR_SIDEBOARD,
        ConditionType.DOES_NOT_CONTAIN,
        ConditionType.DOES_NOT_CONTAIN_MAINBOARD,
        ConditionType.DOES_NOT_CONTAIN_SIDEBOARD,
    }
)
_NEGATIVE_TYPES = frozenset(
    {
        ConditionType.DOES_NOT_CONTAIN,
        ConditionType.DOES_NOT_CONTAIN_MAINBOARD,
        ConditionType.DOES_NOT_CONTAIN_SIDEBOARD,
    }
)


@dataclass(frozen=True)
class Condition:
    """One condition; an empty ``cards`` tuple means "skipped" (always holds)."""

    type: ConditionType
    cards: tuple[str, ...]


@dataclass(frozen=True)
class Variant:
    """A sub-archetype; only considered when its parent passes."""

    name: str
    include_colour: bool
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Archetype:
    """A specific archetype (``Archetypes/*.json``); ``file`` is the file name."""

    name: str
    include_colour: bool
    conditions: tuple[Condition, ...]
    variants: tuple[Variant, ...]
    file: str


@dataclass(frozen=True)
class Fallback:
    """A generic archetype (``Fallbacks/*.json``) scored by common-card copies."""

    name: str
    include_colour: bool
    common_cards: tuple[str, ...]
    file: str


@dataclass(frozen=True)
class FormatDefinitions:
    """Everything detection needs for one format. Immutable; ``version`` is a content hash."""

    name: str
    archetypes: tuple[Archetype, ...]
    fallbacks: tuple[Fallback, ...]
    lands: Mapping[str, str]
    nonlands: Mapping[str, str]
    metas: tuple[tuple[date, str], ...]
    version: str
    # Content hash of the colour tables alone (shared table + overrides); "" = unknown.
    # Rules change far more often than colours: compiled colour masks are cached by it.
    colours_version: str = ""

    def __hash__(self) -> int:
        # The mappings are not hashable; name + content hash identify the definitions.
        return hash((self.name, self.version))


# --- lenient JSON -----------------------------------------------------------------------------

# A JSON string literal, or a comma followed (after whitespace) by a closing bracket. Strings
# are matched first so commas inside them are never touched.
_TRAILING_COMMA = re.compile(r'("(?:\\.|[^"\\])*")|,(\s*[\]}])')


def strip_trailing_commas(text: str) -> str:
    """Remove commas that directly precede ``]`` or ``}`` outside string literals."""
    return _TRAILING_COMMA.sub(lambda m: m.group(1) or m.group(2), text)


def parse_lenient_json(data: bytes, file: Path | str) -> Any:
    """Parse definition JSON like the reference: BOM and trailing commas are tolerated."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DefinitionError(file, f"not UTF-8: {exc}") from None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass  # most files are strict JSON; only then pay for the lenient pass
    try:
        return orjson.loads(strip_trailing_commas(text))
    except orjson.JSONDecodeError as exc:
        raise DefinitionError(file, f"invalid JSON: {exc}") from None


def _lower_keys(obj: Any, file: Path | str, what: str) -> dict[str, Any]:
    """The object with lower-cased property names (the reference matches them ignoring case)."""
    if not isinstance(obj, dict):
        raise DefinitionError(file, f"{what} must be a JSON object")
    return {str(k).lower(): v for k, v in obj.items()}


# --- field readers ----------------------------------------------------------------------------


def _name(obj: dict[str, Any], file: Path | str, what: str) -> str:
    name = obj.get("name")
    if not isinstance(name, str):
        raise DefinitionError(file, f"{what}: Name must be a string")
    return name


def _flag(obj: dict[str, Any], file: Path | str, what: str) -> bool:
    value = obj.get("includecolorinname")
    if value is None:
        return False  # missing -> false, like the reference
    if not isinstance(value, bool):
        raise DefinitionError(file, f"{what}: IncludeColorInName must be true or false")
    return value


def _card_list(value: Any, file: Path | str, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise DefinitionError(file, f"{what} must be a list of card names")
    return tuple(value)


def _conditions(value: Any, file: Path | str, what: str) -> tuple[Condition, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DefinitionError(file, f"{what}: Conditions must be a list")
    result = []
    for index, raw in enumerate(value):
        cond = _lower_keys(raw, file, f"{what}: condition {index + 1}")
        ctype = ConditionType.parse(cond.get("type"))
        if ctype is None:
            raise DefinitionError(
                file, f"{what}: condition {index + 1} has unknown Type {cond.get('type')!r}"
            )
        cards = _card_list(cond.get("cards"), file, f"{what}: condition {index + 1} Cards")
        result.append(Condition(ctype, cards))
    return tuple(result)


def parse_archetype(obj: Any, file: Path | str) -> Archetype:
    """Build an :class:`Archetype` from a decoded ``Archetypes/*.json`` document."""
    data = _lower_keys(obj, file, "archetype")
    name = _name(data, file, "archetype")
    conditions = _conditions(data.get("conditions"), file, f"archetype {name!r}")
    if not conditions:
        raise DefinitionError(file, f"archetype {name!r} has no Conditions")
    raw_variants = data.get("variants")
    if raw_variants is not None and not isinstance(raw_variants, list):
        raise DefinitionError(file, f"archetype {name!r}: Variants must be a list")
    variants = []
    for index, raw in enumerate(raw_variants or ()):
        vdata = _lower_keys(raw, file, f"variant {index + 1}")
        vname = _name(vdata, file, f"variant {index + 1} of {name!r}")
        # Nested Variants are ignored (the reference does not recurse); no Conditions = [].
        vconds = _conditions(vdata.get("conditions"), file, f"variant {vname!r}")
        variants.append(Variant(vname, _flag(vdata, file, vname), vconds))
    return Archetype(name, _flag(data, file, name), conditions, tuple(variants), Path(file).name)


def parse_fallback(obj: Any, file: Path | str) -> Fallback:
    """Build a :class:`Fallback` from a decoded ``Fallbacks/*.json`` document."""
    data = _lower_keys(obj, file, "fallback")
    name = _name(data, file, "fallback")
    cards = _card_list(data.get("commoncards"), file, f"fallback {name!r} CommonCards")
    if not cards:
        raise DefinitionError(file, f"fallback {name!r} has no CommonCards")
    return Fallback(name, _flag(data, file, name), cards, Path(file).name)


def parse_colour_table(obj: Any, file: Path | str) -> tuple[dict[str, str], dict[str, str]]:
    """``(lands, nonlands)`` of a colour file; a null list is empty, duplicates: last wins."""
    data = _lower_keys(obj, file, "colour table")
    tables: list[dict[str, str]] = []
    for key in ("lands", "nonlands"):
        raw = data.get(key)
        if raw is not None and not isinstance(raw, list):
            raise DefinitionError(file, f"{key} must be a list or null")
        table: dict[str, str] = {}
        for index, item in enumerate(raw or ()):
            # Fast path for the usual exact spelling (the shared table has ~28,000 entries).
            if type(item) is dict and len(item) == 2 and "Name" in item and "Color" in item:
                entry = {"name": item["Name"], "color": item["Color"]}
            else:
                entry = _lower_keys(item, file, f"{key} entry {index + 1}")
            name, colour = entry.get("name"), entry.get("color")
            if not isinstance(name, str):
                raise DefinitionError(file, f"{key} entry {index + 1}: Name must be a string")
            if colour not in CANONICAL_COLOURS:
                message = f"invalid colour code {colour!r} (expect a WUBRG-ordered code)"
                raise DefinitionError(file, f"{key} entry {name!r}: {message}")
            table[name] = colour
        tables.append(table)
    return tables[0], tables[1]


def parse_metas(obj: Any, file: Path | str) -> tuple[tuple[date, str], ...]:
    """Meta periods in file order (the reference does not sort them)."""
    data = _lower_keys(obj, file, "metas")
    raw = data.get("metas")
    if not isinstance(raw, list):
        raise DefinitionError(file, "Metas must be a list")
    result = []
    for index, item in enumerate(raw):
        entry = _lower_keys(item, file, f"meta {index + 1}")
        name, start = entry.get("name"), entry.get("startdate")
        if not isinstance(name, str) or not isinstance(start, str):
            raise DefinitionError(file, f"meta {index + 1}: StartDate and Name must be strings")
        try:
            day = date.fromisoformat(start.strip()[:10])
        except ValueError:
            raise DefinitionError(file, f"meta {name!r}: bad StartDate {start!r}") from None
        result.append((day, name.strip()))
    return tuple(result)


__all__ = [
    "CANONICAL_COLOURS",
    "COLOUR_LETTERS",
    "Archetype",
    "Condition",
    "ConditionType",
    "DefinitionError",
    "Fallback",
    "FormatDefinitions",
    "Variant",
    "parse_archetype",
    "parse_colour_table",
    "parse_fallback",
    "parse_lenient_json",
    "parse_metas",
    "strip_trailing_commas",
]
