"""Offline detection over tournament files, like the reference CLI (no database).

``detect_paths`` reads cache files or folders directly and yields one row per deck: files in
sorted order (see :func:`pipelines.classify.tournaments.tournament_files`), decks in file order.
A file's format is ``format_name`` when given, else its ``Tournament.Formats``; a format with
no definitions yields ``Unknown`` for every deck (colour still computed from the shared colour
table when available), as §3.9 prescribes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

from pipelines.classify.definitions import FormatDefinitions, parse_colour_table, parse_lenient_json
from pipelines.classify.definitions_loader import (
    default_card_colors,
    is_format_dir,
    load_all,
    load_format,
)
from pipelines.classify.matcher import CompiledFormat, compile_format
from pipelines.classify.result import DEFAULT_MODE, ConflictMode
from pipelines.classify.scopes import pick_definitions
from pipelines.classify.tournaments import iter_tournaments

TSV_HEADER = ("File", "Player", "Archetype", "Color")


@dataclass(frozen=True, slots=True)
class DetectionRow:
    """One output row: the file (relative to its argument), player, label and colour."""

    file: str
    player: str
    archetype: str
    colour: str


def load_definitions(path: Path | str) -> dict[str, FormatDefinitions]:
    """A ``Formats`` root (every format) or a single format folder, keyed by format name."""
    folder = Path(path)
    if is_format_dir(folder):
        return {folder.name: load_format(folder)}
    return load_all(folder)


def _empty_format(name: str, colours_file: Path | None) -> FormatDefinitions:
    """Definitions with no archetypes: every deck is Unknown, colour from the shared table."""
    lands: dict[str, str] = {}
    nonlands: dict[str, str] = {}
    if colours_file is not None and colours_file.is_file():
        lands, nonlands = parse_colour_table(
            parse_lenient_json(colours_file.read_bytes(), colours_file), colours_file
        )
    return FormatDefinitions(name, (), (), lands, nonlands, (), "none")


class _Matchers:
    """Compiled matchers per format name, built on first use."""

    def __init__(self, definitions_dir: Path, mode: ConflictMode) -> None:
        self.definitions = load_definitions(definitions_dir)
        self.colours_file = (
            default_card_colors(definitions_dir)
            if is_format_dir(definitions_dir)
            else definitions_dir / "card_colors.json"
        )
        self.mode = mode
        self.compiled: dict[str, CompiledFormat] = {}

    def get(self, fmt: str | None, day: date | None = None) -> CompiledFormat:
        # The dated folder whose range holds the event, else the format's folder (exact name,
        # then any case; never a substring: "Premodern"), else a folder named explicitly.
        name = pick_definitions(self.definitions, fmt or "", day)
        if name is None and fmt in self.definitions:
            name = fmt
        key = name if name is not None else f"\0unknown:{fmt}"
        if key not in self.compiled:
            defs = self.definitions[name] if name else _empty_format(fmt or "", self.colours_file)
            self.compiled[key] = compile_format(defs, self.mode)
        return self.compiled[key]


def detect_paths(
    definitions_dir: Path | str,
    paths: Iterable[Path | str],
    format_name: str | None = None,
    mode: ConflictMode | str = DEFAULT_MODE,
    stderr: TextIO | None = None,
) -> Iterator[DetectionRow]:
    """Classify every deck of the tournament files under ``paths``.

    ``definitions_dir`` is a ``Formats`` root or one format folder. Unreadable files are
    reported to ``stderr`` (default ``sys.stderr``) and skipped.
    """
    matchers = _Matchers(Path(definitions_dir), ConflictMode.parse(mode))
    errors: list[str] = []
    for relative, tournament in iter_tournaments(paths, errors):
        _flush(errors, stderr)
        matcher = matchers.get(format_name or tournament.format, tournament.date)
        for deck in tournament.decks:
            detection = matcher.detect(deck.main, deck.side)
            yield DetectionRow(relative, deck.player, detection.display_name, detection.colour)
    _flush(errors, stderr)


def _flush(errors: list[str], stderr: TextIO | None) -> None:
    stream = stderr if stderr is not None else sys.stderr
    for message in errors:
        print(f"skipped unreadable file: {message}", file=stream)
    errors.clear()


def _tsv_field(value: str) -> str:
    # Tabs and line breaks would break the row structure; player names rarely contain them.
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def write_tsv(rows: Iterable[DetectionRow], out: TextIO) -> int:
    """Write a header row and one tab-separated line per row; returns the number of rows."""
    out.write("\t".join(TSV_HEADER) + "\n")
    n = 0
    for row in rows:
        fields = (row.file, row.player, row.archetype, row.colour)
        out.write("\t".join(_tsv_field(f) for f in fields) + "\n")
        n += 1
    return n


__all__ = ["TSV_HEADER", "DetectionRow", "detect_paths", "load_definitions", "write_tsv"]
