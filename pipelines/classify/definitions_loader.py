"""Loading MTGOFormatData format folders into :class:`FormatDefinitions`.

One format folder looks like::

    <root>/card_colors.json              shared colour table (all formats)
    <root>/<Format>/metas.json           meta periods
    <root>/<Format>/color_overrides.json per-format colour corrections (optional here)
    <root>/<Format>/Archetypes/*.json    specific archetypes
    <root>/<Format>/Fallbacks/*.json     generic "piles"

Each file is read by the parsers of :mod:`pipelines.classify.definitions`; a format's
``version`` hashes the bytes it was loaded from, and parsed files and the shared colour table
are cached by content.

Load order matters (conflict strings, tie-breaks) and the reference uses the directory listing
order, which is unspecified on Linux. We sort file names by **ordinal order** (Unicode code
point order, identical to UTF-8 byte order), so ``"Beseech Storm.json"`` sorts before
``"BeseechStorm.json"`` and upper-case names sort before lower-case ones.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pipelines.classify.definitions import (
    Archetype,
    DefinitionError,
    Fallback,
    FormatDefinitions,
    parse_archetype,
    parse_colour_table,
    parse_fallback,
    parse_lenient_json,
    parse_metas,
)


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
    "default_card_colors",
    "format_dirs",
    "is_format_dir",
    "json_files",
    "load_all",
    "load_format",
    "ordinal_sorted",
]
