"""Why a stored deck has its label: the explanation of :mod:`pipelines.classify.explain`
for a deck read from PostgreSQL, on the caller's connection.

The API calls it on a request (its pooled connection, its statement timeout), the CLI on a
connection of its own. Only the deck's own card names are read — never the whole card table.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from pipelines.classify.definitions_loader import format_dirs
from pipelines.classify.explain import explain, render_text
from pipelines.classify.scopes import pick_definitions
from pipelines.classify.versions import ClassificationError, load_definitions

_DECK = """
SELECT t.format, t.event_date, d.player, t.name, d.main_card_ids, d.main_counts,
       d.side_card_ids, d.side_counts
  FROM decks d JOIN tournaments t ON t.id = d.tournament_id
 WHERE d.id = %s
"""
_STORED_LABEL = """
SELECT a.archetype, v.version
  FROM current_deck_archetypes a JOIN definition_versions v ON v.id = a.version_id
 WHERE a.deck_id = %s
"""


def _board(
    conn: psycopg.Connection[Any], ids: Sequence[int], counts: Sequence[int]
) -> list[tuple[str, int]]:
    """``(name, count)`` lines of a stored board, in file order."""
    names = dict(conn.execute("SELECT id, name FROM cards WHERE id = ANY(%s)", (list(ids),)))
    return [(names[i], n) for i, n in zip(ids, counts, strict=True)]


def explain_stored_deck(
    conn: psycopg.Connection[Any], formats_dir: Path, deck_id: int, verbose: bool = False
) -> str:
    """Why deck ``deck_id`` gets its label, condition by condition (plain text).

    Raises :class:`ClassificationError` for an unknown deck; reading the definitions may
    raise their loader's errors (no folder for the format, unreadable files).
    """
    row = conn.execute(_DECK, (deck_id,)).fetchone()
    if row is None:
        raise ClassificationError(f"no deck {deck_id}")
    format_name, day, player, event, main_ids, main_counts, side_ids, side_counts = row
    main = _board(conn, main_ids, main_counts)
    side = _board(conn, side_ids, side_counts)
    stored = conn.execute(_STORED_LABEL, (deck_id,)).fetchone()
    folder = pick_definitions((d.name for d in format_dirs(formats_dir)), format_name, day)
    fmt = load_definitions(formats_dir, folder or format_name)
    header = f"Deck {deck_id}: {player} at {event} ({format_name}, {day})"
    if folder is not None and folder != format_name:
        header += f"\nDefinitions: {folder}"
    if stored is not None:
        header += f"\nStored label: {stored[0]} (definitions {stored[1]})"
        if stored[1] != fmt.version:
            header += f"\nNote: the definitions folder is now version {fmt.version}."
    return header + "\n" + render_text(explain(fmt, main, side), verbose=verbose)


__all__ = ["explain_stored_deck"]
