"""Definitions versions: each format's rules loaded once per content, recorded by hash.

A *definitions version* is the content hash of a format folder. Loading is cached per
process while the folder's files are unchanged; the version row is recorded on first sight
and ``active_definitions`` says which version readers see.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import psycopg

from pipelines.classify.definitions import FormatDefinitions
from pipelines.classify.definitions_loader import load_all, load_format
from pipelines.classify.matcher import CompiledFormat, compile_format
from pipelines.classify.result import DEFAULT_MODE
from pipelines.classify.sync import synced_commit


class ClassificationError(RuntimeError):
    """A request that cannot be served (unknown format, unknown deck, stale folder...)."""


@lru_cache(maxsize=32)
def compiled_matcher(fmt: FormatDefinitions) -> CompiledFormat:
    """Compiling takes ~0.1 s per format: once per process and definitions version."""
    return compile_format(fmt, DEFAULT_MODE)


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and mtimes of a folder's files: changes whenever a file does."""
    entries = []
    for path in sorted(folder.rglob("*.json")):
        stat = path.stat()
        entries.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


@lru_cache(maxsize=64)
def _load_format_cached(
    folder: Path, colours: Path, name: str, signature: tuple[tuple[str, int, int], ...]
) -> FormatDefinitions:
    del signature  # part of the cache key only
    return load_format(folder, colours, name=name)


@lru_cache(maxsize=8)
def _load_all_cached(
    formats_dir: Path, signature: tuple[tuple[str, int, int], ...]
) -> dict[str, FormatDefinitions]:
    del signature
    return load_all(formats_dir)


def load_definitions(formats_dir: Path, format_name: str) -> FormatDefinitions:
    """The definitions of one format from a Formats folder (exact name, then any case).

    Parsed once per process while the folder's files are unchanged (chunks of a run and
    nightly chains reuse it).
    """
    folder = formats_dir / format_name
    if not (folder / "Archetypes").is_dir():
        matches = [
            d
            for d in formats_dir.iterdir()
            if d.name.lower() == format_name.lower() and (d / "Archetypes").is_dir()
        ]
        if not matches:
            raise ClassificationError(f"no definitions for format {format_name!r} in {formats_dir}")
        folder = matches[0]
    colours = formats_dir / "card_colors.json"
    signature = _signature(folder) + _signature_of_file(colours)
    # Named after the folder, whatever the caller's spelling: one version history per folder.
    return _load_format_cached(folder, colours, folder.name, signature)


def _signature_of_file(path: Path) -> tuple[tuple[str, int, int], ...]:
    stat = path.stat()
    return ((str(path), stat.st_size, stat.st_mtime_ns),)


def origin_of(formats_dir: Path, fmt: FormatDefinitions) -> str:
    """Where a version came from: its folder, and the repository commit when synced."""
    commit = synced_commit(formats_dir)
    folder = str(formats_dir / fmt.name)
    return f"{folder} @ {commit}" if commit else folder


def ensure_version(conn: psycopg.Connection, fmt: FormatDefinitions, origin: str) -> int:
    """The id of this definitions version (recorded on first sight)."""
    row = conn.execute(
        """INSERT INTO definition_versions (format, version, origin) VALUES (%s, %s, %s)
           ON CONFLICT (format, version) DO UPDATE SET origin = definition_versions.origin
           RETURNING id""",
        (fmt.name, fmt.version, origin),
    ).fetchone()
    assert row is not None
    return int(row[0])


def active_version(conn: psycopg.Connection, format_name: str) -> tuple[int, str] | None:
    """(version id, version hash) readers currently see for a format."""
    row = conn.execute(
        """SELECT v.id, v.version FROM active_definitions a
             JOIN definition_versions v ON v.id = a.version_id WHERE a.format = %s""",
        (format_name,),
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def load_all_definitions(formats_dir: Path) -> dict[str, FormatDefinitions]:
    """Every format folder of ``formats_dir``, parsed once while its files are unchanged."""
    return _load_all_cached(formats_dir, _signature(formats_dir))
