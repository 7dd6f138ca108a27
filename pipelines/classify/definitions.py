"""Loader for MTGOFormatData archetype definitions (DOMAIN.md §3.1-§3.6).

One format folder looks like::

    <root>/card_colors.json              shared colour table (all formats)
    <root>/<Format>/metas.json           meta periods
    <root>/<Format>/color_overrides.json per-format colour corrections (optional here)
    <root>/<Format>/Archetypes/*.json    specific archetypes
    <root>/<Format>/Fallbacks/*.json     generic "piles"

The loader is lenient exactly where the C# reference is: trailing commas before ``]``/``}``
(outside strings), a UTF-8 BOM, case-insensitive property names, case-insensitive condition
``Type`` values, a variant without ``Conditions`` (= empty list), ``Lands``/``NonLands`` null.
It is strict where silently continuing would mislead: an unknown condition type, an archetype
with no conditions, a fallback with no common cards, an invalid colour code (including a
non-canonical order such as ``UW``) or malformed JSON raise :class:`DefinitionError` naming the
file.

Load order matters (conflict strings, tie-breaks) and the reference uses the directory listing
order, which is unspecified on Linux. We sort file names by **ordinal order** (Unicode code
point order, identical to UTF-8 byte order), so ``"Beseech Storm.json"`` sorts before
``"BeseechStorm.json"`` and upper-case names sort before lower-case ones.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
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


# --- folder loading ---------------------------------------------------------------------------


def ordinal_sorted(paths: Iterable[Path]) -> list[Path]:
    """Sort by file name in ordinal (code point = UTF-8 byte) order, independent of locale."""
    return sorted(paths, key=lambda p: p.name)


def json_files(folder: Path) -> list[Path]:
    """The ``*.json`` files of ``folder`` in load order; [] when the folder does not exist."""
    if not folder.is_dir():
        return []
    files = (p for p in folder.iterdir() if p.suffix.lower() == ".json" and p.is_file())
    return ordinal_sorted(files)


def _read(path: Path) -> tuple[bytes, Any]:
    data = _read_bytes(path)
    return data, parse_lenient_json(data, path)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DefinitionError(path, f"cannot read: {exc.strerror or exc}") from None


# Parsed rule files by content: a new version of a format usually changes a few of its
# hundreds of files, and long-lived workers reload it; the others are not parsed again.
# The results are immutable, so sharing them between versions is safe.
@functools.lru_cache(maxsize=8192)
def _archetype_of(data: bytes, path: Path) -> Archetype:
    return parse_archetype(parse_lenient_json(data, path), path)


@functools.lru_cache(maxsize=2048)
def _fallback_of(data: bytes, path: Path) -> Fallback:
    return parse_fallback(parse_lenient_json(data, path), path)


def default_card_colors(format_dir: Path) -> Path:
    """The shared ``card_colors.json``: the parent folder of the format folder."""
    return format_dir.parent / "card_colors.json"


def load_format(
    format_dir: Path | str, card_colors: Path | str | None = None, name: str | None = None
) -> FormatDefinitions:
    """Load one format folder (fail fast on the first invalid file, like the reference).

    ``card_colors`` defaults to ``<format_dir>/../card_colors.json``; ``name`` defaults to the
    folder name. ``color_overrides.json`` is optional (absent = no overrides); ``metas.json``
    is required because without it every event would silently fall outside any meta.
    """
    folder = Path(format_dir)
    colours_path = Path(card_colors) if card_colors is not None else default_card_colors(folder)
    return _load_format(folder, _SharedColours.read(colours_path), name)


@dataclass(frozen=True)
class _SharedColours:
    """The parsed shared colour table and its bytes (parsed once by :func:`load_all`)."""

    data: bytes
    lands: Mapping[str, str]
    nonlands: Mapping[str, str]

    @classmethod
    def read(cls, path: Path) -> _SharedColours:
        # The shared table is large (~28,000 entries) and shared by every format: parse it
        # once per process while the file is unchanged.
        try:
            stat = Path(path).stat()
        except OSError:
            data, obj = _read(path)  # raises the DefinitionError that names the file
            return cls(data, *parse_colour_table(obj, path))
        return cls._read_cached(Path(path), stat.st_size, stat.st_mtime_ns)

    @classmethod
    @functools.lru_cache(maxsize=4)
    def _read_cached(cls, path: Path, size: int, mtime_ns: int) -> _SharedColours:
        del size, mtime_ns  # cache key only
        data, obj = _read(path)
        lands, nonlands = parse_colour_table(obj, path)
        return cls(data, lands, nonlands)


def _load_format(folder: Path, shared: _SharedColours, name: str | None) -> FormatDefinitions:
    digest = hashlib.sha256()

    def hashed(label: str, data: bytes) -> None:
        # Hash the role/file label with the bytes: renaming a file changes load order.
        digest.update(f"{label}\0{len(data)}\0".encode())
        digest.update(data)

    def read_hashed(path: Path, label: str) -> bytes:
        data = _read_bytes(path)
        hashed(label, data)
        return data

    hashed("card_colors", shared.data)
    lands, nonlands = dict(shared.lands), dict(shared.nonlands)
    colours = hashlib.sha256(shared.data)
    overrides = folder / "color_overrides.json"
    if overrides.is_file():
        data = read_hashed(overrides, "overrides")
        colours.update(data)
        o_lands, o_nonlands = parse_colour_table(parse_lenient_json(data, overrides), overrides)
        lands.update(o_lands)  # override entries insert or replace (§3.3)
        nonlands.update(o_nonlands)
    metas_path = folder / "metas.json"
    if not metas_path.is_file():
        raise DefinitionError(metas_path, "missing metas.json")
    metas = parse_metas(
        parse_lenient_json(read_hashed(metas_path, "metas"), metas_path), metas_path
    )
    archetypes = tuple(
        _archetype_of(read_hashed(p, f"Archetypes/{p.name}"), p)
        for p in json_files(folder / "Archetypes")
    )
    fallbacks = tuple(
        _fallback_of(read_hashed(p, f"Fallbacks/{p.name}"), p)
        for p in json_files(folder / "Fallbacks")
    )
    return FormatDefinitions(
        name=name or folder.name,
        archetypes=archetypes,
        fallbacks=fallbacks,
        lands=MappingProxyType(lands),
        nonlands=MappingProxyType(nonlands),
        metas=metas,
        version=digest.hexdigest()[:16],
        colours_version=colours.hexdigest()[:16],
    )


def format_dirs(formats_root: Path | str) -> list[Path]:
    """Sub-folders of ``formats_root`` that hold an ``Archetypes`` folder, in ordinal order."""
    root = Path(formats_root)
    return ordinal_sorted(p for p in root.iterdir() if (p / "Archetypes").is_dir())


def load_all(formats_root: Path | str) -> dict[str, FormatDefinitions]:
    """Load every format of an MTGOFormatData ``Formats`` folder, keyed by folder name."""
    root = Path(formats_root)
    shared = _SharedColours.read(root / "card_colors.json")  # parse the big table once
    return {d.name: _load_format(d, shared, None) for d in format_dirs(root)}


def is_format_dir(path: Path | str) -> bool:
    """True when ``path`` looks like one format folder rather than a ``Formats`` root."""
    return (Path(path) / "Archetypes").is_dir()


__all__ = [
    "CANONICAL_COLOURS",
    "Archetype",
    "Condition",
    "ConditionType",
    "DefinitionError",
    "Fallback",
    "FormatDefinitions",
    "Variant",
    "default_card_colors",
    "format_dirs",
    "is_format_dir",
    "json_files",
    "load_all",
    "load_format",
    "ordinal_sorted",
    "parse_archetype",
    "parse_colour_table",
    "parse_fallback",
    "parse_lenient_json",
    "parse_metas",
    "strip_trailing_commas",
]
